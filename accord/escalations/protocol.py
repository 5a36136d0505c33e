"""Changing a partnership's protocol (its ladder and formal body) while escalations run on it.

One service for every caller: ``manage.py protocol import``, ``create_partnership``, the
settings pages and the upload page. A document is read and checked for shape by
``accord.partnership.protocol.parse_document``; here it is matched to the ladder by stage
key and checked against the partnership's escalations (a review keeps the stages'
identity and order; a removed stage's open escalations stand where the business unit
chooses), what it does to every open escalation is worked out by making it and undoing it,
and, unless it is a dry run, it is applied in one transaction with its version and audit
entry, the due dates moved and the table of who may see which escalation recounted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, PositiveSmallIntegerField, Value, When
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import NotAllowed
from accord.partnership.defaults import install_defaults
from accord.partnership.models import (
    Agency,
    AgencyKind,
    Partnership,
    PartnershipAgency,
    ProtocolVersion,
    Role,
    RoleAssignment,
    Stage,
    User,
    WorkedBy,
)
from accord.partnership.protocol import (
    TIERS,
    Ladder,
    document_of,
    forget_ladder,
    install_ladder,
    ladder_of,
    parse_document,
)
from accord.partnership.roles import TIER_ROLES
from accord.partnership.services.common import require_business_unit
from accord.partnership.services.people import PersonDetails, check_email, person_add
from accord.partnership.services.versions import protocol_version_now, protocol_version_record

from . import tallies, visibility
from .models import (
    OPEN_STATUSES,
    OTHER_PARTIES,
    Discussion,
    Escalation,
    Event,
    EventType,
    Pause,
    Resolution,
    StagePeriod,
    Status,
    Visibility,
)
from .notices import notify_protocol_review
from .services import escalations_recompute_due_dates
from .services._base import EVENT_LISTENERS
from .services.timescales import _end_period, _open_period


@dataclass(frozen=True)
class MovedDueDate:
    reference: str
    stage: int
    was: dt.date | None
    becomes: dt.date | None


@dataclass(frozen=True)
class Standing:
    """An open escalation across a review: where it stands (by stage) and its due date now
    and after, and who gains or loses sight of it or the right to act on it."""

    reference: str
    stage_now: str
    stage_after: str
    due_now: dt.date | None
    due_after: dt.date | None
    gains_sight: tuple[str, ...] = ()
    loses_sight: tuple[str, ...] = ()
    gains_action: tuple[str, ...] = ()
    loses_action: tuple[str, ...] = ()
    # The stage it stands at by identity (``Stage.key``), now and after; its number and name.
    key_now: str = ""
    key_after: str = ""
    number_now: int = 0
    number_after: int = 0
    name_now: str = ""
    name_after: str = ""

    @property
    def moves_stage(self) -> bool:
        """It will stand at another stage (one the review removes), not the same one renumbered."""
        return self.key_now != self.key_after

    @property
    def changes(self) -> bool:
        return (
            self.stage_now != self.stage_after
            or self.due_now != self.due_after
            or bool(self.gains_sight or self.loses_sight or self.gains_action or self.loses_action)
        )


@dataclass(frozen=True)
class RemovedStage:
    """A stage a review removes while open escalations stand at it: the business unit chooses
    where they will stand (``moves``)."""

    key: str
    number: int
    name: str
    references: tuple[str, ...]
    chosen: str = ""  # the stage's key chosen for them, on the pages


@dataclass
class ProtocolChange:
    moved: list[MovedDueDate] = field(default_factory=list)
    standing: list[Standing] = field(default_factory=list)
    removed: list[RemovedStage] = field(default_factory=list)
    applied: bool = False
    # The version of the protocol the change makes (None: it changes nothing), and what it
    # changes, in words (``ProtocolVersion.changes``).
    version: int | None = None
    changes: list[str] = field(default_factory=list)
    # Who each username in ``standing`` is, for the pages: "Name, Agency".
    names: dict[str, str] = field(default_factory=dict)

    @property
    def affected(self) -> list[Standing]:
        """The open escalations the change moves, re-dates, or whose sight or actors it changes."""
        return [s for s in self.standing if s.changes]


def moved_due_dates(partnership: Partnership, document: Any) -> list[MovedDueDate]:
    """The open escalations whose due dates a protocol document would move (the settings
    pages show them before a change is saved)."""
    return protocol_apply(actor=None, partnership=partnership, document=document, dry_run=True).moved


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


def recount_after_ladder_change(
    partnership: Partnership, was_first: dict[str, int | None], *, renumbered: bool = False
) -> None:
    """Who sees an escalation depends on where each tier first works: after a change to the
    ladder, recount the partnership's escalations that have reached the lowest stage at
    which that moved (none if nothing moved; all of them when the stages were renumbered)."""
    now_first = ladder_firsts(partnership)
    changed_from = [
        min(n for n in (was_first[t], now_first[t]) if n is not None)
        for t in TIERS
        if was_first[t] != now_first[t]
    ]
    if renumbered:
        changed_from.append(1)
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


class _Preview(Exception):
    def __init__(self, change: ProtocolChange) -> None:
        self.change = change


def protocol_apply(
    *,
    actor: Any,
    partnership: Partnership,
    document: Any,
    dry_run: bool = False,
    part: str = "",
    moves: dict[str, str] | None = None,
    expect_version: int | None = None,
) -> ProtocolChange:
    """Check a protocol document against the partnership and its open escalations and,
    unless ``dry_run``, apply it: the year's review, made while escalations are open.

    Stages are matched to the ladder's by key (``Stage.key``; a document without keys, by
    number), so an open escalation stays on the stage it stood on, whatever its new number,
    and what it passed through keeps its meaning. A stage removed while open escalations
    stand at it needs ``moves`` (its key → the key of the stage they will stand at). The
    change answers, for every open escalation, where it will stand, its due date now and
    after and who gains or loses sight of it or the right to act (worked out by making the
    change and undoing it). Raises ``ValidationError`` naming what is wrong (and changes
    nothing); ``NotAllowed`` for anyone but the partnership's business unit (``actor=None``:
    the command line). ``part`` names what a settings page changed, for the audit entry;
    ``expect_version``, the partnership's ``protocol_version`` when the page was opened (or the
    file checked): a change made since by someone else, or the same change sent twice, is
    refused under the lock rather than undone unseen."""
    require_business_unit(actor, partnership)
    protocol = parse_document(document)
    moves = dict(moves or {})
    try:
        with transaction.atomic():
            change = _change(actor, partnership, protocol, moves, part, preview=None, expect=expect_version)
            raise _Preview(change)
    except _Preview as preview:
        change = preview.change
    forget_ladder(partnership)
    if dry_run:
        return change
    with transaction.atomic():
        applied = _change(actor, partnership, protocol, moves, part, preview=change, expect=expect_version)
    # The ladder is in place; the open escalations follow it a batch at a time (each batch
    # locks only its own rows), and who may see them is recounted where it moved.
    follow_ladder_change(partnership, applied.was_first, renumbered=applied.renumbered)
    forget_ladder(partnership)
    change.applied = True
    return change


@dataclass
class _Applied:
    was_first: dict[str, int | None]
    renumbered: bool


def _change(
    actor,
    partnership: Partnership,
    protocol,
    moves: dict[str, str],
    part: str,
    *,
    preview: ProtocolChange | None,
    expect: int | None = None,
):
    """The change itself, in the caller's transaction. Without a ``preview`` it is followed
    all the way (due dates, sight) and answered as a ``ProtocolChange`` for the caller to
    undo; with the preview so made, it is applied: a new version of the protocol, which the
    open escalations run under from now (each one's timeline says so, and the people it
    changes things for are told, from what the preview found)."""
    previewing = preview is None
    # (FOR NO KEY UPDATE: it serialises changes of the protocol without stopping anyone
    # from adding rows that refer to the partnership, an escalation or a notification.)
    locked = Partnership.objects.select_for_update(no_key=True).get(pk=partnership.pk)
    if expect is not None and locked.protocol_version != expect:
        raise ValidationError(
            _(
                "Someone changed the protocol since you opened this page. Nothing has been saved: go "
                "back to the protocol, see it as it stands now and make your change again."
            )
        )
    forget_ladder(locked)
    current = ladder_of(locked)
    protocol = protocol.keyed_as(current)
    new_numbers = {s.key: s.number for s in protocol.stages}
    _refuse_unsound_review(locked, current, protocol, moves)
    removed = _removed_stages(locked, current, new_numbers, moves)
    _refuse_dropped_priorities(locked, current, protocol)
    numbers = _number_map(current, new_numbers, moves)
    was_version = protocol_version_now(locked)
    before = document_of(locked)
    open_before = _open_state(locked, current) if previewing else {}
    was_first = _first_stages(current.stages)
    install_ladder(locked, protocol)
    renumbered = any(old != new for old, new in numbers.items())
    gone = {s.number: s.key for s in current.stages if s.key not in new_numbers}
    if renumbered or gone:
        _renumber(locked, numbers, gone)
    _move_stranded(locked, current, moves)
    version = protocol_version_record(
        partnership=locked, actor=actor, before=before, after=document_of(locked)
    )
    if previewing:
        follow_ladder_change(locked, was_first, renumbered=renumbered)
        forget_ladder(locked)
        after = ladder_of(locked)
        open_after = _open_state(locked, after)
        standing = [_standing(ref, open_before[ref], open_after.get(ref)) for ref in sorted(open_before)]
        return ProtocolChange(
            moved=[
                MovedDueDate(s.reference, open_after[s.reference].number, s.due_now, s.due_after)
                for s in standing
                if s.due_now != s.due_after and s.reference in open_after
            ],
            standing=standing,
            removed=removed,
            version=version.number if version else None,
            changes=list(version.changes) if version else [],
            names=_names(standing),
        )
    if version is not None:
        _run_under(actor, locked, version, preview)
    audit_record(
        actor=actor,
        verb=Verb.PROTOCOL_CHANGED if part else Verb.PROTOCOL_LOADED,
        target=locked,
        partnership_id=locked.pk,
        payload={
            **({"part": part} if part else {}),
            "before": before,
            "after": document_of(locked),
            "version": (version or was_version).number,
        },
    )
    return _Applied(was_first=was_first, renumbered=renumbered)


def _names(standing: list[Standing]) -> dict[str, str]:
    """Each person the preview names, as the business unit knows them: name and agency."""
    wanted = {n for s in standing for n in (*s.gains_sight, *s.loses_sight, *s.gains_action, *s.loses_action)}
    return {
        u.username: ", ".join(
            part for part in (u.get_full_name() or u.username, getattr(u.agency, "name", "")) if part
        )
        for u in User.objects.filter(username__in=wanted).select_related("agency")
    }


def _run_under(actor, partnership: Partnership, version: ProtocolVersion, preview: ProtocolChange) -> None:
    """The open escalations run under the new version from now. Each one's timeline says so,
    with where it stands and its due date where the review changed them; each person the
    review changes something for about one is told once (``notices.notify_protocol_review``),
    and its guests hear of it where its stage or due date changed. The due dates and stages
    are the preview's: the change was made and undone in the same call, just before."""
    standing = {s.reference: s for s in preview.standing}
    mine = Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES)
    escalations = list(
        mine.select_related("raised_by", "with_practitioner").prefetch_related(OTHER_PARTIES).order_by("pk")
    )
    if not escalations:
        return
    mine.update(runs_under=version, version=F("version") + 1)
    who = actor or command_line_person(partnership)
    now = clock.now()
    events = Event.objects.bulk_create(
        Event(
            escalation=e,
            type=EventType.PROTOCOL_REVIEWED,
            at=now,
            actor=who,
            stage=e.stage,
            summary=_review_words(version.number, standing.get(e.reference)),
        )
        for e in escalations
    )
    notify_protocol_review(version=version, escalations=escalations, standing=standing, actor=actor)
    for event in events:
        s = standing.get(event.escalation.reference)
        if s is not None and (s.moves_stage or s.due_now != s.due_after):
            for listener in EVENT_LISTENERS:
                listener(event)


