"""The PDG standing item's figures, computed in the database (GROUP BY and filtered
aggregates), shared by the page, the downloads and the API.

Counts are of escalations raised in the period (DOMAIN.md rule 5: every escalation
at every stage, even one settled at stage 1), except outcomes and timeliness, which
count what was resolved, or what finished a stage, in the period.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import Ceil, Floor, RowNumber
from django.utils import timezone

from accord.escalations.models import (
    AgreedAction,
    Escalation,
    Origin,
    Resolution,
    StagePeriod,
    Status,
)
from accord.partnership.models import Partnership
from accord.partnership.selectors import partnership_agencies

SMALL = 5  # counts from 1 to SMALL - 1 are suppressed in the executive's view and the annual report
SUPPRESSED = "fewer than 5"
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


def _counts(qs: QuerySet, field_name: str) -> dict[Any, int]:
    return {
        row[field_name]: row["n"]
        for row in qs.values(field_name).annotate(n=Count("id", distinct=True)).order_by(field_name)
    }


def poisson_cdf(k: int, lam: float) -> float:
    """P(X <= k) for X ~ Poisson(lam)."""
    if lam <= 0:
        return 1.0
    term = math.exp(-lam)
    total = term
    for i in range(1, k + 1):
        term *= lam / i
        total += term
    return min(total, 1.0)


@dataclass
class AgencySignal:
    agency: str
    direction: str  # "raised" or "received"
    observed: int
    expected: float
    probability: float


@dataclass
class Figures:
    period: Period
    total: int
    by_stage_reached: dict[int, int]
    by_kind: dict[str, int]
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
    timeliness: dict[int, dict[str, Any]]
    low_challenge: list[AgencySignal]
    iru: dict[str, Any]
    themes_response: list[dict[str, Any]]
    trend: list[dict[str, Any]] = field(default_factory=list)
    # For drill-down links: labels and names back to the codes and ids the list filters on.
    area_codes: dict[str, str] = field(default_factory=dict)
    theme_codes: dict[str, str] = field(default_factory=dict)
    agency_ids: dict[str, int] = field(default_factory=dict)


def _percentiles_in_db(
    periods: QuerySet[StagePeriod], quantiles: tuple[float, ...]
) -> dict[int, dict[float, float]]:
    """Per stage, each quantile of working days taken, interpolated between ranks as
    PostgreSQL's ``percentile_cont`` does; computed in the database with window functions
    (portable to SQLite), returning at most two rows per stage and quantile."""
    ranked = periods.annotate(
        rank=Window(RowNumber(), partition_by=[F("stage")], order_by=F("working_days_taken").asc()),
        size=Window(Count("id"), partition_by=[F("stage")]),
    )
    wanted = Q(pk__in=[])
    for q in quantiles:
        position = (F("size") - 1) * q
        wanted |= Q(rank=Floor(position) + 1) | Q(rank=Ceil(position) + 1)
    rows = ranked.filter(wanted).values_list("stage", "rank", "size", "working_days_taken")
    by_rank: dict[int, dict[int, int]] = {}
    sizes: dict[int, int] = {}
    for stage, rank, size, days in rows:
        by_rank.setdefault(stage, {})[rank - 1] = days
        sizes[stage] = size
    result: dict[int, dict[float, float]] = {}
    for stage, ranks in by_rank.items():
        result[stage] = {}
        for q in quantiles:
            position = (sizes[stage] - 1) * q
            low, high = math.floor(position), math.ceil(position)
            result[stage][q] = ranks[low] + (ranks[high] - ranks[low]) * (position - low)
    return result


def timeliness(partnership: Partnership, period: Period) -> dict[int, dict[str, Any]]:
    """Per stage: stages finished in the period, the median and 90th percentile working days
    taken, and the share finished within the stage's timescale."""
    periods = StagePeriod.objects.filter(
        escalation__partnership=partnership,
        ended_on__gte=period.start,
        ended_on__lte=period.end,
        working_days_taken__isnull=False,
    )
    summary = {
        row["stage"]: row
        for row in periods.values("stage")
        .annotate(n=Count("id"), on_time_n=Count("id", filter=Q(on_time=True)))
        .order_by("stage")
    }
    percentiles = _percentiles_in_db(periods, (0.5, 0.9))
    result: dict[int, dict[str, Any]] = {}
    for stage, row in summary.items():
        result[stage] = {
            "completed": row["n"],
            "median_working_days": percentiles.get(stage, {}).get(0.5),
            "p90_working_days": percentiles.get(stage, {}).get(0.9),
            "within_timescale_percent": round(100 * row["on_time_n"] / row["n"]) if row["n"] else None,
        }
    return result


