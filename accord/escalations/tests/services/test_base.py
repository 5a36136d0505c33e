"""What every service shares (services/_base.py): a stale version refused, a version, an event and an audit entry for each change, and not found for outsiders."""

import pytest

from accord.audit.models import AuditEvent
from accord.core import clock
from accord.core.errors import NotFound, StaleVersion
from accord.escalations import services
from accord.escalations.models import (
    Event,
    EventType,
)

pytestmark = pytest.mark.django_db


def test_a_stale_version_is_refused_and_changes_nothing(world):
    e = world.raised()
    version = e.version
    services.escalation_record_discussion(
        actor=world.practitioner_social, escalation=e, held_on=clock.today(), note="first"
    )
    with pytest.raises(StaleVersion):
        services.escalation_record_discussion(
            actor=world.practitioner_health,
            escalation=e,
            held_on=clock.today(),
            note="second",
            expected_version=version,
        )
    assert e.discussions.count() == 1
    e.refresh_from_db()
    assert e.version == version + 1


def test_every_change_bumps_the_version_and_writes_an_event_and_an_audit_entry(world):
    e = world.formal()
    types = list(Event.objects.filter(escalation=e).values_list("type", flat=True))
    assert types == [
        EventType.RAISED,
        EventType.DISCUSSION,
        EventType.ESCALATED,
        EventType.ESCALATED,
        EventType.FORMALLY_ESCALATED,
    ]
    assert e.version == 5
    assert AuditEvent.objects.filter(target_type="escalation", target_id=str(e.pk)).count() == 5


def test_a_user_outside_the_escalation_gets_not_found(world, other_world):
    e = world.raised()
    with pytest.raises(NotFound):
        services.escalation_record_discussion(
            actor=world.practitioner_other, escalation=e, held_on=clock.today(), note="nosy"
        )
    with pytest.raises(NotFound):
        services.escalation_record_discussion(
            actor=other_world.practitioner_health, escalation=e, held_on=clock.today(), note="nosy"
        )
