"""The ladder's stages and their clocks: each stage period's working days and due date, and
the recount when the ladder or the calendar changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accord.core.errors import RuleViolation
from accord.partnership.calendar import calendar_for
from accord.partnership.models import Partnership, Stage
from accord.partnership.protocol import (
    Ladder,
    ProposedStage,
    StageRule,
    forget_ladder,
    ladder_of,
    ladder_shape_errors,
)

from .. import tallies
from ..models import OPEN_STATUSES, Escalation, StagePeriod
from ._base import today


def ladder(partnership: Partnership) -> list[StageRule]:
    """The partnership's stages, lowest first (as this process keeps them: no query)."""
    return list(ladder_of(partnership).stages)


def ladder_validate(*, partnership: Partnership, stages: list[ProposedStage]) -> None:
    """Refuse (``ValidationError``) a ladder Accord cannot run (``ladder_shape_errors``),
    or a change that would strand open escalations: a stage keeps its number (escalations
    and their history refer to it; to reorder, rename), a stage open escalations stand at
    is not removed, and keeps whether it is formal, or they would become formal, or stop
    being so, with nobody acting."""
    errors = ladder_shape_errors(stages)
    numbered = sorted(s.number for s in stages) == list(range(1, len(stages) + 1))
    if numbered and any(s.was_number is not None and s.number != s.was_number for s in stages):
        raise ValidationError(_("A stage's number cannot change: change its name and timescales instead."))
    if errors:
        raise ValidationError(errors)
    numbers = {s.number for s in stages}
    stranded = list(
        Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES)
        .exclude(stage__in=numbers)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if stranded:
        raise ValidationError(
            _("Open escalations stand at a stage this would remove: %(references)s.")
            % {"references": ", ".join(stranded)}
        )
    switched = [s.number for s in stages if s.was_formal is not None and s.is_formal != s.was_formal]
    if switched:
        standing = list(
            Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, stage__in=switched)
            .order_by("stage", "reference")
            .values_list("stage", "reference")
        )
        if standing:
            raise ValidationError(
                _(
                    "Open escalations stand at stage %(stages)s: whether it is formal cannot change "
                    "until they have moved on or closed (%(references)s)."
                )
                % {
                    "stages": ", ".join(str(n) for n in sorted({n for n, _r in standing})),
                    "references": ", ".join(r for _n, r in standing),
                }
            )


def _stage(partnership: Partnership, number: int) -> Stage:
    try:
        return Stage.objects.get(partnership=partnership, number=number)
    except Stage.DoesNotExist:
        raise RuleViolation(
            _("Stage %(number)s is not on this partnership's ladder.") % {"number": number},
            code="stage",
        ) from None


def _top_stage(partnership: Partnership) -> int:
    top = Stage.objects.filter(partnership=partnership).order_by("-number").first()
    return top.number if top else 1


def period_due_date(period: StagePeriod, partnership: Partnership) -> dt.date | None:
    pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
    return calendar_for(partnership).add_working_days(period.started_on, period.working_days, pauses=pauses)


def period_allowance(
    ladder: Ladder, *, stage: int, priority: str, origin: str, earlier: Iterable[StagePeriod] = ()
) -> int:
    """The working days a period at ``stage`` gets: the stage's timescale for the priority,
    cut to what is left of any budget over the stage (a run of stages' total, or an
    origin's cap on the whole dispute) after the ``earlier`` periods of the escalation. The
    one place it is worked out: raising, escalating, reopening, a change of the ladder and
    its preview all ask it."""
    budgets = ladder.budgets_at(stage, origin)
    if not budgets:
        return ladder.working_days(stage, priority)
    ended = [p for p in earlier if p.ended_on is not None]
    used = {b: sum(p.working_days_taken or 0 for p in ended if b.covers(p.stage)) for b in budgets}
    return ladder.allowance(stage, priority, origin, used)


def _new_period_due(
    partnership: Partnership,
    stage: Stage | StageRule,
    priority: str,
    origin: str,
    escalation: Escalation | None = None,
) -> tuple[dt.date, int, dt.date | None]:
    """A stage period starting today: its start, its working days and its due date (a new
    period has no pauses, so ``period_due_date`` would give the same)."""
    started_on = today()
    ladder = ladder_of(partnership)
    earlier: list[StagePeriod] = []
    if escalation is not None and escalation.pk and ladder.budgets_at(stage.number, origin):
        earlier = list(escalation.stage_periods.filter(ended_on__isnull=False))
    working_days = period_allowance(
        ladder, stage=stage.number, priority=priority, origin=origin, earlier=earlier
    )
    return started_on, working_days, calendar_for(partnership).add_working_days(started_on, working_days)


def _open_period(
    escalation: Escalation, partnership: Partnership, stage: Stage | StageRule, skip_reason: str = ""
) -> StagePeriod:
    started_on, working_days, due_date = _new_period_due(
        partnership, stage, escalation.urgency, escalation.origin, escalation
    )
    return StagePeriod.objects.create(
        escalation=escalation,
        stage=stage.number,
        stage_key=stage.key,
        stage_name=stage.name,
        formal=stage.is_formal,
        started_on=started_on,
        working_days=working_days,
        due_date=due_date,
        skip_reason=skip_reason,
    )


