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
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.partnership.defaults import install_defaults
from accord.partnership.models import Partnership, WorkedBy
from accord.partnership.protocol import (
    TIERS,
    Ladder,
    ProposedStage,
    document_of,
    forget_ladder,
    install_ladder,
    ladder_of,
    parse_document,
)
from accord.partnership.services.common import require_business_unit

from . import visibility
from .models import OPEN_STATUSES, Escalation
from .services import escalations_recompute_due_dates, ladder_validate, open_periods_under


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


def _moved_due_dates(partnership: Partnership, ladder: Ladder) -> list[MovedDueDate]:
    """The open stages whose due dates the ladder would move (worked out as the change
    itself will: ``open_periods_under``)."""
    moved = [
        MovedDueDate(u.period.escalation.reference, u.period.stage, u.period.due_date, u.due_date)
        for u in open_periods_under(partnership, ladder)
        if u.due_date != u.period.due_date
    ]
    return sorted(moved, key=lambda m: m.reference)


def moved_due_dates(partnership: Partnership, document: Any) -> list[MovedDueDate]:
    """The open escalations whose due dates a protocol document would move (the settings
    pages show them before a change is saved)."""
    return _moved_due_dates(partnership, parse_document(document).ladder())


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
        ids = list(
            Escalation.objects.filter(partnership=partnership, highest_stage__gte=min(changed_from))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        # A chunk at a time, each in its own transaction when the caller holds none: the
        # table's rows for a chunk are locked only while it is recounted.
        for start in range(0, len(ids), RECOUNT_CHUNK):
            visibility.for_escalations(ids[start : start + RECOUNT_CHUNK])


RECOUNT_CHUNK = 250


def protocol_apply(
    *, actor: Any, partnership: Partnership, document: Any, dry_run: bool = False, part: str = ""
) -> ProtocolChange:
    """Check a protocol document against the partnership and its open escalations and,
    unless ``dry_run``, apply it. Raises ``ValidationError`` naming what is wrong (and
    changes nothing) when it cannot be run; ``NotAllowed`` for anyone but the partnership's
    business unit (``actor=None``: the command line). ``part`` names what a settings page
    changed (a stage, the priorities, a budget), for the audit entry."""
    require_business_unit(actor, partnership)
    protocol = parse_document(document)
    with transaction.atomic():
        # (FOR NO KEY UPDATE: it serialises changes of the protocol without stopping anyone
        # from adding rows that refer to the partnership, an escalation or a notification.)
        locked = Partnership.objects.select_for_update(no_key=True).get(pk=partnership.pk)
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
        dropped = set(ladder_of(locked).priority_codes) - {p.code for p in protocol.priorities}
        holding = list(
            Escalation.objects.filter(partnership=locked, status__in=OPEN_STATUSES, urgency__in=dropped)
            .order_by("reference")
            .values_list("reference", flat=True)
        )
        if holding:
            raise ValidationError(
                _("Open escalations have a priority this would remove: %(references)s.")
                % {"references": ", ".join(holding)}
            )
        change = ProtocolChange(moved=_moved_due_dates(locked, protocol.ladder()))
        if dry_run:
            return change
        before = document_of(locked)
        was_first = _first_stages(ladder_of(locked).stages)
        install_ladder(locked, protocol)
        audit_record(
            actor=actor,
            verb=Verb.CONFIGURATION_CHANGED,
            target=locked,
            partnership_id=locked.pk,
            payload={
                "action": "protocol_changed" if part else "protocol_imported",
                **({"part": part} if part else {}),
                "before": before,
                "after": document_of(locked),
                "due_dates_moved": [m.reference for m in change.moved],
            },
        )
    # The ladder is in place; the open escalations follow it a batch at a time (each batch
    # locks only its own rows), and who may see them is recounted where it moved.
    follow_ladder_change(locked, was_first)
    change.applied = True
    forget_ladder(partnership)
    return change


def follow_ladder_change(partnership: Partnership, was_first: dict[str, int | None]) -> int:
    """After a change to the ladder, its priorities or its budgets: the open stages take the
    new timescales and who may see the escalations past a stage whose workers changed is
    recounted. Answers how many due dates moved."""
    moved = escalations_recompute_due_dates(partnership=partnership, refresh_timescales=True)
    recount_after_ladder_change(partnership, was_first)
    return moved


SLUG_PATTERN = r"[a-z0-9][a-z0-9-]{0,49}"


def partnership_create(
    *,
    actor,
    name: str,
    slug: str,
    document: Any,
    prefix: str = "",
    front_door_phone: str = "",
    preset_name: str = "",
    actor_label: str | None = None,
) -> Partnership:
    """A new partnership with its ladder (a preset's or a protocol document's), the default
    taxonomies and the bank-holiday calendar: for the deployment's administrators, from the
    page or ``manage.py create_partnership``. Raises ``ValidationError`` by field."""
    if actor is not None and not actor.is_superuser:
        raise NotAllowed(_("Only the deployment's administrators set up partnerships."))
    name, slug = " ".join((name or "").split()), (slug or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the partnership's name")
    elif Partnership.objects.filter(name=name).exists():
        errors["name"] = _("A partnership has that name already")
    if not re.fullmatch(SLUG_PATTERN, slug):
        errors["slug"] = _("Enter a short name of lower-case letters, digits and hyphens, up to 50")
    elif Partnership.objects.filter(slug=slug).exists():
        errors["slug"] = _("A partnership has that short name already")
    prefix = (prefix.strip() or re.sub(r"[^A-Z0-9]", "", slug.upper())[:3]).upper()
    if not re.fullmatch(r"[A-Z0-9]{2,10}", prefix):
        errors["prefix"] = _("Enter a reference prefix of 2 to 10 capital letters or digits")
    elif Partnership.objects.filter(reference_prefix=prefix).exists():
        errors["prefix"] = _("Another partnership's references begin %(prefix)s: choose another") % {
            "prefix": prefix
        }
    try:
        protocol = parse_document(document)
    except ValidationError as error:
        errors["protocol"] = " ".join(error.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        partnership = Partnership.objects.create(
            name=name, slug=slug, reference_prefix=prefix, front_door_phone=front_door_phone or "not yet set"
        )
        install_defaults(partnership)
        install_ladder(partnership, protocol)
        audit_record(
            actor=actor,
            verb=Verb.CONFIGURATION_CHANGED,
            target=partnership,
            partnership_id=partnership.pk,
            payload={"action": "partnership_created", "preset": preset_name, "slug": slug},
            actor_label=actor_label,
        )
    return partnership
