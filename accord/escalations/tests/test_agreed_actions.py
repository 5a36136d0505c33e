"""Agreed actions are followed through: their agency (or the parties' managers and leaders, or
the formal body) marks them done, with what was done, through the page or the API; an
overdue one is chased to its agency's managers and senior leaders, once each interval, and
no more once done."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.escalations import services
from accord.escalations.models import EventType
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.notices import send_due_reminders
from accord.notifications.models import Notification
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


@pytest.fixture
def resolved(world):
    """Resolved at stage 2 with two agreed actions: one for children's social care, one for health."""
    e = world.at_stage_2()
    services.escalation_resolve(
        actor=world.manager_social,
        escalation=e,
        outcome="multi_agency_plan",
        agreed_way_forward="A joint plan",
        child_centred_outcome_achieved="partly",
        actions=[
            services.ActionDetails(
                description="Reopen the assessment",
                owner_agency_id=world.social.pk,
                due_date=dt.date(2027, 1, 8),
            ),
            services.ActionDetails(
                description="Share the health chronology",
                owner_agency_id=world.health.pk,
                due_date=dt.date(2027, 1, 8),
            ),
        ],
    )
    e.refresh_from_db()
    return e


def action_of(e, agency):
    return e.agreed_actions.get(owner_agency=agency)


def test_the_owning_agency_marks_its_action_done_and_others_may_not(world, resolved):
    social, health = action_of(resolved, world.social), action_of(resolved, world.health)
    # A health practitioner may not mark social care's action done; social care's practitioner may.
    with pytest.raises(NotAllowed):
        services.agreed_action_complete(
            actor=world.practitioner_health, escalation=resolved, action_id=social.pk
        )
    services.agreed_action_complete(
        actor=world.practitioner_social, escalation=resolved, action_id=social.pk, note="Assessment reopened"
    )
    social.refresh_from_db()
    assert social.completed_on == clock.today() and social.completed_by == world.practitioner_social
    assert social.completion_note == "Assessment reopened"
    with pytest.raises(IllegalTransition):
        services.agreed_action_complete(actor=world.manager_social, escalation=resolved, action_id=social.pk)
    # The parties' managers may mark any of its actions done.
    services.agreed_action_complete(actor=world.manager_social, escalation=resolved, action_id=health.pk)
    assert resolved.events.filter(type=EventType.ACTION_COMPLETED).count() == 2
    assert AuditEvent.objects.filter(verb=Verb.ACTION_COMPLETED, target_id=str(resolved.pk)).count() == 2
    # Someone who does not see the escalation is told it does not exist.
    with pytest.raises(NotFound):
        services.agreed_action_complete(
            actor=world.practitioner_other, escalation=resolved, action_id=health.pk
        )


def test_the_page_and_the_api_mark_an_action_done(client, world, resolved):
    social, health = action_of(resolved, world.social), action_of(resolved, world.health)
    sign_in(client, world.practitioner_health)
    page = client.get(f"/escalations/{resolved.pk}/").content.decode()
    assert f"/actions/{health.pk}/done/" in page and f"/actions/{social.pk}/done/" not in page
    assert client.get(f"/escalations/{resolved.pk}/actions/{social.pk}/done/").status_code == 403
    assert client.get(f"/escalations/{resolved.pk}/actions/{health.pk}/done/").status_code == 200
    done = client.post(
        f"/escalations/{resolved.pk}/actions/{health.pk}/done/",
        {"note": "Chronology sent", "version": resolved.version},
    )
    assert done.status_code == 302
    health.refresh_from_db()
    assert health.completed_on is not None and health.completion_note == "Chronology sent"
    assert client.get(f"/escalations/{resolved.pk}/actions/999999/done/").status_code == 404

    api = Api(client, world.practitioner_social)
    body = api.get(f"/escalations/{resolved.pk}").json()
    assert {a["id"] for a in body["agreed_actions"]} == {social.pk, health.pk}
    assert (
        api.post(f"/escalations/{resolved.pk}/actions/{social.pk}/done", {"note": "Done"}).status_code == 200
    )
    assert api.post(f"/escalations/{resolved.pk}/actions/{social.pk}/done", {}).status_code == 409
    assert (
        Api(client, world.practitioner_other)
        .post(f"/escalations/{resolved.pk}/actions/{social.pk}/done", {})
        .status_code
        == 404
    )


