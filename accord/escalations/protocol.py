"""Changing a partnership's protocol (its ladder and formal body) while escalations run on it.

One service for every caller: ``manage.py protocol import`` and ``create_partnership``
(and, later, the settings pages). A document is read and checked for shape by
``accord.partnership.protocol.parse_document``; here it is also checked against the
partnership's open escalations (``ladder_validate``: no stage they stand at is removed or
changes formality), the open stages whose due dates it would move are listed, and, unless
it is a dry run, it is applied in one transaction with its audit entry, the due dates
moved and the table of who may see which escalation recounted where who works a stage
changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.partnership.calendar import calendar_for
from accord.partnership.models import Partnership, WorkedBy
from accord.partnership.protocol import (
    TIERS,
    ProposedStage,
    document_of,
    forget_ladder,
    install_ladder,
    ladder_of,
    parse_document,
)

from . import visibility
from .models import OPEN_STATUSES, Escalation, StagePeriod, Urgency
from .services import escalations_recompute_due_dates, ladder_validate


@dataclass(frozen=True)
class MovedDueDate:
    reference: str
    stage: int
    was: dt.date | None
    becomes: dt.date | None


@dataclass
class ProtocolChange:
    moved: list[MovedDueDate] = field(default_factory=list)
    applied: bool = False


def _moved_due_dates(partnership: Partnership, new_days: dict[int, tuple[int, int]]) -> list[MovedDueDate]:
    """The open stages whose due dates the new timescales would move."""
    calendar = calendar_for(partnership)
    moved = []
    periods = (
        StagePeriod.objects.filter(
            escalation__partnership=partnership,
            escalation__status__in=OPEN_STATUSES,
            ended_on__isnull=True,
        )
        .select_related("escalation")
        .prefetch_related("pauses")
        .order_by("escalation__reference")
    )
    for period in periods:
        if period.stage not in new_days:
            continue
        routine, urgent = new_days[period.stage]
        days = urgent if period.escalation.urgency == Urgency.URGENT else routine
        if days == period.working_days:
            continue
        pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
        due = calendar.add_working_days(period.started_on, days, pauses=pauses)
        if due != period.due_date:
            moved.append(MovedDueDate(period.escalation.reference, period.stage, period.due_date, due))
    return moved


def _first_stages(ladder_stages) -> dict[str, int | None]:
    """Where each tier first sees an escalation, for a ladder's stages."""
    found: dict[str, int | None] = {}
    for tier in TIERS:
        if tier == WorkedBy.FORMAL_BODY:
            numbers = [s.number for s in ladder_stages if s.formal]
        else:
            numbers = [s.number for s in ladder_stages if s.worked_by == tier]
        found[tier] = min(numbers) if numbers else None
    return found


def ladder_firsts(partnership: Partnership) -> dict[str, int | None]:
    """Where each tier first sees an escalation on the partnership's ladder as it is now."""
    forget_ladder(partnership)
    return _first_stages(ladder_of(partnership).stages)


def recount_after_ladder_change(partnership: Partnership, was_first: dict[str, int | None]) -> None:
    """Who sees an escalation depends on where each tier first works: after a change to the
    ladder, recount the partnership's escalations that have reached the lowest stage at
    which that moved (none if nothing moved)."""
    now_first = ladder_firsts(partnership)
    changed_from = [
        min(n for n in (was_first[t], now_first[t]) if n is not None)
        for t in TIERS
        if was_first[t] != now_first[t]
    ]
    if changed_from:
        ids = Escalation.objects.filter(partnership=partnership, highest_stage__gte=min(changed_from))
        visibility.for_escalations(list(ids.values_list("pk", flat=True)))


def protocol_apply(
    *, actor: Any, partnership: Partnership, document: Any, dry_run: bool = False
) -> ProtocolChange:
    """Check a protocol document against the partnership and its open escalations and,
    unless ``dry_run``, apply it. Raises ``ValidationError`` naming what is wrong (and
    changes nothing) when it cannot be run."""
    protocol = parse_document(document)
    with transaction.atomic():
        locked = Partnership.objects.select_for_update().get(pk=partnership.pk)
        current = {s.number: s for s in ladder_of(locked).stages}
        ladder_validate(
            partnership=locked,
            stages=[
                ProposedStage(
                    number=s.number,
                    is_formal=s.formal,
                    worked_by=s.worked_by,
                    was_number=s.number if s.number in current else None,
                    was_formal=current[s.number].formal if s.number in current else None,
                )
                for s in protocol.stages
            ],
        )
        change = ProtocolChange(
            moved=_moved_due_dates(
                locked,
                {s.number: (s.routine_working_days, s.urgent_working_days) for s in protocol.stages},
            )
        )
        if dry_run:
            return change
        before = document_of(locked)
        was_first = _first_stages(ladder_of(locked).stages)
        install_ladder(locked, protocol)
        escalations_recompute_due_dates(partnership=locked, refresh_timescales=True)
        recount_after_ladder_change(locked, was_first)
        audit_record(
            actor=actor,
            verb=Verb.CONFIGURATION_CHANGED,
            target=locked,
            partnership_id=locked.pk,
            payload={
                "action": "protocol_imported",
                "before": before,
                "after": document_of(locked),
                "due_dates_moved": [m.reference for m in change.moved],
            },
        )
        change.applied = True
        forget_ladder(partnership)
        return change