def _when(day: dt.date | None) -> str:
    return date_format(day, "j F Y") if day else _("none while it is paused")


def _review_words(number: int, s: Standing | None) -> str:
    """What the new version changed for one open escalation, for its timeline."""
    words = [_("Version %(version)s of the protocol applies from now.") % {"version": number}]
    if s is not None:
        if s.moves_stage:
            words.append(
                _(
                    "The review removed the stage it stood at, %(was)s: it now stands at stage %(n)s, %(name)s."
                )
                % {"was": s.name_now, "n": s.number_after, "name": s.name_after}
            )
        elif s.stage_now != s.stage_after:
            words.append(
                _("It stands at the same stage, %(name)s, now stage %(n)s (was stage %(was)s).")
                % {"name": s.name_after, "n": s.number_after, "was": s.number_now}
            )
        if s.due_now != s.due_after:
            words.append(
                _("Due: %(now)s (was %(was)s).") % {"now": _when(s.due_after), "was": _when(s.due_now)}
            )
    return " ".join(words)


def command_line_person(partnership: Partnership) -> User:
    """Who an escalation's timeline names for a change made from the command line (``manage.py
    protocol import``): no one, an account that cannot sign in (inactive, no password, no
    role), so it sees nothing."""
    person, created = User.objects.get_or_create(
        username=f"command-line.{partnership.slug}",
        defaults={
            "first_name": _("The business unit"),
            "last_name": _("(command line)"),
            "is_active": False,
        },
    )
    if created:
        person.set_unusable_password()
        person.save(update_fields=["password"])
    return person