def _bucket(periods: list[Period]) -> Case:
    """Which of these contiguous periods (newest first) a raised_at falls in: 0, 1, ..."""
    return Case(
        *(When(raised_at__gte=day_bounds(p)[0], then=Value(i)) for i, p in enumerate(periods)),
        default=Value(-1),
        output_field=IntegerField(),
    )


def _span(partnership: Partnership, periods: list[Period]) -> QuerySet[Escalation]:
    """Escalations raised from the start of the oldest period to the end of the newest."""
    return raised_in(partnership, Period(periods[-1].start, periods[0].end)).annotate(bucket=_bucket(periods))


def low_challenge(partnership: Partnership, period: Period) -> list[AgencySignal]:
    """Agencies that raised (or received) markedly fewer escalations than expected.

    Expected: the agency's own average over the previous four periods of the same
    length; where it has no history, the partnership's average per agency in this
    period. Flagged when a count this low would happen less than 5% of the time by
    chance (a Poisson lower tail), and always when the count is zero.
    """
    agencies = list(
        partnership_agencies(partnership).exclude(kind="partnership_business_unit").values_list("pk", "name")
    )
    if not agencies:
        return []
    periods = [period] + [period.previous(n) for n in range(1, HISTORY_PERIODS + 1)]
    span = _span(partnership, periods)
    signals = []
    for direction, field_name in (("raised", "raising_agency_id"), ("received", "with_agency_id")):
        # One query: counts per period and agency.
        counts: list[dict[int, int]] = [{} for _ in periods]
        for row in span.values("bucket", field_name).annotate(n=Count("id")).order_by():
            counts[row["bucket"]][row[field_name]] = row["n"]
        observed, past = counts[0], counts[1:]
        any_history = any(sum(p.values()) for p in past)
        partnership_rate = sum(observed.values()) / len(agencies)
        for pk, name in agencies:
            seen = observed.get(pk, 0)
            expected = sum(p.get(pk, 0) for p in past) / HISTORY_PERIODS if any_history else partnership_rate
            probability = poisson_cdf(seen, expected)
            if seen == 0 or (expected > 0 and probability < LOW_CHALLENGE_P):
                signals.append(AgencySignal(name, direction, seen, round(expected, 1), round(probability, 3)))
    return signals


def trend(partnership: Partnership, period: Period) -> list[dict[str, Any]]:
    """Raised, reached the PDG and resolved, for this period and the four before it, oldest
    first, in one query."""
    periods = [period] + [period.previous(n) for n in range(1, HISTORY_PERIODS + 1)]
    rows = {
        row["bucket"]: row
        for row in _span(partnership, periods)
        .values("bucket")
        .annotate(
            raised=Count("id"),
            formal=Count("id", filter=Q(highest_stage__gte=4)),
            resolved=Count("id", filter=Q(status=Status.RESOLVED)),
        )
        .order_by()
    }
    return [
        {
            "start": p.start,
            "end": p.end,
            "raised": rows.get(i, {}).get("raised", 0),
            "formal": rows.get(i, {}).get("formal", 0),
            "resolved": rows.get(i, {}).get("resolved", 0),
        }
        for i, p in reversed(list(enumerate(periods)))
    ]


