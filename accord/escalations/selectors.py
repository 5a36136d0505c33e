"""Reads of escalations. Every one starts from ``Escalation.objects.visible_to(user)``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, F, IntegerField, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import NotFound
from accord.core.request_memo import remembered
from accord.partnership.models import Agency, Partnership, Role, RoleAssignment, User, WorkedBy
from accord.partnership.protocol import ladder_of
from accord.partnership.roles import FORMAL_BODY_ROLES, LEADER_ROLES
from accord.partnership.selectors import user_roles

from . import visibility
from .children import child_details_named
from .models import (
    ACCOUNT_FIELDS,
    OPEN_STATUSES,
    AgreedAction,
    DailyTally,
    Draft,
    Escalation,
    OtherParty,
    PdgAction,
    Status,
    Visibility,
)
from .policies import (
    STAGE_ACTIONS,
    OthersOf,
    holding_of,
    is_formal,
    is_party_side,
    is_pdg,
    ladder_for,
    may_complete_action,
    may_see_action,
    others_for,
)


def _today() -> dt.date:
    return clock.today()


def escalations_visible(*, user, partnership: Partnership) -> QuerySet[Escalation]:
    """The escalations this user may see (rule 7), as lists show them."""
    return (
        Escalation.objects.visible_to(user)
        .filter(partnership=partnership)
        .select_related("raising_agency", "with_agency")
        .defer(*ACCOUNT_FIELDS)  # lists never show the long accounts
    )


def attach_others(rows: list[Escalation]) -> None:
    """Each escalation's other parties, read in one statement for a whole list."""
    rows = [e for e in rows if "_accord_others" not in e.__dict__]
    if not rows:
        return
    found: dict[int, list[OtherParty]] = {e.pk: [] for e in rows}
    for other in OtherParty.objects.filter(escalation_id__in=found).select_related("agency", "practitioner"):
        found[other.escalation_id].append(other)
    for e in rows:
        e.__dict__["_accord_others"] = found[e.pk]


def drafts_of(*, user, partnership: Partnership, limit: int = 5) -> list:
    """The user's own unfinished raises in this partnership, most recently saved first."""
    return list(Draft.objects.filter(owner=user, partnership=partnership)[:limit])


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status=Status.OPEN, due_date__lt=today or _today())


def escalation_get(*, user, pk: int, partnership: Partnership | None = None) -> Escalation:
    """The escalation for this user, or ``NotFound`` whether it is missing or hidden (rule 7)."""
    qs = Escalation.objects.visible_to(user)
    if partnership is not None:
        qs = qs.filter(partnership=partnership)
    try:
        escalation = qs.select_related(
            "partnership", "raising_agency", "with_agency", "area_of_disagreement"
        ).get(pk=pk)
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    # The people (the raiser and their line manager, the named practitioner) in a second,
    # small query: joining all seven records in one statement cost PostgreSQL more to plan
    # than the two statements together take.
    people = User.objects.select_related("line_manager").in_bulk(
        [key for key in (escalation.raised_by_id, escalation.with_practitioner_id) if key is not None]
    )
    escalation.raised_by = people[escalation.raised_by_id]
    if escalation.with_practitioner_id is not None:
        escalation.with_practitioner = people[escalation.with_practitioner_id]
    # The other agencies it is with, and who is named there (rule 7 reads them too).
    escalation.__dict__["_accord_others"] = list(
        OtherParty.objects.filter(escalation_id=escalation.pk).select_related(
            "agency", "practitioner__line_manager"
        )
    )
    return escalation