def _end_period(period: StagePeriod, partnership: Partnership) -> None:
    """Close a stage period, recording how many working days it took and whether it was on time."""
    period.ended_on = today()
    pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
    period.working_days_taken = calendar_for(partnership).working_days_between(
        period.started_on, period.ended_on, pauses=pauses
    )
    period.on_time = period.working_days_taken <= period.working_days
    period.save(update_fields=["ended_on", "working_days_taken", "on_time"])
    tallies.stage_ended(period, partnership.pk)


def _current_period(escalation: Escalation) -> StagePeriod | None:
    return escalation.stage_periods.filter(ended_on__isnull=True).order_by("-id").first()


@dataclass(frozen=True)
class OpenPeriodUnder:
    """An open stage period and what it would have under a ladder."""

    period: StagePeriod
    working_days: int
    due_date: dt.date | None


def open_periods_under(
    partnership: Partnership,
    ladder: Ladder,
    *,
    refresh_timescales: bool = True,
    escalation_ids: Sequence[int] | None = None,
) -> list[OpenPeriodUnder]:
    """Every open stage period of the partnership (or of these of its escalations), with the
    working days and due date it would have under ``ladder`` (the current one, or one a
    change proposes). Without ``refresh_timescales`` a period keeps its working days and
    only its due date is worked out again (after a change of the bank holidays)."""
    periods_qs = StagePeriod.objects.filter(escalation__partnership=partnership, ended_on__isnull=True)
    if escalation_ids is not None:
        periods_qs = periods_qs.filter(escalation_id__in=list(escalation_ids))
    periods = list(
        periods_qs.select_related("escalation")
        .only(
            "id",
            "escalation_id",
            "stage",
            "started_on",
            "working_days",
            "due_date",
            "escalation__reference",
            "escalation__urgency",
            "escalation__origin",
        )
        .prefetch_related("pauses")
        .order_by("escalation_id")
    )
    earlier: dict[int, list[StagePeriod]] = {}
    if refresh_timescales and ladder.budgets:
        for p in StagePeriod.objects.filter(
            escalation_id__in=[p.escalation_id for p in periods], ended_on__isnull=False
        ).only("escalation_id", "stage", "ended_on", "working_days_taken"):
            earlier.setdefault(p.escalation_id, []).append(p)
    calendar = calendar_for(partnership)
    numbers = set(ladder.numbers)
    found = []
    for period in periods:
        days = period.working_days
        if refresh_timescales and period.stage in numbers:
            e = period.escalation
            days = period_allowance(
                ladder,
                stage=period.stage,
                priority=e.urgency,
                origin=e.origin,
                earlier=earlier.get(e.pk, ()),
            )
        pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
        found.append(
            OpenPeriodUnder(period, days, calendar.add_working_days(period.started_on, days, pauses=pauses))
        )
    return found


# Open escalations moved to a new ladder or calendar in one transaction: each batch locks
# its rows for a few milliseconds, so that nobody working one waits for the whole change.
RECOMPUTE_BATCH = 100


def escalations_recompute_due_dates(
    *, partnership: Partnership, refresh_timescales: bool = False, batch: int = RECOMPUTE_BATCH
) -> int:
    """Recompute every open stage's due date from its history (after a calendar or ladder change).

    With ``refresh_timescales`` the open stages also take the ladder's current timescales
    (for their priority, within any budget). The open escalations are taken a batch at a
    time, each batch in its own transaction (when the caller holds none) with its rows
    locked, so a change at national scale never stops others working for long.
    """
    changed = 0
    forget_ladder(partnership)  # read as it is now, not as it was when this object first asked
    ladder = ladder_of(partnership)
    last = 0
    while True:
        with transaction.atomic():
            ids = list(
                Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            # Lock the batch (in id order) so that nobody moves one of them on meanwhile.
            list(Escalation.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk"))
            changed += _write_due_dates(
                open_periods_under(
                    partnership, ladder, refresh_timescales=refresh_timescales, escalation_ids=ids
                )
            )
        last = ids[-1]
    return changed


def _write_due_dates(unders: list[OpenPeriodUnder]) -> int:
    periods = []
    by_due: dict[dt.date | None, list[int]] = {}
    for under in unders:
        period = under.period
        if (under.working_days, under.due_date) == (period.working_days, period.due_date):
            continue
        moved = under.due_date != period.due_date
        period.working_days, period.due_date = under.working_days, under.due_date
        periods.append(period)
        if moved:
            by_due.setdefault(under.due_date, []).append(period.escalation_id)
    StagePeriod.objects.bulk_update(periods, ["working_days", "due_date"], batch_size=500)
    for due, ids in by_due.items():
        Escalation.objects.filter(pk__in=ids).update(due_date=due, version=F("version") + 1)
    return sum(len(ids) for ids in by_due.values())
