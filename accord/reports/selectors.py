"""The PDG standing item's figures, shared by the page, the downloads, the annual report
and the API. They are sums of the daily tallies (``accord.escalations.tallies``), grouped in
the database, so a report makes the same few queries however many escalations there are.

Counts are of escalations raised in the period (DOMAIN.md rule 5: every escalation
at every stage, even one settled at stage 1), except outcomes and timeliness, which
count what was resolved, or what finished a stage, in the period.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Count, IntegerField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accord.core import clock
from accord.core.db import on_replica, reports_alias
from accord.core.request_memo import remembered
from accord.escalations import tallies
from accord.escalations.models import (
    IRU_ORIGINS,
    OPEN_STATUSES,
    AfterNotHeld,
    AgreedAction,
    DailyTally,
    Escalation,
    Held,
    Learning,
    LearningFrom,
    PdgAction,
    Resolution,
    Status,
)
from accord.escalations.selectors import is_overdue, overdue_q
from accord.partnership.models import Partnership
from accord.partnership.protocol import ladder_of
from accord.partnership.selectors import partnership_agencies

from .disclosure import DEFAULT_THRESHOLD, protect, suppress_counts
from .stages import stage_rows

LOW_CHALLENGE_P = 0.05
HISTORY_PERIODS = 4


@dataclass
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self, n: int = 1) -> Period:
        length = dt.timedelta(days=self.days)
        return Period(self.start - length * n, self.end - length * n)


def day_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period as [start of its first day, start of the day after its last), in local time.

    Comparing timestamps with bounds (rather than a ``__date`` lookup, which converts
    every row) lets the database use its indexes.
    """
    start = timezone.make_aware(dt.datetime.combine(period.start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))
    return start, end


def raised_in(partnership: Partnership, period: Period) -> QuerySet[Escalation]:
    start, end = day_bounds(period)
    return Escalation.objects.filter(partnership=partnership, raised_at__gte=start, raised_at__lt=end)


def _poisson_tail_from(first: int, lam: float, step: int) -> float:
    """Sum of Poisson(lam) probabilities from ``first`` stepping by ``step`` (-1 down to 0,
    +1 upwards), starting at the largest term (in log space, so e^-lam cannot underflow to
    nothing) and stopping when the terms no longer matter."""
    log_first = -lam + first * math.log(lam) - math.lgamma(first + 1)
    ratio_sum, term, i = 0.0, 1.0, first
    while term >= 1e-17 * max(ratio_sum, 1.0) and i >= 0:
        ratio_sum += term
        term *= (i / lam) if step < 0 else (lam / (i + 1))
        i += step
    return math.exp(log_first) * ratio_sum


def poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam), accurate for national-scale rates too."""
    if lam <= 0:
        return 1.0
    if k < 0:
        return 0.0
    if k < lam:  # the lower tail, from its largest term down
        return min(1.0, _poisson_tail_from(k, lam, -1))
    return max(0.0, 1.0 - _poisson_tail_from(k + 1, lam, +1))  # one minus the upper tail


@dataclass
class AgencySignal:
    agency: str
    direction: str  # "raised" or "received"
    observed: int
    expected: float
    probability: float
    basis: str = "history"  # what "expected" rests on: one of BASES

    @property
    def basis_text(self) -> str:
        return str(BASES[self.basis])

    @property
    def chance_percent(self) -> float:
        """The chance of a count this low if the expectation held, as a percentage."""
        return round(100 * self.probability, 1)


# What an agency's expected count rests on, best first.
BASES = {
    "history": gettext_lazy("its own earlier periods"),
    "kind_by_size": gettext_lazy("agencies of the same kind this period, in proportion to their size"),
    "kind": gettext_lazy("agencies of the same kind this period"),
    "partnership": gettext_lazy("the partnership's average per agency this period"),
}


def expectation(
    pk: int,
    observed: dict[int, int],
    past: list[dict[int, int]],
    kinds: dict[int, str],
    sizes: dict[int, int | None],
) -> tuple[float, str]:
    """What an agency might have been expected to raise (or receive) this period, and on what
    basis: its own average over the earlier periods the records reach, if it has any history;
    else the other agencies of its kind, per head where their sizes and its own are recorded,
    else their average; else the partnership's average per agency."""
    own = [p.get(pk, 0) for p in past]
    if any(own):
        return sum(own) / len(own), "history"
    peers = [a for a in kinds if a != pk and kinds[a] == kinds[pk]]
    if peers:
        sized = [a for a in peers if sizes.get(a)]
        if sizes.get(pk) and sized:
            rate = sum(observed.get(a, 0) for a in sized) / sum(sizes[a] for a in sized)
            return rate * sizes[pk], "kind_by_size"
        return sum(observed.get(a, 0) for a in peers) / len(peers), "kind"
    return sum(observed.values()) / len(kinds), "partnership"


@dataclass
class Figures:
    period: Period
    total: int
    # By the stage's number on the ladder now; a stage a review removed by its own name.
    by_stage_reached: dict[int | str, int]
    by_kind: dict[str, int]
    by_subject: dict[str, int]
    by_urgency: dict[str, int]
    by_origin: dict[str, int]
    by_status: dict[str, int]
    by_area: dict[str, int]
    by_theme: dict[str, int]
    by_raising_agency: dict[str, int]
    by_receiving_agency: dict[str, int]
    matrix: dict[tuple[str, str], int]
    agencies: list[str]
    outcomes: dict[str, int]
    # Follow-ups answered in the period: did the agreed way forward hold?
    follow_ups: dict[str, int]
    timeliness: dict[int, dict[str, Any]]
    low_challenge: list[AgencySignal]
    iru: dict[str, Any]
    themes_response: list[dict[str, Any]]
    themes_total: int = 0
    trend: list[dict[str, Any]] = field(default_factory=list)
    # For drill-down links: labels and names back to the codes and ids the list filters on.
    area_codes: dict[str, str] = field(default_factory=dict)
    theme_codes: dict[str, str] = field(default_factory=dict)
    # The partnership's priority tiers, code to label (its own tiers are data).
    priority_labels: dict[str, str] = field(default_factory=dict)
    agency_ids: dict[str, int] = field(default_factory=dict)
    # The partnership's disclosure threshold: counts below it are hidden from the executive.
    threshold: int = DEFAULT_THRESHOLD
    # Whole kinds of agency markedly quiet (``kind_silence``).
    kind_silence: list[KindSignal] = field(default_factory=list)
    # The ladder's first formal stage (0: none).
    formal_from: int = 0
    # Escalations raised in the period that became formal, formal as the ladder was when they
    # did (the tallies' ``formal``): a review of the protocol leaves the past's count as it was.
    formal: int = 0
    # Resolutions in the period that recorded learning (``learning_counts``).
    learned: int = 0
    # The first day anything was counted for the partnership (``first_recorded_day``): a
    # period before it has no figures, not figures of 0.
    records_begin: dt.date | None = None
    # Of the follow-ups that said it did not hold, what followed: reopened, raised again as a
    # linked escalation, or nothing yet (adds up to ``follow_ups["not_held"]``).
    after_not_held: dict[str, int] = field(default_factory=dict)
    # Escalations resolved in the period, by "<language raised in>:<working days taken>"
    # (the tallies' ``resolved_days``): the time to resolution by language.
    resolved_days: dict[str, int] = field(default_factory=dict)

    @property
    def formal_is_the_formal_stages(self) -> bool:
        """Whether "reached the formal stages" is the sum of today's formal stages' counts (so
        a reader can add them up): true until a review changed which stages are formal."""
        return self.formal == sum(
            n
            for stage, n in self.by_stage_reached.items()
            if self.formal_from and isinstance(stage, int) and stage >= self.formal_from
        )


