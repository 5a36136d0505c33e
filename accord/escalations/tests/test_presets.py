"""Every preset protocol, walked up its whole ladder: at each stage the right people of
both agencies see the escalation (by the list filter, the single-escalation rule and the
visibility table alike), are told it reached them and find it awaiting them, the right
people move it on, and the outcome is recorded by whom the protocol says."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.core import clock
from accord.core.errors import NotAllowed
from accord.escalations import services, visibility
from accord.escalations.models import Escalation, Outcome
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.notices import send_due_reminders
from accord.escalations.selectors import awaiting_q
from accord.notifications.models import Notification
from accord.partnership.calendar import calendar_for
from accord.partnership.models import WorkedBy
from accord.partnership.protocol import install_ladder, ladder_of, preset, preset_names
from accord.testing.factories import WORLD_ROLES, World

pytestmark = pytest.mark.django_db

# Who works each tier's stages for an escalation raised by practitioner_health with
# practitioner_social, and who moves it on from there.
WORKERS = {
    WorkedBy.PRACTITIONERS: {"practitioner_health", "practitioner_social"},
    WorkedBy.MANAGERS: {"manager_health", "manager_social"},
    WorkedBy.SENIOR_LEADERS: {"senior_health", "senior_social"},
    WorkedBy.FORMAL_BODY: {"pdg_member", "pdg_chair"},
}
MOVER = {
    WorkedBy.PRACTITIONERS: "practitioner_health",
    WorkedBy.MANAGERS: "manager_health",
    WorkedBy.SENIOR_LEADERS: "senior_health",
    WorkedBy.FORMAL_BODY: "senior_health",
}
ALWAYS = {"practitioner_health", "practitioner_social", "manager_health", "manager_social"}


def expected_viewers(ladder, highest: int) -> set[str]:
    seen = set(ALWAYS)
    for tier in (WorkedBy.SENIOR_LEADERS, WorkedBy.FORMAL_BODY):
        first = ladder.sees_from(tier)
        if first is not None and highest >= first:
            seen |= WORKERS[tier]
    return seen


def viewers(world, e) -> set[str]:
    by_filter = {
        name
        for name in WORLD_ROLES
        if Escalation.objects.visible_to(getattr(world, name)).filter(pk=e.pk).exists()
    }
    fresh = Escalation.objects.get(pk=e.pk)
    by_rule = set()
    for name in WORLD_ROLES:
        person = type(getattr(world, name)).objects.get(pk=getattr(world, name).pk)  # no cached roles
        if person.has_perm("escalations.view", fresh):
            by_rule.add(name)
    assert by_filter == by_rule, by_filter ^ by_rule
    assert visibility.differences() == (0, 0, 0)
    return by_filter


def awaiting(world, e) -> set[str]:
    found = set()
    for name in WORLD_ROLES:
        person = getattr(world, name)
        if Escalation.objects.filter(awaiting_q(person, world.partnership), pk=e.pk).exists():
            found.add(name)
    return found


def told_reached(world, e, stage: int) -> set[str]:
    ids = set(
        Notification.objects.filter(
            about=f"escalation:{e.pk}", kind=Kind.REACHED_YOUR_STAGE, stage=stage
        ).values_list("recipient_id", flat=True)
    )
    return {name for name in WORLD_ROLES if getattr(world, name).pk in ids}


@pytest.mark.parametrize("name", preset_names())
def test_each_preset_is_walked_up_its_whole_ladder_by_the_right_people(name):
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    e = world.consulted(world.raised())
    assert viewers(world, e) == expected_viewers(ladder, 1)
    assert awaiting(world, e) >= {"practitioner_health", "practitioner_social"}

    for stage in ladder.stages[1:]:
        current = ladder.stage(e.stage)
        mover = getattr(world, MOVER[current.worked_by])
        entering_formal = stage.formal and e.formal_at is None
        e = services.escalation_escalate(
            actor=mover,
            escalation=e,
            reason=f"Not settled at stage {current.number}.",
            efforts_to_resolve="Practitioners and managers met twice." if entering_formal else "",
        )
        assert e.stage == stage.number
        # Formal from the ladder's first formal stage on, and only then.
        assert (e.formal_at is not None) == (stage.number >= ladder.formal_from)
        assert viewers(world, e) == expected_viewers(ladder, stage.number), stage
        workers = WORKERS[stage.worked_by]
        if stage.worked_by != WorkedBy.PRACTITIONERS:
            assert told_reached(world, e, stage.number) == workers - {
                next(n for n in WORLD_ROLES if getattr(world, n) == mover)
            }
            assert workers <= awaiting(world, e), stage

    # The top of the ladder: who records the outcome.
    top = ladder.stage(ladder.top)
    if ladder.decides_at(top.number):
        services.escalation_resolve(
            actor=world.pdg_chair,
            escalation=e,
            outcome=Outcome.MULTI_AGENCY_PLAN,
            agreed_way_forward="The panel directed a strategy discussion.",
            child_centred_outcome_achieved="yes",
        )
    else:
        with pytest.raises(NotAllowed):
            services.escalation_resolve(
                actor=world.pdg_chair,
                escalation=e,
                outcome=Outcome.AGREED_WAY_FORWARD,
                agreed_way_forward="x",
                child_centred_outcome_achieved="yes",
            )
        # The receiving agency's most senior leader the ladder involves records it.
        tier = WorkedBy.SENIOR_LEADERS if ladder.sees_from(WorkedBy.SENIOR_LEADERS) else WorkedBy.MANAGERS
        services.escalation_resolve(
            actor=getattr(world, "senior_social" if tier == WorkedBy.SENIOR_LEADERS else "manager_social"),
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="Joint visit and a review meeting.",
            child_centred_outcome_achieved="yes",
        )
    assert Escalation.objects.get(pk=e.pk).status == "resolved"


def test_a_formal_body_that_directs_decides_only_at_a_stage_it_works():
    world = World()
    install_ladder(world.partnership, preset("iro-handbook"))  # formal from 2, director at 4
    e = services.escalation_escalate(
        actor=world.practitioner_health,
        escalation=world.consulted(world.raised()),
        reason="Not settled.",
        efforts_to_resolve="The IRO and the team manager met.",
    )
    assert e.formal_at is not None
    with pytest.raises(NotAllowed):
        services.escalation_resolve(
            actor=world.pdg_chair,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )


def test_senior_leaders_see_nothing_before_their_own_stage_on_a_ladder_where_they_work_stage_2():
    """1 practitioners, 2 senior leaders, 3 the formal body: at stage 2 the senior leaders
    see and work it, and the agencies' managers (who work no stage) see only what their
    own people raised or received."""
    world = World()
    install_ladder(
        world.partnership,
        {
            "formal_body": {"name": "Practice Development Group", "authority": "facilitates"},
            "stages": [
                {"number": 1, "name": "Practitioners", "worked_by": "practitioners", "formal": False,
                 "routine_working_days": 5, "urgent_working_days": 1},
                {"number": 2, "name": "Senior leaders", "worked_by": "senior_leaders", "formal": False,
                 "routine_working_days": 5, "urgent_working_days": 1},
                {"number": 3, "name": "PDG", "worked_by": "formal_body", "formal": True,
                 "routine_working_days": 20, "urgent_working_days": 1},
            ],
        },
    )  # fmt: skip
    e = world.raised(with_agency=world.other, with_practitioner_username=world.practitioner_other.username)
    e = world.consulted(e)
    e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Stuck.")
    seen = viewers(world, e)
    assert {"senior_health"} <= seen and "manager_other" not in seen
    assert told_reached(world, e, 2) == {"senior_health"}  # the other agency has no senior leader
    assert "senior_health" in awaiting(world, e) and "manager_health" not in awaiting(world, e)


# ------------------------------------------------------------------ rule 2, stage by stage

# How senior each of the world's agency people is, and the tiers lowest first (restated
# here, not read from the policies, so that the test fails if the rule drifts).
RANK = {
    "practitioner_health": 0,
    "practitioner_social": 0,
    "manager_health": 1,
    "manager_social": 1,
    "senior_health": 2,
    "senior_social": 2,
}
TIER_RANK = {WorkedBy.PRACTITIONERS: 0, WorkedBy.MANAGERS: 1, WorkedBy.SENIOR_LEADERS: 2}
# The stage's actions and whether they are the leaders' alone (a practitioner only leaves a stage).
STAGE_ACTION_LEADERS_ONLY = {"escalate": False, "resolve": True, "pause": True, "reassign": True}


def held_by_rank(ladder, number: int) -> int:
    """The agencies' tier holding a stage: its own, or for a stage the formal body works the
    tier of the nearest stage below that an agency tier works."""
    rank = 0
    for stage in ladder.stages:
        if stage.number <= number and stage.worked_by in TIER_RANK:
            rank = TIER_RANK[stage.worked_by]
    return rank


def may_at_stage(ladder, number: int, role: str, action: str) -> bool:
    """Whether the world's ``role`` may take a stage action on a running escalation raised
    by practitioner_health with practitioner_social, standing at stage ``number``."""
    if role in ("pdg_member", "pdg_chair"):
        return ladder.decides_at(number) and action != "reassign"
    if role not in RANK or role not in expected_viewers(ladder, number):
        return False
    if STAGE_ACTION_LEADERS_ONLY[action] and RANK[role] == 0:
        return False
    return RANK[role] >= held_by_rank(ladder, number)


def walk(world, ladder):
    """The escalation at each stage in turn, moved on by one who holds the stage."""
    e = world.consulted(world.raised())
    yield e
    for stage in ladder.stages[1:]:
        current = ladder.stage(e.stage)
        mover = MOVER[current.worked_by]
        if current.worked_by == WorkedBy.FORMAL_BODY:
            mover = "pdg_chair" if ladder.decides_at(current.number) else "senior_health"
        e = services.escalation_escalate(
            actor=getattr(world, mover),
            escalation=e,
            reason=f"Not settled at stage {current.number}.",
            efforts_to_resolve="Practitioners and managers met twice."
            if stage.formal and not e.formal_at
            else "",
        )
        yield e


# ------------------------------------------------------------------ rule 6, stage by stage

# Who is reminded of a stage: its workers and their line managers (the world's people).
REMINDED = {
    WorkedBy.PRACTITIONERS: {
        "practitioner_health",
        "practitioner_social",
        "manager_health",
        "manager_social",
    },
    WorkedBy.MANAGERS: {"manager_health", "manager_social", "senior_health", "senior_social"},
    WorkedBy.SENIOR_LEADERS: {"senior_health", "senior_social"},
    WorkedBy.FORMAL_BODY: {"pdg_member", "pdg_chair"},
}


def _reminded(world, e, kind) -> list[str]:
    ids = Notification.objects.filter(about=f"escalation:{e.pk}", kind=kind, stage=e.stage).values_list(
        "recipient_id", flat=True
    )
    names = {getattr(world, n).pk: n for n in WORLD_ROLES}
    return sorted(names[i] for i in ids)


@pytest.mark.parametrize("name", preset_names())
def test_rule_6_on_each_preset_due_soon_and_overdue_once_each_to_the_stages_workers(name):
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    calendar = calendar_for(world.partnership)
    for e in walk(world, ladder):
        told = REMINDED[ladder.stage(e.stage).worked_by]
        before = calendar.next_working_day(e.due_date - dt.timedelta(days=8))
        while calendar.next_working_day(before) < e.due_date:
            before = calendar.next_working_day(before)
        with clock.set_to(timezone.make_aware(dt.datetime.combine(before, dt.time(10)))):
            send_due_reminders()
            send_due_reminders()
        assert _reminded(world, e, Kind.DUE_SOON) == sorted(told), (name, e.stage)
        late = calendar.next_working_day(e.due_date)
        for day in (late, calendar.add_working_days(late, 5), calendar.add_working_days(late, 10)):
            with clock.set_to(timezone.make_aware(dt.datetime.combine(day, dt.time(10)))):
                send_due_reminders()
        assert _reminded(world, e, Kind.OVERDUE) == sorted(told), (name, e.stage)  # once each
