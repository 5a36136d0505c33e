"""Some weeks after a resolution the parties are asked whether the agreed way forward held and
what changed for the child: asked once, answered once by a party, audited, counted in the
reports; the same rules on the page and in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.escalations import services, tallies
from accord.escalations.models import DailyTally, EventType, FollowUp, Outcome
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.notices import send_due_reminders
from accord.escalations.policies import allowed_actions
from accord.notifications.models import Notification
from accord.reports.selectors import Period, pdg_figures
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def at(m, d, h=10, y=2026):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def resolve(world, escalation, when):
    with clock.set_to(when):
        return services.escalation_resolve(
            actor=world.manager_social,
            escalation=escalation,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="A joint visit this week.",
            child_centred_outcome_achieved="yes",
        )


@pytest.fixture
def resolved(world):
    """Raised Monday 5 October 2026, resolved Thursday 8 October: its follow-up is due six
    weeks later, on Thursday 19 November."""
    e = world.raised(at=at(10, 5))
    resolve(world, e, at(10, 8))
    e.refresh_from_db()
    return e


def answer(world, escalation, person=None, held="partly", when=None):
    with clock.set_to(when or at(11, 20)):
        return services.escalation_follow_up(
            actor=person or world.practitioner_health,
            escalation=escalation,
            held=held,
            what_changed="The family now has a single plan; school attendance is still low.",
        )


def test_a_resolution_sets_a_follow_up_the_partnerships_weeks_later(world, resolved):
    follow_up = FollowUp.objects.get(escalation=resolved)
    assert follow_up.due_on == dt.date(2026, 11, 19) and follow_up.asked_at is None
    world.partnership.follow_up_weeks = 0
    world.partnership.save()
    never = world.raised(at=at(10, 5))
    resolve(world, never, at(10, 8))
    assert not FollowUp.objects.filter(escalation=never).exists()


def test_the_parties_and_the_resolver_are_asked_once_when_it_is_due(world, resolved):
    Notification.objects.all().delete()
    with clock.set_to(at(11, 18)):  # the day before: nothing
        send_due_reminders()
    assert not Notification.objects.filter(kind=Kind.FOLLOW_UP).exists()
    with clock.set_to(at(11, 19)):
        send_due_reminders()
        send_due_reminders()  # a second sweep (or a second worker) asks nobody again
    asked = set(
        Notification.objects.filter(kind=Kind.FOLLOW_UP).values_list("recipient__username", flat=True)
    )
    assert asked == {
        world.practitioner_health.username,
        world.practitioner_social.username,
        world.manager_social.username,
    }
    assert FollowUp.objects.get(escalation=resolved).asked_at is not None
    with clock.set_to(at(11, 26)):
        send_due_reminders()
    assert Notification.objects.filter(kind=Kind.FOLLOW_UP).count() == 3


def test_a_party_answers_once_audited_and_counted(world, resolved):
    with clock.set_to(at(11, 18)):  # not due yet: not offered, and refused as a transition
        assert "follow_up" not in allowed_actions(world.practitioner_health, resolved)
        with pytest.raises(IllegalTransition):
            answer(world, resolved, when=at(11, 18))
    with clock.set_to(at(11, 20)):
        resolved = type(resolved).objects.get(pk=resolved.pk)
        assert "follow_up" in allowed_actions(world.practitioner_health, resolved)
    follow_up = answer(world, resolved)
    assert follow_up.held == "partly" and follow_up.answered_by == world.practitioner_health
    assert resolved.events.filter(type=EventType.FOLLOWED_UP).count() == 1
    entry = AuditEvent.objects.get(verb=Verb.FOLLOWED_UP)
    assert entry.payload["held"] == "partly" and "school" not in str(entry.payload)  # no child's details
    with pytest.raises(IllegalTransition):  # answered: once only
        answer(world, resolved, person=world.practitioner_social)
    figures = pdg_figures(world.partnership, Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)))
    assert figures.follow_ups == {"partly": 1}
    # The kept tallies equal a recount from the records.
    kept = set(
        DailyTally.objects.filter(dimension__endswith="held").values_list("dimension", "key", "day", "n")
    )
    tallies.rebuild(world.partnership.pk)
    assert kept == set(
        DailyTally.objects.filter(dimension__endswith="held").values_list("dimension", "key", "day", "n")
    )
    assert kept


def test_only_the_parties_answer(world, resolved):
    """Someone who may not see it is not told it exists; the PDG, who sees a formal one, may
    read the answer but not give it."""
    for outsider in (world.practitioner_other, world.pdg_member):
        with pytest.raises(NotFound):
            answer(world, resolved, person=outsider)
    with clock.set_to(at(10, 5)):
        formal = world.formal()
    with clock.set_to(at(10, 8)):
        services.escalation_resolve(
            actor=world.senior_social,
            escalation=formal,
            outcome=Outcome.DECISION_CHANGED,
            agreed_way_forward="Strategy discussion.",
            child_centred_outcome_achieved="partly",
        )
    with pytest.raises(NotAllowed):
        answer(world, formal, person=world.pdg_member)
    answer(world, formal, person=world.senior_health)  # a party's leader may


def test_the_answer_needs_both_parts(world, resolved):
    with clock.set_to(at(11, 20)), pytest.raises(ValidationError) as invalid:
        services.escalation_follow_up(
            actor=world.practitioner_health, escalation=resolved, held="maybe", what_changed="  "
        )
    assert set(invalid.value.message_dict) == {"held", "what_changed"}
    assert not FollowUp.objects.filter(answered_at__isnull=False).exists()


def test_reopening_drops_the_unanswered_follow_up(world, resolved):
    with clock.set_to(at(10, 12)):
        services.escalation_reopen(actor=world.manager_social, escalation=resolved, reason="It came back.")
    assert not FollowUp.objects.filter(escalation=resolved).exists()
    Notification.objects.all().delete()
    with clock.set_to(at(11, 19)):
        send_due_reminders()
    assert not Notification.objects.filter(kind=Kind.FOLLOW_UP).exists()


def test_the_api_answers_with_the_same_rules(client, world, resolved):
    health = Api(client, world.practitioner_health)
    with clock.set_to(at(11, 18)):
        early = health.post(f"/escalations/{resolved.pk}/follow-up", {"held": "held", "what_changed": "x"})
        assert early.status_code == 409, early.content
    with clock.set_to(at(11, 20)):
        shown = health.get(f"/escalations/{resolved.pk}").json()
        assert "follow_up" in shown["allowed_actions"]
        assert shown["resolution"]["follow_up"]["due_on"] == "2026-11-19"
        pdg = Api(client, world.pdg_member)  # may not see it: not told it exists
        refused = pdg.post(f"/escalations/{resolved.pk}/follow-up", {"held": "held", "what_changed": "x"})
        assert refused.status_code == 404
        bad = health.post(f"/escalations/{resolved.pk}/follow-up", {"held": "sometimes", "what_changed": "x"})
        assert bad.status_code == 400  # not one of the answers: refused as the request's shape
        done = health.post(
            f"/escalations/{resolved.pk}/follow-up", {"held": "held", "what_changed": "Settled."}
        )
        assert done.status_code == 200, done.content
        body = done.json()
        assert (
            body["resolution"]["follow_up"]["held"] == "held" and "follow_up" not in body["allowed_actions"]
        )
        again = health.post(f"/escalations/{resolved.pk}/follow-up", {"held": "held", "what_changed": "x"})
        assert again.status_code == 409


def test_the_page_asks_and_records(client, world, resolved):
    sign_in(client, world.practitioner_health)
    with clock.set_to(at(11, 20)):
        page = client.get(f"/escalations/{resolved.pk}/")
        assert f"/escalations/{resolved.pk}/follow-up/" in page.content.decode()
        form = client.get(f"/escalations/{resolved.pk}/follow-up/")
        assert form.status_code == 200 and "A joint visit this week." in form.content.decode()
        empty = client.post(f"/escalations/{resolved.pk}/follow-up/", {"version": resolved.version})
        assert "Select whether the agreed way forward held" in empty.content.decode()
        assert "Enter what changed for the child" in empty.content.decode()
        done = client.post(
            f"/escalations/{resolved.pk}/follow-up/",
            {"version": resolved.version, "held": "not_held", "what_changed": "Nothing changed."},
        )
        assert done.status_code == 302
        shown = client.get(f"/escalations/{resolved.pk}/").content.decode()
        assert "No, it did not hold" in shown and "Nothing changed." in shown
    client.logout()
    sign_in(client, world.pdg_member)
    assert client.get(f"/escalations/{resolved.pk}/follow-up/").status_code == 404  # not theirs to see