def test_an_overdue_action_is_chased_to_its_agencys_leaders_until_done(world, resolved):
    social = action_of(resolved, world.social)
    Notification.objects.all().delete()
    # Monday 11 January 2027: both actions are one working day overdue.
    with clock.set_to(at(2027, 1, 11)):
        send_due_reminders()
        assert send_due_reminders() == 0  # once
    chased = Notification.objects.filter(kind=Kind.ACTION_OVERDUE)
    told = {(n.recipient.username, n.due_date) for n in chased}
    assert (world.manager_social.username, social.due_date) in told
    assert (world.senior_social.username, social.due_date) in told
    assert (world.manager_health.username, social.due_date) in told  # the health action's leaders
    assert world.practitioner_social.username not in {name for name, _due in told}
    services.agreed_action_complete(actor=world.manager_social, escalation=resolved, action_id=social.pk)
    before = chased.filter(recipient=world.manager_social).count()
    # A week later it would be chased again, but it is done: only the health action is.
    with clock.set_to(at(2027, 1, 19)):
        send_due_reminders()
    assert chased.filter(recipient=world.manager_social).count() == before
    assert chased.filter(recipient=world.manager_health).count() == 2


# --------------------------------------------------------------------------- any agency's actions


@pytest.fixture
def commissioned(world):
    """A thematic escalation between health and social care at the PDG, which commissions an
    action of probation: an agency that is not a party."""
    e = world.formal(kind="theme", children=[])
    with clock.set_to(at(2026, 12, 1)):
        services.escalation_commission_response(
            actor=world.pdg_chair,
            escalation=e,
            note="A multi-agency response to neglect.",
            actions=[
                services.ActionDetails(
                    description="Brief probation officers on the neglect toolkit",
                    owner_agency_id=world.other.pk,
                    due_date=dt.date(2027, 1, 8),
                )
            ],
        )
    e.refresh_from_db()
    return e