def period_ranges(period: Period, dimensions: Iterable[str]) -> list[Q]:
    """The tallies that add up to these dimensions over the period, as disjoint ranges:
    whole months from the monthly roll-ups, the days of a partial month at either end
    from the daily tallies."""
    dimensions = list(dimensions)
    monthly = [tallies.MONTHLY + d for d in dimensions]
    end_exclusive = period.end + dt.timedelta(days=1)
    next_month = tallies.month_of(period.start.replace(day=28) + dt.timedelta(days=4))
    first_full = period.start if period.start.day == 1 else next_month
    after_full = tallies.month_of(end_exclusive)
    if first_full >= after_full:  # no whole month inside: every day
        return [Q(dimension__in=dimensions, day__gte=period.start, day__lte=period.end)]
    return [
        Q(dimension__in=monthly, day__gte=first_full, day__lt=after_full),
        Q(dimension__in=dimensions, day__gte=period.start, day__lt=first_full),
        Q(dimension__in=dimensions, day__gte=after_full, day__lte=period.end),
    ]


def period_filter(period: Period, dimensions: Iterable[str]) -> Q:
    """``period_ranges`` as one condition."""
    condition = Q(pk__in=[])
    for part in period_ranges(period, dimensions):
        condition |= part
    return condition


def _plain(dimension: str) -> str:
    return dimension.removeprefix(tallies.MONTHLY)


def _range_sums(
    partnership: Partnership, periods: list[Period], dimensions: list[str]
) -> list[dict[str, dict[str, int]]]:
    """For each period, the sum of each dimension's counts by key, in one statement.

    Each range of ``period_ranges`` is read on its own and the reads are joined by
    ``UNION ALL`` before summing: a single range is read from the tallies' covering index
    alone, where an ``OR`` of ranges is read from the table, a page a row (the benchmark,
    ``docs/performance.md``, measures the difference)."""
    reads = [
        DailyTally.objects.filter(part, partnership=partnership)
        .annotate(period=Value(i, output_field=IntegerField()))
        .values_list("period", "dimension", "key", "n")
        for i, period in enumerate(periods)
        for part in period_ranges(period, dimensions)
    ]
    sql, params = reads[0].union(*reads[1:], all=True).query.sql_with_params()
    with connections[reports_alias()].cursor() as cursor:
        cursor.execute(
            f"SELECT period, dimension, key, SUM(n) FROM ({sql}) AS ranges GROUP BY period, dimension, key",  # noqa: S608 - the ORM's own SQL, with its parameters
            params,
        )
        rows = cursor.fetchall()
    result: list[dict[str, dict[str, int]]] = [{} for _ in periods]
    for i, dimension, key, n in rows:
        if n:
            counts = result[i].setdefault(_plain(dimension), {})
            counts[key] = counts.get(key, 0) + int(n)  # (a database may sum to a decimal)
    return result


def tally_sums(partnership: Partnership, period: Period, *, pairs: bool = True) -> dict[str, dict[str, int]]:
    """Every dimension's counts for the period, from the tallies, in one query (the agency
    pairs, the most numerous, only when asked for)."""
    dimensions = [d for d in tallies.DIMENSIONS if pairs or d != "pair"]
    return _range_sums(partnership, [period], dimensions)[0]


def _value_at_rank(histogram: list[tuple[int, int]], rank: int) -> int:
    seen = 0
    for value, count in histogram:
        seen += count
        if rank < seen:
            return value
    return histogram[-1][0]


def histogram_percentile(histogram: list[tuple[int, int]], q: float) -> float | None:
    """The q-quantile of the values a histogram counts, interpolated between ranks as
    PostgreSQL's ``percentile_cont`` does."""
    histogram = sorted((v, c) for v, c in histogram if c > 0)
    size = sum(c for _v, c in histogram)
    if not size:
        return None
    position = (size - 1) * q
    low, high = math.floor(position), math.ceil(position)
    at_low, at_high = _value_at_rank(histogram, low), _value_at_rank(histogram, high)
    return at_low + (at_high - at_low) * (position - low)