def awaiting_q(user, partnership: Partnership, others: OthersOf | None = None) -> Q:
    """What is waiting on this user now: their stage of an open escalation they take part in."""
    roles = user_roles(user, partnership.pk)
    ladder = ladder_of(partnership)
    practitioners = ladder.stages_worked_by(WorkedBy.PRACTITIONERS)
    others = others or others_for(user)
    q = Q(stage__in=practitioners) & (Q(raised_by=user) | Q(with_practitioner=user) | Q(pk__in=others.named))
    if user.agency_id:
        of_agency = (
            Q(raising_agency_id=user.agency_id) | Q(with_agency_id=user.agency_id) | Q(pk__in=others.agency)
        )
        if Role.MANAGER in roles:
            q |= of_agency & Q(stage__in=ladder.stages_worked_by(WorkedBy.MANAGERS))
            # Raised with the agency and no named practitioner: its managers receive it.
            q |= Q(stage__in=practitioners, with_agency_id=user.agency_id, with_practitioner__isnull=True)
            q |= Q(stage__in=practitioners, pk__in=others.unnamed)
        if Role.SENIOR_LEADER in roles:
            q |= of_agency & Q(stage__in=ladder.stages_worked_by(WorkedBy.SENIOR_LEADERS))
    if Role.CONFERENCE_CHAIR in roles:
        q |= Q(raised_by=user)
    if roles & FORMAL_BODY_ROLES:
        q |= Q(formal_at__isnull=False, stage__in=ladder.stages_worked_by(WorkedBy.FORMAL_BODY))
    if Role.FACILITATOR in roles:
        q |= Q(
            pk__in=PdgAction.objects.filter(facilitator_id=user.pk, ended_at__isnull=True).values(
                "escalation_id"
            )
        )
    return q


@dataclass
class MyWork:
    awaiting: list[Escalation]
    raised_by_me: list[Escalation]
    agency: list[Escalation]
    agency_total: int


def my_work(*, user, partnership: Partnership, limit: int = 25) -> MyWork:
    # The agencies are read once for the three lists afterwards: joined in, PostgreSQL
    # looks them up for every candidate row before it sorts and keeps the first 25 (for a
    # manager whose agency has 1,700 open escalations, 3,400 lookups and about a third of
    # the statement's time).
    base = escalations_visible(user=user, partnership=partnership).select_related(None)
    open_ = base.filter(status__in=OPEN_STATUSES)
    others = others_for(user)
    awaiting = list(
        open_.filter(awaiting_q(user, partnership, others)).order_by("due_date", "raised_at")[:limit]
    )
    today = _today()
    awaiting.sort(
        key=lambda e: (
            not (e.due_date and e.due_date < today and e.status == Status.OPEN),
            e.due_date or dt.date.max,
        )
    )
    raised = list(base.filter(raised_by=user).order_by("-raised_at")[:limit])
    agency: list[Escalation] = []
    agency_total = 0
    if user_roles(user, partnership.pk) & LEADER_ROLES and user.agency_id:
        agency_qs = open_.filter(
            Q(raising_agency_id=user.agency_id) | Q(with_agency_id=user.agency_id) | Q(pk__in=others.agency)
        )
        # Counted as disjoint parts (raised by the agency; with it first and raised by
        # another; with it among the others, which is never the raising agency or the
        # first), each answered from its own index, rather than one OR that no index answers.
        # The parts are counted in one statement, each part its own subquery.
        parts = [
            open_.filter(raising_agency_id=user.agency_id),
            open_.filter(with_agency_id=user.agency_id).exclude(raising_agency_id=user.agency_id),
        ]
        if not isinstance(others.agency, list) or others.agency:
            parts.append(open_.filter(pk__in=others.agency))
        agency_total = _counted_together(partnership, parts)
        agency = list(agency_qs.order_by("due_date")[:limit])
    _attach_agencies([*awaiting, *raised, *agency])
    return MyWork(awaiting=awaiting, raised_by_me=raised, agency=agency, agency_total=agency_total)


