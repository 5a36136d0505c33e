"""A partnership's protocol as data, and the one statement of who works and sees each stage.

The ladder is a list of stages, each worked by one tier of people (``WorkedBy``):
practitioners, managers and safeguarding leads, senior leaders, or the formal body (Devon's
Practice Development Group, another partnership's panel or independent chair). Any number
of stages at the top may be formal; from the first formal stage on, the formal body sees
the escalation and rule 3's evidence is required to enter it. The formal body either
facilitates (Devon: it never records the outcome, rule 4) or directs next steps (it may
record the outcome at a stage it works).

Everything else asks this module, never a stage number or a role name of its own:

- ``TIER_ROLES`` says which roles belong to which tier;
- ``Ladder.sees_from(tier)`` is the first stage that involves a tier: a party agency's
  managers and senior leaders see an escalation once it has reached the first stage their
  tier works (rule 7's "at a stage that involves them"), and keep seeing it after;
- ``Ladder.formal_from`` is the first formal stage (the formal body sees from there);
- ``Ladder.worked_by(number)`` is who works a stage, which is who is told it has reached
  them and whose "awaiting you" list it joins;
- ``Ladder.decides_at(number)``: whether the formal body may record the outcome there.

The rule 7 filter, its predicates, the visibility table's SQL, notifications, "my work",
the raising pages and the reports all read these.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .models import (
    ROUTINE,
    URGENT,
    FormalBodyAuthority,
    Origin,
    Partnership,
    PriorityTier,
    Safeguards,
    Stage,
    TimescaleBudget,
    WorkedBy,
    in_language,
)
from .roles import TIERS


@dataclass(frozen=True)
class StageRule:
    number: int
    name: str
    worked_by: str
    formal: bool
    routine_working_days: int
    urgent_working_days: int
    conference_chair_may_start: bool = False
    # (priority code, working days) for the partnership's added priority tiers.
    other_working_days: tuple[tuple[str, int], ...] = ()
    # How Accord knows the stage across reviews (``Stage.key``); a document may leave it out.
    key: str = ""
    # An appointed facilitator helps the stage's workers, beside them (not the formal body).
    facilitated: bool = False
    # The answers an escalation must have to enter the stage (``ANSWERS``); rule 3's are added
    # for a formal stage whatever the document says (``Ladder.required_to_enter``).
    requires: tuple[str, ...] = ()
    # Its name in Welsh, for a partnership that works in Wales (empty: none given).
    name_cy: str = ""

    @property
    def shown_name(self) -> str:
        """Its name in the language in use (Welsh where given and Welsh is in use)."""
        return in_language(self, "name")

    # Read by the templates as they read a ``Stage``.
    @property
    def is_formal(self) -> bool:
        return self.formal

    def get_worked_by_display(self) -> str:
        return str(WorkedBy(self.worked_by).label)

    def working_days(self, priority: str) -> int:
        if priority == URGENT:
            return self.urgent_working_days
        return dict(self.other_working_days).get(priority, self.routine_working_days)


# What a stage may ask for before an escalation enters it, in the order a page asks them.
ANSWERS: dict[str, Any] = {
    "concern": _("What worries you for the child"),
    "decision_challenged": _("The decision or situation challenged"),
    "tried_so_far": _("What has been tried so far"),
    "desired_outcome": _("The outcome wanted for the child"),
    "evidence": _("The evidence"),
    "efforts_to_resolve": _("The efforts to resolve it at the earlier stages"),
    "professional_curiosity": _("What professional curiosity found"),
    "child_voice": _("The child's voice and lived experience"),
    "family_view": _("The family's view"),
    "areas_of_disagreement": _("The areas of disagreement"),
    "themes": _("The practice themes"),
}
# Rule 3: entering a formal stage needs the evidence and the efforts made to resolve it,
# whatever a protocol document asks.
FORMAL_ANSWERS = ("evidence", "efforts_to_resolve")
# Raising always asks these (they are not a stage's to drop): the safety question, whether
# it is about a child or a theme, with whom, the child or children, a one-line summary and
# how urgent it is.
ALWAYS_ON_RAISE = ("kind", "with_agency", "children", "summary", "urgency")


def default_requires(number: int, formal: bool) -> tuple[str, ...]:
    """What a stage asks for where its protocol says nothing: to raise, what worries the
    raiser for the child; to enter a later informal stage, the decision challenged, what has
    been tried and the outcome wanted; to enter a formal stage, rule 3's answers."""
    if number == 1:
        return ("concern",)
    if formal:
        return FORMAL_ANSWERS
    return ("decision_challenged", "tried_so_far", "desired_outcome")


@dataclass(frozen=True)
class PriorityRule:
    code: str
    label: str
    description: str = ""
    label_cy: str = ""  # its label in Welsh, for a partnership that works in Wales

    def __str__(self) -> str:
        return in_language(self, "label")

    @property
    def description_shown(self) -> str:
        """When to choose it: the catalogue's Welsh where it is Accord's default."""
        return in_language(self, "description")


DEFAULT_PRIORITIES = (
    PriorityRule(ROUTINE, gettext_noop("Routine")),
    PriorityRule(
        URGENT, gettext_noop("Urgent"), gettext_noop("the child's safety cannot wait a working week")
    ),
)


