"""Whom a partnership safeguards and whom an escalation is about (docs/decisions/0013): an
adult at risk's own knowledge of the difference, views and advocate are recorded, encrypted,
shown only where the children's details are, and never in reports; the words follow the
subject; the reports count by subject and add up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accord.api.tests.test_api import Api, raise_body
from accord.core import clock
from accord.escalations import services, tallies
from accord.escalations.models import DailyTally, Escalation
from accord.escalations.subjects import PHRASES, Subject, worded
from accord.partnership.models import Safeguards
from accord.partnership.protocol import document_of, install_ladder, parse_document, preset
from accord.reports.selectors import ONE_WAY, Period, pdg_figures, report_system, suppressed
from accord.testing.factories import raise_details

pytestmark = pytest.mark.django_db

VIEWS = "He wants to stay with his partner and not move to a care home."


def adults(world, name: str = "staffordshire-adults"):
    install_ladder(world.partnership, preset(name))
    world.partnership.refresh_from_db()
    return world


def adult_case(world, **overrides):
    values = dict(
        subject="adult",
        children=[services.ChildDetails(name="Ambrose Kettleworth", date_of_birth=dt.date(1951, 7, 2))],
        adult_aware="yes",
        adult_views=VIEWS,
        adult_advocate="being_arranged",
    )
    values.update(overrides)
    return world.raised(**values)


def test_every_phrase_reads_as_written_for_a_child_and_in_other_words_for_an_adult_or_a_family():
    for for_child, (for_adult, for_family) in PHRASES.items():
        assert worded(for_child, Subject.CHILD) == for_child
        assert worded(for_child, Subject.ADULT) == for_adult != for_child
        assert worded(for_child, Subject.FAMILY) == for_family != for_child
    with pytest.raises(KeyError):
        worded("A sentence nobody listed", Subject.ADULT)


def test_the_presets_say_whom_their_partnership_safeguards(world):
    assert parse_document(preset("staffordshire-adults")).safeguards == Safeguards.ADULTS
    assert parse_document(preset("lincolnshire-joint")).safeguards == Safeguards.BOTH
    assert parse_document(preset("devon")).safeguards == Safeguards.CHILDREN
    adults(world, "lincolnshire-joint")
    assert world.partnership.safeguards == Safeguards.BOTH
    assert document_of(world.partnership)["safeguards"] == "both"
    # A document that does not say (an older export) leaves it as it is.
    older = {k: v for k, v in preset("devon").items() if k != "safeguards"}
    install_ladder(world.partnership, older)
    world.partnership.refresh_from_db()
    assert world.partnership.safeguards == Safeguards.BOTH
    with pytest.raises(ValidationError, match="safeguards"):
        parse_document({**preset("devon"), "safeguards": "pets"})


def test_an_adults_case_records_the_adults_own_part_encrypted_at_rest(world):
    adults(world)
    e = adult_case(world)
    e.refresh_from_db()
    assert (e.subject, e.adult_aware, e.adult_views, e.adult_advocate) == (
        "adult",
        "yes",
        VIEWS,
        "being_arranged",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT adult_aware, adult_views, adult_advocate FROM escalations_escalation WHERE id = %s",
            [e.pk],
        )
        stored = cursor.fetchone()
    assert all(value and value not in ("yes", VIEWS, "being_arranged") for value in stored)


def test_an_adults_board_raises_about_an_adult_without_being_told(world):
    adults(world)
    e = world.raised()  # (the world's details on an adults board: ``about_whom``)
    assert e.subject == "adult" and e.adult_aware == "yes"


@pytest.mark.parametrize(
    ("safeguards", "overrides", "field"),
    [
        # A children's partnership has no adults' cases.
        ("children", {"subject": "adult", "adult_aware": "yes"}, "subject"),
        # An adult's knowledge of it is asked when one is raised.
        ("adults", {"subject": "adult", "adult_aware": ""}, "adult_aware"),
        # The adult's answers belong to a case about an adult alone.
        ("both", {"subject": "child", "adult_views": "Wants to stay"}, "adult_aware"),
        # A theme is about a pattern, never one family.
        ("both", {"kind": "theme", "subject": "family", "children": []}, "subject"),
        # An adult at risk is 18 or over.
        (
            "adults",
            {
                "subject": "adult",
                "adult_aware": "no",
                "children": [services.ChildDetails(name="Young Person", date_of_birth=dt.date(2015, 1, 1))],
            },
            "children",
        ),
        ("adults", {"subject": "adult", "adult_aware": "perhaps"}, "adult_aware"),
    ],
)
def test_whom_it_is_about_is_checked_as_the_partnership_allows(world, safeguards, overrides, field):
    world.partnership.safeguards = safeguards
    world.partnership.save(update_fields=["safeguards"])
    details = raise_details(with_agency=world.social, **overrides)
    with pytest.raises(ValidationError) as refused:
        services.escalation_raise(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=details,
            immediate_danger=False,
        )
    assert field in refused.value.message_dict
    assert not Escalation.objects.exists()


def test_the_api_raises_about_an_adult_and_shows_their_view_only_where_the_childrens_details_are(
    client, world
):
    adults(world, "lincolnshire-joint")
    health = Api(client, world.practitioner_health)
    taxonomies = health.get("/taxonomies").json()
    assert taxonomies["safeguards"] == "both"
    assert [s["code"] for s in taxonomies["subjects"]] == ["child", "adult", "family"]
    body = raise_body(
        world,
        subject="adult",
        children=[{"name": "Ambrose Kettleworth", "date_of_birth": "1951-07-02", "agency_reference": ""}],
        adult_aware="not_yet",
        adult_views=VIEWS,
        adult_advocate="no",
    )
    created = health.post("/escalations", body)
    assert created.status_code == 201, created.content
    e = created.json()
    assert e["subject"] == "adult"
    assert e["adult"] == {"knows_of_difference": "not_yet", "views_and_wishes": VIEWS, "advocate": "no"}
    assert (
        Api(client, world.practitioner_social)
        .get(f"/escalations/{e['id']}")
        .json()["adult"]["views_and_wishes"]
    )
    # The list names whom it is about, never the adult's view.
    listed = health.get("/escalations").json()["results"]
    assert listed[0]["subject"] == "adult" and "adult" not in listed[0]
    # Refused in the API's words as on the page: a child's case carries no adult's view.
    refused = health.post("/escalations", raise_body(world, adult_views="Wants to stay"))
    assert refused.status_code == 400 and "adult_aware" in refused.json()["errors"]


def test_the_pages_say_the_adult_and_show_the_view_to_a_party(client, world):
    adults(world)
    e = adult_case(world)
    client.force_login(world.practitioner_social)
    page = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    assert VIEWS in page and "The adult knows of the difference" in page
    assert "Outcome wanted for the adult" in page and "Child-centred outcome wanted" not in page
    record = client.get(reverse("escalations:record", args=[e.pk])).content.decode()
    assert "own file on the adult" in record and VIEWS in record


def test_the_reports_count_by_subject_add_up_and_carry_no_adults_view(world):
    adults(world, "lincolnshire-joint")
    world.raised()  # a child
    adult_case(world)
    world.raised(
        subject="family",
        children=[
            services.ChildDetails(name="Rowan Pike"),
            services.ChildDetails(name="Marigold Pike", date_of_birth=dt.date(1980, 1, 1)),
        ],
    )
    world.raised(kind="theme", subject="adult")
    partnership = world.partnership
    today = clock.today()
    figures = pdg_figures(partnership, Period(today - dt.timedelta(days=30), today + dt.timedelta(days=1)))
    assert figures.by_subject == {"adult": 2, "child": 1, "family": 1}
    assert sum(figures.by_subject.values()) == figures.total == 4
    # One of the one-way tables the suppression protects together: it adds up to the total.
    assert "by_subject" in ONE_WAY
    cells, equations = report_system(figures)
    (subject_sum,) = [e for e in equations if any(cell[0] == "by_subject" for cell in e if len(cell) == 2)]
    assert sum(cells[cell] * sign for cell, sign in subject_sum.items()) == 0
    shown = suppressed(figures)
    assert set(shown["by_subject"]) == {"adult", "child", "family"}
    # The tallies the services kept are those a recount makes.
    kept = sorted(
        DailyTally.objects.filter(partnership=partnership, dimension="subject").values_list("key", "n")
    )
    tallies.rebuild(partnership.pk)
    assert kept == sorted(
        DailyTally.objects.filter(partnership=partnership, dimension="subject").values_list("key", "n")
    )
    assert VIEWS not in str(figures.__dict__)


def test_a_settled_difference_and_one_raised_again_keep_whom_it_is_about(world):
    adults(world, "lincolnshire-joint")
    settled = services.escalation_record_settled(
        actor=world.practitioner_health,
        partnership=world.partnership,
        details=services.SettledDetails(
            kind="case",
            with_agency_id=world.social.pk,
            summary="Who visits the family first",
            outcome="agreed_way_forward",
            agreed_way_forward="Joint visit on Monday.",
            subject="family",
        ),
        immediate_danger=False,
    )
    assert settled.subject == "family"
    from accord.escalations.services.follow_through import _prefilled

    first = adult_case(world)
    data = _prefilled(world.practitioner_health, first)
    assert (data["subject"], data["adult_views"]) == ("adult", VIEWS)


def test_a_facilitator_sees_the_adults_view_only_where_they_see_the_childrens_details(world, client):
    from accord.escalations.models import PdgActionKind
    from accord.testing.auth import sign_in

    adults(world)
    e = world.formal()
    views = e.adult_views
    assert e.subject == "adult" and views
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        note="Offered a restorative meeting",
        facilitator_username=world.facilitator.username,
    )
    sign_in(client, world.facilitator)
    page = client.get(f"/escalations/{e.pk}/").content.decode()
    assert e.reference in page and views not in page
    assert views not in client.get(f"/escalations/{e.pk}/record/").content.decode()
    assert Api(client, world.facilitator).get(f"/escalations/{e.pk}").json()["adult"] is None
    sign_in(client, world.pdg_member)  # the formal body holds them
    assert views in client.get(f"/escalations/{e.pk}/").content.decode()


def test_emails_speak_of_whom_the_partnership_safeguards_and_nothing_of_the_adult(world):
    from accord.notifications.channels import notice_personalisation, render_email
    from accord.notifications.models import Notification

    adults(world)
    e = adult_case(world)
    notice = Notification.objects.filter(partnership=world.partnership).first()
    assert notice is not None
    _subject, body = render_email(notice)
    assert "any details of the adult or the difference" in body
    assert "If an adult is in immediate danger" in body
    personalisation = notice_personalisation(notice)
    assert (personalisation["whom"], personalisation["anyone"]) == ("the adult", "an adult")
    for text in (body, *personalisation.values()):
        assert VIEWS not in text and "Ambrose" not in text and e.summary not in text


def test_the_business_unit_says_whom_the_partnership_safeguards_on_its_settings_page(client, world):
    from accord.audit.models import AuditEvent, Verb
    from accord.testing.auth import sign_in

    sign_in(client, world.admin)
    page = client.get("/business-unit/settings/partnership/")
    assert "Whom the partnership safeguards" in page.content.decode()
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False, "")}
    response = client.post("/business-unit/settings/partnership/", {**data, "safeguards": "both"})
    assert response.status_code == 302, response.context["form"].errors
    world.partnership.refresh_from_db()
    assert world.partnership.safeguards == Safeguards.BOTH
    entry = AuditEvent.objects.filter(verb=Verb.PARTNERSHIP_SETTINGS_CHANGED).get()
    assert entry.payload["fields"] == ["safeguards"]
    refused = client.post("/business-unit/settings/partnership/", {**data, "safeguards": "pets"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    # Raising now asks whom it is about (with a child's case still a child's).
    sign_in(client, world.practitioner_health)
    from accord.escalations.models import Draft

    draft = Draft.objects.create(owner=world.practitioner_health, partnership=world.partnership, data={})
    asked = client.get(reverse("escalations:step", args=[draft.pk, "with"])).content.decode()
    assert "Whom is it about?" in asked and "An adult at risk" in asked


@pytest.mark.parametrize("subject", ["child", "adult"])
def test_a_date_of_birth_is_checked_on_the_29th_of_february_as_on_any_day(world, subject):
    # Twenty-five (or eighteen) years before a 29 February is no 29 February: the bound is
    # still reckoned, and a date outside it refused in words, never a failure.
    adults(world, "lincolnshire-joint")
    with clock.set_to(dt.datetime(2028, 2, 29, 10)):
        too_old_for_a_child = dt.date(2002, 3, 1)
        too_young_for_an_adult = dt.date(2012, 3, 1)
        details = raise_details(
            with_agency=world.social,
            subject=subject,
            children=[
                services.ChildDetails(
                    name="Leap Year",
                    date_of_birth=too_old_for_a_child if subject == "child" else too_young_for_an_adult,
                )
            ],
            **({"adult_aware": "yes"} if subject == "adult" else {}),
        )
        with pytest.raises(ValidationError) as refused:
            services.escalation_raise(
                actor=world.practitioner_health,
                partnership=world.partnership,
                details=details,
                immediate_danger=False,
            )
    assert "children" in refused.value.message_dict


def test_an_adults_boards_banner_danger_question_and_answers_speak_of_the_adult(client, world):
    from accord.escalations.forms import DangerForm, DifferenceForm, answer_label

    adults(world)
    client.force_login(world.practitioner_health)
    home = client.get("/").content.decode()
    assert "not the route for an adult in immediate danger" in home
    start = client.get(reverse("escalations:start")).content.decode()
    assert "see an adult&#x27;s safety differently" in start and "Keep the adult at the centre" in start
    assert "child" not in start.split("<main")[1].split("</main>")[0]
    assert "about the safety of adults at risk" in home and "children&#x27;s safety" not in home
    danger = client.get(reverse("escalations:danger")).content.decode()
    assert "Is the adult or anyone else in immediate danger?" in danger
    assert "If an adult is in immediate danger" in danger and "any child" not in danger
    refused = client.post(reverse("escalations:danger"), {}).content.decode()
    assert "Select yes if the adult or anyone else is in immediate danger" in refused
    # Check your answers labels the answers, and the summary's hint, in the adult's words.
    assert answer_label("concern", Subject.ADULT) == "What worries you for the adult?"
    assert answer_label("concern") == "What worries you for the child?"
    hint = DifferenceForm(partnership=world.partnership, subject=Subject.ADULT).fields["summary"].help_text
    assert hint == "One line others will recognise it by. Do not include the adult's name."
    assert (
        DangerForm(subject=Subject.CHILD).fields["immediate_danger"].label
        == "Is any child in immediate danger?"
    )


def test_a_childrens_partnerships_banner_still_speaks_of_a_child(client, world):
    client.force_login(world.practitioner_health)
    home = client.get("/").content.decode()
    assert "not the route for a child in immediate danger" in home
    assert "Is any child in immediate danger?" in client.get(reverse("escalations:danger")).content.decode()


def test_the_raised_page_and_the_kind_speak_of_the_adult_not_a_child(client, world):
    adults(world)
    e = adult_case(world)
    client.force_login(world.practitioner_health)
    raised = client.get(reverse("escalations:raised", args=[e.pk])).content.decode()
    assert "without any personal details" in raised and "child" not in raised.split("<main")[1]
    page = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    assert "Case: An adult at risk" in page and "particular child" not in page
    record = client.get(reverse("escalations:record", args=[e.pk])).content.decode()
    assert "Case: An adult at risk" in record


def test_an_adults_board_is_asked_for_a_person_or_a_theme_not_a_child(world):
    from accord.escalations.forms import WithForm

    adults(world)
    form = WithForm({}, partnership=world.partnership, user=world.practitioner_health)
    assert not form.is_valid()
    assert form.errors["kind"] == ["Select whether this is about a person or family, or a theme"]
