"""What each stage asks for is part of the protocol: raising asks only the first stage's
answers (on every preset, through the API as on the pages), a move asks what the stage
entered asks for, rule 3 holds for every formal stage whatever a document says, a
partnership may ask more, and a difference already settled is recorded, counted and told."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core.errors import NotAllowed, NotFound, RuleViolation
from accord.escalations import services
from accord.escalations.models import Draft, Escalation, EventType, Outcome, Status
from accord.escalations.protocol import protocol_apply
from accord.notifications.models import Notification
from accord.partnership.protocol import (
    document_of,
    install_ladder,
    ladder_of,
    parse_document,
    preset,
    preset_names,
)
from accord.reports.selectors import Period, tally_sums
from accord.testing.auth import sign_in
from accord.testing.factories import World

pytestmark = pytest.mark.django_db


def first_stage_body(world, **more):
    """Devon's first stage: who, the child, a summary, what worries the raiser, urgency."""
    return {
        "kind": "case",
        "immediate_danger": False,
        "with_agency": world.social.pk,
        "summary": "Threshold not agreed",
        "concern": "Needs unmet",
        "urgency": "routine",
        "children": [{"name": "K.L."}],
        # (On an adults board the difference is about an adult, who is asked whether they know.)
        **({"adult_aware": "yes"} if world.partnership.safeguards == "adults" else {}),
        **more,
    }


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_raises_on_its_first_stages_answers_and_keeps_rule_3(client, name):
    world = World()
    install_ladder(world.partnership, preset(name))
    api = Api(client, world.practitioner_health)
    stages = api.get("/stages").json()
    assert [s["number"] for s in stages] == ladder_of(world.partnership).numbers
    assert {a["name"] for a in stages[0]["requires"]} == {"concern"}
    for stage in stages:
        if stage["formal"]:
            assert {"evidence", "efforts_to_resolve"} <= {a["name"] for a in stage["requires"]}
    created = api.post("/escalations", first_stage_body(world))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["evidence"] == "" and body["areas_of_disagreement"] == []
    # Up the ladder to the first formal stage: entering it without the evidence is 422.
    e = Escalation.objects.get(pk=body["id"])
    world.consulted(e)
    ladder = ladder_of(world.partnership)
    movers = {"practitioners": world.practitioner_health, "managers": world.manager_health}
    movers["senior_leaders"] = world.senior_health
    answers = {"decision_challenged": "Closed", "tried_so_far": "Calls", "desired_outcome": "Assessment"}
    while not ladder.is_formal(e.stage + 1):
        e = services.escalation_escalate(
            actor=movers[ladder.worked_by(e.stage)], escalation=e, reason="Not settled", answers=answers
        )
    refused = Api(client, movers[ladder.worked_by(e.stage)]).post(
        f"/escalations/{e.pk}/escalate",
        {"reason": "Formally", "efforts_to_resolve": "We met twice."},
        headers={"If-Match": str(e.version)},
    )
    assert refused.status_code == 422, refused.content
    assert "evidence" in refused.json()["errors"]


def test_a_refusal_names_what_the_protocol_asks_that_is_missing(client, world):
    api = Api(client, world.practitioner_health)
    body = first_stage_body(world)
    del body["concern"]
    refused = api.post("/escalations", body)
    assert refused.status_code in (400, 422)
    assert "Enter what worries you for the child" in str(refused.json()["errors"]["concern"])
    # A partnership that asks more at its first stage (the evidence) is asked it.
    document = document_of(world.partnership)
    document["stages"][0]["requires"] = ["concern", "evidence"]
    protocol_apply(actor=None, partnership=world.partnership, document=document)
    refused = api.post("/escalations", first_stage_body(world))
    assert "evidence" in refused.json()["errors"]
    assert api.post("/escalations", first_stage_body(world, evidence="Notes of 3 May")).status_code == 201


def test_a_document_cannot_drop_rule_3_nor_ask_an_unknown_answer(world):
    document = document_of(world.partnership)
    formal = next(s for s in document["stages"] if s["formal"])
    formal["requires"] = []
    protocol = parse_document(document)
    # The stage asks for nothing of its own, and rule 3's answers all the same.
    assert {"evidence", "efforts_to_resolve"} <= set(protocol.ladder().required_to_enter(formal["number"]))
    document["stages"][0]["requires"] = ["concern", "the-childs-shoe-size"]
    with pytest.raises(ValidationError, match="requires lists answers"):
        parse_document(document)


