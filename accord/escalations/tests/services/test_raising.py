"""Raising an escalation (services/raising.py): not an emergency route (rule 1), what is recorded, references, who may raise and where."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import ImmediateDanger, NotAllowed
from accord.escalations import services
from accord.escalations.models import (
    Child,
    Escalation,
    EventType,
    Kind,
    Status,
    Urgency,
)
from accord.testing.factories import raise_details

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def test_immediate_danger_stores_nothing_and_gives_999_and_the_front_door(world):
    details = raise_details(with_agency=world.social)
    before = (Escalation.objects.count(), Child.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ImmediateDanger) as refused:
        services.escalation_raise(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=details,
            immediate_danger=True,
        )
    assert "999" in str(refused.value)
    assert world.partnership.front_door_phone in str(refused.value)
    assert (Escalation.objects.count(), Child.objects.count(), AuditEvent.objects.count()) == before


def test_raising_records_everything_and_starts_the_stage_1_clock(world):
    e = world.raised(at=at(2026, 12, 18))
    assert e.reference == "TST-2026-00001"
    assert (e.stage, e.highest_stage, e.status) == (1, 1, Status.OPEN)
    assert e.raising_agency == world.health and e.with_agency == world.social
    assert e.with_practitioner == world.practitioner_social
    assert e.due_date == dt.date(2026, 12, 29)  # 5 working days over Christmas
    assert [c.name for c in e.children.all()] == ["Zebedee Quartermaine"]
    assert list(e.themes.values_list("code", flat=True)) == ["neglect"]
    assert e.events.get().type == EventType.RAISED
    audit = AuditEvent.objects.filter(verb=Verb.ESCALATION_RAISED).get()
    assert audit.target_id == str(e.pk) and audit.actor == world.practitioner_health


def test_a_new_escalation_and_its_first_stage_are_written_once_each_with_the_due_date(world):
    """The due date is worked out before the rows are written (a second write of a new
    escalation costs PostgreSQL all its indexes again), and agrees with the period's own
    reckoning; so does the next stage's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        e = world.raised(at=at(2026, 12, 18))
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert not [
        sql for sql in writes if '"escalations_escalation"' in sql or '"escalations_stageperiod"' in sql
    ]
    period = e.stage_periods.get()
    assert e.due_date == period.due_date == services.period_due_date(period, world.partnership)
    assert e.due_date == dt.date(2026, 12, 29)
    e = world.at_stage_2()
    period = e.stage_periods.get(ended_on__isnull=True)
    assert e.due_date == period.due_date == services.period_due_date(period, world.partnership)


def test_references_are_sequential_per_partnership_and_year(world, other_world):
    a = world.raised()
    b = world.raised()
    c = other_world.raised()
    year = clock.today().year
    assert (a.reference, b.reference) == (f"TST-{year}-00001", f"TST-{year}-00002")
    assert c.reference == f"OTH-{year}-00001"


def test_urgent_escalations_run_on_the_urgent_timescale(world):
    e = world.raised(at=at(2026, 11, 6), urgency=Urgency.URGENT)  # a Friday
    assert e.due_date == dt.date(2026, 11, 9)  # one working day: Monday


def test_a_case_needs_a_child_and_a_theme_has_none(world):
    with pytest.raises(ValidationError) as no_child:
        world.raised(children=[])
    assert "children" in no_child.value.message_dict
    with pytest.raises(ValidationError) as theme_child:
        world.raised(kind=Kind.THEME, children=[services.ChildDetails(name="A")])
    assert "children" in theme_child.value.message_dict
    theme = world.raised(kind=Kind.THEME)
    assert theme.children.count() == 0


@pytest.mark.parametrize("family", [{"family_aware": "yes"}, {"family_view": "The parents disagree"}])
def test_a_theme_has_no_one_family_to_ask_about(world, family):
    with pytest.raises(ValidationError) as raised:
        world.raised(kind=Kind.THEME, **family)
    assert "family_aware" in raised.value.message_dict
    assert world.raised(kind=Kind.THEME, child_voice="Young people say it happens").family_aware == ""


def test_raising_checks_the_partnerships_own_data(world, other_world):
    with pytest.raises(ValidationError) as foreign_agency:
        world.raised(with_agency=other_world.social, with_practitioner_username="")
    assert "with_agency" in foreign_agency.value.message_dict
    with pytest.raises(ValidationError) as own_agency:
        world.raised(with_agency=world.health, with_practitioner_username="")
    assert "with_agency" in own_agency.value.message_dict
    with pytest.raises(ValidationError) as wrong_practitioner:
        world.raised(with_practitioner_username=world.practitioner_other.username)
    assert "with_practitioner" in wrong_practitioner.value.message_dict
    with pytest.raises(ValidationError) as bad_area:
        world.raised(area_of_disagreement_code="not-a-code")
    assert "area_of_disagreement" in bad_area.value.message_dict
    assert Escalation.objects.count() == 0


def test_only_raising_roles_can_raise(world):
    for user in (world.pdg_member, world.executive, world.auditor, world.facilitator, world.admin):
        with pytest.raises(NotAllowed):
            world.raised(raiser=user)


def test_a_conference_chair_may_start_at_stage_2_or_3_and_others_may_not(world):
    e = world.raised(
        raiser=world.chair, origin="conference", start_stage=3, start_stage_reason="Core group stuck."
    )
    assert (e.stage, e.highest_stage) == (3, 3)
    with pytest.raises(ValidationError) as refused:
        world.raised(origin="practitioner", start_stage=2, start_stage_reason="In a hurry")
    assert "start_stage" in refused.value.message_dict
    with pytest.raises(ValidationError):
        world.raised(raiser=world.chair, origin="conference", start_stage=4, start_stage_reason="x")


def test_dates_that_cannot_be_right_are_refused(world):
    """A child born more than 25 years ago, and an agreed action already overdue when it is agreed."""
    import datetime as dt

    from django.core.exceptions import ValidationError

    from accord.testing.factories import raise_details

    details = raise_details(
        with_agency=world.social,
        with_practitioner_username=world.practitioner_social.username,
        children=[services.ChildDetails(name="A", date_of_birth=dt.date(1900, 1, 1))],
    )
    with pytest.raises(ValidationError, match="within the last 25 years"):
        services.escalation_raise(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=details,
            immediate_danger=False,
        )
    e = world.at_stage_2()
    with pytest.raises(ValidationError, match="today or in the future"):
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=e,
            outcome="agreed_way_forward",
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
            actions=[
                services.ActionDetails(
                    description="Visit", owner_agency_id=world.social.pk, due_date=dt.date(2020, 1, 1)
                )
            ],
        )
