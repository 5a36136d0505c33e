"""The formal body's part (services/pdg.py): it acts on formal escalations only and commissions responses to themes."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accord.core.errors import NotFound
from accord.escalations import services
from accord.escalations.models import (
    Escalation,
    EventType,
    Kind,
    PdgActionKind,
    Status,
)

pytestmark = pytest.mark.django_db


def test_the_pdg_acts_only_on_formal_escalations_and_appoints_a_facilitator(world):
    e = world.at_stage_3()
    with pytest.raises(NotFound):  # not formal: the PDG cannot even see it
        services.escalation_pdg_action(actor=world.pdg_chair, escalation=e, action=PdgActionKind.MEDIATION)
    e = services.escalation_escalate(
        actor=world.senior_health, escalation=e, reason="x", efforts_to_resolve="y"
    )
    with pytest.raises(ValidationError):
        services.escalation_pdg_action(
            actor=world.pdg_chair, escalation=e, action=PdgActionKind.RESTORATIVE_FACILITATOR
        )
    with pytest.raises(ValidationError):
        services.escalation_pdg_action(
            actor=world.pdg_chair,
            escalation=e,
            action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator_username=world.practitioner_other.username,
        )
    assert not Escalation.objects.visible_to(world.facilitator).exists()
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
        note="Offer accepted",
    )
    assert list(Escalation.objects.visible_to(world.facilitator)) == [e]
    assert not Escalation.objects.visible_to(world.other_facilitator).exists()
    assert e.events.filter(type=EventType.FACILITATOR_APPOINTED).exists()


def test_a_thematic_escalation_records_the_commissioned_response(world):
    e = world.raised(kind=Kind.THEME, with_practitioner_username="")
    e = world.consulted(e)
    e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="pattern")
    e = services.escalation_escalate(actor=world.manager_health, escalation=e, reason="pattern")
    e = services.escalation_escalate(
        actor=world.senior_health, escalation=e, reason="pattern", efforts_to_resolve="forums"
    )
    created = services.escalation_commission_response(
        actor=world.pdg_chair,
        escalation=e,
        note="Task group",
        actions=[
            services.ActionDetails(
                description="Audit referrals", owner_agency_id=world.social.pk, due_date=dt.date(2027, 2, 1)
            )
        ],
    )
    assert len(created) == 1
    e.refresh_from_db()
    assert e.status == Status.OPEN  # commissioning a response does not decide the escalation