def test_a_move_asks_what_its_stage_needs_and_takes_what_is_known(world):
    e = world.consulted(
        services.escalation_raise(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=services.RaiseDetails(
                kind="case",
                with_agency_id=world.social.pk,
                summary="Threshold",
                concern="Needs unmet",
                children=[services.ChildDetails(name="K.L.")],
            ),
            immediate_danger=False,
        )
    )
    with pytest.raises(RuleViolation) as refused:
        services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Not settled")
    assert set(refused.value.message_dict) == {"decision_challenged", "tried_so_far", "desired_outcome"}
    e.refresh_from_db()
    assert e.stage == 1
    services.escalation_escalate(
        actor=world.practitioner_health,
        escalation=e,
        reason="Not settled",
        answers={"decision_challenged": "Closed", "tried_so_far": "Calls", "desired_outcome": "Assessment"},
    )
    e.refresh_from_db()
    assert e.stage == 2 and e.tried_so_far == "Calls"
    entry = AuditEvent.objects.filter(verb=Verb.ESCALATED).latest("id")
    assert entry.payload["answered"] == ["decision_challenged", "desired_outcome", "tried_so_far"]


def test_the_escalate_page_asks_the_stages_answers_in_its_words(client, world):
    e = world.consulted(world.raised())
    sign_in(client, world.practitioner_health)
    page = client.get(reverse("escalations:escalate", args=[e.pk])).content.decode()
    assert "Escalate to stage 2" in page  # the button says what it does
    assert 'name="tried_so_far"' in page and 'name="efforts_to_resolve"' not in page  # not formal yet
    assert "Spoke to the allocated worker twice." in page  # known already: filled in


def test_several_areas_are_kept_and_counted_each(client, world):
    api = Api(client, world.practitioner_health)
    created = api.post(
        "/escalations", first_stage_body(world, areas_of_disagreement=["levels-of-risk", "communication"])
    )
    assert created.status_code == 201, created.content
    assert created.json()["area_of_disagreement"] == "levels-of-risk"
    assert created.json()["areas_of_disagreement"] == ["levels-of-risk", "communication"]
    e = Escalation.objects.get(pk=created.json()["id"])
    sums = tally_sums(world.partnership, Period(e.raised_at.date(), e.raised_at.date()))
    codes = dict(world.partnership.areas_of_disagreement.values_list("pk", "code"))
    assert {codes[int(k)]: n for k, n in sums["area"].items()} == {"levels-of-risk": 1, "communication": 1}


def test_a_settled_difference_is_raised_and_resolved_at_stage_1_and_the_other_side_told(client, world):
    e = services.escalation_record_settled(
        actor=world.practitioner_health,
        partnership=world.partnership,
        details=services.SettledDetails(
            kind="case",
            with_agency_id=world.social.pk,
            with_practitioner_username=world.practitioner_social.username,
            summary="Who follows up the dentist",
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="School nurse follows up.",
            learning="Say who follows up at the start.",
        ),
        immediate_danger=False,
    )
    assert e.status == Status.RESOLVED and e.stage == 1
    assert e.resolutions.get().settled_when_raised
    assert not e.events.filter(type=EventType.RAISED).exists()  # not "raised with you"
    assert Notification.objects.filter(recipient=world.practitioner_social, kind="settled_with_you").exists()
    sums = tally_sums(world.partnership, Period(e.raised_at.date(), e.raised_at.date()))
    assert sums["total"]["all"] == 1 and sums["outcome"] == {Outcome.AGREED_WAY_FORWARD: 1}  # rule 5
    # The other side adds its view; the raiser cannot (it is not theirs), nor anyone else.
    services.escalation_add_view(actor=world.practitioner_social, escalation=e, view="Agreed, and thanks.")
    assert e.events.filter(type=EventType.VIEW_ADDED, summary="Agreed, and thanks.").exists()
    for outsider in (world.practitioner_health, world.pdg_member):  # (one who cannot see it: not found)
        with pytest.raises((NotAllowed, NotFound)):
            services.escalation_add_view(actor=outsider, escalation=e, view="Mine")
    # Rule 1 holds here too: nothing is stored for a child in immediate danger.
    before = Escalation.objects.count()
    with pytest.raises(Exception, match="999"):
        services.escalation_record_settled(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=services.SettledDetails(
                kind="case",
                with_agency_id=world.social.pk,
                summary="x",
                outcome="agreed_way_forward",
                agreed_way_forward="y",
            ),
            immediate_danger=True,
        )
    assert Escalation.objects.count() == before