@dataclass(frozen=True)
class BudgetRule:
    """At most ``working_days`` in all over stages ``first_stage`` to ``last_stage`` (None:
    to the top), for escalations from ``origin`` (empty: every escalation)."""

    first_stage: int
    last_stage: int | None
    working_days: int
    origin: str = ""

    def covers(self, number: int) -> bool:
        return number >= self.first_stage and (self.last_stage is None or number <= self.last_stage)

    def applies(self, number: int, origin: str) -> bool:
        return self.covers(number) and self.origin in ("", origin)


@dataclass(frozen=True)
class Ladder:
    """A partnership's ladder and formal body, read once (``ladder_of``). Its priority
    tiers and budgets are read when first asked for (most pages need neither)."""

    stages: tuple[StageRule, ...]
    formal_body_name: str = "Practice Development Group"
    authority: str = FormalBodyAuthority.FACILITATES
    formal_body_name_cy: str = ""
    given_priorities: tuple[PriorityRule, ...] | None = None
    given_budgets: tuple[BudgetRule, ...] | None = None
    partnership_id: int | None = None

    @property
    def formal_body_shown(self) -> str:
        return in_language(self, "formal_body_name")

    @cached_property
    def priorities(self) -> tuple[PriorityRule, ...]:
        if self.given_priorities is not None:
            return self.given_priorities

        rows = PriorityTier.objects.filter(partnership_id=self.partnership_id).order_by("position", "code")
        found = tuple(PriorityRule(r.code, r.label, r.description, r.label_cy) for r in rows)
        return found or DEFAULT_PRIORITIES

    @cached_property
    def budgets(self) -> tuple[BudgetRule, ...]:
        if self.given_budgets is not None:
            return self.given_budgets

        rows = TimescaleBudget.objects.filter(partnership_id=self.partnership_id)
        return tuple(
            BudgetRule(r.first_stage, r.last_stage, r.working_days, r.origin)
            for r in rows.order_by("first_stage", "origin", "id")
        )

    @property
    def priority_codes(self) -> list[str]:
        return [p.code for p in self.priorities]

    def priority_label(self, code: str) -> str:
        return next((p.label for p in self.priorities if p.code == code), code)

    def working_days(self, number: int, priority: str) -> int:
        """The stage's own timescale for this priority (before any budget)."""
        found = self.stage(number)
        return found.working_days(priority) if found else 0

    def budgets_at(self, number: int, origin: str) -> list[BudgetRule]:
        return [b for b in self.budgets if b.applies(number, origin)]

    def allowance(self, number: int, priority: str, origin: str, used: dict[BudgetRule, int]) -> int:
        """The working days a stage period gets: the stage's timescale for the priority,
        cut to what is left of every budget over the stage (``used``: the working days
        already taken within each budget's run)."""
        days = self.working_days(number, priority)
        for budget in self.budgets_at(number, origin):
            days = min(days, max(0, budget.working_days - used.get(budget, 0)))
        return days

    @property
    def numbers(self) -> list[int]:
        return [s.number for s in self.stages]

    @property
    def top(self) -> int:
        return max(self.numbers, default=1)

    def stage(self, number: int) -> StageRule | None:
        return next((s for s in self.stages if s.number == number), None)

    def stage_keyed(self, key: str) -> StageRule | None:
        return next((s for s in self.stages if s.key == key), None)

    def key_of(self, number: int) -> str:
        found = self.stage(number)
        return found.key if found else ""

    def name_of(self, number: int) -> str:
        found = self.stage(number)
        return found.name if found else ""

    def worked_by(self, number: int) -> str:
        found = self.stage(number)
        return found.worked_by if found else WorkedBy.PRACTITIONERS

    def stages_worked_by(self, tier: str) -> list[int]:
        return [s.number for s in self.stages if s.worked_by == tier]

    def sees_from(self, tier: str) -> int | None:
        """The first stage that involves this tier (None: no stage does)."""
        if tier == WorkedBy.FORMAL_BODY:
            return self.formal_from
        worked = self.stages_worked_by(tier)
        return min(worked) if worked else None

    @property
    def formal_from(self) -> int | None:
        formal = [s.number for s in self.stages if s.formal]
        return min(formal) if formal else None

    def is_formal(self, number: int) -> bool:
        found = self.stage(number)
        return bool(found and found.formal)

    @property
    def formal_body_directs(self) -> bool:
        return self.authority == FormalBodyAuthority.DIRECTS_NEXT_STEPS

    def decides_at(self, number: int) -> bool:
        """Whether the formal body may record the outcome at this stage: only where the
        protocol gives it the authority to direct next steps, and at a stage it works."""
        return self.formal_body_directs and self.worked_by(number) == WorkedBy.FORMAL_BODY

    def required_to_enter(self, number: int) -> tuple[str, ...]:
        """The answers an escalation must have to enter this stage: the stage's own, and
        rule 3's for a formal stage."""
        found = self.stage(number)
        if found is None:
            return ()
        extra = FORMAL_ANSWERS if found.formal else ()
        return tuple(a for a in ANSWERS if a in found.requires or a in extra)

    def required_to_raise(self, start: int = 1) -> tuple[str, ...]:
        """The answers raising needs (beyond ``ALWAYS_ON_RAISE``): those of every stage up to
        the one it starts at. (A conference chair starting at a formal stage gives the
        reason for starting there in place of the efforts at earlier stages.)"""
        wanted = {a for n in self.numbers if n <= start for a in self.required_to_enter(n)}
        wanted.discard("efforts_to_resolve")
        return tuple(a for a in ANSWERS if a in wanted)

    def is_facilitated(self, number: int) -> bool:
        found = self.stage(number)
        return bool(found and found.facilitated)

    def conference_chair_starts(self) -> list[int]:
        """The stages above 1 a conference chair or IRO may start at."""
        return [s.number for s in self.stages if s.conference_chair_may_start and s.number > 1]

    def tiers_seeing_at(self, highest_stage: int) -> set[str]:
        return {t for t in TIERS if (n := self.sees_from(t)) is not None and highest_stage >= n}