def pdg_figures(partnership: Partnership, period: Period, *, with_trend: bool = True) -> Figures:
    qs = raised_in(partnership, period)
    agencies = dict(partnership_agencies(partnership, active_only=False).values_list("pk", "name"))
    matrix_rows = qs.values("raising_agency_id", "with_agency_id").annotate(n=Count("id")).order_by()
    matrix = {
        (agencies.get(r["raising_agency_id"], "?"), agencies.get(r["with_agency_id"], "?")): r["n"]
        for r in matrix_rows
    }
    start, end = day_bounds(period)
    resolved = Resolution.objects.filter(
        escalation__partnership=partnership, resolved_at__gte=start, resolved_at__lt=end
    )
    iru_qs = qs.filter(origin__in=[Origin.CONFERENCE, Origin.CARE_REVIEW])
    themes = qs.filter(kind="theme")
    actions = AgreedAction.objects.filter(escalation__in=themes)
    action_counts = {
        r["escalation_id"]: r
        for r in actions.values("escalation_id")
        .annotate(n=Count("id"), done=Count("id", filter=Q(completed_on__isnull=False)))
        .order_by()
    }
    figures = Figures(
        period=period,
        total=qs.count(),
        by_stage_reached=_counts(qs, "highest_stage"),
        by_kind=_counts(qs, "kind"),
        by_urgency=_counts(qs, "urgency"),
        by_origin=_counts(qs, "origin"),
        by_status=_counts(qs, "status"),
        by_area={
            r["area_of_disagreement__label"]: r["n"]
            for r in qs.values("area_of_disagreement__label")
            .annotate(n=Count("id"))
            .order_by("area_of_disagreement__label")
        },
        by_theme={
            r["themes__label"]: r["n"]
            for r in qs.exclude(themes=None)
            .values("themes__label")
            .annotate(n=Count("id"))
            .order_by("themes__label")
        },
        by_raising_agency={agencies.get(k, "?"): v for k, v in _counts(qs, "raising_agency_id").items()},
        by_receiving_agency={agencies.get(k, "?"): v for k, v in _counts(qs, "with_agency_id").items()},
        matrix=matrix,
        agencies=sorted({a for pair in matrix for a in pair}),
        outcomes=_counts(resolved, "outcome"),
        timeliness=timeliness(partnership, period),
        low_challenge=low_challenge(partnership, period),
        iru={
            "total": iru_qs.count(),
            "by_origin": _counts(iru_qs, "origin"),
            "by_status": _counts(iru_qs, "status"),
            "outcomes": _counts(Resolution.objects.filter(escalation__in=iru_qs), "outcome"),
        },
        themes_response=[
            {
                "reference": e.reference,
                "summary": e.summary,
                "status": e.status,
                "stage": e.highest_stage,
                "actions": action_counts.get(e.pk, {}).get("n", 0),
                "actions_done": action_counts.get(e.pk, {}).get("done", 0),
            }
            for e in themes.order_by("raised_at")
        ],
    )
    figures.area_codes = dict(partnership.areas_of_disagreement.values_list("label", "code"))
    figures.theme_codes = dict(partnership.practice_themes.values_list("label", "code"))
    figures.agency_ids = {name: pk for pk, name in agencies.items()}
    if with_trend:
        figures.trend = trend(partnership, period)
    return figures


# ---------------------------------------------------------------- small-number suppression


def suppress_counts(counts: dict[Any, int]) -> dict[Any, int | str]:
    """Counts of 1 to 4 become "fewer than 5". If that leaves exactly one cell hidden, the next
    smallest is hidden too, so a shown total cannot be used to work a hidden cell out."""
    shown: dict[Any, int | str] = {k: (SUPPRESSED if 0 < v < SMALL else v) for k, v in counts.items()}
    hidden = [k for k, v in shown.items() if v == SUPPRESSED]
    if len(hidden) == 1:
        candidates = sorted((v, str(k), k) for k, v in counts.items() if k not in hidden and v > 0)
        if candidates:
            shown[candidates[0][2]] = SUPPRESSED
    return shown


def suppress_total(total: int) -> int | str:
    return SUPPRESSED if 0 < total < SMALL else total


def suppressed(figures: Figures) -> dict[str, Any]:
    """The figures as the executive and the annual report show them: small counts hidden, no
    escalation references or summaries."""
    return {
        "total": suppress_total(figures.total),
        "by_stage_reached": suppress_counts(figures.by_stage_reached),
        "by_kind": suppress_counts(figures.by_kind),
        "by_urgency": suppress_counts(figures.by_urgency),
        "by_origin": suppress_counts(figures.by_origin),
        "by_status": suppress_counts(figures.by_status),
        "by_area": suppress_counts(figures.by_area),
        "by_theme": suppress_counts(figures.by_theme),
        "by_raising_agency": suppress_counts(figures.by_raising_agency),
        "by_receiving_agency": suppress_counts(figures.by_receiving_agency),
        "matrix": suppress_counts(figures.matrix),
        "outcomes": suppress_counts(figures.outcomes),
        "iru_total": suppress_total(figures.iru["total"]),
        "iru_outcomes": suppress_counts(figures.iru["outcomes"]),
    }