def _refuse_unsound_review(partnership, current: Ladder, protocol, moves: dict[str, str]) -> None:
    """A review keeps the stages' identity, so it is refused where it would lose it: a document
    that keeps none of the ladder's stages while the partnership has escalations (another
    partnership's export, say: every escalation's history would fall to its first stage); one
    that puts the stages it keeps in another order (what an escalation passed through, and the
    highest stage it reached, would no longer read upwards); a move named for a stage it does
    not remove; and a removed informal stage's open escalations sent to a formal stage (they
    become formal only when escalated, with rule 3's evidence)."""
    new = {s.key: s for s in protocol.stages}
    kept = [s for s in current.stages if s.key in new]
    if not kept and Escalation.objects.filter(partnership=partnership).exists():
        raise ValidationError(
            _(
                "This document keeps none of the ladder's stages: its stages' keys (%(keys)s) match "
                "none of this partnership's (%(ours)s). Start from this partnership's own download of "
                "the protocol, which names its stages' keys."
            )
            % {
                "keys": ", ".join(s.key for s in protocol.stages),
                "ours": ", ".join(s.key for s in current.stages),
            }
        )
    order = [new[s.key].number for s in kept]
    if order != sorted(order):
        raise ValidationError(
            _(
                "A review keeps the ladder's stages in their order (it may add and remove stages): "
                "this document puts %(stages)s in another order."
            )
            % {"stages": ", ".join(s.name for s in kept)}
        )
    removed = {s.key: s for s in current.stages if s.key not in new}
    strays = sorted(key for key in moves if key not in removed)
    if strays:
        raise ValidationError(
            _("Open escalations are moved only from a stage the review removes, not from %(keys)s.")
            % {"keys": ", ".join(strays)}
        )
    for key, target in moves.items():
        chosen = new.get(target)
        if chosen is not None and chosen.formal and not removed[key].formal:
            raise ValidationError(
                _(
                    "The open escalations at %(name)s are not formal: choose a stage for them that is "
                    "not formal (they become formal when they are next escalated, with the evidence "
                    "of efforts to resolve it)."
                )
                % {"name": removed[key].name}
            )


