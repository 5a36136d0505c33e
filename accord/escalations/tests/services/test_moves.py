"""Escalating, pausing and resuming (services/moves.py): the evidence a formal stage needs (rule 3), skipping and the ladder's ends."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.core import clock
from accord.core.errors import NotAllowed, RuleViolation
from accord.escalations import services
from accord.escalations.models import (
    EventType,
    Status,
)
from accord.escalations.selectors import is_overdue

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def test_formal_escalation_needs_evidence_of_efforts(world):
    e = world.at_stage_3()
    with pytest.raises(RuleViolation) as refused:
        services.escalation_escalate(
            actor=world.senior_health, escalation=e, reason="Concerns remain", efforts_to_resolve="   "
        )
    assert refused.value.rule == "evidence_first"
    assert "efforts_to_resolve" in refused.value.message_dict
    e.refresh_from_db()
    assert e.stage == 3 and e.formal_at is None
    e = services.escalation_escalate(
        actor=world.senior_health, escalation=e, reason="Concerns remain", efforts_to_resolve="We met twice."
    )
    assert e.stage == 4 and e.formal_at is not None and e.efforts_to_resolve == "We met twice."
    assert e.events.filter(type=EventType.FORMALLY_ESCALATED).exists()


def test_skipping_a_stage_needs_a_reason(world):
    e = world.consulted(world.raised())
    with pytest.raises(ValidationError) as refused:
        services.escalation_escalate(
            actor=world.practitioner_health, escalation=e, reason="Serious", to_stage=3
        )
    assert "skip_reason" in refused.value.message_dict
    e = services.escalation_escalate(
        actor=world.practitioner_health,
        escalation=e,
        reason="Serious",
        to_stage=3,
        skip_reason="Managers are the same people here",
    )
    assert e.stage == 3
    assert e.stage_periods.get(stage=3).skip_reason == "Managers are the same people here"


def test_skipping_straight_to_formal_still_needs_evidence(world):
    e = world.consulted(world.raised())
    with pytest.raises(RuleViolation):
        services.escalation_escalate(
            actor=world.practitioner_health, escalation=e, reason="Serious", to_stage=4, skip_reason="Urgent"
        )


def test_escalation_cannot_go_past_the_top_or_backwards(world):
    e = world.formal()
    with pytest.raises(NotAllowed):
        # A practitioner is not a leader at stage 4.
        services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="again")
    with pytest.raises(ValidationError):
        services.escalation_escalate(actor=world.senior_health, escalation=e, reason="again")
    with pytest.raises(ValidationError):
        services.escalation_escalate(actor=world.senior_health, escalation=e, reason="back", to_stage=2)


def test_a_practitioner_cannot_escalate_beyond_stage_2(world):
    e = world.at_stage_2()
    with pytest.raises(NotAllowed):
        services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="go on")


def test_pausing_stops_the_clock_and_resuming_recomputes_it(world):
    e = world.raised(at=at(2026, 11, 2))  # Monday; due Monday 9th
    assert e.due_date == dt.date(2026, 11, 9)
    with clock.set_to(at(2026, 11, 5)):
        e = services.escalation_pause(
            actor=world.manager_social, escalation=e, reason="Conference on Tuesday"
        )
    assert e.status == Status.PAUSED and e.due_date is None
    with clock.set_to(at(2026, 11, 20)):
        assert not is_overdue(e)
    with clock.set_to(at(2026, 11, 10)):
        e = services.escalation_resume(actor=world.manager_social, escalation=e)
    assert e.due_date == dt.date(2026, 11, 12)


def test_a_paused_stage_cannot_be_escalated_until_resumed(world):
    e = world.consulted(world.raised())
    services.escalation_pause(actor=world.manager_health, escalation=e, reason="waiting")
    with pytest.raises(NotAllowed):
        services.escalation_escalate(actor=world.manager_health, escalation=e, reason="x")
