"""The protocol's rules, enforced by the domain services (DOMAIN.md rules 1-4 and 6)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import ImmediateDanger, NotAllowed, NotFound, RuleViolation, StaleVersion
from accord.escalations import services
from accord.escalations.models import (
    Child,
    Escalation,
    Event,
    EventType,
    Kind,
    Outcome,
    PdgActionKind,
    Status,
    Urgency,
)
from accord.escalations.selectors import is_overdue
from accord.testing.factories import raise_details

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


# ---------------------------------------------------------------- rule 1: not an emergency route


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


# ---------------------------------------------------------------- raising


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


# ---------------------------------------------------------------- rule 2: consult first


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


# ---------------------------------------------------------------- rule 3: evidence before formal escalation


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


def test_efforts_are_prefilled_from_the_recorded_history(world):
    e = world.at_stage_3()
    text = services.efforts_from_history(e)
    assert "Talked it through with my manager." in text


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


# ---------------------------------------------------------------- rule 4: the PDG facilitates, never decides


def test_the_pdg_and_facilitators_can_never_record_a_resolution(world):
    e = world.formal()
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
    )
    for user in (world.pdg_member, world.pdg_chair, world.facilitator):
        with pytest.raises(NotAllowed):
            services.escalation_resolve(
                actor=user,
                escalation=e,
                outcome=Outcome.AGREED_WAY_FORWARD,
                agreed_way_forward="x",
                child_centred_outcome_achieved="yes",
            )
    e.refresh_from_db()
    assert e.status == Status.OPEN
    assert not e.resolutions.exists()


def test_a_pdg_member_who_is_also_a_manager_still_cannot_resolve(world):
    from accord.partnership.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        user=world.manager_social, partnership=world.partnership, role=Role.PDG_MEMBER
    )
    e = world.formal()
    with pytest.raises(NotAllowed):
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )


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


def test_parties_managers_and_leaders_resolve_with_actions(world):
    e = world.formal()
    resolution = services.escalation_resolve(
        actor=world.senior_social,
        escalation=e,
        outcome=Outcome.MULTI_AGENCY_PLAN,
        agreed_way_forward="Joint plan",
        child_centred_outcome_achieved="partly",
        learning="Meet sooner",
        actions=[
            services.ActionDetails(
                description="Joint visit", owner_agency_id=world.health.pk, due_date=dt.date(2027, 1, 8)
            )
        ],
    )
    e.refresh_from_db()
    assert e.status == Status.RESOLVED and e.closed_at is not None and e.due_date is None
    assert resolution.stage == 4
    assert e.agreed_actions.get().description == "Joint visit"


def test_a_practitioner_cannot_record_a_resolution(world):
    e = world.raised()
    with pytest.raises(NotAllowed):
        services.escalation_resolve(
            actor=world.practitioner_health,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )


def test_referred_on_needs_the_process(world):
    e = world.at_stage_2()
    with pytest.raises(ValidationError) as refused:
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=e,
            outcome=Outcome.REFERRED_ON,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )
    assert "referred_to" in refused.value.message_dict


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


# ---------------------------------------------------------------- withdraw, reopen, pause


def test_withdraw_and_reopen_within_the_window(world):
    e = world.raised()
    with pytest.raises(NotAllowed):
        services.escalation_withdraw(actor=world.practitioner_social, escalation=e, reason="not mine")
    services.escalation_withdraw(actor=world.practitioner_health, escalation=e, reason="Family moved away")
    e.refresh_from_db()
    assert e.status == Status.WITHDRAWN
    with pytest.raises(NotAllowed):
        services.escalation_record_discussion(
            actor=world.practitioner_health, escalation=e, held_on=clock.today(), note="x"
        )
    services.escalation_reopen(actor=world.manager_health, escalation=e, reason="They came back")
    e.refresh_from_db()
    assert e.status == Status.OPEN and e.due_date is not None


def test_reopening_after_the_window_is_refused(world):
    e = world.at_stage_2(at=at(2026, 1, 5))
    with clock.set_to(at(2026, 1, 6)):
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=e,
            outcome=Outcome.DECISION_UPHELD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    with clock.set_to(at(2026, 3, 1)), pytest.raises(RuleViolation) as refused:
        services.escalation_reopen(actor=world.manager_health, escalation=e, reason="late")
    assert refused.value.rule == "reopen_window"
    e.refresh_from_db()
    assert e.status == Status.RESOLVED


def test_the_reopening_window_is_in_the_policies_so_pages_and_api_offer_the_same(world, client):
    from accord.api.tests.test_api import Api
    from accord.escalations.policies import allowed_actions

    e = world.at_stage_2(at=at(2026, 1, 5))
    with clock.set_to(at(2026, 1, 6)):
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=e,
            outcome=Outcome.DECISION_UPHELD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    e.refresh_from_db()
    api = Api(client, world.manager_health)
    with clock.set_to(at(2026, 1, 10)):
        assert "reopen" in allowed_actions(world.manager_health, e)
        assert "reopen" in api.get(f"/escalations/{e.pk}").json()["allowed_actions"]
    with clock.set_to(at(2026, 3, 1)):
        assert "reopen" not in allowed_actions(world.manager_health, e)
        assert "reopen" not in api.get(f"/escalations/{e.pk}").json()["allowed_actions"]
        # Someone it would never be for is refused as before, not told of the window.
        with pytest.raises(NotAllowed):
            services.escalation_reopen(actor=world.practitioner_social, escalation=e, reason="x")


def test_after_the_window_reopening_is_not_offered_and_its_page_says_why(world, client):
    from accord.testing.auth import sign_in

    e = world.at_stage_2(at=at(2026, 1, 5))
    with clock.set_to(at(2026, 1, 6)):
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=e,
            outcome=Outcome.DECISION_UPHELD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    sign_in(client, world.manager_health)
    with clock.set_to(at(2026, 1, 10)):  # within the window: offered, with its form
        assert "Reopen the escalation" in client.get(f"/escalations/{e.pk}/").content.decode()
        assert 'name="reason"' in client.get(f"/escalations/{e.pk}/reopen/").content.decode()
    with clock.set_to(at(2026, 3, 1)):
        detail = client.get(f"/escalations/{e.pk}/").content.decode()
        assert "Reopen the escalation" not in detail and "can no longer be reopened" in detail
        page = client.get(f"/escalations/{e.pk}/reopen/").content.decode()
        assert 'name="reason"' not in page and "closed on 6 January 2026" in page
        assert "raise a new escalation" in page


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


# ---------------------------------------------------------------- rule 6: timeliness


def test_overdue_is_derived_from_the_due_date_and_the_calendar(world):
    e = world.raised(at=at(2026, 12, 18))
    with clock.set_to(at(2026, 12, 29)):
        assert not is_overdue(e)
    with clock.set_to(at(2026, 12, 30)):
        assert is_overdue(e)


def test_each_stage_gets_its_own_due_date(world):
    e = world.raised(at=at(2026, 11, 2))
    with clock.set_to(at(2026, 11, 3)):
        world.consulted(e)
        e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="x")
    assert e.stage_started_on == dt.date(2026, 11, 3)
    assert e.due_date == dt.date(2026, 11, 10)
    with clock.set_to(at(2026, 11, 4)):
        e = services.escalation_escalate(actor=world.manager_health, escalation=e, reason="x")
    assert e.due_date == dt.date(2026, 11, 18)  # 10 working days at stage 3
    periods = list(e.stage_periods.order_by("stage").values_list("stage", "started_on", "ended_on"))
    assert periods == [
        (1, dt.date(2026, 11, 2), dt.date(2026, 11, 3)),
        (2, dt.date(2026, 11, 3), dt.date(2026, 11, 4)),
        (3, dt.date(2026, 11, 4), None),
    ]


def test_a_ladder_change_recomputes_open_due_dates(world):
    e = world.raised(at=at(2026, 11, 2))
    world.partnership.stages.filter(number=1).update(routine_working_days=3)
    assert (
        services.escalations_recompute_due_dates(partnership=world.partnership, refresh_timescales=True) == 1
    )
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 5)


# ---------------------------------------------------------------- versions and the timeline


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


def test_a_calendar_change_recomputes_open_due_dates(world):
    # Raised Wednesday 30 Dec 2026, 5 working days. England: 1 Jan is a holiday -> due 7 Jan 2027.
    e = world.raised(at=at(2026, 12, 30))
    assert e.due_date == dt.date(2027, 1, 7)
    # Scotland also keeps 2 January (a Saturday in 2027, so Monday 4 January is the substitute).
    world.partnership.holiday_subdivision = "SCT"
    world.partnership.save()
    assert services.escalations_recompute_due_dates(partnership=world.partnership) == 1
    e.refresh_from_db()
    assert e.due_date == dt.date(2027, 1, 8)


def test_a_refusal_under_rule_4_says_why_on_the_page_and_in_the_api(world, client):
    """The PDG and facilitators are told that the agencies decide, not just that their
    role does not allow it; anyone else refused still gets the plain refusal."""
    import json

    from accord.api.services import api_token_create
    from accord.testing.auth import sign_in

    e = world.formal()
    why = "never decide it: the agencies"
    with pytest.raises(NotAllowed) as refused:
        services.escalation_resolve(
            actor=world.pdg_chair,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )
    assert why in str(refused.value)

    sign_in(client, world.pdg_chair)
    page = client.get(f"/escalations/{e.pk}/resolve/")
    assert page.status_code == 403 and why in page.content.decode()
    client.logout()

    _, token = api_token_create(actor=None, user=world.pdg_member)
    answer = client.post(
        f"/api/v1/escalations/{e.pk}/resolve",
        json.dumps(
            {
                "outcome": "agreed_way_forward",
                "agreed_way_forward": "x",
                "child_centred_outcome_achieved": "yes",
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 403 and why in answer.json()["detail"]

    # A practitioner who is a party, but not a leader, is refused plainly.
    sign_in(client, world.practitioner_health)
    plain = client.get(f"/escalations/{e.pk}/resolve/").content.decode()
    assert why not in plain and "does not allow" in plain


def test_the_ladder_rule_answers_for_any_caller(world):
    """The settings page is one caller of the ladder's rule; the rule itself is here."""
    P = services.ProposedStage
    tiers = {1: "practitioners", 2: "managers", 3: "senior_leaders", 4: "formal_body"}
    now = [
        P(number=n, is_formal=n == 4, worked_by=tiers[n], was_number=n, was_formal=n == 4)
        for n in (1, 2, 3, 4)
    ]
    services.ladder_validate(partnership=world.partnership, stages=now)  # as it is: fine
    services.ladder_validate(  # a new stage 5 may take over as formal while nothing stands at 4
        partnership=world.partnership,
        stages=[
            *now[:3],
            P(number=4, is_formal=False, worked_by="senior_leaders", was_number=4, was_formal=True),
            P(number=5, is_formal=True, worked_by="formal_body"),
        ],
    )
    services.ladder_validate(  # several formal stages at the top (Croydon's shape)
        partnership=world.partnership,
        stages=[
            *now[:2],
            P(number=3, is_formal=True, worked_by="senior_leaders", was_number=3, was_formal=False),
            P(number=4, is_formal=True, worked_by="senior_leaders", was_number=4, was_formal=True),
            P(number=5, is_formal=True, worked_by="formal_body"),
        ],
    )
    refused = {
        "gap": [now[0], now[1], now[3]],
        "one stage": [P(number=1, is_formal=True, worked_by="formal_body")],
        "nothing formal": [*now[:3], P(number=4, is_formal=False, worked_by="formal_body", was_number=4)],
        "formal not at the top": [
            now[0],
            P(number=2, is_formal=True, worked_by="managers"),
            P(number=3, is_formal=False, worked_by="senior_leaders"),
            now[3],
        ],
        "more junior above": [now[0], now[2], P(number=3, is_formal=False, worked_by="managers"), now[3]],
        "stage 1 not practitioners'": [P(number=1, is_formal=False, worked_by="managers"), *now[1:]],
        "renumbered": [
            P(number=2, is_formal=False, worked_by="practitioners", was_number=1, was_formal=False),
            P(number=1, is_formal=False, worked_by="practitioners", was_number=2, was_formal=False),
            *now[2:],
        ],
    }
    for case, stages in refused.items():
        with pytest.raises(ValidationError):
            services.ladder_validate(partnership=world.partnership, stages=stages)
            pytest.fail(case)
    formal = world.formal()  # now an escalation stands at the formal stage 4
    with pytest.raises(ValidationError, match=f"Open escalations stand at stage 4.*{formal.reference}"):
        services.ladder_validate(
            partnership=world.partnership,
            stages=[
                *now[:3],
                P(number=4, is_formal=False, worked_by="senior_leaders", was_number=4, was_formal=True),
                P(number=5, is_formal=True, worked_by="formal_body"),
            ],
        )
    with pytest.raises(ValidationError, match=f"would remove: {formal.reference}"):
        services.ladder_validate(partnership=world.partnership, stages=now[:3][:2] + [
            P(number=3, is_formal=True, worked_by="formal_body", was_number=3, was_formal=False)
        ])  # fmt: skip


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