def open_at_stage(partnership: Partnership, number: int) -> tuple[str, ...]:
    """The references of the open escalations standing at a stage (the settings pages ask
    where they will stand before the stage is removed)."""
    return tuple(
        Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, stage=number)
        .order_by("reference")
        .values_list("reference", flat=True)
    )


def _removed_stages(partnership, current: Ladder, new_numbers: dict[str, int], moves: dict[str, str]):
    """The stages the change removes that open escalations stand at; refused unless each has
    a stage of the new ladder chosen for them."""
    found = []
    problems = []
    for stage in current.stages:
        if stage.key in new_numbers:
            continue
        references = open_at_stage(partnership, stage.number)
        if not references:
            continue
        found.append(RemovedStage(stage.key, stage.number, stage.name, references))
        target = moves.get(stage.key)
        if target not in new_numbers:
            problems.append(
                _(
                    "Open escalations stand at stage %(number)s, %(name)s, which this removes: choose "
                    "the stage they will stand at (%(references)s)."
                )
                % {"number": stage.number, "name": stage.name, "references": ", ".join(references)}
            )
    if problems:
        error = ValidationError(problems)
        error.removed = found  # the pages offer a choice for each
        raise error
    return found


def _refuse_dropped_priorities(partnership, current: Ladder, protocol) -> None:
    dropped = set(current.priority_codes) - {p.code for p in protocol.priorities}
    holding = list(
        Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, urgency__in=dropped)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if holding:
        raise ValidationError(
            _("Open escalations have a priority this would remove: %(references)s.")
            % {"references": ", ".join(holding)}
        )