def test_a_non_party_agency_is_told_opens_its_action_and_marks_it_done(client, world, commissioned):
    action = commissioned.agreed_actions.get()
    told = Notification.objects.filter(kind=Kind.ACTION_ASKED)
    assert {n.recipient.username for n in told} == {world.manager_other.username}
    assert told.get().path == f"/escalations/actions/{action.pk}/"
    sign_in(client, world.manager_other)
    assert client.get(f"/escalations/{commissioned.pk}/").status_code == 404  # rule 7 stands
    home = client.get("/").content.decode()
    assert f"/escalations/actions/{action.pk}/" in home
    page = client.get(f"/escalations/actions/{action.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and "Brief probation officers" in text and "8 January 2027" in text
    assert commissioned.summary in text and "Neglect" in text
    assert f"/escalations/{commissioned.pk}/" not in text  # no link they could not follow
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(
        verb=Verb.ESCALATION_VIEWED, actor=world.manager_other, payload__page="agreed_action"
    ).exists()
    done = client.post(f"/escalations/actions/{action.pk}/", {"note": "Briefing held on 5 January"})
    assert done.status_code == 302
    action.refresh_from_db()
    assert (
        action.completed_by == world.manager_other and action.completion_note == "Briefing held on 5 January"
    )
    assert commissioned.events.filter(type=EventType.ACTION_COMPLETED).count() == 1
    assert AuditEvent.objects.filter(verb=Verb.ACTION_COMPLETED, actor=world.manager_other).count() == 1
    again = client.post(f"/escalations/actions/{action.pk}/", {"note": "x"})
    assert again.status_code == 200 and "already marked done" in again.content.decode()


def test_only_the_owning_agency_and_those_who_see_it_open_the_action(client, world, commissioned):
    action = commissioned.agreed_actions.get()
    for person, status in (
        (world.practitioner_other, 200),  # the owning agency's practitioner
        (world.pdg_member, 200),  # sees the formal escalation
        (world.chair, 404),  # neither owns it nor sees it
        (world.admin, 404),
    ):
        sign_in(client, person)
        assert client.get(f"/escalations/actions/{action.pk}/").status_code == status, person
        client.logout()
    with pytest.raises(NotFound):
        services.agreed_action_complete(actor=world.chair, escalation=commissioned, action_id=action.pk)
    services.agreed_action_complete(
        actor=world.practitioner_other, escalation=commissioned, action_id=action.pk
    )


def test_the_action_never_shows_a_childs_details(client, world):
    e = world.at_stage_2(summary="Zebedee's school attendance")
    services.escalation_resolve(
        actor=world.manager_social,
        escalation=e,
        outcome="multi_agency_plan",
        agreed_way_forward="A joint plan",
        child_centred_outcome_achieved="partly",
        actions=[
            services.ActionDetails(
                description="Probation to share what it knows",
                owner_agency_id=world.other.pk,
                due_date=dt.date(2027, 1, 8),
            )
        ],
    )
    action = e.agreed_actions.get()
    sign_in(client, world.manager_other)
    text = client.get(f"/escalations/actions/{action.pk}/").content.decode()
    assert "Zebedee" not in text and "ZQ-778812" not in text and "Quartermaine" not in text
    assert "Levels of risk" in text or "levels of risk" in text.lower()  # the difference, by its area


def test_a_non_party_action_is_chased_only_while_it_is_theirs(world, commissioned):
    action = commissioned.agreed_actions.get()
    Notification.objects.all().delete()
    with clock.set_to(at(2027, 1, 11)):
        send_due_reminders()
    chased = Notification.objects.filter(kind=Kind.ACTION_OVERDUE)
    assert {n.recipient.username for n in chased} == {world.manager_other.username}
    assert chased.get().path == f"/escalations/actions/{action.pk}/"
    # The manager moves to another agency: the action is no longer theirs, nor chased to them.
    world.manager_other.agency = world.health
    world.manager_other.save()
    with clock.set_to(at(2027, 1, 19)):
        send_due_reminders()
    assert chased.filter(recipient=world.manager_other).count() == 1


def test_the_api_opens_and_marks_an_action_done_for_a_non_party(client, world, commissioned):
    action = commissioned.agreed_actions.get()
    owner = Api(client, world.manager_other)
    shown = owner.get(f"/agreed-actions/{action.pk}")
    assert shown.status_code == 200, shown.content
    body = shown.json()
    assert (
        body["may_complete"] and not body["sees_escalation"] and body["reference"] == commissioned.reference
    )
    assert Api(client, world.chair).get(f"/agreed-actions/{action.pk}").status_code == 404
    assert (
        Api(client, world.chair).post(f"/agreed-actions/{action.pk}/done", {"note": "x"}).status_code == 404
    )
    done = owner.post(f"/agreed-actions/{action.pk}/done", {"note": "Briefed"})
    assert done.status_code == 200 and done.json()["completion_note"] == "Briefed"
    assert owner.post(f"/agreed-actions/{action.pk}/done", {"note": "x"}).status_code == 409


def test_a_shared_agencys_people_of_another_partnership_neither_open_nor_are_chased(client, world, neighbour):
    """The health trust works in two partnerships: an action asked of it here is not opened by,
    nor chased to, its managers who hold roles only in the other."""
    e = world.formal(kind="theme", children=[])
    with clock.set_to(at(2026, 12, 1)):
        services.escalation_commission_response(
            actor=world.pdg_chair,
            escalation=e,
            note="n",
            actions=[
                services.ActionDetails(
                    description="Share the pathway",
                    owner_agency_id=world.health.pk,
                    due_date=dt.date(2027, 1, 8),
                )
            ],
        )
    action = e.agreed_actions.get()
    assert neighbour.manager_health.agency_id == world.health.pk
    sign_in(client, neighbour.manager_health)
    assert client.get(f"/escalations/actions/{action.pk}/").status_code == 404
    with pytest.raises(NotFound):
        services.agreed_action_complete(actor=neighbour.manager_health, escalation=e, action_id=action.pk)
    with clock.set_to(at(2027, 1, 11)):
        send_due_reminders()
    chased = {
        n.recipient_id for n in Notification.objects.filter(kind__in=[Kind.ACTION_OVERDUE, Kind.ACTION_ASKED])
    }
    assert world.manager_health.pk in chased and neighbour.manager_health.pk not in chased
