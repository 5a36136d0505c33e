"""Who may see and do what with an escalation (DOMAIN.md rules 4 and 7).

Roles and agencies are data: every predicate reads the user's role
assignments in the escalation's partnership and the agencies on the record.
``visibility_filter`` is the one statement of rule 7 for querysets; the
predicates below restate it for a single loaded escalation and add the
action rules. Both are tested against each other.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import rules
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, F, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accord.core import antivirus, clock
from accord.core.request_memo import remembered
from accord.partnership.models import Role, Stage, User, WorkedBy
from accord.partnership.protocol import Ladder, ladder_of
from accord.partnership.roles import LEADER_ROLES, PDG_ROLES, RAISING_ROLES, ROLE_TIER, TIER_ROLES
from accord.partnership.selectors import partnership_of, roles_by_partnership, user_roles

from .models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Escalation,
    EscalationQuerySet,
    Guest,
    GuestState,
    Held,
    OtherParty,
    PdgAction,
    Status,
)


def _sees_from(partnership_id: int, tier: str):
    """The first stage of the partnership's ladder that involves ``tier``, as a scalar
    subquery the database answers once (NULL where none does: then never)."""
    stages = Stage.objects.filter(partnership_id=partnership_id)
    if tier == WorkedBy.FORMAL_BODY:
        stages = stages.filter(is_formal=True)
    else:
        stages = stages.filter(worked_by=tier)
    return Subquery(stages.order_by("number").values("number")[:1])


def visibility_filter(user, team: list[int] | QuerySet | None = None, others: OthersOf | None = None) -> Q:
    """Rule 7 as a query: a party; a manager or senior leader of a party's agency at a
    stage that involves them; the PDG once formal; the assigned facilitator.

    Written without joins, so the database can answer it from the escalation's own indexed
    columns and no ``DISTINCT`` is needed. The user's team is read first and, unless it is
    large, written into the query as a list: a subquery inside the ``OR`` stops PostgreSQL
    from using the indexes on who raised an escalation and who it is with (a scan of
    every escalation to find a practitioner's few).
    """
    nothing = Q(pk__in=[])
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return nothing
    if team is None:
        team = team_ids(user)
    if others is None:
        others = others_for(user)
    condition = nothing
    for partnership_id, roles in roles_by_partnership(user).items():
        party = Q(raised_by_id=user.pk) | Q(with_practitioner_id=user.pk) | Q(pk__in=others.named)
        if roles & LEADER_ROLES and user.agency_id:
            # A line manager sees what their team raised only while they lead, and only
            # what was raised from their own agency: not what someone who moved to them
            # raised in another agency before.
            party |= Q(raised_by_id__in=team, raising_agency_id=user.agency_id)
        allowed = party
        if user.agency_id:
            of_agency = Q(raising_agency_id=user.agency_id) | Q(with_agency_id=user.agency_id)
            if Role.MANAGER in roles:
                managers_from = Q(highest_stage__gte=_sees_from(partnership_id, WorkedBy.MANAGERS))
                # (Raised by their team is already allowed above, as a party.)
                allowed |= of_agency & (
                    managers_from
                    | Q(with_practitioner_id__in=team)
                    # Raised with the agency and no named practitioner: its managers receive it.
                    | Q(with_agency_id=user.agency_id, with_practitioner__isnull=True)
                )
                # The same for an agency among the others the difference is with.
                allowed |= (Q(pk__in=others.agency) & managers_from) | Q(pk__in=others.unnamed_or_team)
            if Role.SENIOR_LEADER in roles:
                seniors_from = Q(highest_stage__gte=_sees_from(partnership_id, WorkedBy.SENIOR_LEADERS))
                allowed |= (of_agency | Q(pk__in=others.agency)) & seniors_from
        if roles & PDG_ROLES:
            allowed |= Q(formal_at__isnull=False)
        if Role.FACILITATOR in roles:
            allowed |= Q(
                pk__in=PdgAction.objects.filter(facilitator_id=user.pk, ended_at__isnull=True).values(
                    "escalation_id"
                )
            )
        condition |= Q(partnership_id=partnership_id) & allowed
    return condition


class VisibleTo(RawSQL):
    """Rule 7 as a condition on escalations: ``visibility_filter`` turned into SQL once
    for each distinct set of what it depends on (the person, whether they are active,
    their agency, their roles in each partnership, their team), then reused.

    Building rule 7 through the ORM cost about a millisecond of CPU for every list, more
    than running it; people open page after page, each asking it again with the same
    inputs. What it depends on is read afresh on every request (the person and their
    roles with the session, the team here), so a change to any of them is a different
    key: nothing cached can outlive what it was made from."""

    def __init__(self, user, *, using: str = DEFAULT_DB_ALIAS) -> None:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            sql, params = None, ()
        else:
            team = team_ids(user)
            others = others_for(user)
            key = (
                connections[using].vendor,
                user.pk,
                user.agency_id,
                tuple(
                    sorted((pid, tuple(sorted(roles))) for pid, roles in roles_by_partnership(user).items())
                ),
                tuple(team) if isinstance(team, list) else "subquery",
                others.key(),
            )
            with _COMPILED_LOCK:
                found = _COMPILED.get(key, _MISSING)
                if found is not _MISSING:
                    _COMPILED.move_to_end(key)
            if found is _MISSING:
                found = _compile_where(visibility_filter(user, team=team, others=others), using)
                with _COMPILED_LOCK:
                    _COMPILED[key] = found
                    while len(_COMPILED) > COMPILED_LIMIT:
                        _COMPILED.popitem(last=False)
            sql, params = found if found is not None else (None, ())
        super().__init__(sql or "", params, output_field=BooleanField())
        self.nothing = sql is None

    def as_sql(self, compiler, connection):
        if self.nothing:  # no one: the query returns nothing without asking the database
            raise EmptyResultSet
        alias = compiler.query.base_table
        sql = self.sql
        if alias and alias != _TABLE:
            sql = sql.replace(f"{_QUOTED_TABLE}.", f"{compiler.quote_name_unless_alias(alias)}.")
        return f"({sql})", list(self.params)


# How many people's compiled rule 7 each process keeps (a few hundred bytes each).
COMPILED_LIMIT = 4096
_COMPILED: OrderedDict = OrderedDict()
_COMPILED_LOCK = threading.Lock()
_MISSING = object()
_TABLE = "escalations_escalation"
_QUOTED_TABLE = f'"{_TABLE}"'


def _compile_where(condition: Q, using: str) -> tuple[str, tuple] | None:
    """The SQL of ``condition`` on the escalations table, or None if it matches nothing."""
    query = Escalation.objects.filter(condition).query
    compiler = query.get_compiler(using=using)
    try:
        sql, params = compiler.compile(query.where)
    except EmptyResultSet:
        return None
    return sql, tuple(params)


# A team up to this size is written into rule 7's query as a list of ids; a larger one as
# a subquery, which PostgreSQL hashes once instead of comparing each row with every id.
TEAM_INLINE_LIMIT = 50


def team_ids(user) -> list[int] | QuerySet:
    """The people this user line-manages: their ids, or a subquery for a large team."""
    return _rule_7_inputs(user)[0]


def _team(user) -> QuerySet:
    return User.objects.filter(line_manager_id=user.pk)


# Up to this many of a person's places among the other parties are written into rule 7's
# query as lists of escalation ids; beyond it, as subqueries.
OTHERS_INLINE_LIMIT = 200


@dataclass(frozen=True)
class OthersOf:
    """Where a person stands among the escalations' other parties (the agencies beyond the
    first): the escalations that name them, those with their agency, and those with their
    agency that name nobody or someone they line-manage. Lists of ids, or subqueries."""

    named: list[int] | QuerySet
    agency: list[int] | QuerySet
    unnamed: list[int] | QuerySet
    unnamed_or_team: list[int] | QuerySet

    def key(self) -> tuple:
        return tuple(
            tuple(v) if isinstance(v, list) else "subquery"
            for v in (self.named, self.agency, self.unnamed, self.unnamed_or_team)
        )


def others_for(user) -> OthersOf:
    """Read (with the team, ``_rule_7_inputs``) in one statement, and in almost every case a
    short one (most differences are between two agencies), once a request while it writes
    nothing."""
    return _rule_7_inputs(user)[1]


def _rule_7_inputs(user) -> tuple[list[int] | QuerySet, OthersOf]:
    """Whom the user line-manages and where they stand among the other parties: both in one
    statement (a ``UNION ALL`` of the two short reads), once a request while it writes
    nothing. Each part is read up to one past its limit, to know whether it is longer."""
    return remembered(("rule_7_inputs", user.pk, user.agency_id), lambda: _read_rule_7_inputs(user))


def _read_rule_7_inputs(user) -> tuple[list[int] | QuerySet, OthersOf]:
    mine = Q(practitioner_id=user.pk)
    of_agency = Q(agency_id=user.agency_id) if user.agency_id else Q(pk__in=[])
    nothing = Value(None, output_field=IntegerField())
    team = (
        User.objects.filter(
            pk__in=_team(user).order_by("pk").values("pk")[: TEAM_INLINE_LIMIT + 1],
        )
        .order_by()
        .annotate(part=Value(0), e=F("pk"), a=nothing, p=nothing, lm=nothing)
        .values_list("part", "e", "a", "p", "lm")
    )
    others = (
        OtherParty.objects.filter(
            pk__in=OtherParty.objects.filter(mine | of_agency)
            .order_by("escalation_id", "pk")
            .values("pk")[: OTHERS_INLINE_LIMIT + 1]
        )
        .order_by()
        .annotate(
            part=Value(1),
            e=F("escalation_id"),
            a=F("agency_id"),
            p=F("practitioner_id"),
            lm=F("practitioner__line_manager_id"),
        )
        .values_list("part", "e", "a", "p", "lm")
    )
    found = list(team.union(others, all=True))
    ids = sorted(e for part, e, _a, _p, _lm in found if part == 0)
    rows = sorted(((e, a, p, lm) for part, e, a, p, lm in found if part == 1), key=lambda r: r[:2])
    team_found = ids if len(ids) <= TEAM_INLINE_LIMIT else _team(user).values("pk")
    if len(rows) > OTHERS_INLINE_LIMIT:
        parties = OtherParty.objects.values("escalation_id")
        agency = parties.filter(of_agency)
        return team_found, OthersOf(
            named=parties.filter(mine),
            agency=agency,
            unnamed=agency.filter(practitioner__isnull=True),
            unnamed_or_team=agency.filter(
                Q(practitioner__isnull=True) | Q(practitioner__line_manager_id=user.pk)
            ),
        )
    return team_found, OthersOf(
        named=[e for e, _a, p, _lm in rows if p == user.pk],
        agency=[e for e, a, _p, _lm in rows if a == user.agency_id],
        unnamed=[e for e, a, p, _lm in rows if a == user.agency_id and p is None],
        unnamed_or_team=[e for e, a, p, lm in rows if a == user.agency_id and (p is None or lm == user.pk)],
    )


def _roles(user, escalation) -> frozenset[str]:
    return user_roles(user, escalation.partnership_id)


def ladder_for(user, escalation) -> Ladder:
    """The escalation's ladder, read once a request through the user's own partnership
    (no query for the partnership itself)."""
    partnership = partnership_of(user, escalation.partnership_id) or escalation.partnership
    return ladder_of(partnership)


def _reached(user, escalation, tier: str) -> bool:
    first = ladder_for(user, escalation).sees_from(tier)
    return first is not None and escalation.highest_stage >= first


def _is_line_manager_of(user, other) -> bool:
    return other is not None and other.line_manager_id == user.pk


def _manages_raiser(user, escalation) -> bool:
    """The raiser's line manager, of the agency the escalation was raised from (a later
    manager in another agency, after the raiser moved, is not)."""
    return (
        user.agency_id is not None
        and user.agency_id == escalation.raising_agency_id
        and _is_line_manager_of(user, escalation.raised_by)
    )


@rules.predicate
def is_raiser(user, escalation) -> bool:
    return escalation.raised_by_id == user.pk


@rules.predicate
def is_raisers_line_manager(user, escalation) -> bool:
    """The raiser's line manager, while they hold a manager's or senior leader's role in
    the partnership: the access the link gives ends with the role that gave it."""
    return bool(_roles(user, escalation) & LEADER_ROLES) and _manages_raiser(user, escalation)


@rules.predicate
def is_reflection_reader(user, escalation) -> bool:
    """The raiser's line manager when the reflection was written, while they still manage the
    raiser and lead in the partnership: not a later manager, nor one whose link has ended."""
    return escalation.reflection_reader_id == user.pk and is_raisers_line_manager(user, escalation)


@rules.predicate
def is_named_practitioner(user, escalation) -> bool:
    """Named on the receiving side, by the first agency or by any other."""
    return user.pk in escalation.named_practitioner_ids()


@rules.predicate
def is_party_agency_member(user, escalation) -> bool:
    return user.agency_id is not None and user.agency_id in escalation.party_agency_ids()


@rules.predicate
def is_party_manager(user, escalation) -> bool:
    """A manager of a party's agency: from the first stage managers work; before that, if
    they line-manage the raiser or the practitioner named in their agency, or if their
    agency is on the receiving side naming nobody (its managers receive it)."""
    if Role.MANAGER not in _roles(user, escalation) or not is_party_agency_member(user, escalation):
        return False
    if _reached(user, escalation, WorkedBy.MANAGERS) or _manages_raiser(user, escalation):
        return True
    if user.agency_id in (escalation.raising_agency_id, escalation.with_agency_id) and (
        _is_line_manager_of(user, escalation.with_practitioner)
        or (escalation.with_practitioner_id is None and user.agency_id == escalation.with_agency_id)
    ):
        return True
    return any(
        other.agency_id == user.agency_id
        and (other.practitioner_id is None or _is_line_manager_of(user, other.practitioner))
        for other in escalation.others()
    )


@rules.predicate
def is_party_senior_leader(user, escalation) -> bool:
    return (
        Role.SENIOR_LEADER in _roles(user, escalation)
        and is_party_agency_member(user, escalation)
        and _reached(user, escalation, WorkedBy.SENIOR_LEADERS)
    )


@rules.predicate
def is_pdg(user, escalation) -> bool:
    return bool(_roles(user, escalation) & PDG_ROLES)


@rules.predicate
def is_pdg_or_facilitator_role(user, escalation) -> bool:
    return bool(_roles(user, escalation) & (PDG_ROLES | {Role.FACILITATOR}))


@rules.predicate
def is_formal(user, escalation) -> bool:
    return escalation.formal_at is not None


@rules.predicate
def is_assigned_facilitator(user, escalation) -> bool:
    if Role.FACILITATOR not in _roles(user, escalation):
        return False
    known = escalation.__dict__.get("_accord_pdg_actions")
    if known is not None:
        return any(a.facilitator_id == user.pk and a.ended_at is None for a in known)
    return escalation.pdg_actions.filter(facilitator_id=user.pk, ended_at__isnull=True).exists()


@rules.predicate
def has_current_facilitator(user, escalation) -> bool:
    # Where the page has read all its formal body's actions already (``_accord_pdg_actions``),
    # from those; otherwise asked.
    known = escalation.__dict__.get("_accord_pdg_actions")
    if known is not None:
        return any(a.facilitator_id is not None and a.ended_at is None for a in known)
    return escalation.pdg_actions.filter(facilitator__isnull=False, ended_at__isnull=True).exists()


@rules.predicate
def works_in_partnership(user, escalation) -> bool:
    return bool(_roles(user, escalation))


@rules.predicate
def is_open(user, escalation) -> bool:
    return escalation.status in OPEN_STATUSES


@rules.predicate
def is_running(user, escalation) -> bool:
    return escalation.status == Status.OPEN


@rules.predicate
def is_paused(user, escalation) -> bool:
    return escalation.status == Status.PAUSED


@rules.predicate
def is_closed(user, escalation) -> bool:
    return escalation.status in CLOSED_STATUSES


@rules.predicate
def follow_up_due(user, escalation) -> bool:
    """Resolved, with its follow-up due and not yet answered (read once per escalation)."""
    if escalation.status != Status.RESOLVED:
        return False
    if "_accord_follow_up_due" not in escalation.__dict__:
        escalation.__dict__["_accord_follow_up_due"] = escalation.follow_ups.filter(
            answered_at__isnull=True, due_on__lte=clock.today()
        ).exists()
    return escalation.__dict__["_accord_follow_up_due"]


def not_held_follow_up(escalation):
    """The answered follow-up of this resolved escalation saying its agreed way forward did
    not hold and that nobody has acted on yet (read once per escalation), or None."""
    if escalation.status != Status.RESOLVED:
        return None
    if "_accord_not_held" not in escalation.__dict__:
        escalation.__dict__["_accord_not_held"] = escalation.follow_ups.filter(
            held=Held.NOT_HELD, answered_at__isnull=False, followed_by=""
        ).first()
    return escalation.__dict__["_accord_not_held"]


@rules.predicate
def did_not_hold(user, escalation) -> bool:
    """Resolved, and a party has since said the agreed way forward did not hold, and nobody
    has yet reopened it or raised it again: whatever the reopening window, a party may."""
    return not_held_follow_up(escalation) is not None


def reopen_window_open(escalation) -> bool:
    """Whether a closed escalation may still be reopened: within the partnership's number of
    days of closing (after that the difference is raised afresh)."""
    limit = escalation.partnership.reopen_within_days
    return not escalation.closed_at or clock.now() - escalation.closed_at <= dt.timedelta(days=limit)


@rules.predicate
def within_reopen_window(user, escalation) -> bool:
    return reopen_window_open(escalation)


@rules.predicate
def may_raise_here(user, escalation) -> bool:
    return user.agency_id is not None and can_raise_in(user, escalation.partnership_id)


@rules.predicate
def is_imported(user, escalation) -> bool:
    """Brought in closed from the partnership's earlier log: a record of the past, counted in
    the reports and seen as rule 7 allows, but never worked in Accord (no stage ran here). One
    brought in still open is worked as any other, and may be reopened once closed."""
    return escalation.is_past_record


@rules.predicate
def formal_body_decides_here(user, escalation) -> bool:
    """Where the protocol lets the formal body direct next steps, at a stage it works."""
    return ladder_for(user, escalation).decides_at(escalation.stage)


@rules.predicate
def at_facilitated_stage(user, escalation) -> bool:
    """At a stage the protocol has an appointed facilitator help the parties with, though not
    formal (Portsmouth's "Re-think")."""
    return ladder_for(user, escalation).is_facilitated(escalation.stage)


@rules.predicate
def at_first_stage(user, escalation) -> bool:
    return escalation.stage == 1


@rules.predicate
def is_conference_chair_raiser(user, escalation) -> bool:
    return is_raiser(user, escalation) and Role.CONFERENCE_CHAIR in _roles(user, escalation)


# --------------------------------------------------------------------------- who works a stage
#
# Rule 2: only those who work a stage (or a higher tier of the same agency) act at it. The
# agencies' tiers, lowest first; a stage the formal body works is held, for the agencies,
# by the tier that held the stage below it (the formal body facilitates there, or directs
# next steps beside them where the protocol says so).
AGENCY_TIERS = (WorkedBy.PRACTITIONERS, WorkedBy.MANAGERS, WorkedBy.SENIOR_LEADERS)
# The actions a stage's workers alone take: leaving it (escalating, or skipping the next
# with a reason), recording its outcome, pausing and resuming its clock, handing a part on.
STAGE_ACTIONS = ("escalate", "resolve", "pause", "resume", "reassign")


@dataclass(frozen=True)
class StageHolding:
    """Who holds a stage: the agencies' tier (and the tiers above it in the same agency),
    and whether the partnership's formal body acts there too (it directs next steps and
    works the stage)."""

    number: int
    name: str
    tier: str
    formal_body_acts: bool
    formal_body_name: str

    def admits(self, roles: frozenset[str]) -> bool:
        """Whether someone with these roles in a party's agency works the stage."""
        return _agency_rank(roles) >= AGENCY_TIERS.index(self.tier)


def _agency_rank(roles: frozenset[str]) -> int:
    """The most senior of the agencies' tiers these roles belong to (-1: none)."""
    return max(
        (AGENCY_TIERS.index(ROLE_TIER[r]) for r in roles if ROLE_TIER.get(r) in AGENCY_TIERS), default=-1
    )


def stage_holding(ladder: Ladder, number: int) -> StageHolding:
    """The one statement of who holds a stage of this ladder."""
    tier = WorkedBy.PRACTITIONERS
    for stage in ladder.stages:
        if stage.number > number:
            break
        if stage.worked_by in AGENCY_TIERS:
            tier = stage.worked_by
    found = ladder.stage(number)
    return StageHolding(
        number=number,
        name=found.shown_name if found else str(number),
        tier=tier,
        formal_body_acts=ladder.decides_at(number),
        formal_body_name=ladder.formal_body_shown,
    )


def holding_of(user, escalation) -> StageHolding:
    return stage_holding(ladder_for(user, escalation), escalation.stage)


@rules.predicate
def works_agency_tier_of_stage(user, escalation) -> bool:
    """In one of the difference's agencies, in the tier that holds the current stage or a
    higher one; or the conference chair or IRO who raised it (the IRO Handbook's route: the
    chair carries their own dispute up the ladder, as a raising practitioner does stage 1)."""
    if is_conference_chair_raiser(user, escalation):
        return True
    return is_party_agency_member(user, escalation) and holding_of(user, escalation).admits(
        _roles(user, escalation) | guest_roles(user, escalation)
    )


@rules.predicate
def formal_body_acts_here(user, escalation) -> bool:
    """A member of a formal body that directs next steps, at a formal stage it works."""
    return (
        is_pdg(user, escalation)
        and is_formal(user, escalation)
        and formal_body_decides_here(user, escalation)
    )


is_party = is_raiser | is_named_practitioner | is_raisers_line_manager


def guest_place(user, escalation) -> Guest | None:
    """The confirmed guest place this account holds on this open escalation (read once per
    escalation and account), or None. Everyone active is not a guest, so the partnership's
    own people cost no query here."""
    if getattr(user, "is_active", True) or user.pk is None or escalation.status not in OPEN_STATUSES:
        return None
    known = escalation.__dict__.setdefault("_accord_guests", {})
    if user.pk not in known:
        known[user.pk] = (
            Guest.objects.filter(account_id=user.pk, escalation_id=escalation.pk, state=GuestState.CONFIRMED)
            .only("pk", "tier", "agency_id")
            .first()
        )
    return known[user.pk]


@rules.predicate
def is_confirmed_guest(user, escalation) -> bool:
    """A professional named by work email who confirmed they work with the child or theme:
    a party of this one escalation while it is open, through their guest account (never
    active, no role; ``services/guests.py``)."""
    return guest_place(user, escalation) is not None


def guest_roles(user, escalation) -> frozenset[str]:
    """The role a confirmed guest acts in for their agency on this escalation alone: its
    managers' or senior leaders' (named so where it climbed to them and the agency had nobody
    in Accord to work it); a practitioner's for the professional the difference is with, who
    works the practitioners' stages as a named practitioner does (rule 2)."""
    place = guest_place(user, escalation)
    if place is None:
        return frozenset()
    if place.tier in (WorkedBy.MANAGERS, WorkedBy.SENIOR_LEADERS):
        return TIER_ROLES[place.tier]
    return frozenset({Role.PRACTITIONER})


@rules.predicate
def is_leader_guest(user, escalation) -> bool:
    """A confirmed guest acting as their agency's manager or senior leader on this escalation."""
    place = guest_place(user, escalation)
    return place is not None and place.tier in (WorkedBy.MANAGERS, WorkedBy.SENIOR_LEADERS)


@rules.predicate
def is_settled_record(user, escalation) -> bool:
    """Recorded by its raiser as already settled in the first conversation (read once)."""
    if escalation.status != Status.RESOLVED:
        return False
    if "_accord_settled" not in escalation.__dict__:
        escalation.__dict__["_accord_settled"] = escalation.resolutions.filter(
            settled_when_raised=True
        ).exists()
    return escalation.__dict__["_accord_settled"]


@rules.predicate
def is_receiving_side(user, escalation) -> bool:
    """Of an agency the difference is with (not the raising agency)."""
    return user.agency_id is not None and user.agency_id in escalation.receiving_agency_ids()


@rules.predicate
def scanner_configured(user, escalation) -> bool:
    """A virus scanner checks uploads (``accord.core.antivirus``): the only way a guest's
    documents are taken."""
    return antivirus.enabled()


is_party = is_raiser | is_named_practitioner | is_raisers_line_manager | is_confirmed_guest
is_party_side = is_party | is_party_manager | is_party_senior_leader
is_party_leader = is_party_manager | is_party_senior_leader | is_conference_chair_raiser
# The agencies' own people who hold the current stage (before rule 4 takes the formal
# body's and facilitators' roles out of deciding).
works_stage = is_party_side & works_agency_tier_of_stage
# A guest acting as their agency's manager or senior leader leads the stages that tier holds
# (escalates, records the outcome, pauses and resumes), and nothing else a leader does.
leads_stage = (is_party_leader | is_leader_guest) & works_agency_tier_of_stage

can_view = (
    works_in_partnership & (is_party_side | (is_pdg & is_formal) | is_assigned_facilitator)
) | is_confirmed_guest

# Each action is (the state the escalation must be in, who may take it). Keeping the two
# apart lets a refusal say which it was: a transition not allowed from the current state
# (409 in the API) or an action not allowed for this user (403).
ACTION_RULES = {
    "record_discussion": (is_open, is_party_side | is_assigned_facilitator),
    # Rule 2: leaving a stage (to the next, or skipping on with a reason) is for those who
    # hold it; the formal body only where it directs next steps at a stage it works.
    "escalate": (is_running, works_stage | formal_body_acts_here),
    "pause": (is_running, leads_stage | formal_body_acts_here),
    "resume": (is_paused, leads_stage | formal_body_acts_here),
    # Rule 4: the PDG facilitates; it never decides. Nobody holding a PDG or facilitator
    # role in the partnership records a case's resolution, whatever else they hold, unless
    # the partnership's protocol gives its formal body the authority to direct next steps,
    # and then only its members, at a stage the formal body works. Rule 2: of the agencies'
    # leaders, those who hold the current stage.
    "resolve": (is_open, (leads_stage & ~is_pdg_or_facilitator_role) | formal_body_acts_here),
    "withdraw": (is_open, (is_raiser | is_raisers_line_manager) & ~is_pdg_or_facilitator_role),
    # Reopening is offered (pages and API alike) only within the partnership's window, to
    # the parties' leaders; but where a party has said the agreed way forward did not hold,
    # to any party, whatever the window. Never one brought in from the earlier log: it had
    # no stage in Accord to return to.
    "reopen": (
        is_closed & (within_reopen_window | did_not_hold) & ~is_imported,
        (is_party_leader | (did_not_hold & is_party_side)) & ~is_pdg_or_facilitator_role,
    ),
    # Or, where it did not hold, a party who may raise starts a linked escalation from it.
    "raise_again": (did_not_hold, is_party_side & may_raise_here & ~is_pdg_or_facilitator_role),
    # Some weeks after the resolution, whether the agreed way forward held: the parties'.
    "follow_up": (follow_up_due, is_party_side),
    "pdg_act": (is_open & is_formal, is_pdg),
    # At a facilitated stage (not formal), those who lead it appoint the facilitator who
    # helps the parties beside them; the formal body never sees it there (rule 7).
    "appoint_facilitator": (
        is_open & at_facilitated_stage,
        leads_stage & ~is_pdg_or_facilitator_role & ~is_confirmed_guest,
    ),
    # An appointment can be ended whatever the escalation's state: the access goes with it.
    # The formal body ends one; before the formal stages (where only a facilitated stage
    # appoints one), the parties' leaders do.
    "end_facilitation": (
        has_current_facilitator,
        is_pdg | (is_party_leader & ~is_pdg_or_facilitator_role & ~is_formal),
    ),
    # A guest's documents only where a virus scanner checks them.
    "add_document": (is_open, is_party_side & (~is_confirmed_guest | scanner_configured)),
    # Bringing another agency into the difference, or taking one out that was added: the
    # parties working it, or the formal body once it is formal; never once it is closed.
    # (Never a guest: a guest cannot name another guest.)
    "change_parties": (is_open, (is_party_side & ~is_confirmed_guest) | (is_pdg & is_formal)),
    # Handing the raiser's or a named practitioner's part to someone else in the same agency
    # (which agency's leader may, the service checks): the parties' managers and leaders.
    # Rule 2: of them, those who hold the current stage.
    "reassign": (
        is_open,
        (is_party_leader | is_raisers_line_manager)
        & works_agency_tier_of_stage
        & ~is_pdg_or_facilitator_role,
    ),
    "read_reflection": (rules.always_true, is_raiser | is_reflection_reader),
    # What the protocol did not ask for when it was raised may be added while it is open:
    # it is the raiser's account (their line manager may add to it).
    "add_details": (is_open, is_raiser | is_raisers_line_manager),
    # A difference recorded as settled: the other side is told and may add its view.
    "add_view": (is_settled_record, is_party_side & is_receiving_side & ~is_pdg_or_facilitator_role),
}

rules.add_perm("escalations.view", can_view)
for _action, (_state, _who) in ACTION_RULES.items():
    rules.add_perm(f"escalations.{_action}", can_view & _state & _who)

ACTIONS = tuple(ACTION_RULES)


def state_allows(action: str, user, escalation) -> bool:
    return ACTION_RULES[action][0].test(user, escalation)


def user_may(action: str, user, escalation) -> bool:
    """Whether this user could take the action, whatever state the escalation is in."""
    return ACTION_RULES[action][1].test(user, escalation)


# Rule 4's actions: the decision belongs to the agencies, never to the PDG or a facilitator.
AGENCIES_DECIDE = {"resolve", "withdraw", "reopen"}


def refusal_reason(action: str, user, escalation) -> str:
    """Why this user may not take the action, in words for them (pages and the API)."""
    if action in AGENCIES_DECIDE and is_pdg_or_facilitator_role.test(user, escalation):
        if (
            action == "resolve"
            and is_pdg.test(user, escalation)
            and ladder_for(user, escalation).formal_body_directs
        ):
            return _(
                "The partnership's formal body records the outcome only at a stage it works: "
                "until then the agencies' own managers and leaders do."
            )
        return _(
            "The %(body)s and restorative facilitators help the agencies find a way forward but "
            "never decide it: the agencies' own managers and leaders record the outcome."
        ) % {"body": ladder_for(user, escalation).formal_body_shown}
    if action in STAGE_ACTIONS and (is_party_side | is_pdg).test(user, escalation):
        return stage_refusal(action, holding_of(user, escalation))
    return _("Your role does not allow you to do that on this escalation.")


# Who holds a stage, in words: the agencies' tier that holds it, and the tiers above it.
_HOLDERS = {
    WorkedBy.PRACTITIONERS: _lazy(
        "the practitioners in the difference, with their managers and senior leaders"
    ),
    WorkedBy.MANAGERS: _lazy(
        "the managers and safeguarding leads of the agencies in the difference, and their senior leaders"
    ),
    WorkedBy.SENIOR_LEADERS: _lazy("the senior leaders of the agencies in the difference"),
}
_DOING = {
    "escalate": _lazy("escalate it from here or skip a stage"),
    "resolve": _lazy("record its outcome"),
    "pause": _lazy("pause it"),
    "resume": _lazy("resume it"),
    "reassign": _lazy("hand a part in it to someone else"),
}


def holders_phrase(holding: StageHolding) -> str:
    """Who holds the stage, in the partnership's words for its formal body."""
    words = str(_HOLDERS[holding.tier])
    if holding.formal_body_acts:
        words = _("%(agencies)s, and the %(body)s") % {"agencies": words, "body": holding.formal_body_name}
    return words


def stage_refusal(action: str, holding: StageHolding) -> str:
    """Rule 2's refusal: who may act at this stage, naming it as the partnership does."""
    leaders_only = action != "escalate" and holding.tier == WorkedBy.PRACTITIONERS
    holders = (
        _("the managers and senior leaders of the agencies in the difference")
        if leaders_only
        else holders_phrase(holding)
    )
    return _("Stage %(number)s (%(name)s) is held by %(holders)s: only they may %(doing)s.") % {
        "number": holding.number,
        "name": holding.name,
        "holders": holders,
        "doing": _DOING[action],
    }


def reopen_too_late(user, escalation) -> bool:
    """Whether this closed escalation would be the user's to reopen but its window has passed
    (the pages say so; the services refuse it as a rule, not as a role)."""
    return (
        is_closed.test(user, escalation)
        and not is_imported.test(user, escalation)
        and not reopen_window_open(escalation)
        and not did_not_hold.test(user, escalation)
        and user_may("reopen", user, escalation)
    )


def works_for_owner(user, action) -> bool:
    """Someone of the agency that owns an agreed or commissioned action, working in the
    escalation's partnership (a practitioner, manager or senior leader there), whether or not
    their agency is a party: the action is theirs to open and mark done, and theirs alone of
    the escalation (its page stays as rule 7 has it)."""
    return (
        user.agency_id is not None
        and user.agency_id == action.owner_agency_id
        and bool(user_roles(user, action.escalation.partnership_id) & (RAISING_ROLES | LEADER_ROLES))
    )


def completable_actions(user, escalation, actions) -> set[int]:
    """Which of the escalation's agreed actions the user may mark done: whoever works for the
    agency that owns the action (a party or not), the parties' own managers and leaders, or
    the formal body (which commissions the response to a theme). A done action stays done.
    The person's standing is read once, however many actions there are."""
    sees = user.has_perm("escalations.view", escalation)
    leads = sees and (is_party_leader | is_pdg).test(user, escalation)
    works = bool(_roles(user, escalation) & (RAISING_ROLES | LEADER_ROLES))
    return {
        a.pk
        for a in actions
        if a.completed_on is None and (leads or (works and user.agency_id == a.owner_agency_id))
    }


def may_complete_action(user, action) -> bool:
    return action.pk in completable_actions(user, action.escalation, [action])


def may_see_action(user, action) -> bool:
    """An agreed action's own page (what was asked, by when, the difference in a line): its
    owning agency's people, and whoever sees the escalation. Hidden means not found."""
    return works_for_owner(user, action) or user.has_perm("escalations.view", action.escalation)


def sees_children(user, escalation) -> bool:
    """Whether the user may see who the children are (names, dates of birth, references):
    the parties and the formal body may; a facilitator whose only access is the
    appointment, only where the partnership turns that on."""
    if not user.has_perm("escalations.view", escalation):
        return False
    if (is_party_side | (is_pdg & is_formal)).test(user, escalation):
        return True
    return escalation.partnership.facilitators_see_children


def allowed_actions(user, escalation) -> set[str]:
    return {action for action in ACTIONS if user.has_perm(f"escalations.{action}", escalation)}


def can_raise_in(user, partnership_id: int) -> bool:
    return bool(user_roles(user, partnership_id) & RAISING_ROLES)


# ``Escalation.objects.visible_to`` asks this condition (models cannot import the policies).
EscalationQuerySet.visibility_condition = VisibleTo