def test_a_settled_difference_over_the_api(client, world):
    api = Api(client, world.practitioner_health)
    body = {
        "kind": "theme",
        "immediate_danger": False,
        "with_agency": world.social.pk,
        "summary": "Who calls the strategy meeting",
        "outcome": "decision_upheld",
        "agreed_way_forward": "Social care calls it, as the procedure says.",
    }
    created = api.post("/escalations/settled", body)
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "resolved"
    e = Escalation.objects.get(pk=created.json()["id"])
    viewed = Api(client, world.manager_social).post(
        f"/escalations/{e.pk}/view", {"view": "We agree."}, headers={"If-Match": str(e.version)}
    )
    assert viewed.status_code == 200, viewed.content


def test_deleting_a_draft_asks_first_on_a_page_of_its_own(client, world):
    sign_in(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    page = client.get(reverse("escalations:draft_delete", args=[draft.pk]))
    assert page.status_code == 200 and "Delete this draft?" in page.content.decode()
    assert Draft.objects.filter(pk=draft.pk).exists()  # asking deletes nothing
    client.post(reverse("escalations:draft_delete", args=[draft.pk]))
    assert not Draft.objects.filter(pk=draft.pk).exists()


def test_the_directory_searches_this_partnerships_staff_only(client, world):
    outsider = World(name="Elsewhere", prefix="ELS")
    sign_in(client, world.practitioner_health)
    url = reverse("escalations:directory")
    assert client.get(url, {"q": "pr"}).json()["people"] == []  # three characters at least
    found = client.get(url, {"q": world.practitioner_social.first_name[:4], "agency": world.social.pk}).json()
    assert world.practitioner_social.email in [p["value"] for p in found["people"]]
    theirs = client.get(url, {"q": outsider.practitioner_social.first_name[:4]}).json()["people"]
    assert outsider.practitioner_social.email not in [p["value"] for p in theirs]
    # Another partnership's agency finds nobody; every search is audited.
    assert client.get(url, {"q": "prac", "agency": outsider.social.pk}).json()["people"] == []
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert (
        AuditEvent.objects.filter(verb=Verb.DIRECTORY_SEARCHED, actor=world.practitioner_health).count() == 3
    )


def test_the_directory_is_rate_limited(client, world, monkeypatch):
    from accord.escalations.services import directory

    monkeypatch.setattr(directory, "DIRECTORY_PER_MINUTE", 2)
    sign_in(client, world.practitioner_health)
    url = reverse("escalations:directory")
    assert client.get(url, {"q": "prac"}).status_code == 200
    assert client.get(url, {"q": "prac"}).status_code == 200
    assert client.get(url, {"q": "prac"}).status_code == 429


def test_what_was_typed_on_an_action_page_survives_an_idle_sign_out(client, world):
    e = world.raised()
    url = reverse("escalations:discuss", args=[e.pk])
    sign_in(client, world.practitioner_health)
    client.get(url)
    client.cookies.pop(settings.SESSION_COOKIE_NAME)  # the session has expired (the browser keeps its others)
    client.post(url, {"note": "A long careful note of the meeting", "version": e.version})
    from accord.escalations.tests.test_pages import PASSWORD

    response = client.post(
        reverse("login") + f"?next={url}",
        {"username": world.practitioner_health.username, "password": PASSWORD, "next": url},
        follow=True,
    )
    assert "A long careful note of the meeting" in response.content.decode()
    assert not e.discussions.exists()  # shown back, never acted on unasked


def test_what_was_typed_is_never_shown_to_someone_else_signing_in_on_the_browser(client, world):
    e = world.raised()
    url = reverse("escalations:discuss", args=[e.pk])
    sign_in(client, world.practitioner_health)
    client.get(url)
    client.cookies.pop(settings.SESSION_COOKIE_NAME)  # the session has expired
    client.post(url, {"note": "Something only the raiser wrote", "version": e.version})
    from accord.escalations.tests.test_pages import PASSWORD

    response = client.post(
        reverse("login") + f"?next={url}",
        {"username": world.manager_health.username, "password": PASSWORD, "next": url},
        follow=True,
    )
    assert response.status_code == 200 and response.redirect_chain[-1][0] == url  # signed in, on the page
    assert "Something only the raiser wrote" not in response.content.decode()


def test_a_move_never_rewrites_the_raisers_account_and_rule_3_is_written_with_the_formal_move(client, world):
    e = world.consulted(world.raised())
    # The other agency's manager may fill what is missing, never change what the raiser wrote.
    with pytest.raises(RuleViolation) as refused:
        services.escalation_escalate(
            actor=world.manager_social,
            escalation=e,
            reason="Not settled",
            answers={"concern": "No concern: the raiser overreacted"},
        )
    assert refused.value.rule == "not_your_account"
    e.refresh_from_db()
    assert e.concern == "Needs are not being met." and e.stage == 1
    # Efforts to resolve added early (details, an informal move) do not satisfy rule 3.
    with pytest.raises(ValidationError):
        services.escalation_add_details(
            actor=world.practitioner_health, escalation=e, answers={"efforts_to_resolve": "Typed at stage 1"}
        )
    ladder = ladder_of(world.partnership)
    movers = {"practitioners": world.practitioner_health, "managers": world.manager_health}
    movers["senior_leaders"] = world.senior_health
    while not ladder.is_formal(e.stage + 1):
        e = services.escalation_escalate(
            actor=movers[ladder.worked_by(e.stage)],
            escalation=e,
            reason="Not settled",
            answers={"efforts_to_resolve": "Given on an informal move"},
        )
    assert e.efforts_to_resolve == ""  # not written by an informal move
    api = Api(client, movers[ladder.worked_by(e.stage)])
    refused = api.post(
        f"/escalations/{e.pk}/escalate", {"reason": "Formally"}, headers={"If-Match": str(e.version)}
    )
    assert refused.status_code == 422 and "efforts_to_resolve" in refused.json()["errors"]


def test_the_raisers_own_correction_keeps_what_it_said_before(world):
    e = world.raised()
    services.escalation_add_details(
        actor=world.practitioner_health, escalation=e, answers={"concern": "Worse now"}
    )
    event = e.events.get(type=EventType.DETAILS_ADDED)
    assert "was: Needs are not being met." in event.summary
    with pytest.raises((NotAllowed, NotFound)):
        services.escalation_add_details(actor=world.manager_social, escalation=e, answers={"concern": "Mine"})


def test_a_formal_body_role_never_records_how_a_difference_ended_even_as_a_practitioner(world):
    from accord.partnership.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        user=world.practitioner_health, partnership=world.partnership, role=Role.PDG_MEMBER
    )
    before = Escalation.objects.count()
    with pytest.raises(NotAllowed):
        services.escalation_record_settled(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=services.SettledDetails(
                kind="case",
                with_agency_id=world.social.pk,
                summary="x",
                outcome="decision_changed",
                agreed_way_forward="y",
            ),
            immediate_danger=False,
        )
    assert Escalation.objects.count() == before  # rule 4