# The ladders this process has read, by partnership and protocol version (a ladder that
# changed has a new version, so an entry is never stale; old versions are dropped).
_LADDERS: dict[tuple[int, int], Ladder] = {}
_LADDERS_LOCK = threading.Lock()


def ladder_of(partnership) -> Ladder:
    """The partnership's ladder: kept on the partnership object it is asked of, and by this
    process under the partnership's ``protocol_version``, read from the database once per
    version."""
    cached = getattr(partnership, "_accord_ladder", None)
    if cached is not None:
        return cached
    key = (partnership.pk, getattr(partnership, "protocol_version", 0))
    cached = _LADDERS.get(key)
    if cached is None:
        cached = _read_ladder(partnership)
        cached.priorities, cached.budgets  # noqa: B018 - read now, so the kept ladder is complete
        with _LADDERS_LOCK:
            for old in [k for k in _LADDERS if k[0] == key[0]]:
                del _LADDERS[old]
            _LADDERS[key] = cached
    partnership._accord_ladder = cached
    return cached


def _read_ladder(partnership) -> Ladder:
    """The ladder as saved (the formal body's name and authority from the database too, not
    from an object that may hold a change not yet saved: what is kept must be what is)."""

    rows = Stage.objects.filter(partnership_id=partnership.pk).order_by("number")
    saved = (
        Partnership.objects.filter(pk=partnership.pk)
        .values_list("formal_body_name", "formal_body_authority", "formal_body_name_cy")
        .first()
    )
    body_name, authority, body_name_cy = saved or (
        partnership.formal_body_name,
        partnership.formal_body_authority,
        partnership.formal_body_name_cy,
    )
    return Ladder(
        stages=tuple(
            StageRule(
                number=s.number,
                name=s.name,
                worked_by=s.worked_by,
                formal=s.is_formal,
                routine_working_days=s.routine_working_days,
                urgent_working_days=s.urgent_working_days,
                conference_chair_may_start=s.conference_chair_may_start,
                other_working_days=tuple(sorted((s.other_working_days or {}).items())),
                key=s.key,
                facilitated=s.facilitated,
                requires=tuple(s.requires or ()),
                name_cy=s.name_cy,
            )
            for s in rows
        ),
        formal_body_name=body_name,
        formal_body_name_cy=body_name_cy,
        authority=authority,
        partnership_id=partnership.pk,
    )


def forget_ladder(partnership) -> None:
    """After a change: read the partnership's ladder afresh (its version from the database,
    and nothing this process kept of it; the formal body's name and authority from the
    object as it stands, which may hold a change not yet saved)."""
    partnership.__dict__.pop("_accord_ladder", None)
    with _LADDERS_LOCK:
        for old in [k for k in _LADDERS if k[0] == partnership.pk]:
            del _LADDERS[old]
    if partnership.pk is not None:
        fresh = (
            Partnership.objects.filter(pk=partnership.pk).values_list("protocol_version", flat=True).first()
        )
        if fresh is not None:
            partnership.protocol_version = fresh


def protocol_changed(partnership_id: int) -> None:
    """Note that a partnership's ladder, priorities or budgets changed (every process then
    reads them afresh). Called for every save and delete of those rows."""
    Partnership.objects.filter(pk=partnership_id).update(protocol_version=F("protocol_version") + 1)
    with _LADDERS_LOCK:
        for old in [k for k in _LADDERS if k[0] == partnership_id]:
            del _LADDERS[old]


# ------------------------------------------------------------------ a ladder Accord can run


@dataclass(frozen=True)
class ProposedStage:
    """A stage as a change to the ladder would leave it: ``was_number`` and ``was_formal``
    are what it is now (``None`` for a stage being added)."""

    number: int
    is_formal: bool
    worked_by: str
    was_number: int | None = None
    was_formal: bool | None = None
    facilitated: bool = False