def _number_map(current: Ladder, new_numbers: dict[str, int], moves: dict[str, str]) -> dict[int, int]:
    """Each stage number now → its number after: a kept stage's new number; a removed stage's
    history goes with the stage chosen for its open escalations, else with the nearest kept
    stage below it (or the first)."""
    mapping: dict[int, int] = {}
    kept_below = 1
    for stage in current.stages:
        if stage.key in new_numbers:
            mapping[stage.number] = kept_below = new_numbers[stage.key]
        elif moves.get(stage.key) in new_numbers:
            mapping[stage.number] = new_numbers[moves[stage.key]]
        else:
            mapping[stage.number] = kept_below
    return mapping


def _renumber(partnership: Partnership, numbers: dict[int, int], gone: dict[int, str]) -> None:
    """Every stage number the partnership's escalations hold takes the stage's new number, so
    each stands, and its history stays, on the same stage (its key and name at the time are
    on its stage periods). The tallies by stage follow. An escalation whose highest stage
    reached is one the review removes (``gone``: its number → key) keeps that stage as its
    highest reached in the figures (``highest_stage_gone``), whether closed or open."""
    changed = {old: new for old, new in numbers.items() if old != new}
    if gone:
        Escalation.objects.filter(
            partnership=partnership, highest_stage_gone="", highest_stage__in=list(gone)
        ).update(
            highest_stage_gone=Case(
                *(When(highest_stage=number, then=Value(key)) for number, key in gone.items()),
                default=F("highest_stage_gone"),
            )
        )

    def case(column: str) -> Case:
        return Case(
            *(When(**{column: old}, then=Value(new)) for old, new in changed.items()),
            default=F(column),
            output_field=PositiveSmallIntegerField(),
        )

    mine = Escalation.objects.filter(partnership=partnership)
    mine.update(stage=case("stage"), highest_stage=case("highest_stage"))
    mine.filter(highest_stage__lt=F("stage")).update(highest_stage=F("stage"))
    for model in (StagePeriod, Discussion, Event, Resolution):
        model.objects.filter(escalation__partnership=partnership).update(stage=case("stage"))
    tallies.renumber_stages(partnership.pk, changed, gone)


def _move_stranded(partnership: Partnership, was: Ladder, moves: dict[str, str]) -> None:
    """Open escalations at a removed stage now stand at the stage chosen for them: the old
    stage's period ends there, and a new one starts with the new stage's timescale (their
    timelines say so with the new version, ``_run_under``)."""
    for key, target_key in moves.items():
        old = was.stage_keyed(key)
        if old is None:
            continue
        target = Stage.objects.filter(partnership=partnership, key=target_key).first()
        if target is None:
            continue
        stranded = StagePeriod.objects.filter(
            escalation__partnership=partnership,
            escalation__status__in=OPEN_STATUSES,
            ended_on__isnull=True,
            stage_key=key,
        ).select_related("escalation")
        for period in stranded:
            escalation = period.escalation
            tallies.remember(escalation)
            period.stage_gone = True  # its time there counts under the removed stage's key
            _end_period(period, partnership)
            opened = _open_period(escalation, partnership, target)
            if escalation.status == Status.PAUSED:
                # Still paused at its new stage: the pause goes with it, and no clock runs.
                Pause.objects.filter(stage_period=period, resumed_on__isnull=True).update(stage_period=opened)
                opened.due_date = None
                opened.save(update_fields=["due_date"])
            escalation.stage = target.number
            escalation.highest_stage = max(escalation.highest_stage, target.number)
            escalation.stage_started_on, escalation.due_date = opened.started_on, opened.due_date
            escalation.save(update_fields=["stage", "highest_stage", "stage_started_on", "due_date"])
            tallies.escalation_changed(escalation)