def test_someone_without_a_role_here_is_never_named_nor_told(client, world):
    neighbour = World(name="Nextshire", prefix="NXT", shares_health_with=world)
    api = Api(client, world.practitioner_social)
    body = first_stage_body(
        world, with_agency=world.health.pk, with_practitioner=neighbour.practitioner_health.username
    )
    refused = api.post("/escalations", body)
    assert refused.status_code in (400, 422) and "with_practitioner" in refused.json()["errors"]
    assert not Notification.objects.filter(recipient=neighbour.practitioner_health).exists()


def test_bad_input_on_the_new_pages_is_refused_plainly(client, world):
    sign_in(client, world.practitioner_health)
    # A NUL in the directory's search is not an error.
    assert client.get(reverse("escalations:directory"), {"q": "pra\x00c"}).status_code == 200
    # Taking out a row that is not on the page changes nothing (and writes nothing).
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    url = reverse("escalations:step", args=[draft.pk, "children"])
    assert client.post(url, {"child_1_name": "K", "remove": "-100000"}).status_code == 302
    draft.refresh_from_db()
    assert len(draft.data) < 40
    # A protocol document whose answers are not names is refused in words, not a 500.
    document = document_of(world.partnership)
    document["stages"][0]["requires"] = [["concern"], {}]
    with pytest.raises(ValidationError, match="requires lists answers"):
        parse_document(document)


