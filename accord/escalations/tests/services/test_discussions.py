"""Discussions and the manager's consultation (services/discussions.py): rule 2's consultation before escalating."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accord.core import clock
from accord.core.errors import RuleViolation
from accord.escalations import services

pytestmark = pytest.mark.django_db


def test_escalating_beyond_stage_1_needs_the_raisers_manager_consultation(world):
    e = world.raised()
    services.escalation_record_discussion(
        actor=world.practitioner_health,
        escalation=e,
        held_on=clock.today(),
        note="Talked to the social worker",
        agreed=False,
    )
    with pytest.raises(RuleViolation) as refused:
        services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Stuck")
    assert refused.value.rule == "consult_first"
    e.refresh_from_db()
    assert e.stage == 1
    world.consulted(e)
    e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Stuck")
    assert e.stage == 2


def test_the_other_partys_manager_consultation_does_not_count(world):
    e = world.raised()
    with pytest.raises(ValidationError):
        services.escalation_record_discussion(
            actor=world.practitioner_social,
            escalation=e,
            held_on=clock.today(),
            note="I asked my manager",
            with_manager=True,
        )
    assert not services.manager_consulted(e)
    assert not services.manager_consulted(e, list(e.discussions.all()))


def test_the_raisers_line_manager_can_record_the_consultation(world):
    e = world.raised()
    services.escalation_record_discussion(
        actor=world.practitioner_health,
        escalation=e,
        held_on=clock.today(),
        note="Spoke to the other practitioner",
        with_manager=False,
    )
    assert not services.manager_consulted(e)
    assert not services.manager_consulted(e, list(e.discussions.all()))
    services.escalation_record_discussion(
        actor=world.manager_health,
        escalation=e,
        held_on=clock.today(),
        note="Advised escalation",
        with_manager=True,
    )
    assert services.manager_consulted(e)
    # Rule 2 answers the same from discussions already read (the escalation's page).
    assert services.manager_consulted(e, list(e.discussions.all()))
    other = world.raised()
    assert not services.manager_consulted(other, list(e.discussions.all()))


def test_efforts_are_prefilled_from_the_recorded_history(world):
    e = world.at_stage_3()
    text = services.efforts_from_history(e)
    assert "Talked it through with my manager." in text


def test_a_discussion_in_the_future_is_refused(world):
    e = world.raised()
    with pytest.raises(ValidationError) as refused:
        services.escalation_record_discussion(
            actor=world.practitioner_health,
            escalation=e,
            held_on=clock.today() + dt.timedelta(days=1),
            note="x",
        )
    assert "held_on" in refused.value.message_dict