@dataclass(frozen=True)
class _OpenState:
    number: int
    key: str
    label: str
    name: str
    due: dt.date | None
    seen_by: frozenset[str]
    acted_by: frozenset[str]


def _open_state(partnership: Partnership, ladder: Ladder) -> dict[str, _OpenState]:
    """Each open escalation: its stage, due date, who may see it (the visibility table) and
    who works its stage (who may act on it there)."""
    escalations = list(
        Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES).only(
            "pk", "reference", "stage", "due_date"
        )
    )
    seen: dict[int, set[str]] = {}
    for escalation_id, name in Visibility.objects.filter(
        escalation_id__in=[e.pk for e in escalations]
    ).values_list("escalation_id", "user__username"):
        seen.setdefault(escalation_id, set()).add(name)
    found = {}
    for e in escalations:
        tier = ladder.worked_by(e.stage)
        who = {name for name in seen.get(e.pk, set()) if _works(name, tier, partnership)}
        found[e.reference] = _OpenState(
            number=e.stage,
            key=ladder.key_of(e.stage),
            label=f"{e.stage}: {ladder.name_of(e.stage)}",
            name=ladder.name_of(e.stage),
            due=e.due_date,
            seen_by=frozenset(seen.get(e.pk, set())),
            acted_by=frozenset(who),
        )
    return found


def _works(username: str, tier: str, partnership: Partnership) -> bool:
    roles = _roles_of(partnership).get(username, frozenset())
    return bool(roles & TIER_ROLES.get(tier, frozenset()))


def _roles_of(partnership: Partnership) -> dict[str, frozenset[str]]:
    cached = getattr(partnership, "_review_roles", None)
    if cached is None:
        held: dict[str, set[str]] = {}
        for name, role in RoleAssignment.objects.filter(partnership=partnership).values_list(
            "user__username", "role"
        ):
            held.setdefault(name, set()).add(role)
        cached = {name: frozenset(roles) for name, roles in held.items()}
        partnership._review_roles = cached
    return cached


def _standing(reference: str, now: _OpenState, after: _OpenState | None) -> Standing:
    after = after or now
    return Standing(
        reference=reference,
        stage_now=now.label,
        stage_after=after.label,
        due_now=now.due,
        due_after=after.due,
        gains_sight=tuple(sorted(after.seen_by - now.seen_by)),
        loses_sight=tuple(sorted(now.seen_by - after.seen_by)),
        gains_action=tuple(sorted(after.acted_by - now.acted_by)),
        loses_action=tuple(sorted(now.acted_by - after.acted_by)),
        key_now=now.key,
        key_after=after.key,
        number_now=now.number,
        number_after=after.number,
        name_now=now.name,
        name_after=after.name,
    )


def follow_ladder_change(
    partnership: Partnership, was_first: dict[str, int | None], *, renumbered: bool = False
) -> int:
    """After a change to the ladder, its priorities or its budgets: the open stages take the
    new timescales and who may see the escalations past a stage whose workers changed is
    recounted. Answers how many due dates moved."""
    moved = escalations_recompute_due_dates(partnership=partnership, refresh_timescales=True)
    recount_after_ladder_change(partnership, was_first, renumbered=renumbered)
    return moved


SLUG_PATTERN = r"[a-z0-9][a-z0-9-]{0,49}"


@dataclass
class NewPartnership:
    """A partnership just set up, and its business unit's first officer (None when none was
    named: the command line may add them later)."""

    partnership: Partnership
    business_unit: Agency
    officer: User | None


BUSINESS_UNIT_NAME_MOST = 200


