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