def ladder_shape_errors(stages: list[ProposedStage]) -> list[str]:
    """What makes a ladder one Accord cannot run, in words for the business unit (none if
    it can): stages numbered 1, 2, 3 … with no gap, at least two; the first worked by
    practitioners and informal; each stage worked by the same tier as the one below it or a
    higher one; at least one formal stage, the formal stages contiguous at the top; the
    formal body working formal stages only."""
    numbers = sorted(s.number for s in stages)
    if numbers != list(range(1, len(numbers) + 1)):
        return [str(_("Number the stages 1, 2, 3 and so on, with no gaps."))]
    if len(numbers) < 2:
        return [str(_("A ladder needs at least two stages."))]
    errors = []
    ordered = sorted(stages, key=lambda s: s.number)
    if any(s.worked_by not in TIERS for s in ordered):
        errors.append(str(_("Choose who works each stage.")))
        return errors
    first = ordered[0]
    if first.worked_by != WorkedBy.PRACTITIONERS or first.is_formal:
        errors.append(str(_("Stage 1 is the practitioners' own, and informal.")))
    rank = [TIERS.index(s.worked_by) for s in ordered]
    if rank != sorted(rank):
        errors.append(
            str(_("Each stage is worked by the same people as the stage below it, or more senior ones."))
        )
    formal = [s.number for s in ordered if s.is_formal]
    if not formal:
        errors.append(str(_("Mark at least the top stage as formal.")))
    elif formal != list(range(formal[0], numbers[-1] + 1)):
        errors.append(str(_("Formal stages are the top ones: every stage above a formal stage is formal.")))
    body = [s.number for s in ordered if s.worked_by == WorkedBy.FORMAL_BODY and not s.is_formal]
    if body:
        errors.append(
            str(
                _(
                    "The formal body works formal stages only (stage %(stages)s is not formal). For a "
                    "stage where an appointed facilitator helps the parties, mark it facilitated and "
                    "choose who works it beside the facilitator."
                )
            )
            % {"stages": ", ".join(map(str, body))}
        )
    facilitated_by_body = [s.number for s in ordered if s.facilitated and s.worked_by == WorkedBy.FORMAL_BODY]
    if facilitated_by_body:
        errors.append(
            str(
                _(
                    "A facilitated stage is worked by the parties' own people beside the facilitator (stage %(stages)s)."
                )
            )
            % {"stages": ", ".join(map(str, facilitated_by_body))}
        )
    return errors


# ------------------------------------------------------------------ in SQL


def sees_from_sql(tier: str, partnership_column: str) -> str:
    """The first stage involving ``tier`` in the partnership named by ``partnership_column``,
    as a SQL scalar (NULL where no stage does, so that a comparison with it is never true).
    Read from the ladder by the database itself, so a compiled rule 7 can never outlive a
    change to the ladder."""

    table = Stage._meta.db_table
    if tier == WorkedBy.FORMAL_BODY:
        condition = "s.is_formal"
    else:
        condition = f"s.worked_by = '{WorkedBy(tier).value}'"
    return (
        f'(SELECT MIN(s.number) FROM "{table}" s '  # noqa: S608 - no user input
        f"WHERE s.partnership_id = {partnership_column} AND {condition})"
    )


# ------------------------------------------------------------------ presets and documents

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
DEFAULT_PRESET = "devon"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def preset(name: str) -> dict[str, Any]:
    path = PRESETS_DIR / f"{name}.json"
    if name not in preset_names():
        raise KeyError(name)
    return json.loads(path.read_text(encoding="utf-8"))


# The keys of a protocol document (``manage.py protocol export`` / ``import``; docs/protocol.md).
STAGE_KEYS = (
    "key",
    "number",
    "name",
    "worked_by",
    "formal",
    "routine_working_days",
    "urgent_working_days",
    "conference_chair_may_start",
    "other_working_days",
    "facilitated",
    "requires",
    "name_cy",
)
# (``works_in_wales``: a preset for Wales's boards; read when a partnership is made from it.)
DOCUMENT_KEYS = (
    "preset",
    "name",
    "source",
    "formal_body",
    "priorities",
    "stages",
    "budgets",
    "works_in_wales",
    "safeguards",
)
BUDGET_KEYS = ("first_stage", "last_stage", "working_days", "origin")
PRIORITY_KEYS = ("code", "label", "description", "label_cy")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
_STAGE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")


def stage_key_for(name: str, number: int, used: set[str]) -> str:
    """A key for a stage that has none yet: from its name, unique among ``used``."""
    base = slugify(name)[:26].strip("-") or f"stage-{number}"
    key, n = base, 2
    while key in used:
        key, n = f"{base}-{n}", n + 1
    return key


@dataclass(frozen=True)
class ProtocolDocument:
    """A protocol read from its JSON document and checked for shape."""

    formal_body_name: str
    authority: str
    stages: tuple[StageRule, ...]
    source: str = ""
    formal_body_name_cy: str = ""
    priorities: tuple[PriorityRule, ...] = DEFAULT_PRIORITIES
    budgets: tuple[BudgetRule, ...] = ()
    # Whether the document named its stages' keys (an export does): a review matches its
    # stages to the ladder's by key. One that names none (a preset, an older export) is
    # matched by number, and its stages take the keys the ladder's stages have there.
    keyed: bool = False
    # Whom the partnership safeguards (``Safeguards``); empty where the document does not say
    # (an older export): the partnership's own stands.
    safeguards: str = ""

    def keyed_as(self, ladder: Ladder) -> ProtocolDocument:
        """This document's stages with the keys they take on ``ladder``."""
        if self.keyed:
            return self
        used: set[str] = set()
        stages = []
        for s in self.stages:
            key = ladder.key_of(s.number) or stage_key_for(s.name, s.number, used | set(ladder_keys(ladder)))
            used.add(key)
            stages.append(replace(s, key=key))
        return replace(self, stages=tuple(stages), keyed=True)

    def proposed(self) -> list[ProposedStage]:
        return [
            ProposedStage(number=s.number, is_formal=s.formal, worked_by=s.worked_by) for s in self.stages
        ]

    def ladder(self) -> Ladder:
        """The ladder this document describes (to work out what it would change)."""
        return Ladder(
            stages=self.stages,
            formal_body_name=self.formal_body_name,
            formal_body_name_cy=self.formal_body_name_cy,
            authority=self.authority,
            given_priorities=self.priorities,
            given_budgets=self.budgets,
        )


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        return None
    return value.strip()