def _checked_setup(
    *, name: str, slug: str, prefix: str, business_unit_name: str, officer_name: str, officer_email: str
) -> tuple[dict[str, str], str]:
    """The refusals of a new partnership's fields, by field, and its reference prefix."""
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
    if not business_unit_name or len(business_unit_name) > BUSINESS_UNIT_NAME_MOST:
        errors["business_unit_name"] = _("Enter the business unit's name, up to %(n)s characters") % {
            "n": BUSINESS_UNIT_NAME_MOST
        }
    elif Agency.objects.filter(name__iexact=business_unit_name).exists():
        # An agency already in Accord (another partnership's business unit, say) is never
        # taken over as this one's: the deployment's administrators join it deliberately.
        errors["business_unit_name"] = _("An agency in Accord has that name already: choose another")
    if bool(officer_name) != bool(officer_email):
        errors["officer_name" if not officer_name else "officer_email"] = _(
            "Name the business unit's first officer and give their email, or neither"
        )
    elif officer_email:
        problem = check_email(officer_email)
        if problem:
            errors["officer_email"] = problem
    return errors, prefix


def partnership_create(
    *,
    actor,
    name: str,
    slug: str,
    document: Any,
    prefix: str = "",
    front_door_phone: str = "",
    preset_name: str = "",
    business_unit_name: str = "",
    officer_name: str = "",
    officer_email: str = "",
    actor_label: str | None = None,
) -> NewPartnership:
    """A new partnership with its ladder (a preset's or a protocol document's), the default
    taxonomies, the bank-holiday calendar, its business unit (an agency of its own, named
    "<name> Business Unit" unless named otherwise) and, if named, the business unit's first
    officer (added through the people services, not yet invited): for the deployment's
    administrators, from the page or ``manage.py create_partnership``. Raises
    ``ValidationError`` by field (``officer_name`` and ``officer_email`` for the officer)."""
    if actor is not None and not actor.is_superuser:
        raise NotAllowed(_("Only the deployment's administrators set up partnerships."))
    name, slug = " ".join((name or "").split()), (slug or "").strip()
    business_unit_name = " ".join((business_unit_name or "").split()) or f"{name} Business Unit"
    officer_name, officer_email = (
        " ".join((officer_name or "").split()),
        (officer_email or "").strip().lower(),
    )
    errors, prefix = _checked_setup(
        name=name,
        slug=slug,
        prefix=prefix,
        business_unit_name=business_unit_name,
        officer_name=officer_name,
        officer_email=officer_email,
    )
    try:
        protocol = parse_document(document)
    except ValidationError as error:
        errors["protocol"] = " ".join(error.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        partnership = Partnership.objects.create(
            name=name,
            slug=slug,
            reference_prefix=prefix,
            front_door_phone=front_door_phone or "not yet set",
            # (A preset for Wales's boards says so: its texts are kept in Welsh and English.)
            works_in_wales=isinstance(document, dict) and document.get("works_in_wales") is True,
        )
        install_defaults(partnership)
        install_ladder(partnership, protocol)
        protocol_version_record(
            partnership=partnership, actor=actor, before={}, after=document_of(partnership)
        )
        unit = Agency.objects.create(name=business_unit_name, kind=AgencyKind.PARTNERSHIP_BUSINESS_UNIT)
        PartnershipAgency.objects.create(partnership=partnership, agency=unit, takes_part_in_raising=False)
        audit_record(
            actor=actor,
            verb=Verb.PARTNERSHIP_CREATED,
            target=partnership,
            partnership_id=partnership.pk,
            payload={
                "slug": slug,
                "preset": preset_name,
                "business_unit": unit.name,
                **({"officer": officer_email} if officer_email else {}),
            },
            actor_label=actor_label,
        )
        officer = None
        if officer_email:
            first, _sep, last = officer_name.rpartition(" ")
            try:
                officer = person_add(
                    actor=actor,
                    partnership=partnership,
                    details=PersonDetails(
                        first_name=first or last,
                        last_name=last if first else "",
                        email=officer_email,
                        agency=unit,
                        roles=[Role.BUSINESS_UNIT],
                    ),
                )
            except ValidationError as refused:
                words = {"first_name": "officer_name", "last_name": "officer_name", "email": "officer_email"}
                raise ValidationError(
                    {words.get(key, key): messages for key, messages in refused.message_dict.items()}
                ) from None
    return NewPartnership(partnership=partnership, business_unit=unit, officer=officer)
