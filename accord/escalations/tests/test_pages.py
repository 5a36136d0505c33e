"""The escalation pages: rules 1-4 and 6 through the page, permissions, versions, documents, queries."""

import datetime as dt
import html

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Draft, Escalation, Kind, Status
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
PASSWORD = "test-password-123"


def login(client, user):
    return sign_in(client, user)


def date_fields(prefix, day):
    return {f"{prefix}-day": day.day, f"{prefix}-month": day.month, f"{prefix}-year": day.year}


# ------------------------------------------------------------------ raising through the pages


def test_rule_1_immediate_danger_sends_to_999_and_stores_nothing(client, world):
    login(client, world.practitioner_health)
    response = client.post(reverse("escalations:danger"), {"immediate_danger": "yes"}, follow=True)
    html = response.content.decode()
    assert "Call 999 now" in html and world.partnership.front_door_phone in html
    assert Draft.objects.count() == 0 and Escalation.objects.count() == 0


def test_the_danger_question_must_be_answered(client, world):
    login(client, world.practitioner_health)
    html = client.post(reverse("escalations:danger"), {}).content.decode()
    assert "Select yes if any child is in immediate danger" in html


def _walk(client, world, *, kind="case"):
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    step = lambda name, data: client.post(reverse("escalations:step", args=[draft.pk, name]), data)  # noqa: E731
    response = step(
        "with",
        {
            "kind": kind,
            "with_agency": world.social.pk,
            "with_practitioner": world.practitioner_social.username,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    if kind == "case":
        step(
            "children",
            {
                "child_1_name": "Bartholomew Quince",
                **date_fields("child_1_date_of_birth", dt.date(2018, 7, 1)),
                "child_1_agency_reference": "BQ-1",
            },
        )
    response = step(
        "difference",
        {
            "summary": "Threshold",
            "concern": "Unmet needs",
            "urgency": "routine",
            "areas": ["levels-of-risk"],
            "themes": ["neglect", "domestic-abuse"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    step(
        "more",
        {
            "decision_challenged": "Closed",
            "evidence": "Missed appointments",
            "child_voice": "Says hungry",
            "tried_so_far": "Calls",
            "desired_outcome": "Assessment",
            "reflection": "Private thoughts",
            **({"family_aware": "yes"} if kind == "case" else {}),
        },
    )
    return draft


def test_raising_a_case_escalation_through_the_pages(client, world):
    login(client, world.practitioner_health)
    draft = _walk(client, world)
    check = client.get(reverse("escalations:check", args=[draft.pk]))
    assert "Bartholomew Quince" in check.content.decode()
    response = client.post(reverse("escalations:check", args=[draft.pk]))
    escalation = Escalation.objects.get()
    assert response["Location"] == reverse("escalations:raised", args=[escalation.pk])
    assert escalation.children.get().name == "Bartholomew Quince"
    assert set(escalation.themes.values_list("code", flat=True)) == {"neglect", "domestic-abuse"}
    assert list(escalation.areas_of_disagreement.values_list("code", flat=True)) == ["levels-of-risk"]
    assert escalation.area_of_disagreement.code == "levels-of-risk"
    assert escalation.reflection == "Private thoughts" and escalation.evidence == "Missed appointments"
    assert not Draft.objects.exists()


def test_a_first_stage_needs_only_what_the_protocol_asks(client, world):
    """Devon's first stage asks for what worries the raiser, beside who, the child, a summary
    and urgency: nothing else stands between a practitioner and raising it."""
    login(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    step = lambda name, data: client.post(reverse("escalations:step", args=[draft.pk, name]), data)  # noqa: E731
    assert step("with", {"kind": "case", "with_agency": world.social.pk}).status_code == 302
    assert step("children", {"child_1_name": "B Q"}).status_code == 302
    missing = step("difference", {"summary": "Threshold", "urgency": "routine"})
    assert missing.status_code == 200 and "Enter what worries you for the child" in missing.content.decode()
    assert (
        step("difference", {"summary": "Threshold", "urgency": "routine", "concern": "Hungry"}).status_code
        == 302
    )
    assert client.post(reverse("escalations:check", args=[draft.pk])).status_code == 302
    escalation = Escalation.objects.get()
    assert (
        escalation.concern == "Hungry"
        and escalation.evidence == ""
        and escalation.area_of_disagreement is None
    )


def test_a_theme_skips_the_children_step(client, world):
    login(client, world.practitioner_health)
    draft = _walk(client, world, kind="theme")
    assert client.get(reverse("escalations:step", args=[draft.pk, "children"])).status_code == 404
    assert client.get(reverse("escalations:step", args=[draft.pk, "difference"])).status_code == 200
    client.post(reverse("escalations:check", args=[draft.pk]))
    escalation = Escalation.objects.get()
    assert escalation.kind == "theme" and escalation.children.count() == 0


def test_the_check_page_shows_every_answer_with_its_label(client, world):
    login(client, world.practitioner_health)
    draft = _walk(client, world)
    client.post(
        reverse("escalations:step", args=[draft.pk, "more"]),
        {
            "professional_curiosity": "Asked about the new adult",
            "family_view": "Managing",
            "family_aware": "not_safe",
            "origin": "child_or_family",
        },
    )
    html = client.get(reverse("escalations:check", args=[draft.pk])).content.decode()
    assert "Asked about the new adult" in html and "Managing" in html
    assert "The family&#x27;s view" in html and "What worries you for the child?" in html


def test_a_theme_asks_for_childrens_voices_and_nothing_of_one_family(client, world):
    """A theme is a pattern across children (no one child, so no one family): its pages
    ask for the children's voices only, and the check page shows no family answers."""
    login(client, world.practitioner_health)
    draft = _walk(client, world, kind="theme")
    # As if it had started as a case, with the family's answers given, before the kind changed.
    draft.refresh_from_db()
    draft.data.update({"family_view": "Managing", "family_aware": "yes"})
    draft.save()
    page = html.unescape(client.get(reverse("escalations:step", args=[draft.pk, "more"])).content.decode())
    assert "Children's voices" in page
    assert 'name="family_aware"' not in page and 'name="family_view"' not in page
    response = client.post(
        reverse("escalations:step", args=[draft.pk, "more"]), {"child_voice": "Feel safer"}
    )
    assert response.status_code == 302  # nothing of a family required
    check = client.get(reverse("escalations:check", args=[draft.pk])).content.decode()
    assert "The family&#x27;s view" not in check
    assert "Feel safer" in check
    client.post(reverse("escalations:check", args=[draft.pk]))
    escalation = Escalation.objects.get()
    assert escalation.kind == "theme" and escalation.family_aware == "" and escalation.family_view == ""
    assert (
        "Children's voices and lived experience"
        in client.get(reverse("escalations:detail", args=[escalation.pk])).content.decode()
    )


def test_a_step_with_errors_keeps_what_was_typed(client, world):
    login(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    response = client.post(
        reverse("escalations:step", args=[draft.pk, "difference"]),
        {"summary": "", "concern": "Typed with care"},
    )
    html = response.content.decode()
    assert "There is a problem" in html and "Enter a short summary of the difference" in html
    assert "Typed with care" in html
    draft.refresh_from_db()
    assert draft.data["concern"] == "Typed with care"


def test_save_and_come_back_later(client, world):
    login(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    response = client.post(
        reverse("escalations:step", args=[draft.pk, "difference"]),
        {"summary": "Half done", "save_and_exit": "1"},
    )
    assert response["Location"] == reverse("home")
    assert "Half done" in client.get(reverse("escalations:start")).content.decode()


def test_nothing_typed_is_lost_when_the_session_expires(client, world):
    login(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    url = reverse("escalations:step", args=[draft.pk, "difference"])
    client.cookies.pop(settings.SESSION_COOKIE_NAME)  # the session has expired (the browser keeps its others)
    client.post(url, {"summary": "Typed before expiry", "concern": "A long careful account"})
    response = client.post(
        reverse("login") + f"?next={url}",
        {"username": world.practitioner_health.username, "password": PASSWORD, "next": url},
        follow=True,
    )
    html = response.content.decode()
    assert "Typed before expiry" in html and "A long careful account" in html
    draft.refresh_from_db()
    assert draft.data["summary"] == "Typed before expiry"


def test_another_users_draft_is_not_found(client, world):
    login(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    client.logout()
    login(client, world.practitioner_social)
    assert client.get(reverse("escalations:check", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize("role", ["pdg_member", "executive", "auditor", "admin", "facilitator"])
def test_roles_that_do_not_raise_cannot_start(client, world, role):
    login(client, getattr(world, role))
    assert client.get(reverse("escalations:start")).status_code == 403
    assert client.post(reverse("escalations:danger"), {"immediate_danger": "no"}).status_code == 403


# ------------------------------------------------------------------ the escalation page and its actions


def test_hidden_means_not_found(client, world, other_world):
    e = world.raised()
    login(client, world.practitioner_other)
    for name in (
        "detail",
        "record",
        "discuss",
        "escalate",
        "resolve",
        "withdraw",
        "pdg_action",
        "add_document",
    ):
        assert client.get(reverse(f"escalations:{name}", args=[e.pk])).status_code == 404, name
    assert client.get(reverse("escalations:detail", args=[999999])).status_code == 404


def test_a_visible_escalation_with_a_forbidden_action_is_403(client, world):
    e = world.formal()
    login(client, world.pdg_chair)
    assert client.get(reverse("escalations:detail", args=[e.pk])).status_code == 200
    assert client.get(reverse("escalations:resolve", args=[e.pk])).status_code == 403
    response = client.post(
        reverse("escalations:resolve", args=[e.pk]),
        {
            "outcome": "decision_changed",
            "agreed_way_forward": "x",
            "child_centred_outcome_achieved": "yes",
            "version": e.version,
        },
    )
    assert response.status_code == 403
    e.refresh_from_db()
    assert e.status == Status.OPEN


def test_the_page_offers_only_the_actions_allowed(client, world):
    e = world.raised()
    login(client, world.practitioner_social)
    html = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    assert "Record a discussion or response" in html
    assert "Record the resolution" not in html and "Withdraw the escalation" not in html


def test_rule_2_through_the_page(client, world):
    e = world.raised()
    login(client, world.practitioner_health)
    response = client.post(
        reverse("escalations:escalate", args=[e.pk]), {"to_stage": 2, "reason": "Stuck", "version": e.version}
    )
    assert response.status_code == 422
    assert "Record a discussion with the raiser" in response.content.decode()
    e.refresh_from_db()
    assert e.stage == 1
    # The page says so before anything is typed, and leads to where the discussion is recorded.
    page = client.get(reverse("escalations:escalate", args=[e.pk])).content.decode()
    assert f'href="{reverse("escalations:discuss", args=[e.pk])}">Record that discussion' in page


def test_rule_3_through_the_page_with_efforts_prefilled(client, world):
    e = world.at_stage_3()
    login(client, world.senior_health)
    page = client.get(reverse("escalations:escalate", args=[e.pk])).content.decode()
    assert "Talked it through with my manager." in page
    response = client.post(
        reverse("escalations:escalate", args=[e.pk]),
        {"to_stage": 4, "reason": "Stuck", "efforts_to_resolve": "", "version": e.version},
    )
    assert response.status_code == 422
    assert "Enter the evidence of efforts to resolve" in response.content.decode()
    e.refresh_from_db()
    assert e.formal_at is None


def test_a_stale_form_is_refused_with_409_and_shows_the_new_state(client, world):
    e = world.raised()
    old_version = e.version
    services.escalation_record_discussion(
        actor=world.practitioner_social, escalation=e, held_on=clock.today(), note="Meanwhile"
    )
    login(client, world.practitioner_health)
    response = client.post(
        reverse("escalations:discuss", args=[e.pk]),
        {**date_fields("held_on", clock.today()), "note": "Mine", "agreed": "no", "version": old_version},
    )
    assert response.status_code == 409
    assert "This escalation has changed" in response.content.decode()
    assert e.discussions.count() == 1


def test_rule_6_overdue_is_shown_and_offers_escalation(client, world):
    e = world.consulted(world.raised(at=timezone.now() - dt.timedelta(days=20)))
    login(client, world.practitioner_health)
    html = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    assert "is overdue" in html and "Escalate to stage 2" in html
    listing = client.get(reverse("escalations:list") + "?overdue=on").content.decode()
    assert e.reference in listing and "Overdue" in listing
    home = client.get(reverse("home")).content.decode()
    assert "Overdue" in home


def test_reading_an_escalation_is_audited(client, world):
    e = world.raised()
    login(client, world.practitioner_social)
    client.get(reverse("escalations:detail", args=[e.pk]))
    client.get(reverse("escalations:record", args=[e.pk]))
    client.get(reverse("escalations:list"))
    chain_pending_reads()  # the reads recorded so far, into the trail
    verbs = set(AuditEvent.objects.filter(actor=world.practitioner_social).values_list("verb", flat=True))
    assert {Verb.ESCALATION_VIEWED, Verb.ESCALATION_PRINTED, Verb.ESCALATION_LISTED} <= verbs


def test_the_printed_record_speaks_of_the_child_for_a_case_and_not_for_a_theme(client, world):
    case, theme = world.raised(), world.raised(kind=Kind.THEME)
    login(client, world.practitioner_social)
    assert (
        "own file on the child" in client.get(reverse("escalations:record", args=[case.pk])).content.decode()
    )
    printed = client.get(reverse("escalations:record", args=[theme.pk])).content.decode()
    assert "own records of this theme" in printed and "on the child" not in printed


def test_the_reflection_is_shown_only_to_raiser_and_line_manager(client, world):
    e = world.raised(reflection="My private worry about over-identifying")
    for user, sees in [
        (world.practitioner_health, True),
        (world.manager_health, True),
        (world.practitioner_social, False),
        (world.manager_social, False),
    ]:
        client.logout()
        login(client, user)
        html = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
        assert ("My private worry" in html) is sees, user.username


# ------------------------------------------------------------------ evidence documents


def test_documents_are_checked_by_content_and_downloaded_with_permission(client, world):
    e = world.raised()
    login(client, world.practitioner_health)
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03binary program", content_type="application/pdf")
    response = client.post(
        reverse("escalations:add_document", args=[e.pk]), {"file": fake, "version": e.version}
    )
    assert "must be a PDF" in response.content.decode()
    assert e.documents.count() == 0
    e.refresh_from_db()
    real = SimpleUploadedFile(
        "../../etc/Chronology <March>.pdf", b"%PDF-1.7\n%test\n", content_type="application/octet-stream"
    )
    response = client.post(
        reverse("escalations:add_document", args=[e.pk]),
        {"file": real, "description": "Chronology", "version": e.version},
    )
    assert response.status_code == 302
    doc = e.documents.get()
    assert doc.content_type == "application/pdf" and doc.filename == "Chronology _March_.pdf"
    download = client.get(reverse("escalations:document", args=[e.pk, doc.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.DOCUMENT_DOWNLOADED).exists()
    client.logout()
    login(client, world.practitioner_other)
    assert client.get(reverse("escalations:document", args=[e.pk, doc.pk])).status_code == 404


# ------------------------------------------------------------------ list and query counts


def test_the_list_filters_and_paginates(client, world):
    for _ in range(3):
        world.raised()
    urgent = world.raised(urgency="urgent")
    login(client, world.practitioner_health)
    html = client.get(reverse("escalations:list") + "?urgency=urgent").content.decode()
    assert urgent.reference in html and "1 escalation" in html
    assert "4 escalations" in client.get(reverse("escalations:list")).content.decode()
    assert client.get(reverse("escalations:list") + "?stage=banana&page=999").status_code == 200


def test_the_list_filters_by_the_dates_raised_typed_or_linked(client, world):
    def at(day):
        return dt.datetime(2026, 3, day, 10, 0, tzinfo=dt.UTC)

    early, middle, late = (world.raised(at=at(d), summary=f"Day {d}") for d in (2, 10, 20))
    login(client, world.practitioner_health)
    url = reverse("escalations:list")

    typed = client.get(
        url,
        {
            "raised_from-day": "5",
            "raised_from-month": "3",
            "raised_from-year": "2026",
            "raised_to-day": "15",
            "raised_to-month": "3",
            "raised_to-year": "2026",
        },
    )
    assert [e.pk for e in typed.context["page"]] == [middle.pk]
    assert 'name="raised_from-day"' in typed.content.decode()  # shown as a GOV.UK date input

    linked = client.get(url, {"raised_from": "2026-03-05"})  # as the reports' drill-downs link
    assert {e.pk for e in linked.context["page"]} == {middle.pk, late.pk}
    assert 'value="5"' in linked.content.decode()  # the linked date is shown in the boxes
    assert early.pk not in {e.pk for e in linked.context["page"]}


def test_a_wrong_date_in_the_list_filters_is_explained_not_an_error(client, world):
    world.raised()
    login(client, world.practitioner_health)
    url = reverse("escalations:list")
    response = client.get(
        url, {"raised_from-day": "31", "raised_from-month": "2", "raised_from-year": "2026"}
    )
    assert response.status_code == 200
    assert "must be a real date" in response.content.decode()
    response = client.get(url, {"raised_from": "2026-03-10", "raised_to": "2026-03-01"})
    assert response.status_code == 200
    assert "must be the same as or after the earliest" in response.content.decode()
    assert client.get(url, {"raised_from": "not-a-date"}).status_code == 200


def test_any_number_in_the_list_s_address_is_answered_never_an_error(client, world):
    """Page and filter numbers as large or as odd as anyone can type: larger than either
    database can store, negative, not numbers."""
    world.raised()
    login(client, world.manager_health)
    url = reverse("escalations:list")
    huge = "9" * 25
    for name in ["page", "stage", "agency", "raised_by_agency", "received_by_agency", "reached"]:
        for value in [huge, f"-{huge}", "0", "1e309", "1.5", "x"]:
            assert client.get(url, {name: value}).status_code == 200, (name, value)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_the_data(client, world):
    login(client, world.manager_health)
    first = world.at_stage_2()
    small = {
        url: _queries(client, url)
        for url in [
            reverse("home"),
            reverse("escalations:list"),
            reverse("escalations:list") + "?status=open&stage=2",
            reverse("escalations:detail", args=[first.pk]),
            "/notifications/",
        ]
    }
    for _ in range(8):
        e = world.at_stage_2()
        for i in range(3):
            services.escalation_record_discussion(
                actor=world.manager_health, escalation=e, held_on=clock.today(), note=f"note {i}"
            )
    for i in range(10):
        services.escalation_record_discussion(
            actor=world.manager_health, escalation=first, held_on=clock.today(), note=f"more {i}"
        )
    large = {url: _queries(client, url) for url in small}
    assert large == small


def test_a_document_missing_from_storage_is_not_found_not_an_error(client, world):
    e = world.raised()
    doc = services.escalation_add_document(
        actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("a.txt", b"words")
    )
    doc.file.storage.delete(doc.file.name)
    login(client, world.practitioner_health)
    assert client.get(reverse("escalations:document", args=[e.pk, doc.pk])).status_code == 404


def test_the_agency_filter_offers_every_agency_and_lists_only_their_escalations(client, world):
    """The agency select's choices are handed to the form as read (not re-checked by
    Django): a listed agency still filters, and one not in the partnership is refused."""
    with_social = world.raised()
    with_other = world.raised(with_agency=world.other)
    login(client, world.manager_health)
    url = reverse("escalations:list")
    page = client.get(url, {"agency": world.other.pk})
    assert page.status_code == 200 and page.context["form"].is_valid()
    assert [e.pk for e in page.context["page"].object_list] == [with_other.pk]
    import html
    import re

    option = (
        rf'<option value="{world.social.pk}"[^>]*>\s*{re.escape(html.escape(world.social.name))}\s*</option>'
    )
    assert re.search(option, page.content.decode().replace("&#39;", "&#x27;")), "the agency is offered"
    unknown = client.get(url, {"agency": 999_999})
    assert unknown.status_code == 200 and "agency" in unknown.context["form"].errors
    assert {e.pk for e in unknown.context["page"].object_list} == {with_social.pk, with_other.pk}


def test_escalating_before_the_managers_consultation_says_so_above_the_form(client, world):
    """The missing consultation is not a slip in "Why are you escalating?": the page says
    so in the error summary, and the reason typed is kept."""
    e = world.raised()
    sign_in(client, world.practitioner_health)
    response = client.post(
        f"/escalations/{e.pk}/escalate/",
        {"reason": "Still no agreement", "version": e.version, "to_stage": 2},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "reason" not in form.errors
    assert any("safeguarding lead before escalating" in m for m in form.non_field_errors())
    html = response.content.decode()
    assert "govuk-error-summary" in html and "Still no agreement" in html