def _parse_priorities(rows: Any, errors: list[str]) -> tuple[PriorityRule, ...]:
    if rows is None:
        return DEFAULT_PRIORITIES
    if not isinstance(rows, list):
        errors.append(str(_('Give "priorities" as a list of {"code": ..., "label": ...}.')))
        return DEFAULT_PRIORITIES
    found: list[PriorityRule] = []
    for position, row in enumerate(rows, start=1):
        where = str(_("Priority %(n)s")) % {"n": position}
        if not isinstance(row, dict):
            errors.append(f"{where}: " + str(_("each priority is a JSON object.")))
            continue
        unknown = sorted(set(row) - set(PRIORITY_KEYS))
        code, label = row.get("code"), _text(row.get("label"), 100)
        description = row.get("description", "")
        label_cy = row.get("label_cy", "")
        problems = []
        if not isinstance(label_cy, str) or len(label_cy.strip()) > 100:
            problems.append(str(_("label_cy (the label in Welsh) is text of up to 100 characters")))
            label_cy = ""
        if unknown:
            problems.append(str(_("unknown keys %(keys)s")) % {"keys": ", ".join(unknown)})
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(str(_("code is up to 30 lower-case letters, digits, - or _")))
        if label is None:
            problems.append(str(_("label is text of up to 100 characters")))
        if not isinstance(description, str) or len(description) > 300:
            problems.append(str(_("description is text of up to 300 characters")))
        if problems:
            errors.append(f"{where}: " + "; ".join(problems) + ".")
            continue
        found.append(PriorityRule(code, label, description.strip(), label_cy.strip()))
    codes = [p.code for p in found]
    if len(set(codes)) != len(codes):
        errors.append(str(_("Each priority has its own code.")))
    if found and not {ROUTINE, URGENT} <= set(codes):
        errors.append(
            str(_('The priorities include "routine" and "urgent" (every stage has their timescales).'))
        )
    return tuple(found) or DEFAULT_PRIORITIES


def _parse_budgets(rows: Any, numbers: set[int], errors: list[str]) -> tuple[BudgetRule, ...]:
    if rows is None:
        return ()
    if not isinstance(rows, list):
        errors.append(str(_('Give "budgets" as a list.')))
        return ()
    found: list[BudgetRule] = []
    for position, row in enumerate(rows, start=1):
        where = str(_("Budget %(n)s")) % {"n": position}
        if not isinstance(row, dict):
            errors.append(f"{where}: " + str(_("each budget is a JSON object.")))
            continue
        unknown = sorted(set(row) - set(BUDGET_KEYS))
        first = _whole(row.get("first_stage"), minimum=1)
        last = row.get("last_stage")
        days = _whole(row.get("working_days"), minimum=1)
        origin = row.get("origin", "")
        problems = []
        if unknown:
            problems.append(str(_("unknown keys %(keys)s")) % {"keys": ", ".join(unknown)})
        if first is None or first not in numbers:
            problems.append(str(_("first_stage is a stage of the ladder")))
        if last is not None and (_whole(last, minimum=1) is None or last not in numbers):
            problems.append(str(_("last_stage is a stage of the ladder, or null for the top")))
        elif first is not None and last is not None and last < first:
            problems.append(str(_("last_stage is not below first_stage")))
        if days is None or days > 250:
            problems.append(str(_("working_days is a whole number from 1 to 250")))
        if origin not in ("", *Origin.values):
            problems.append(
                str(_("origin is empty or one of %(values)s")) % {"values": ", ".join(Origin.values)}
            )
        if problems:
            errors.append(f"{where}: " + "; ".join(problems) + ".")
            continue
        found.append(BudgetRule(first, last, days, origin))
    return tuple(found)