def _settle_through_pages(client, world, agreed: str):
    client.post(reverse("escalations:danger") + "?settled=1", {"immediate_danger": "no"})
    draft = Draft.objects.filter(owner=world.practitioner_health).latest("pk")
    client.post(
        reverse("escalations:settled_with", args=[draft.pk]), {"kind": "case", "with_agency": world.social.pk}
    )
    url = reverse("escalations:settled_how", args=[draft.pk])
    return url, client.post(
        url, {"summary": "Who follows up", "outcome": "agreed_way_forward", "agreed_way_forward": agreed}
    )


def test_settled_differences_are_rate_limited_on_the_pages_and_the_api(client, world, monkeypatch):
    """Nobody confirms a settled difference before it counts and the other side is told: one
    person records only so many an hour, whatever the route."""
    from accord.escalations.services import settled

    monkeypatch.setattr(settled, "SETTLED_PER_HOUR", 2)
    sign_in(client, world.practitioner_health)
    _url, first = _settle_through_pages(client, world, "First")
    assert first.status_code == 302
    api = Api(client, world.practitioner_health)
    body = {
        "kind": "case",
        "immediate_danger": False,
        "with_agency": world.social.pk,
        "summary": "Who calls the meeting",
        "outcome": "decision_upheld",
        "agreed_way_forward": "Social care calls it.",
    }
    assert api.post("/escalations/settled", body).status_code == 201
    before = Escalation.objects.count()
    refused = api.post("/escalations/settled", body)
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert "settled differences in the last hour" in refused.json()["detail"]
    sign_in(client, world.practitioner_health)
    _url, page = _settle_through_pages(client, world, "Third")
    assert page.status_code == 200 and "settled differences in the last hour" in page.content.decode()
    assert Escalation.objects.count() == before
    assert Draft.objects.filter(owner=world.practitioner_health).exists()  # what was typed is kept
    # Someone else is not held back by the first person's count.
    other = Api(client, world.practitioner_social)
    assert other.post("/escalations/settled", {**body, "with_agency": world.health.pk}).status_code == 201


def test_what_was_typed_on_a_settled_page_survives_an_idle_sign_out(client, world):
    sign_in(client, world.practitioner_health)
    client.post(reverse("escalations:danger") + "?settled=1", {"immediate_danger": "no"})
    draft = Draft.objects.get()
    client.post(
        reverse("escalations:settled_with", args=[draft.pk]), {"kind": "case", "with_agency": world.social.pk}
    )
    url = reverse("escalations:settled_how", args=[draft.pk])
    client.get(url)
    client.cookies.pop(settings.SESSION_COOKIE_NAME)  # the session has expired
    client.post(
        url,
        {
            "summary": "A careful line",
            "outcome": "agreed_way_forward",
            "agreed_way_forward": "Typed with care",
        },
    )
    from accord.escalations.tests.test_pages import PASSWORD

    response = client.post(
        reverse("login") + f"?next={url}",
        {"username": world.practitioner_health.username, "password": PASSWORD, "next": url},
        follow=True,
    )
    assert "Typed with care" in response.content.decode()
    assert not Escalation.objects.exists()  # shown back, never recorded unasked
    draft.refresh_from_db()
    assert draft.data["agreed_way_forward"] == "Typed with care"


def test_agencies_taking_no_part_in_casework_are_never_parties(client, world):
    """The business unit marks the agencies that take no part in casework (itself, the formal
    body's host, the facilitators' organisation): no route makes one a party, and the
    directory finds none of their people."""
    from accord.partnership.models import PartnershipAgency

    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.unit).update(
        takes_part_in_raising=False
    )
    api = Api(client, world.practitioner_health)
    for body in (
        first_stage_body(world, with_agency=world.unit.pk),
        first_stage_body(world, other_parties=[{"agency": world.unit.pk}]),
    ):
        refused = api.post("/escalations", body)
        assert refused.status_code in (400, 422), refused.content
    settled = {
        "kind": "case",
        "immediate_danger": False,
        "with_agency": world.unit.pk,
        "summary": "x",
        "outcome": "decision_upheld",
        "agreed_way_forward": "y",
    }
    assert api.post("/escalations/settled", settled).status_code == 400
    e = world.raised()
    brought = api.post(
        f"/escalations/{e.pk}/parties",
        {"agency": world.unit.pk, "reason": "They hold the minutes"},
        headers={"If-Match": str(e.version)},
    )
    assert brought.status_code in (400, 422), brought.content
    assert not Escalation.objects.filter(with_agency=world.unit).exists()
    sign_in(client, world.practitioner_health)
    found = client.get(reverse("escalations:directory"), {"q": world.admin.email[:6]}).json()["people"]
    assert world.admin.email not in [p["value"] for p in found]