def timeliness(
    partnership: Partnership, period: Period, sums: dict[str, dict[str, int]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """Per stage: stages finished in the period, the median and 90th percentile working days
    taken, and the share finished within the stage's timescale. A stage on the ladder by its
    number; one a review removed by its own name (``stages.stage_rows``)."""
    sums = tally_sums(partnership, period) if sums is None else sums
    on_time = sums.get("ontime", {})
    histograms: dict[str, list[tuple[int, int]]] = {}
    for dim in sums:
        if dim.startswith("taken") and dim != tallies.TAKEN_GONE:
            histograms[dim.removeprefix("taken")] = [(int(days), n) for days, n in sums[dim].items()]
    for key, n in sums.get(tallies.TAKEN_GONE, {}).items():
        stage, _sep, days = key.rpartition(":")
        histograms.setdefault(tallies.GONE + stage, []).append((int(days), n))
    rows: dict[str, dict[str, Any]] = {}
    for stage, histogram in histograms.items():
        completed = sum(n for _days, n in histogram)
        if not completed:
            continue
        rows[stage] = {
            "completed": completed,
            "median_working_days": histogram_percentile(histogram, 0.5),
            "p90_working_days": histogram_percentile(histogram, 0.9),
            "within_timescale_percent": round(100 * on_time.get(stage, 0) / completed),
        }
    return stage_rows(partnership, rows)


def _periods(period: Period) -> list[Period]:
    """This period and the HISTORY_PERIODS of the same length before it, newest first."""
    return [period] + [period.previous(n) for n in range(1, HISTORY_PERIODS + 1)]


def _bucketed(
    partnership: Partnership, period: Period, dimensions: list[str]
) -> list[dict[str, dict[str, int]]]:
    """For each of ``_periods(period)``, the sums of these dimensions, in one query."""
    return _range_sums(partnership, _periods(period), dimensions)


HISTORY_DIMENSIONS = ["total", "stage", "formal", "status", "raising", "receiving"]


def first_recorded_day(partnership: Partnership) -> dt.date | None:
    """The first day anything was counted for the partnership (raised in Accord or brought
    in from its old log): before it Accord knows nothing, so it reports nothing, never 0."""
    first = (
        # (n > 0: the days of an import since removed count for nothing.)
        DailyTally.objects.filter(partnership=partnership, dimension="total", n__gt=0)
        .order_by("day")
        .values_list("day", flat=True)
        .first()
    )
    return first


def _recorded(periods: list[Period], first: dt.date | None) -> list[bool]:
    """Whether each period holds any day of the partnership's records."""
    return [first is not None and p.end >= first for p in periods]


def raising_agencies(partnership: Partnership) -> list[tuple[int, str, str, int | None]]:
    """The agencies expected to take part in raising (pk, name, kind, staff): not the business
    unit, nor those it marks as taking no part."""
    return list(
        partnership_agencies(partnership)
        .exclude(kind="partnership_business_unit")
        .filter(partnershipagency__partnership=partnership, partnershipagency__takes_part_in_raising=True)
        .values_list("pk", "name", "kind", "partnershipagency__staff")
    )


def poisson_interval(observed: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Garwood) interval for a Poisson mean given one count: the means under which
    a count this low, or this high, would happen no more than (1 - level) / 2 of the time."""
    tail = (1 - level) / 2

    def solve(f, lo: float, hi: float) -> float:
        # Halving [lo, hi] 200 times; the answer, rounded to a tenth, is known as soon as both
        # ends round to the same tenth (every later midpoint lies between them, and rounding
        # keeps order), so it stops there: the same answer, in a tenth of the steps.
        for _ in range(200):
            if round(lo, 1) == round(hi, 1):
                return round(lo, 1)
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) else (lo, mid)
        return round((lo + hi) / 2, 1)

    top = 10.0 + 10 * observed
    low = 0.0 if observed == 0 else solve(lambda m: 1 - poisson_cdf(observed - 1, m) < tail, 0.0, top)
    high = solve(lambda m: poisson_cdf(observed, m) > tail, 0.0, top)
    return low, high


@dataclass
class KindSignal:
    """A whole kind of agency (all health providers, all schools) that raised or received
    markedly fewer escalations than expected."""

    kind: str  # its label
    agencies: int
    direction: str  # "raised" or "received"
    observed: int
    expected: float
    probability: float
    basis: str  # one of KIND_BASES
    interval: tuple[float, float]  # 95 % interval for what the kind's count stands for

    @property
    def basis_text(self) -> str:
        return str(KIND_BASES[self.basis])

    @property
    def chance_percent(self) -> float:
        return round(100 * self.probability, 1)


KIND_BASES = {
    "others_by_size": gettext_lazy("the partnership's other kinds of agency this period, per head of staff"),
    "others": gettext_lazy("the partnership's other kinds of agency this period, per agency"),
    "history": gettext_lazy("its own earlier periods"),
}


def _kind_expectations(
    members: list[int], sizes: dict[int, int | None], now: dict[int, int], past: list[dict[int, int]]
) -> list[tuple[float, str]]:
    """What a kind of agency was expected to count this period, on each basis it can be
    reckoned (``kind_silence``): from the other kinds (per head, or per agency), and from
    its own history."""
    expectations = []
    others = [pk for pk in sizes if pk not in members]
    if others:
        sized = [pk for pk in others if sizes.get(pk)]
        if sized and all(sizes.get(pk) for pk in members):
            rate = sum(now.get(pk, 0) for pk in sized) / sum(sizes[pk] for pk in sized)
            expectations.append((rate * sum(sizes[pk] for pk in members), "others_by_size"))
        else:
            rate = sum(now.get(pk, 0) for pk in others) / len(others)
            expectations.append((rate * len(members), "others"))
    history = [sum(c.get(pk, 0) for pk in members) for c in past]
    if any(history):
        expectations.append((sum(history) / len(history), "history"))
    return expectations


def kind_silence(
    agencies: list[tuple[int, str, str, int | None]],
    buckets: list[dict[str, dict[str, int]]],
    recorded: list[bool],
) -> list[KindSignal]:
    """Kinds of agency that raised (or received) markedly fewer escalations than expected,
    where comparing each agency with its own kind cannot see it (the whole kind is silent).

    Expected, for each kind, on two bases, each flagged on its own: the partnership's other
    kinds this period, per head where every agency of the kind and some of the others have
    their staff recorded (the others' escalations per head times the kind's staff), per
    agency otherwise; and the kind's own average over the earlier periods the records reach.
    Flagged where something was expected and a count this low would happen less than 5 % of
    the time by chance (a Poisson lower tail); the 95 % interval says what the kind's count
    may stand for. The expectation is itself an estimate, rough where few agencies make it."""
    from accord.partnership.models import AgencyKind

    labels = dict(AgencyKind.choices)
    by_kind: dict[str, list[int]] = {}
    for pk, _name, kind, _staff in agencies:
        by_kind.setdefault(kind, []).append(pk)
    sizes = {pk: staff for pk, _name, _kind, staff in agencies}
    signals = []
    for direction, dimension in (("raised", "raising"), ("received", "receiving")):
        counts = [{int(k): n for k, n in b.get(dimension, {}).items()} for b in buckets]
        now, past = counts[0], [c for c, known in zip(counts[1:], recorded[1:], strict=True) if known]
        for kind, members in sorted(by_kind.items()):
            observed = sum(now.get(pk, 0) for pk in members)
            expectations = _kind_expectations(members, sizes, now, past)
            for expected, basis in expectations:
                probability = poisson_cdf(observed, expected) if observed < expected else 1.0
                if expected > 0 and probability < LOW_CHALLENGE_P:
                    signals.append(
                        KindSignal(
                            str(labels.get(kind, kind)),
                            len(members),
                            direction,
                            observed,
                            round(expected, 1),
                            round(probability, 3),
                            basis,
                            poisson_interval(observed),
                        )
                    )
    return signals


def low_challenge(
    partnership: Partnership,
    period: Period,
    buckets: list[dict[str, dict[str, int]]] | None = None,
    first: dt.date | None = None,
    agencies: list[tuple[int, str, str, int | None]] | None = None,
) -> list[AgencySignal]:
    """Agencies that raised (or received) markedly fewer escalations than expected.

    Expected (``expectation``): the agency's own average over the previous four periods of
    the same length (those the partnership's records reach: a period before they begin is
    not a period of none); where it has no history, the agencies of the same kind this
    period (per head, where sizes are recorded), else the partnership's average per agency. Flagged only where something was expected, when a count this low would
    happen less than 5% of the time by chance (a Poisson lower tail): an agency that
    raised none where none was expected is not a shortfall. Agencies the business unit
    marks as taking no part in raising (and the business unit itself) are left out.
    """
    agencies = raising_agencies(partnership) if agencies is None else agencies
    if not agencies:
        return []
    if buckets is None:
        buckets = _bucketed(partnership, period, HISTORY_DIMENSIONS)
        first = first_recorded_day(partnership)
    recorded = _recorded(_periods(period), first)
    kinds = {pk: kind for pk, _name, kind, _staff in agencies}
    sizes = {pk: staff for pk, _name, _kind, staff in agencies}
    signals = []
    for direction, dimension in (("raised", "raising"), ("received", "receiving")):
        counts = [{int(k): n for k, n in b.get(dimension, {}).items()} for b in buckets]
        observed = {pk: n for pk, n in counts[0].items() if pk in kinds}
        past = [c for c, known in zip(counts[1:], recorded[1:], strict=True) if known]
        for pk, name, _kind, _staff in agencies:
            seen = observed.get(pk, 0)
            expected, basis = expectation(pk, observed, past, kinds, sizes)
            # At or above what was expected a count is not low (the tail is then over a half).
            probability = poisson_cdf(seen, expected) if seen < expected or seen == 0 else 1.0
            if expected > 0 and probability < LOW_CHALLENGE_P:
                signals.append(
                    AgencySignal(name, direction, seen, round(expected, 1), round(probability, 3), basis)
                )
    return signals


def trend(
    partnership: Partnership,
    period: Period,
    buckets: list[dict[str, dict[str, int]]] | None = None,
    first: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Raised, reached the formal stages and resolved, for this period and the four before it
    that the partnership's records reach, oldest first (an earlier period is absent: Accord
    does not know its figures, which were not 0)."""
    if buckets is None:
        buckets = _bucketed(partnership, period, HISTORY_DIMENSIONS)
        first = first_recorded_day(partnership)
    recorded = _recorded(_periods(period), first)
    recorded[0] = True  # the period asked for is always shown
    return [
        {
            "start": p.start,
            "end": p.end,
            "raised": b.get("total", {}).get("all", 0),
            # Became formal, formal as the ladder was when they did (a review changes nothing).
            "formal": b.get("formal", {}).get("reached", 0),
            "resolved": b.get("status", {}).get(Status.RESOLVED, 0),
        }
        for p, b, known in reversed(list(zip(_periods(period), buckets, recorded, strict=True)))
        if known
    ]


THEMES_LISTED = 25  # thematic escalations listed on the page; the rest are a click away


OTHERS = "All other agencies"


def _grouped_pairs(partnership: Partnership, period: Period, sums: dict, top: int) -> dict[str, int]:
    """The agency pairs with every agency outside the ``top`` most involved folded into
    "all other agencies", in one query whatever the data.

    A cell counts agencies' involvements: an escalation raised by A with B and C counts once
    in A→B and once in A→C. So a row adds up to the involvements its agency raised, which is
    more than the escalations it raised once an escalation names several agencies, and a row's
    "all other agencies" cell is its involvements less its cells among the shown agencies
    (never its escalations less them, which goes below 0). A column adds up to the agency's
    receiving count, which is already a count of involvements (an escalation names an agency
    once). Every folded cell is a sum of pairs, so none is ever negative."""
    raising = {int(k): n for k, n in sums.get("raising", {}).items()}
    receiving = {int(k): n for k, n in sums.get("receiving", {}).items()}
    involvement = {a: raising.get(a, 0) + receiving.get(a, 0) for a in raising.keys() | receiving.keys()}
    shown = sorted(involvement, key=lambda a: (-involvement[a], a))[:top]
    if not shown:
        return {}
    pairs = DailyTally.objects.filter(period_filter(period, ["pair"]), partnership=partnership)
    # The cells among the shown agencies (an agency with itself too, should a record name it
    # so), read by key from the index; then each shown agency's row of involvements and all
    # of them, summed in the database as one row.
    keys = [f"{a}:{b}" for a in shown for b in shown]
    among = {
        row["key"]: int(row["n"])
        for row in pairs.filter(key__in=keys).values("key").annotate(n=Sum("n")).order_by()
        if row["n"]
    }
    rows = {f"r{a}": Sum("n", filter=Q(key__startswith=f"{a}:")) for a in shown}
    found = {k: int(v or 0) for k, v in pairs.aggregate(**rows, all=Sum("n")).items()}
    pair = {(a, b): among.get(f"{a}:{b}", 0) for a in shown for b in shown}
    grouped: dict[str, int] = {f"{a}:{b}": n for (a, b), n in pair.items()}
    for a in shown:
        grouped[f"{a}:others"] = found[f"r{a}"] - sum(pair[(a, b)] for b in shown)
        grouped[f"others:{a}"] = receiving.get(a, 0) - sum(pair[(b, a)] for b in shown)
    grouped["others:others"] = (
        found["all"] - sum(found[f"r{a}"] for a in shown) - sum(grouped[f"others:{b}"] for b in shown)
    )
    return {k: n for k, n in grouped.items() if n}


def _themes_listed(partnership: Partnership, period: Period, viewer: Any) -> list[dict[str, Any]]:
    """The period's latest thematic escalations the viewer may see (none without a viewer),
    oldest first, by reference and summary with their agreed actions counted."""
    listed = []
    if viewer is not None:
        themes = raised_in(partnership, period).filter(kind="theme").visible_to(viewer)
        listed = list(themes.order_by("-raised_at", "-id")[:THEMES_LISTED])
    action_counts = {
        r["escalation_id"]: r
        for r in AgreedAction.objects.filter(escalation__in=[e.pk for e in listed])
        .values("escalation_id")
        .annotate(n=Count("id"), done=Count("id", filter=Q(completed_on__isnull=False)))
        .order_by()
    }
    return [
        {
            "reference": e.reference,
            "summary": e.summary,
            "status": e.status,
            "stage": e.highest_stage,
            "actions": action_counts.get(e.pk, {}).get("n", 0),
            "actions_done": action_counts.get(e.pk, {}).get("done", 0),
        }
        for e in reversed(listed)
    ]


@on_replica
def pdg_figures(
    partnership: Partnership,
    period: Period,
    *,
    viewer: Any = None,
    with_trend: bool = True,
    matrix_top: int | None = None,
) -> Figures:
    """The standing item's figures: sums of the daily tallies (a few queries whatever the
    data), with the thematic escalations themselves read from the records.

    With ``matrix_top``, the agency matrix holds the pairs among the agencies most involved
    and one "all other agencies" row and column (what the page shows); without it, every pair
    (what the downloads and the API give).

    The thematic escalations are listed by reference and summary only to a ``viewer`` who
    may see each of them (rule 7: a theme settled below the formal stages is not the formal
    body's to read); the count covers them all. Without a viewer none is listed."""
    sums = tally_sums(partnership, period, pairs=matrix_top is None)
    if matrix_top is not None:
        sums["pair"] = _grouped_pairs(partnership, period, sums, matrix_top)
    # This period and the four before it, for the low-challenge signals and the trend.
    history = _bucketed(partnership, period, HISTORY_DIMENSIONS)
    first = first_recorded_day(partnership)
    agencies = dict(partnership_agencies(partnership, active_only=False).values_list("pk", "name"))
    taking_part = raising_agencies(partnership)
    area_rows, theme_rows = _vocabulary(partnership)
    areas = {pk: label for pk, _code, label in area_rows}
    theme_labels = {pk: label for pk, _code, label in theme_rows}

    def named(counts: dict[str, int], names: dict[int, str]) -> dict[str, int]:
        return {
            names.get(int(k), "?"): v
            for k, v in sorted(counts.items(), key=lambda kv: names.get(int(kv[0]), "?"))
        }

    def agency(pk: str) -> str:
        return OTHERS if pk == "others" else agencies.get(int(pk), "?")

    matrix = {}
    for key, n in sums.get("pair", {}).items():
        raising, receiving = key.split(":")
        matrix[(agency(raising), agency(receiving))] = n
    iru_origins = {k: v for k, v in sums.get("origin", {}).items() if k in IRU_ORIGINS}
    figures = Figures(
        period=period,
        records_begin=first,
        resolved_days=sums.get(tallies.RESOLVED_DAYS, {}),
        total=sums.get("total", {}).get("all", 0),
        by_stage_reached=stage_rows(partnership, sums.get("stage", {})),
        by_kind=dict(sorted(sums.get("kind", {}).items())),
        # Whom they were about: a child, an adult at risk or a family (``subjects.py``).
        by_subject=dict(sorted(sums.get("subject", {}).items())),
        by_urgency=dict(sorted(sums.get("urgency", {}).items())),
        by_origin=dict(sorted(sums.get("origin", {}).items())),
        by_status=dict(sorted(sums.get("status", {}).items())),
        by_area=named(sums.get("area", {}), areas),
        by_theme=named(sums.get("theme", {}), theme_labels),
        by_raising_agency=named(sums.get("raising", {}), agencies),
        by_receiving_agency=named(sums.get("receiving", {}), agencies),
        matrix=matrix,
        agencies=sorted({a for pair in matrix for a in pair}),
        outcomes=dict(sorted(sums.get("outcome", {}).items())),
        follow_ups={k: sums.get("held", {}).get(k, 0) for k in Held.values if sums.get("held", {}).get(k)},
        timeliness=timeliness(partnership, period, sums),
        low_challenge=low_challenge(partnership, period, history, first, taking_part),
        iru={
            "total": sum(iru_origins.values()),
            "by_origin": dict(sorted(iru_origins.items())),
            "by_status": dict(sorted(sums.get("iru_status", {}).items())),
            "by_stage_reached": stage_rows(partnership, sums.get("iru_stage", {})),
            "outcomes": dict(sorted(sums.get("iru_outcome", {}).items())),
        },
        themes_response=_themes_listed(partnership, period, viewer),
        themes_total=sums.get("kind", {}).get("theme", 0),
    )
    figures.area_codes = {label: code for _pk, code, label in area_rows}
    figures.theme_codes = {label: code for _pk, code, label in theme_rows}
    figures.priority_labels = {p.code: str(p) for p in ladder_of(partnership).priorities}
    figures.agency_ids = {name: pk for pk, name in agencies.items()}
    figures.threshold = partnership.suppression_threshold
    figures.formal_from = ladder_of(partnership).formal_from or 0
    figures.formal = sums.get("formal", {}).get("reached", 0)
    after = sums.get("after", {})
    figures.after_not_held = {k: after[k] for k in AfterNotHeld.values if after.get(k)}
    figures.learned = learning_counts(partnership, period, sums)[0]
    figures.kind_silence = kind_silence(taking_part, history, _recorded(_periods(period), first))
    if with_trend:
        figures.trend = trend(partnership, period, history, first)
    return figures


# ---------------------------------------------------------------- small-number suppression


BREAKDOWNS = (
    "by_stage_reached",
    "by_kind",
    "by_subject",
    "by_urgency",
    "by_origin",
    "by_status",
    "by_area",
    "by_theme",
    "by_raising_agency",
    "by_receiving_agency",
    "matrix",
    "outcomes",
    "follow_ups",
    "after_not_held",
)


def every_figure_shown(figures: Figures, *, full: bool) -> dict[str, Any]:
    """The total and the breakdowns as a reader is shown them, with the page's other figures
    protected in the same system with them: ``formal`` (for the trend) and the Independent
    Reviewing Unit's breakdowns (``API_FIGURES``: what the API answers with). For a reader of
    hidden counts the page, its downloads and the API use the year's protected set instead
    (``protected_year``)."""
    if not full:
        return suppressed(figures)
    return {
        "total": figures.total,
        **{name: getattr(figures, name) for name in BREAKDOWNS},
        "formal": figures.formal,
        "iru_total": figures.iru["total"],
        "iru_by_origin": figures.iru["by_origin"],
        "iru_by_status": figures.iru["by_status"],
        "iru_by_stage_reached": figures.iru["by_stage_reached"],
        "iru_outcomes": figures.iru["outcomes"],
    }


API_FIGURES = ("total", *BREAKDOWNS, "iru_total", "iru_outcomes")  # what the API answers with


# The one-way tables of escalations raised in the period: each adds up to the total (a table
# that leaves some out, as areas may, is taken to add up to it all the same: assuming a
# reader knows more can only hide more).
ONE_WAY = (
    "by_stage_reached",
    "by_kind",
    "by_subject",
    "by_urgency",
    "by_origin",
    "by_status",
    "by_raising_agency",
)
# Tables of another unit or with several entries an escalation (areas and themes, of which an
# escalation may have several or none; outcomes, follow-ups):
# no sum joins them to the rest, so each is protected on its own, as if its total were shown.
# (The follow-ups are protected in the system with what followed where they did not hold,
# which adds up to their "did not hold".)
ON_THEIR_OWN = ("by_area", "by_theme", "outcomes")
FOLLOWING_UP = ("follow_ups", "after_not_held")
TOTAL = ("total",)
FORMAL = ("formal",)
IRU_TOTAL = ("iru_total",)


def report_system(
    figures: Figures, months: dict[str, int] | None = None, quarters: dict[str, list[str]] | None = None
) -> tuple[dict[tuple, int], list[dict[tuple, int]]]:
    """The report's figures as one system: every cell any of its tables publishes (a table's
    name and item), and the sums that join them. The raising agencies add up to the total, as
    every one-way table does; each agency's row of the matrix adds up to its raising count
    (exactly, when each of its escalations names one agency; else to its involvements, which
    a reader is assumed to know: more known hides more); each column to its receiving count;
    "reached the formal stages" is the sum of the formal stages' counts (until a review made
    another stage formal: then it is a count of its own); the Independent
    Reviewing Unit's figures add up to its total, which is the conference and review origins'
    sum. ``months`` (the annual report's) add up to the total too, and each of ``quarters``
    (a label and its months, for the chart where months are small) to its months."""
    cells: dict[tuple, int] = {TOTAL: figures.total, FORMAL: figures.formal, IRU_TOTAL: figures.iru["total"]}
    equations: list[dict[tuple, int]] = []

    def table(name: str, counts: dict, margin: tuple) -> None:
        equation = {margin: -1}
        for item, n in counts.items():
            cells[(name, item)] = n
            equation[(name, item)] = 1
        equations.append(equation)

    for name in ONE_WAY:
        table(name, getattr(figures, name), TOTAL)
    if months is not None:
        table("months", months, TOTAL)
        for quarter, its_months in (quarters or {}).items():
            cells[("quarters", quarter)] = sum(months[m] for m in its_months)
            equations.append({("quarters", quarter): -1, **{("months", m): 1 for m in its_months}})
    for name in ("by_origin", "by_status", "by_stage_reached"):
        table(f"iru_{name}", figures.iru[name], IRU_TOTAL)
    equations.extend(_iru_and_formal_sums(figures, cells))
    for name in FOLLOWING_UP:
        for item, n in getattr(figures, name).items():
            cells[(name, item)] = n
    if figures.after_not_held:
        equations.append(
            {
                ("follow_ups", Held.NOT_HELD.value): -1,
                **{("after_not_held", item): 1 for item in figures.after_not_held},
            }
        )
    for agency, n in figures.by_receiving_agency.items():
        cells[("by_receiving_agency", agency)] = n
    equations.extend(_matrix_sums(figures, cells))
    return cells, equations


def _iru_and_formal_sums(figures: Figures, cells: dict[tuple, int]) -> list[dict[tuple, int]]:
    """The Independent Reviewing Unit's total as the sum of the conference and review
    origins, each of its origins the same count as the report's, and "reached the formal
    stages" as the sum of the formal stages' counts (until a review made another stage
    formal: then it is a count of its own)."""
    equations = [{IRU_TOTAL: -1, **{("by_origin", o): 1 for o in IRU_ORIGINS if ("by_origin", o) in cells}}]
    for origin in figures.iru["by_origin"]:  # the same count in both tables
        if ("by_origin", origin) in cells:
            equations.append({("iru_by_origin", origin): 1, ("by_origin", origin): -1})
    if figures.formal_is_the_formal_stages:
        equations.append(
            {
                FORMAL: -1,
                **{
                    ("by_stage_reached", k): 1
                    for k in figures.by_stage_reached
                    if isinstance(k, int) and k >= (figures.formal_from or 10**6)
                },
            }
        )
    return equations


def _matrix_sums(figures: Figures, cells: dict[tuple, int]) -> list[dict[tuple, int]]:
    """The matrix's cells (added to ``cells``), each raising agency's row adding up to its
    raising count (the agencies not shown: the total less those shown) and each column to
    its receiving count."""
    rows: dict[str, dict[tuple, int]] = {}
    columns: dict[str, dict[tuple, int]] = {}
    for (raiser, receiver), n in figures.matrix.items():
        cells[("matrix", raiser, receiver)] = n
        rows.setdefault(raiser, {})[("matrix", raiser, receiver)] = 1
        columns.setdefault(receiver, {})[("matrix", raiser, receiver)] = 1
    named = {a for pair in figures.matrix for a in pair} - {OTHERS}
    equations = []
    for raiser, equation in rows.items():
        if raiser == OTHERS:  # the agencies not shown: the total less those shown
            equation[TOTAL] = -1
            for agency in named:
                if ("by_raising_agency", agency) in cells:
                    equation[("by_raising_agency", agency)] = 1
        elif ("by_raising_agency", raiser) in cells:
            equation[("by_raising_agency", raiser)] = -1
        equations.append(equation)
    for receiver, equation in columns.items():
        agencies = (
            [a for a in figures.by_receiving_agency if a not in named] if receiver == OTHERS else [receiver]
        )
        for agency in agencies:
            equation[("by_receiving_agency", agency)] = -1
        equations.append(equation)
    return equations


def suppressed(
    figures: Figures, *, months: dict[str, int] | None = None, quarters: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The figures as the executive, the conference chairs and the annual report show them
    (``disclosure``): small counts hidden as such, and every table of the report protected
    together (``report_system``, ``disclosure.protect``), so that no hidden count can be
    worked out from the others, whichever tables are set beside each other; no escalation
    references or summaries."""
    n = figures.threshold
    cells, equations = report_system(figures, months, quarters)
    shown = protect(cells, equations, n, last=[TOTAL])

    def part(name: str) -> dict:
        return {key[1]: value for key, value in shown.items() if len(key) == 2 and key[0] == name}

    result: dict[str, Any] = {
        "total": shown[TOTAL],
        **{name: part(name) for name in ONE_WAY},
        "by_receiving_agency": part("by_receiving_agency"),
        **{name: suppress_counts(getattr(figures, name), n) for name in ON_THEIR_OWN},
        **{name: part(name) for name in FOLLOWING_UP},
        "matrix": {(k[1], k[2]): v for k, v in shown.items() if k[0] == "matrix"},
        "formal": shown[FORMAL],
        "iru_total": shown[IRU_TOTAL],
        "iru_by_origin": part("iru_by_origin"),
        "iru_by_status": part("iru_by_status"),
        "iru_by_stage_reached": part("iru_by_stage_reached"),
        "iru_outcomes": suppress_counts(figures.iru["outcomes"], n),
    }
    if months is not None:
        result["months"] = part("months")
        result["quarters"] = part("quarters")
    return result


# ---------------------------------------------------------------- a year as its reader of hidden counts reads it


def quarter_name(period: Period, month: dt.date) -> str:
    """The quarter of the reporting year a month falls in, by its months: "Apr–Jun 2026"."""
    offset = (month.month - period.start.month) % 12 // 3
    first = dt.date(
        period.start.year + (period.start.month - 1 + 3 * offset) // 12,
        (period.start.month - 1 + 3 * offset) % 12 + 1,
        1,
    )
    last = dt.date(first.year + (first.month + 1) // 12, (first.month + 1) % 12 + 1, 1)
    return f"{first:%b}–{last:%b %Y}"


def months_raised(
    partnership, period, first: dt.date | None
) -> tuple[list[tuple[str, int]], dict[str, list[str]]]:
    """The escalations raised each month of the year reached so far, from the first the
    partnership's records reach (one not yet begun, or before the records begin, has no
    count, not a count of 0), and the year's quarters reached, for the chart."""
    months = []
    by_month = {
        (row["month"].year, row["month"].month): row["n"]
        for row in DailyTally.objects.filter(
            partnership=partnership, dimension="total", day__gte=period.start, day__lte=period.end
        )
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(n=Sum("n"))
        .order_by()
    }
    cursor = max(period.start, first.replace(day=1)) if first else period.end + dt.timedelta(days=1)
    last = min(period.end, clock.today())
    quarters: dict[str, list[str]] = {}
    while cursor <= last:
        label = cursor.strftime("%b %Y")
        months.append((label, by_month.get((cursor.year, cursor.month), 0)))
        quarters.setdefault(quarter_name(period, cursor), []).append(label)
        cursor = (cursor.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months, quarters


@dataclass
class ProtectedYear:
    """A reporting year's figures and what a reader who sees small counts hidden is shown of
    them (``suppressed``): one protected set for every form of every report such a reader
    reads of the year (the standing item's page, CSV, PDF and API, the Independent Reviewing
    Unit's section, the annual report), so that no form withholds another cell than the
    others and none can be set beside another to fill in what it hides."""

    figures: Figures
    shown: dict[str, Any]
    months: list[tuple[str, int]]
    quarters: dict[str, list[str]]


def protected_year(
    partnership: Partnership,
    period: Period,
    *,
    matrix_top: int,
    viewer: Any = None,
    with_trend: bool = True,
    every_figure: bool = False,
) -> ProtectedYear:
    """The year's figures (the agency matrix as the page and the annual report show it: the
    agencies most involved and all others) protected as one system with the months of the year
    and their quarters (``report_system``). ``every_figure``: the same tables unsuppressed, to
    check them by."""
    figures = pdg_figures(partnership, period, viewer=viewer, with_trend=with_trend, matrix_top=matrix_top)
    if every_figure:
        figures.threshold = 0  # nothing is below 0: every count shown
    months, quarters = months_raised(partnership, period, first_recorded_day(partnership))
    shown = suppressed(figures, months=dict(months), quarters=quarters)
    return ProtectedYear(figures, shown, months, quarters)


def low_challenge_shown(figures: Figures, shown: dict[str, Any]) -> list[dict[str, Any]]:
    """The agencies flagged as markedly quiet, as a reader who sees small counts hidden reads
    them: the flag and the agency's count as the raising or receiving table shows it (a cell
    of the year's protected system, so hidden or withheld there, hidden here alike). Not what
    was expected of it, on what basis, nor the chance of so few: each is worked out from
    counts the report hides (its own earlier periods, its peers' counts), and the chance with
    the expectation gives the count back."""
    return [
        {
            "agency": sig.agency,
            "direction": sig.direction,
            "observed": shown[
                "by_raising_agency" if sig.direction == "raised" else "by_receiving_agency"
            ].get(sig.agency, 0),
        }
        for sig in figures.low_challenge
    ]


# ---------------------------------------------------------------- the escalations before the PDG now


FORMAL_OPEN_SHOWN = 25  # the standing item lists this many; the list has them all


@dataclass
class FormalOpen:
    """An open formal escalation as the standing item lists it for the formal body."""

    pk: int
    reference: str
    stage: int
    due_date: dt.date | None
    overdue: bool
    offer: str  # the latest offer or action of the formal body, if any
    facilitator: str  # the restorative facilitator appointed now, if any


def formal_open(
    partnership: Partnership, viewer: Any, *, limit: int = FORMAL_OPEN_SHOWN
) -> tuple[list[FormalOpen], int]:
    """The formal escalations open now that the viewer may see (rule 7), soonest due first,
    with the formal body's latest offer and the facilitator appointed now; and how many
    there are. Three queries however many."""
    qs = Escalation.objects.visible_to(viewer).filter(
        partnership=partnership, formal_at__isnull=False, status__in=OPEN_STATUSES
    )
    total = qs.count()
    actions = PdgAction.objects.select_related("facilitator").order_by("id")
    rows = []
    for e in qs.order_by("due_date", "pk").prefetch_related(Prefetch("pdg_actions", queryset=actions))[
        :limit
    ]:
        done = list(e.pdg_actions.all())
        current = [a.facilitator for a in done if a.is_current_appointment]
        rows.append(
            FormalOpen(
                pk=e.pk,
                reference=e.reference,
                stage=e.stage,
                due_date=e.due_date,
                overdue=is_overdue(e),
                offer=str(done[-1].get_action_display()) if done else "",
                facilitator=(current[-1].get_full_name() or current[-1].username) if current else "",
            )
        )
    return rows, total


@on_replica
def overdue_by_stage(partnership: Partnership) -> dict[int, int]:
    """How many escalations are past their stage's due date now, by stage (a figure)."""
    return dict(
        Escalation.objects.filter(overdue_q(), partnership=partnership)
        .values_list("stage")
        .annotate(n=Count("id"))
        .order_by("stage")
        .values_list("stage", "n")
    )


# ---------------------------------------------------------------- learning recorded at resolution


LEARNING_LISTED = 25  # the standing item lists this many; the count covers them all


@dataclass
class LearningRecorded:
    """What one resolution in the period recorded as learning, for the formal body's meeting."""

    pk: int
    reference: str
    stage: int
    outcome: str
    resolved_on: dt.date
    learning: str


def _learning_in(partnership: Partnership, period: Period) -> QuerySet[Resolution]:
    start, end = day_bounds(period)
    return Resolution.objects.filter(
        escalation__partnership=partnership, resolved_at__gte=start, resolved_at__lt=end
    ).exclude(learning="")


def _vocabulary(partnership: Partnership) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """The partnership's areas of disagreement and practice themes (id, code, label, in
    their order), read once a request: several parts of a report name them."""
    return remembered(
        ("report vocabulary", partnership.pk),
        lambda: (
            list(partnership.areas_of_disagreement.values_list("pk", "code", "label")),
            list(partnership.practice_themes.values_list("pk", "code", "label")),
        ),
    )


LEARNING_DIMENSIONS = ["learning", "learning_theme"]


@on_replica
def learning_counts(
    partnership: Partnership, period: Period, sums: dict[str, dict[str, int]] | None = None
) -> tuple[int, dict[str, int]]:
    """How many resolutions in the period recorded learning, and how many of them had each
    practice theme (an escalation may have several, so the themes do not add up to the
    count): from the tallies (``sums``, where the caller has the period's already), one query
    whatever the data."""
    if sums is None:
        sums = _range_sums(partnership, [period], LEARNING_DIMENSIONS)[0]
    labels = {pk: label for pk, _code, label in _vocabulary(partnership)[1]}
    counts = {labels.get(int(pk), "?"): n for pk, n in sums.get("learning_theme", {}).items()}
    return sums.get("learning", {}).get("all", 0), dict(sorted(counts.items()))


def learning_listed(
    partnership: Partnership, period: Period, viewer: Any, *, limit: int = LEARNING_LISTED
) -> list[LearningRecorded]:
    """The learning itself, most recent first, from the resolutions of escalations the viewer
    may see (rule 7: the formal body reads the learning of what reached it; the rest is
    counted, not shown). One query."""
    visible = Escalation.objects.visible_to(viewer).filter(partnership=partnership).values("pk")
    rows = (
        _learning_in(partnership, period)
        .filter(escalation__in=visible)
        .select_related("escalation")
        .order_by("-resolved_at", "-id")[:limit]
    )
    return [
        LearningRecorded(
            pk=r.escalation_id,
            reference=r.escalation.reference,
            stage=r.stage,
            outcome=r.get_outcome_display(),
            resolved_on=timezone.localdate(r.resolved_at),
            learning=r.learning,
        )
        for r in rows
    ]


# ---------------------------------------------------------------- learning for the partnership, in words


NO_THEME = gettext_lazy("No practice theme")


@dataclass
class LearningNote:
    """One note of learning as the formal body reads it: never a child's details (refused as
    written); the reference only where the reader may see the escalation (rule 7)."""

    pk: int
    text: str
    area: str
    stage: int
    recorded_with: str
    written_on: dt.date
    published: bool
    reference: str
    escalation_pk: int | None


@dataclass
class LearningGroup:
    theme: str
    areas: list[tuple[str, list[LearningNote]]]


def _grouped(notes: list[tuple[list[str], LearningNote]]) -> list[LearningGroup]:
    by_theme: dict[str, dict[str, list[LearningNote]]] = {}
    for themes, note in notes:
        for theme in themes or [str(NO_THEME)]:
            by_theme.setdefault(theme, {}).setdefault(note.area, []).append(note)
    return [
        LearningGroup(theme=theme, areas=sorted(areas.items()))
        for theme, areas in sorted(by_theme.items(), key=lambda kv: (kv[0] == str(NO_THEME), kv[0]))
    ]


def learning_by_theme(
    partnership: Partnership, period: Period, viewer: Any = None, *, published_only: bool = False
) -> list[LearningGroup]:
    """Learning for the partnership written in the period with an outcome at any stage, by
    practice theme (a note under each of its escalation's themes) and, within, by area of
    disagreement. ``published_only``: what the formal body's chair marked fit to publish (the
    annual report). Three queries however many notes."""
    start, end = day_bounds(period)
    qs = Learning.objects.filter(partnership=partnership, written_at__gte=start, written_at__lt=end)
    if published_only:
        qs = qs.filter(published_at__isnull=False)
    rows = list(qs.select_related("escalation__area_of_disagreement").order_by("written_at", "id"))
    ids = {r.escalation_id for r in rows}
    themes: dict[int, list[str]] = {}
    for escalation_id, label in Escalation.themes.through.objects.filter(escalation_id__in=ids).values_list(
        "escalation_id", "practicetheme__label"
    ):
        themes.setdefault(escalation_id, []).append(label)
    visible = (
        set(Escalation.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))
        if viewer is not None
        else set()
    )
    labels = dict(LearningFrom.choices)
    notes = []
    for r in rows:
        e = r.escalation
        sees = r.escalation_id in visible
        notes.append(
            (
                sorted(themes.get(r.escalation_id, [])),
                LearningNote(
                    pk=r.pk,
                    text=r.text,
                    area=e.area_of_disagreement.label if e.area_of_disagreement else str(_NOT_RECORDED),
                    stage=r.stage,
                    recorded_with=str(labels.get(r.recorded_with, r.recorded_with)),
                    written_on=timezone.localdate(r.written_at),
                    published=r.published_at is not None,
                    reference=e.reference if sees else "",
                    escalation_pk=e.pk if sees else None,
                ),
            )
        )
    return _grouped(notes)


_NOT_RECORDED = gettext_lazy("Area not recorded")