def _whole(value: Any, *, minimum: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        return None
    return value


# A protocol document as JSON: its size, and how deep its lists and objects go (a document as
# exported goes four deep: the protocol, its stages, a stage, its other working days). Both
# are bounded before it is parsed: a few kilobytes of brackets otherwise exhaust the parser.
MOST_DOCUMENT_BYTES = 256 * 1024
MOST_DOCUMENT_DEPTH = 8
# No text of a protocol holds a control character (a NUL is refused by PostgreSQL, and none
# belongs in a name, a label or a description).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _depth_of_json(text: str) -> int:
    """How deep the brackets of JSON ``text`` go (outside its strings), read without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_document(content: bytes) -> Any:
    """The JSON of a protocol document as uploaded or read from a file, refused in plain words
    (``ValidationError``) if it is too large, nested too deep or not JSON. ``parse_document``
    then checks what it says."""
    if len(content) > MOST_DOCUMENT_BYTES:
        raise ValidationError(
            _("The file is larger than %(kb)s KB: is it the protocol's JSON?")
            % {"kb": MOST_DOCUMENT_BYTES // 1024}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise ValidationError(
            _("The file is not UTF-8 text: upload the document as downloaded, edited.")
        ) from problem
    if _depth_of_json(text) > MOST_DOCUMENT_DEPTH:
        raise ValidationError(
            _("The file's lists and objects go more than %(n)s deep: a protocol's go four.")
            % {"n": MOST_DOCUMENT_DEPTH}
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as problem:
        raise ValidationError(
            _("The file is not JSON (%(problem)s): upload the document as downloaded, edited.")
            % {"problem": str(problem)[:120]}
        ) from problem


def _text_errors(document: Any) -> list[str]:
    """Where a text of the document (a key or a value, at any depth) holds a control character,
    or where the document goes deeper than any protocol does; walked without recursion, so a
    document built in code is bounded as one read from a file is."""
    errors: list[str] = []
    pending: list[tuple[Any, str, int]] = [(document, "", 0)]
    while pending:
        value, where, depth = pending.pop()
        if isinstance(value, dict | list) and depth >= MOST_DOCUMENT_DEPTH:
            return [
                str(_("The protocol's lists and objects go more than %(n)s deep: a protocol's go four."))
                % {"n": MOST_DOCUMENT_DEPTH}
            ]
        if isinstance(value, dict):
            for key, item in value.items():
                inner = _CONTROL.sub("?", f"{where} → {key}" if where else str(key))
                if isinstance(key, str) and _CONTROL.search(key):
                    errors.append(
                        str(
                            _(
                                "The key %(where)s holds a control character (a NUL, say): type it again without."
                            )
                        )
                        % {"where": inner[:80]}
                    )
                pending.append((item, inner, depth + 1))
        elif isinstance(value, list):
            pending.extend(
                (item, f"{where} → {n}" if where else str(n), depth + 1)
                for n, item in enumerate(value, start=1)
            )
        elif isinstance(value, str) and _CONTROL.search(value):
            errors.append(
                str(_("The text at %(where)s holds a control character (a NUL, say): type it again without."))
                % {"where": where[:80] or "the top"}
            )
    return sorted(errors)


def _parse_formal_body(document: dict, errors: list[str]) -> tuple[str, str, Any]:
    """The formal body's name, its name in Welsh and its authority."""
    body = document.get("formal_body")
    if not isinstance(body, dict):
        errors.append(str(_('Give "formal_body" as {"name": ..., "authority": ...}.')))
        body = {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        errors.append(str(_("Give the formal body a name of up to 100 characters.")))
        name = ""
    name_cy = body.get("name_cy", "")
    if not isinstance(name_cy, str) or len(name_cy.strip()) > 100:
        errors.append(str(_("Give the formal body's Welsh name as text of up to 100 characters.")))
        name_cy = ""
    authority = body.get("authority")
    if authority not in FormalBodyAuthority.values:
        errors.append(
            str(_('The formal body\'s authority is "facilitates" or "directs_next_steps", not %(value)r.'))
            % {"value": authority}
        )
    return name, name_cy, authority


def _stage_shape_problems(row: dict, number, key, stage_name, routine, urgent) -> list[str]:
    """What is wrong with a stage's number, key, name, who works it and its timescales."""
    problems = []
    if number is None or number > 9:
        problems.append(str(_("number is a whole number from 1 to 9")))
    if key != "" and (not isinstance(key, str) or not _STAGE_KEY.match(key)):
        problems.append(str(_("key is up to 30 lower-case letters, digits, - or _")))
    if not isinstance(stage_name, str) or not stage_name.strip() or len(stage_name.strip()) > 100:
        problems.append(str(_("name is text of up to 100 characters")))
    if row.get("worked_by") not in WorkedBy.values:
        problems.append(str(_("worked_by is one of %(values)s")) % {"values": ", ".join(WorkedBy.values)})
    if not isinstance(row.get("formal"), bool):
        problems.append(str(_("formal is true or false")))
    if routine is None or urgent is None or routine > 250 or urgent > 250:
        problems.append(
            str(_("routine_working_days and urgent_working_days are whole numbers from 1 to 250"))
        )
    if not isinstance(row.get("conference_chair_may_start", False), bool):
        problems.append(str(_("conference_chair_may_start is true or false")))
    if not isinstance(row.get("facilitated", False), bool):
        problems.append(str(_("facilitated is true or false")))
    return problems


def _stage_requires(row: dict, problems: list[str]) -> list | None:
    """What moving to the stage asks for, as given (none: the default)."""
    requires = row.get("requires")
    if requires is not None and (
        not isinstance(requires, list) or any(not isinstance(a, str) or a not in ANSWERS for a in requires)
    ):
        problems.append(str(_("requires lists answers from %(names)s")) % {"names": ", ".join(ANSWERS)})
        return None
    return requires


def _stage_other_days(row: dict, problems: list[str]) -> dict:
    """The stage's working days for the priorities added beside routine and urgent."""
    other = row.get("other_working_days", {})
    if not isinstance(other, dict) or any(
        not isinstance(k, str) or _whole(v, minimum=1) is None or v > 250 for k, v in other.items()
    ):
        problems.append(str(_("other_working_days maps a priority's code to 1 to 250 working days")))
        return {}
    return other


def _parse_stage(row: Any, position: int, errors: list[str]) -> StageRule | None:
    """One stage of the document, or None with what is wrong with it in ``errors``."""
    where = str(_("Stage %(n)s")) % {"n": row.get("number", position) if isinstance(row, dict) else position}
    if not isinstance(row, dict):
        errors.append(f"{where}: " + str(_("each stage is a JSON object.")))
        return None
    unknown = sorted(set(row) - set(STAGE_KEYS))
    if unknown:
        errors.append(f"{where}: " + str(_("unknown keys %(keys)s.")) % {"keys": ", ".join(unknown)})
    number = _whole(row.get("number"), minimum=1)
    key = row.get("key", "")
    routine = _whole(row.get("routine_working_days"), minimum=1)
    urgent = _whole(row.get("urgent_working_days"), minimum=1)
    stage_name = row.get("name")
    problems = _stage_shape_problems(row, number, key, stage_name, routine, urgent)
    stage_name_cy = row.get("name_cy", "")
    if not isinstance(stage_name_cy, str) or len(stage_name_cy.strip()) > 100:
        problems.append(str(_("name_cy (the name in Welsh) is text of up to 100 characters")))
    requires = _stage_requires(row, problems)
    other = _stage_other_days(row, problems)
    if problems:
        errors.append(f"{where}: " + "; ".join(problems) + ".")
        return None
    return StageRule(
        number=number,
        name=stage_name.strip(),
        worked_by=row["worked_by"],
        formal=row["formal"],
        routine_working_days=routine,
        urgent_working_days=urgent,
        conference_chair_may_start=row.get("conference_chair_may_start", False),
        other_working_days=tuple(sorted(other.items())),
        key=key,
        facilitated=row.get("facilitated", False),
        requires=tuple(a for a in ANSWERS if a in requires)
        if requires is not None
        else default_requires(number, row["formal"]),
        name_cy=stage_name_cy.strip(),
    )


def _parse_stages(document: dict, errors: list[str]) -> tuple[list[StageRule], bool]:
    """The stages, and whether they are keyed (every one, or none)."""
    rows = document.get("stages")
    if not isinstance(rows, list) or not rows:
        errors.append(str(_('Give "stages" as a list of stages.')))
        rows = []
    stages = [
        stage
        for position, row in enumerate(rows, start=1)
        if (stage := _parse_stage(row, position, errors)) is not None
    ]
    keyed = any(s.key for s in stages)
    if keyed and not all(s.key for s in stages):
        errors.append(str(_("Give every stage its key, or none (they are then matched by number).")))
    elif keyed and len({s.key for s in stages}) != len(stages):
        errors.append(str(_("Each stage has its own key.")))
    return stages, keyed


def _ladder_errors(stages: list[StageRule], priorities, errors: list[str]) -> None:
    """A stage's days for a priority that was not added; then, the rest being sound, a
    ladder Accord can run."""
    added = {p.code for p in priorities} - {ROUTINE, URGENT}
    for s in stages:
        strays = sorted({code for code, _days in s.other_working_days} - added)
        if strays:
            errors.append(
                str(_("Stage %(n)s: other_working_days names %(codes)s, not an added priority."))
                % {"n": s.number, "codes": ", ".join(strays)}
            )
    if errors:
        return
    if len({s.number for s in stages}) != len(stages):
        errors.append(str(_("Each stage has its own number.")))
        return
    errors += ladder_shape_errors(
        [
            ProposedStage(
                number=s.number, is_formal=s.formal, worked_by=s.worked_by, facilitated=s.facilitated
            )
            for s in stages
        ]
    )


def parse_document(document: Any) -> ProtocolDocument:
    """The protocol in ``document`` (parsed JSON), or ``ValidationError`` naming every
    problem found (nothing is changed by reading one)."""
    errors: list[str] = []
    if not isinstance(document, dict):
        raise ValidationError(_("The protocol must be a JSON object with formal_body and stages."))
    text_errors = _text_errors(document)
    if text_errors:
        raise ValidationError(text_errors)
    name, name_cy, authority = _parse_formal_body(document, errors)
    stages, keyed = _parse_stages(document, errors)
    unknown = sorted(set(document) - set(DOCUMENT_KEYS))
    if unknown:
        errors.append(str(_("Unknown keys %(keys)s.")) % {"keys": ", ".join(unknown)})
    priorities = _parse_priorities(document.get("priorities"), errors)
    budgets = _parse_budgets(document.get("budgets"), {s.number for s in stages}, errors)
    safeguards = _parse_safeguards(document.get("safeguards", ""), errors)
    _ladder_errors(stages, priorities, errors)
    if errors:
        raise ValidationError(errors)
    source = document.get("source", "")
    return ProtocolDocument(
        formal_body_name=name.strip(),
        formal_body_name_cy=name_cy.strip(),
        authority=authority,
        stages=tuple(sorted(stages, key=lambda s: s.number)),
        source=source.strip()[:300] if isinstance(source, str) else "",
        priorities=priorities,
        budgets=budgets,
        keyed=keyed,
        safeguards=safeguards,
    )


def _parse_safeguards(value: Any, errors: list[str]) -> str:
    if value not in ("", *Safeguards.values):
        errors.append(
            str(_('"safeguards" is one of %(values)s, not %(value)r.'))
            % {"values": ", ".join(Safeguards.values), "value": value}
        )
        return ""
    return value


def document_of(partnership) -> dict[str, Any]:
    """The partnership's protocol as a JSON-ready document (``protocol export``)."""
    forget_ladder(partnership)
    ladder = ladder_of(partnership)
    return {
        "source": partnership.protocol_source,
        "safeguards": partnership.safeguards,
        "formal_body": {
            "name": ladder.formal_body_name,
            "authority": ladder.authority,
            **({"name_cy": ladder.formal_body_name_cy} if ladder.formal_body_name_cy else {}),
        },
        "priorities": [
            {
                "code": p.code,
                "label": p.label,
                "description": p.description,
                **({"label_cy": p.label_cy} if p.label_cy else {}),
            }
            for p in ladder.priorities
        ],
        "stages": [
            {
                "key": s.key,
                "number": s.number,
                "name": s.name,
                "worked_by": s.worked_by,
                "formal": s.formal,
                "routine_working_days": s.routine_working_days,
                "urgent_working_days": s.urgent_working_days,
                "conference_chair_may_start": s.conference_chair_may_start,
                "other_working_days": dict(s.other_working_days),
                # (Said only where it is: a document without it means an unfacilitated stage.)
                **({"facilitated": True} if s.facilitated else {}),
                "requires": list(s.requires),
                **({"name_cy": s.name_cy} if s.name_cy else {}),
            }
            for s in ladder.stages
        ],
        "budgets": [
            {
                "first_stage": b.first_stage,
                "last_stage": b.last_stage,
                "working_days": b.working_days,
                "origin": b.origin,
            }
            for b in ladder.budgets
        ],
    }


def ladder_keys(ladder: Ladder) -> list[str]:
    return [s.key for s in ladder.stages]


def install_ladder(partnership, document: dict[str, Any] | ProtocolDocument) -> dict[str, int]:
    """Writes a checked protocol onto the partnership: its formal body and its stages, each
    matched to the ladder's by key (a document without keys, by number): a stage kept keeps
    its key and takes its new number and settings, a new one is added, one no longer there
    is removed. The caller has checked that no open escalation is stranded (``protocol_apply``
    moves those first). Answers each kept stage's key with its new number."""

    protocol = document if isinstance(document, ProtocolDocument) else parse_document(document)
    forget_ladder(partnership)
    protocol = protocol.keyed_as(ladder_of(partnership))
    partnership.formal_body_name = protocol.formal_body_name
    partnership.formal_body_name_cy = protocol.formal_body_name_cy
    partnership.formal_body_authority = protocol.authority
    partnership.protocol_source = protocol.source
    partnership.safeguards = protocol.safeguards or partnership.safeguards
    partnership.save(
        update_fields=[
            "formal_body_name",
            "formal_body_name_cy",
            "formal_body_authority",
            "protocol_source",
            "safeguards",
        ]
    )
    protocol_changed(partnership.pk)
    wanted = {s.key for s in protocol.stages}
    Stage.objects.filter(partnership=partnership).exclude(key__in=wanted).delete()
    # Out of the way first, so that no two stages hold one number while they move.
    Stage.objects.filter(partnership=partnership).update(number=F("number") + 10)
    for s in protocol.stages:
        Stage.objects.update_or_create(
            partnership=partnership,
            key=s.key,
            defaults={
                "number": s.number,
                "name": s.name,
                "name_cy": s.name_cy,
                "worked_by": s.worked_by,
                "is_formal": s.formal,
                "routine_working_days": s.routine_working_days,
                "urgent_working_days": s.urgent_working_days,
                "conference_chair_may_start": s.conference_chair_may_start,
                "other_working_days": dict(s.other_working_days),
                "facilitated": s.facilitated,
                "requires": list(s.requires),
            },
        )
    for position, p in enumerate(protocol.priorities):
        PriorityTier.objects.update_or_create(
            partnership=partnership,
            code=p.code,
            defaults={
                "label": p.label,
                "label_cy": p.label_cy,
                "description": p.description,
                "position": position,
            },
        )
    # (``protocol_apply`` refuses to drop a tier an open escalation has.)
    PriorityTier.objects.filter(partnership=partnership).exclude(
        code__in=[p.code for p in protocol.priorities]
    ).delete()
    TimescaleBudget.objects.filter(partnership=partnership).delete()
    TimescaleBudget.objects.bulk_create(
        TimescaleBudget(
            partnership=partnership,
            first_stage=b.first_stage,
            last_stage=b.last_stage,
            working_days=b.working_days,
            origin=b.origin,
        )
        for b in protocol.budgets
    )
    forget_ladder(partnership)
    return {s.key: s.number for s in protocol.stages}