def _counted_together(partnership: Partnership, parts: list[QuerySet]) -> int:
    """The sum of the counts of ``parts`` (each within ``partnership``), in one statement:
    each part a scalar subquery, answered from its own index as its own ``count()`` would be."""
    counts = {
        f"part_{i}": Coalesce(
            Subquery(
                part.order_by().values("partnership_id").annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        )
        for i, part in enumerate(parts)
    }
    row = Partnership.objects.filter(pk=partnership.pk).annotate(**counts).values_list(*counts)
    return sum(row.get())


def _attach_agencies(rows: list[Escalation]) -> None:
    """Each escalation's agencies, read in one statement for all of them, and its other
    parties in one more (only when any of them has some)."""
    attach_others(rows)
    ids = {e.raising_agency_id for e in rows} | {e.with_agency_id for e in rows}
    if not ids:
        return
    found = Agency.objects.in_bulk(ids)
    for e in rows:
        e.raising_agency = found[e.raising_agency_id]
        e.with_agency = found[e.with_agency_id]


@dataclass
class ListFilters:
    q: str = ""
    status: str = ""
    stage: int | None = None
    kind: str = ""
    agency: int | None = None
    overdue: bool = False
    urgency: str = ""
    reached: int | None = None  # the highest stage reached, for drill-down from the reports
    origin: str = ""
    area: str = ""
    theme: str = ""
    raised_by_agency: int | None = None
    received_by_agency: int | None = None
    raised_from: dt.date | None = None
    raised_to: dt.date | None = None


def escalation_list(*, user, partnership: Partnership, filters: ListFilters) -> QuerySet[Escalation]:
    qs = escalations_visible(user=user, partnership=partnership)
    if filters.q:
        qs = qs.filter(Q(reference__icontains=filters.q) | Q(summary__icontains=filters.q))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.agency:
        qs = qs.filter(
            Q(raising_agency_id=filters.agency)
            | Q(with_agency_id=filters.agency)
            | Q(pk__in=OtherParty.objects.filter(agency_id=filters.agency).values("escalation_id"))
        )
    if filters.overdue:
        qs = qs.filter(overdue_q())
    if filters.urgency:
        qs = qs.filter(urgency=filters.urgency)
    if filters.reached:
        qs = qs.filter(highest_stage=filters.reached)
    if filters.origin:
        qs = qs.filter(origin=filters.origin)
    if filters.area:
        qs = qs.filter(areas_of_disagreement__code=filters.area)
    if filters.theme:
        qs = qs.filter(
            pk__in=Escalation.themes.through.objects.filter(practicetheme__code=filters.theme).values(
                "escalation_id"
            )
        )
    if filters.raised_by_agency:
        qs = qs.filter(raising_agency_id=filters.raised_by_agency)
    if filters.received_by_agency:
        qs = qs.filter(
            Q(with_agency_id=filters.received_by_agency)
            | Q(
                pk__in=OtherParty.objects.filter(agency_id=filters.received_by_agency).values("escalation_id")
            )
        )
    if filters.raised_from:
        qs = qs.filter(
            raised_at__gte=timezone.make_aware(dt.datetime.combine(filters.raised_from, dt.time.min))
        )
    if filters.raised_to:
        end = filters.raised_to + dt.timedelta(days=1)
        qs = qs.filter(raised_at__lt=timezone.make_aware(dt.datetime.combine(end, dt.time.min)))
    return qs.order_by("-raised_at", "-id")


def escalation_count(*, user, partnership: Partnership, filters: ListFilters, qs: QuerySet) -> int:
    """How many escalations ``escalation_list`` gives (``qs``), exactly. Unfiltered, it is
    how many the user may see, read from the table of who may see which (one index range,
    however many there are); filtered, rule 7 is tested with the filters on the rows."""
    if filters == ListFilters():
        return visibility.count_visible(user, partnership.pk)
    return qs.count()


def rows_between(qs: QuerySet, start: int, stop: int, count: int) -> list:
    """``qs[start:stop]`` for an ordered queryset of ``count`` rows, read from whichever end
    is nearer: the database walks past ``OFFSET`` rows, so the last page of a long list,
    read backwards, costs what the first page does."""
    stop = min(stop, count)
    if start >= stop:
        return []
    if start <= count - stop:
        return list(qs[start:stop])
    rows = list(qs.reverse()[count - stop : count - start])
    rows.reverse()
    return rows


# The most rows a page's list counts. Counting every escalation a busy manager may see (a
# quarter of a million at national scale) costs more than the rest of the page together;
# beyond this many the page says so and offers the most recent, and the filters narrow it.
LIST_COUNT_LIMIT = 10_000


class EitherEndPaginator(Paginator):
    """Django's paginator, reading pages past the middle from the end (see ``rows_between``).

    With ``count_limit``, it counts no further than that: when more rows match, ``capped``
    is set and the pages cover the first ``count_limit`` rows, read from the front."""

    def __init__(self, object_list, per_page, *, count_limit: int | None = None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.count_limit = count_limit
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.count_limit is None:
            return self.object_list.count()
        found = self.object_list.order_by().values("pk")[: self.count_limit + 1].count()
        self.capped = found > self.count_limit
        return min(found, self.count_limit)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(page_rows(self.object_list, bottom, top, self.count, self.capped), number, self)

    def get_page(self, number):
        """Django's ``get_page``; with ``count_limit``, a page that exists is found together
        with the count in one statement (``first_rows``) instead of a count and then a walk
        to the page, each over the same rows."""
        if self.count_limit is not None and not self.orphans and "count" not in self.__dict__:
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                wanted = 1  # no page number, or not a number: the first page, as Django gives
            bottom = (wanted - 1) * self.per_page
            if wanted >= 1 and bottom < self.count_limit:  # (a page past the limit cannot exist)
                keys, found = first_rows(
                    self.object_list,
                    bottom,
                    min(bottom + self.per_page, self.count_limit),
                    self.count_limit + 1,
                )
                if found is not None:
                    self.__dict__["count"] = min(found, self.count_limit)
                    self.capped = found > self.count_limit
                    rows = self.object_list.in_bulk(keys)
                    return self._get_page([rows[k] for k in keys if k in rows], wanted, self)
        # Not a number, before the first page, past the last or an empty list: as Django does.
        return super().get_page(number)


class VisibleMostRecentFirst:
    """The unfiltered list (``qs``: rule 7 for ``user`` in ``partnership``, most recent
    first) as Django's paginator reads it: counted from the person's kept count, and each
    page's escalations found in the table of who may see which, from its index of
    someone's escalations most recent first (decision 5). Finding a page this way costs
    the same for someone who may see a few thousand escalations spread over a million as
    for someone who may see most of them; testing rule 7 row by row in date order cost
    the first of those a walk through a third of the table (``docs/performance.md``).

    The page's rows are then read through ``qs`` itself, so rule 7 still decides what is
    shown. Up to ``limit`` of the most recent, as the filtered lists (decision 4)."""

    def __init__(
        self, qs: QuerySet, *, user, partnership: Partnership, limit: int, kept: int | None = None
    ) -> None:
        self.qs, self.user, self.partnership, self.limit = qs, user, partnership, limit
        self.kept = kept  # the person's kept count, when the caller has read it
        self.capped = kept is not None and kept > limit

    def count(self) -> int:
        if self.kept is None:
            self.kept = visibility.count_visible(self.user, self.partnership.pk)
        self.capped = self.kept > self.limit
        return min(self.kept, self.limit)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Escalation]:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("a page is a slice")
        keys_in_order = (
            Visibility.objects.filter(user_id=self.user.pk, partnership_id=self.partnership.pk)
            .order_by("-raised_at", "-escalation_id")
            .values_list("escalation_id", flat=True)
        )
        if self.kept is not None and not self.capped:  # all of them: from the nearer end
            keys = rows_between(keys_in_order, index.start or 0, index.stop, self.kept)
        else:
            keys = list(keys_in_order[index])
        found = self.qs.in_bulk(keys)
        return [found[key] for key in keys if key in found]


class KeptCountPaginator(Paginator):
    """Django's paginator over ``VisibleMostRecentFirst``, telling the page whether the
    count stopped at the limit (as ``EitherEndPaginator`` does)."""

    @property
    def capped(self) -> bool:
        self.count  # noqa: B018 - counting sets it
        return self.object_list.capped

    @property
    def total(self) -> int:
        """How many the person may see, past the pages' limit too."""
        self.count  # noqa: B018 - counting sets it
        return self.object_list.kept


def list_paginator(qs: QuerySet, *, user, partnership: Partnership, filters: ListFilters) -> Paginator:
    """The paginator for ``escalation_list``: unfiltered, pages found from the table of who
    may see which; filtered, rule 7 tested with the filters on the rows."""
    if filters == ListFilters():
        return KeptCountPaginator(
            VisibleMostRecentFirst(qs, user=user, partnership=partnership, limit=LIST_COUNT_LIMIT), 25
        )
    return EitherEndPaginator(qs, 25, count_limit=LIST_COUNT_LIMIT)


def first_rows(qs: QuerySet, start: int, stop: int, within: int) -> tuple[list, int | None]:
    """The keys of ``qs[start:stop]`` among its first ``within`` rows, and how many rows
    those first ``within`` are (``None`` when the slice is empty), in one statement.

    The rows are numbered in the queryset's order as they are read, at most ``within`` of
    them; the count and the slice are then taken over those numbered rows."""
    order = [
        (F(item[1:]).desc() if item.startswith("-") else F(item).asc()) if isinstance(item, str) else item
        for item in (qs.query.order_by or qs.model._meta.ordering)
    ]
    numbered = qs.annotate(row_key=F("pk"), position=Window(RowNumber(), order_by=order)).values_list(
        "row_key", "position"
    )[:within]
    sql, params = numbered.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_key, found FROM ("  # noqa: S608 - the ORM's own SQL, with its parameters
            f"SELECT row_key, position, COUNT(*) OVER () AS found FROM ({sql}) AS numbered"
            ") AS counted WHERE position > %s AND position <= %s ORDER BY position",
            [*params, start, stop],
        )
        rows = cursor.fetchall()
    return [key for key, _found in rows], (rows[0][1] if rows else None)


def page_rows(qs: QuerySet, start: int, stop: int, count: int, capped: bool = False) -> list:
    """``qs[start:stop]``, found by primary key first and then read whole: walking past the
    earlier rows touches only the index (PostgreSQL), and only the page's rows are read.
    Read from the nearer end unless ``count`` is only a lower bound (``capped``)."""
    keys = qs.values_list("pk", flat=True)
    ids = list(keys[start:stop]) if capped else rows_between(keys, start, stop, count)
    found = qs.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def is_overdue(escalation: Escalation, today: dt.date | None = None) -> bool:
    return (
        escalation.status == Status.OPEN
        and escalation.due_date is not None
        and escalation.due_date < (today or _today())
    )


# --------------------------------------------------------------------------- who holds it now


@dataclass(frozen=True)
class HolderGroup:
    """One agency's part in the current stage (or the formal body's): who holds it, named
    where the viewer may see names, and the stage's actions their role gives them."""

    agency: str
    role: str
    # (username, name) of each; None where the viewer is not shown names.
    people: list[tuple[str, str]] | None
    may: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return [name for _username, name in self.people or []]


@dataclass(frozen=True)
class CurrentHolders:
    number: int
    name: str
    groups: list[HolderGroup]
    senior_tiers_too: bool


# The tier's role, as each group is labelled.
_TIER_ROLE = {
    WorkedBy.PRACTITIONERS: Role.PRACTITIONER,
    WorkedBy.MANAGERS: Role.MANAGER,
    WorkedBy.SENIOR_LEADERS: Role.SENIOR_LEADER,
}


def _display(person: User) -> tuple[str, str]:
    return (person.username, person.get_full_name() or person.username)


def _actions_gone(escalation: Escalation, ladder) -> set[str]:
    """What the escalation's state leaves out of the stage's actions: no escalating from the
    top or while paused, pausing while it runs, resuming while it is paused."""
    gone = {"resume"} if escalation.status != Status.PAUSED else {"pause", "escalate"}
    if escalation.stage >= ladder.top:
        gone.add("escalate")
    return gone


def _holders_by_agency(escalation: Escalation, holding, agencies: dict) -> dict[int, list[tuple[str, str]]]:
    """The people holding the stage, agency by agency: the named practitioners at a
    practitioners' stage, or everyone of the stage's role in the agencies (one query, which
    ``escalation_leaders`` shares with the page's other questions of the agencies' leaders)."""
    by_agency: dict[int, list[tuple[str, str]]] = {pk: [] for pk in agencies}
    if holding.tier == WorkedBy.PRACTITIONERS:
        named = [(escalation.raising_agency_id, escalation.raised_by)]
        if escalation.with_practitioner_id:
            named.append((escalation.with_agency_id, escalation.with_practitioner))
        named += [(o.agency_id, o.practitioner) for o in escalation.others() if o.practitioner_id]
        for agency_id, person in named:
            if person is not None and agency_id in by_agency:
                by_agency[agency_id].append(_display(person))
        return by_agency
    # The managers or senior leaders of its agencies (the agencies shown are those).
    role = _TIER_ROLE[holding.tier]
    people = [person for person, held in escalation_leaders(escalation) if held == role]
    for person in people:
        by_agency[person.agency_id].append(_display(person))
    return by_agency


def escalation_agency_ids(escalation: Escalation) -> list[int]:
    """Every agency of the difference: the raising agency's, then those it is with."""
    return list(dict.fromkeys([escalation.raising_agency_id, *escalation.receiving_agency_ids()]))


def escalation_leaders(escalation: Escalation) -> list[tuple[User, str]]:
    """The active managers and senior leaders of the escalation's agencies in its
    partnership, each with the role (a person with both roles twice), by name: one
    statement, once a request while it writes nothing. Who holds a leaders' stage and which
    agencies have nobody to work it are both read from it."""
    agency_ids = escalation_agency_ids(escalation)
    return remembered(
        ("escalation_leaders", escalation.partnership_id, tuple(sorted(agency_ids))),
        lambda: [
            (assignment.user, assignment.role)
            for assignment in RoleAssignment.objects.filter(
                partnership_id=escalation.partnership_id,
                role__in=LEADER_ROLES,
                user__is_active=True,
                user__agency_id__in=agency_ids,
            )
            .select_related("user")
            .only("role", "user__first_name", "user__last_name", "user__username", "user__agency_id")
            .order_by("user__last_name", "user__first_name", "user__username", "user_id", "role")
        ],
    )


def _facilitator_groups(escalation: Escalation, names_shown: bool) -> list[HolderGroup]:
    """A facilitated stage: the facilitators appointed beside the parties help them."""
    return [
        HolderGroup(
            agency=appointment.facilitator.agency.name if appointment.facilitator.agency_id else "",
            role=str(_("Facilitator")),
            people=[_display(appointment.facilitator)] if names_shown else None,
            may=("facilitate",),
        )
        for appointment in escalation.pdg_actions.filter(
            facilitator__isnull=False, ended_at__isnull=True
        ).select_related("facilitator__agency")
    ]


def current_holders(*, viewer, escalation: Escalation) -> CurrentHolders | None:
    """Who holds the escalation's current stage (rule 2), agency by agency, and what each
    may do there: the same ``stage_holding`` the policies decide by. Names are shown to
    those who see the escalation as a party or as the formal body (rule 7); a facilitator
    whose only access is the appointment sees the agencies and roles alone. At most one
    query, whatever the number of agencies and people."""
    if escalation.status not in OPEN_STATUSES:
        return None
    holding = holding_of(viewer, escalation)
    names_shown = (is_party_side | (is_pdg & is_formal)).test(viewer, escalation)
    agencies = {
        escalation.raising_agency_id: escalation.raising_agency,
        escalation.with_agency_id: escalation.with_agency,
    }
    for other in escalation.others():
        agencies.setdefault(other.agency_id, other.agency)
    ladder = ladder_for(viewer, escalation)
    gone = _actions_gone(escalation, ladder)
    if holding.tier == WorkedBy.PRACTITIONERS:
        may = tuple(a for a in ("escalate",) if a not in gone)
    else:
        may = tuple(a for a in STAGE_ACTIONS if a not in gone)
    by_agency = _holders_by_agency(escalation, holding, agencies)
    label = str(Role(_TIER_ROLE[holding.tier]).label)
    groups = [
        HolderGroup(
            agency=agency.name,
            role=label,
            people=by_agency[agency_id] if names_shown else None,
            may=may,
        )
        for agency_id, agency in agencies.items()
    ]
    if ladder.is_facilitated(escalation.stage):
        groups += _facilitator_groups(escalation, names_shown)
    if holding.formal_body_acts:
        groups.append(
            HolderGroup(
                agency=holding.formal_body_name,
                role=str(_("Member or chair")),
                people=None,
                may=tuple(a for a in ("escalate", "resolve", "pause", "resume") if a not in gone),
            )
        )
    return CurrentHolders(
        number=holding.number,
        name=holding.name,
        groups=groups,
        senior_tiers_too=holding.tier != WorkedBy.SENIOR_LEADERS,
    )


# --------------------------------------------------------------------------- an agreed action


@dataclass
class ActionView:
    """An agreed or commissioned action as its owner sees it: what was asked, by when, and the
    difference or theme in a line; never a child's details (its owner may not be a party)."""

    action: AgreedAction
    reference: str
    kind: str
    line: str
    area: str
    themes: list[str]
    sees_escalation: bool
    may_complete: bool


def agreed_action_get(*, user, pk: int, partnership: Partnership | None = None) -> ActionView:
    """The action, for its owning agency's people and whoever sees the escalation: not found
    for anyone else, or (``partnership``) in another partnership than the one being worked in."""
    action = (
        AgreedAction.objects.select_related(
            "owner_agency", "completed_by", "escalation__partnership", "escalation__area_of_disagreement"
        )
        .filter(pk=pk)
        .first()
    )
    if (
        action is None
        or (partnership is not None and action.escalation.partnership_id != partnership.pk)
        or not may_see_action(user, action)
    ):
        raise NotFound()
    e = action.escalation
    children = list(e.children.all())
    summary = e.summary if not child_details_named(e.summary, children) else ""
    area = e.area_of_disagreement.label if e.area_of_disagreement else ""
    return ActionView(
        action=action,
        reference=e.reference,
        kind=e.kind,
        line=summary or area or _("A difference about a child"),
        area=area,
        themes=list(e.themes.values_list("label", flat=True)),
        sees_escalation=user.has_perm("escalations.view", e),
        may_complete=may_complete_action(user, action),
    )


def agreed_actions_owned(*, user, partnership: Partnership) -> QuerySet[AgreedAction]:
    """The open agreed and commissioned actions the user's agency owns in the partnership,
    soonest due first (the actions they are chased for)."""
    if user.agency_id is None:
        return AgreedAction.objects.none()
    return (
        AgreedAction.objects.filter(
            escalation__partnership=partnership, owner_agency_id=user.agency_id, completed_on__isnull=True
        )
        .select_related("escalation")
        .order_by("due_date", "id")
    )


def holds_escalations(partnership: Partnership) -> bool:
    """Whether the partnership holds any escalation or any figure of one: raised in Accord or
    brought in from its old log, and counted still after its record is deleted at the end
    of its retention (the daily tallies keep the figures)."""
    return (
        Escalation.objects.filter(partnership=partnership).exists()
        or DailyTally.objects.filter(partnership=partnership, dimension="total", n__gt=0).exists()
    )