def test_only_people_who_work_on_escalations_here_are_named_or_found(client, world):
    """Someone holding only a role that never takes part (the executive's aggregates, the
    auditor's trail, a formal body's seat) at an agency that does casework is neither found
    by the directory nor named on a difference, by name or by address: named, they would see
    the child's details."""
    from accord.partnership.models import Role
    from accord.testing.factories import UserFactory

    p = world.partnership
    executive = UserFactory(
        username="exec.social", first_name="Exie", agency=world.social, roles=[(p, Role.EXECUTIVE)]
    )
    panel = UserFactory(
        username="pdg.other", first_name="Pandora", agency=world.other, roles=[(p, Role.PDG_MEMBER)]
    )
    from accord.partnership.models import PartnershipAgency

    PartnershipAgency.objects.filter(partnership=p).update(work_email_domains="example.invalid")
    sign_in(client, world.practitioner_health)
    for who in (executive, panel):
        found = client.get(reverse("escalations:directory"), {"q": who.first_name}).json()["people"]
        assert who.email not in [f["value"] for f in found]
    api = Api(client, world.practitioner_health)
    for body in (
        first_stage_body(world, with_practitioner=executive.username),
        first_stage_body(world, with_practitioner_email=executive.email),
        first_stage_body(world, other_parties=[{"agency": world.other.pk, "practitioner": panel.username}]),
        first_stage_body(
            world, other_parties=[{"agency": world.other.pk, "practitioner_email": panel.email}]
        ),
    ):
        refused = api.post("/escalations", body)
        assert refused.status_code in (400, 422), (body, refused.content)
        if "@" in str(body):
            assert "does not work on escalations in this partnership" in str(refused.json()["errors"])
    assert not Escalation.objects.exists()
    assert not Escalation.objects.visible_to(executive).exists()


def test_add_another_counts_the_rows_the_page_showed_within_what_it_takes(client, world):
    from accord.escalations import forms

    sign_in(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    url = reverse("escalations:step", args=[draft.pk, "with"])
    client.post(url, {"add_another": "2"})  # two spare rows were opened on the page
    draft.refresh_from_db()
    assert draft.data["_other_rows"] == 3
    for nonsense in ("many", "-4", "99999999999999999999999", ""):
        assert client.post(url, {"add_another": nonsense}).status_code == 302
        draft.refresh_from_db()
        assert draft.data["_other_rows"] <= forms.MOST_ROWS
    client.post(url, {"add_another": str(forms.MOST_ROWS)})
    draft.refresh_from_db()
    assert draft.data["_other_rows"] == forms.MOST_ROWS


def test_the_directory_over_the_api_keeps_the_pages_rules(client, world, monkeypatch):
    """A partner system finds whom to name as the page's picker does: this partnership's
    people who work on escalations, three characters at least, audited, rate limited; and
    the agencies say which may be a party."""
    from accord.escalations.services import directory
    from accord.partnership.models import PartnershipAgency

    outsider = World(name="Elsewhere", prefix="ELS")
    api = Api(client, world.practitioner_health)
    found = api.get("/people", q=world.practitioner_social.first_name[:4], agency=world.social.pk)
    assert found.status_code == 200, found.content
    assert world.practitioner_social.username in [p["username"] for p in found.json()]
    assert api.get("/people", q="pr").status_code == 400
    theirs = api.get("/people", q=outsider.practitioner_social.first_name[:4]).json()
    assert outsider.practitioner_social.username not in [p["username"] for p in theirs]
    assert api.get("/people", q="prac", agency=outsider.social.pk).json() == []
    assert api.get("/people", q="prac", agency=10**12).json() == []
    chain_pending_reads()
    assert (
        AuditEvent.objects.filter(verb=Verb.DIRECTORY_SEARCHED, actor=world.practitioner_health).count() == 4
    )
    # Someone who raises nothing here does not search its staff.
    assert Api(client, world.executive).get("/people", q="prac").status_code == 403
    monkeypatch.setattr(directory, "DIRECTORY_PER_MINUTE", 4)
    limited = api.get("/people", q="prac")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.unit).update(
        takes_part_in_raising=False
    )
    agencies = {a["id"]: a["takes_part_in_casework"] for a in api.get("/agencies").json()}
    assert agencies[world.unit.pk] is False and agencies[world.social.pk] is True
