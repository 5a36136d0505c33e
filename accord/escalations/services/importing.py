"""A partnership's earlier log brought in: the "challenge log" spreadsheet most partnerships
kept before Accord, one escalation a row, closed or still open, so that the reports' trends
start from the partnership's real history and its open disputes go on from where they stand
(``docs/decisions/0012-earlier-log-open-rows.md``).

The business unit maps the file's columns to Accord's fields and the log's own words to
Accord's values ("CSC" for an agency, "Level 2" for a stage, "Resolved - agreed" for an
outcome: ``log_words``, each distinct value with a choice beside it on the page), sees every
row checked in plain words with nothing changed (a dry run, the rows still open listed with
their stages and due dates), then brings the whole file in at once, or nothing of it. The
page, the API and ``manage.py import_escalations`` all call these. The mapping is a small
JSON document (``Mapping``, checked by pydantic); the page builds one from its choices.

A row closed comes in closed (resolved with its outcome, or withdrawn) at the stage it
reached, a record of the past (``Escalation.is_past_record``): no stage was timed in Accord,
it sends no notification, sets no reminder, asks no follow-up and cannot be reopened. A row
still open comes in open at its stage (by the stage's key on the ladder now), under the
protocol's current version, its stage's clock running from the day the stage began, and is
worked in Accord from then on; at a formal stage only with what rule 3 asks, and only once
the business unit confirms it. Either way: between the agencies named, with its kind,
origin, priority, areas and themes where the log gives them, marked as imported with the
log's own reference, its raiser the person the log names or "the earlier log" (no one). It
counts in the reports' tallies as if raised then, on the day it was raised (and closed).
Rule 7 decides who sees it, as for every escalation. One audit entry records the import
with the file's hash (and one more on each escalation brought in open); the whole batch can
be removed, which takes back everything it counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.spreadsheets import read_table
from accord.partnership.calendar import calendar_for
from accord.partnership.models import ROUTINE, Origin, Partnership, Stage, User
from accord.partnership.protocol import Ladder, ladder_of
from accord.partnership.selectors import casework_agencies
from accord.partnership.services.common import require_business_unit
from accord.partnership.services.versions import protocol_version_now

from .. import tallies
from ..models import (
    OPEN_STATUSES,
    OTHER_PARTIES,
    Discussion,
    Escalation,
    EscalationImport,
    Event,
    EventType,
    Kind,
    OtherParty,
    Outcome,
    Resolution,
    StagePeriod,
    Status,
)
from ..notices import notifications_about
from ..subjects import default_subject
from .closing import working_days_to_resolution
from .log_holders import LogHolders, NobodyThere, RowHolding, StageHolder, nobody_said
from .log_words import STILL_OPEN, WITHDRAWN, Vocabulary, Word, split_cell, vocabulary_of, words_of
from .timescales import period_allowance

MOST_BYTES = 5 * 1024 * 1024
MOST_ROWS = 5000
SUMMARY_MOST = 200
REFERENCE_MOST = 60
ACCOUNT_MOST = 5000  # rule 3's accounts, for a row still open at a formal stage
EARLIEST_YEAR = 2000  # an older date in a safeguarding partnership's log is a slip

# Accord's fields a column can be mapped to: the first six are required (kind may instead
# be given once for the whole file, in the mapping's ``defaults``). A row with no date closed
# (or an outcome mapped to "still open") is still open.
REQUIRED_FIELDS = ("raising_agency", "with_agency", "raised_on", "closed_on", "stage_reached", "outcome")
OPTIONAL_FIELDS = (
    "kind",
    "origin",
    "urgency",
    "other_agencies",
    "area",
    "themes",
    "summary",
    "reference",
    "raised_by_email",
    "stage_started_on",
    "formal_reason",
    "evidence",
    "efforts_to_resolve",
)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
FIELD_LABELS = {
    "raising_agency": "Agency that raised it",
    "with_agency": "Agency it was with",
    "raised_on": "Date raised",
    "closed_on": "Date closed (empty while still open)",
    "stage_reached": "Highest stage reached",
    "outcome": "Outcome",
    "kind": "Kind (a child, or a theme)",
    "origin": "Where it came from",
    "urgency": "Priority",
    "other_agencies": "Other agencies it was with",
    "area": "Areas of disagreement",
    "themes": "Practice themes",
    "summary": "Summary",
    "reference": "Reference in the earlier log",
    "raised_by_email": "Email of the person who raised it",
    "stage_started_on": "Date its current stage began (if still open)",
    "formal_reason": "Reasons for escalating formally",
    "evidence": "The evidence",
    "efforts_to_resolve": "Evidence of efforts to resolve it at the earlier stages",
}
# Other names a log's column may have for a field (the page chooses it for the business unit).
ALIASES = {
    "raising_agency": ("Raised by agency", "Raised by", "Raising agency", "From agency", "Agency raising"),
    "with_agency": ("With agency", "Raised with", "Receiving agency", "Agency challenged", "With"),
    "stage_reached": (
        "Stage",
        "Level",
        "Stage reached",
        "Level reached",
        "Highest level",
        "Escalation level",
    ),
    "reference": ("Ref", "Ref.", "Reference", "Ref no", "Log ref", "ID"),
    "closed_on": ("Date closed", "Date resolved", "Closed on"),
    "kind": ("Type", "Kind"),
    "themes": ("Themes", "Theme"),
    "raised_by_email": ("Raised by (email)", "Raiser's email"),
    "formal_reason": ("Why formal",),
    "efforts_to_resolve": ("Efforts", "Efforts to resolve"),
    "area": ("Area of disagreement", "Areas"),
    "stage_started_on": ("Stage began", "Date stage began", "Current stage began"),
    "other_agencies": ("Other agencies", "Also with"),
    "urgency": ("Urgency",),
    "origin": ("Origin", "Source"),
}
# Rule 3: a row still open at a formal stage comes in only with these (``Ladder``'s formal
# answers, and the reasons for escalating formally).
FORMAL_FIELDS = ("formal_reason", "evidence", "efforts_to_resolve")

FieldName = Literal[
    "raising_agency",
    "with_agency",
    "raised_on",
    "closed_on",
    "stage_reached",
    "outcome",
    "kind",
    "origin",
    "urgency",
    "other_agencies",
    "area",
    "themes",
    "summary",
    "reference",
    "raised_by_email",
    "stage_started_on",
    "formal_reason",
    "evidence",
    "efforts_to_resolve",
]
ValueKind = Literal["agency", "stage", "outcome", "kind", "origin", "urgency", "area", "theme"]


class Mapping(BaseModel):
    """Which column of the file holds each of Accord's fields, how the log wrote some values,
    how it wrote dates, and the kind when the log has no such column."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[FieldName, str] = Field(default_factory=dict)
    values: dict[ValueKind, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[Literal["kind"], str] = Field(default_factory=dict)
    # At least one way (the page offers the first as its choice), and a few: every date of
    # every row is tried against each.
    date_formats: list[str] = Field(
        default_factory=lambda: ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"], min_length=1, max_length=10
    )
    themes_separator: str = Field(default=";", min_length=1, max_length=3)

    def value(self, kind: str, raw: str) -> str:
        """The log's value as Accord names it (unchanged when the mapping does not say)."""
        table = {k.strip().casefold(): v for k, v in self.values.get(kind, {}).items()}
        return table.get(raw.strip().casefold(), raw).strip()


class MappingError(ValueError):
    """The mapping itself is wrong (not JSON, unknown field, a column the file lacks)."""


def read_mapping(text: str | bytes) -> Mapping:
    try:
        return Mapping.model_validate_json(text)
    except PydanticError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise MappingError(_("The mapping could not be read: %(problems)s") % {"problems": problems}) from exc


def guess_mapping(columns: list[str], kept: Mapping | None = None) -> Mapping:
    """The columns most likely to hold each field: the kept mapping's, else one named like the
    field (the page's first choices; the command's when it is given no mapping)."""
    kept = kept or Mapping()
    lowered = {c.strip().casefold(): c for c in columns}
    found: dict[str, str] = {}
    for name in FIELDS:
        saved = kept.columns.get(name, "")
        label = FIELD_LABELS[name]
        candidates = (
            saved,
            name,
            name.replace("_", " "),
            label,
            label.split(" (")[0],
            str(_(label)),
            *ALIASES.get(name, ()),
        )
        match = next((lowered[c.casefold()] for c in candidates if c and c.casefold() in lowered), None)
        if match is not None:
            found[name] = match
    return kept.model_copy(update={"columns": found})


@dataclass
class LogRow:
    line: int  # the spreadsheet's own row number (the header is row 1)
    reference: str = ""
    errors: list[str] = field(default_factory=list)
    # Once checked, what it will be in Accord:
    raising_agency_id: int | None = None
    raised_by_id: int | None = None  # the raiser, where the log names them; else "the earlier log"
    with_agency_id: int | None = None
    other_agency_ids: list[int] = field(default_factory=list)
    raised_on: dt.date | None = None
    closed_on: dt.date | None = None
    stage: int | None = None  # its number on the ladder now
    stage_key: str = ""  # the stage's identity (``Stage.key``)
    outcome: str = ""  # an outcome's code, ``WITHDRAWN``, or ``STILL_OPEN``
    kind: str = ""
    origin: str = Origin.PRACTITIONER
    urgency: str = ROUTINE
    area_ids: list[int] = field(default_factory=list)
    theme_ids: list[int] = field(default_factory=list)
    summary: str = ""
    accounts: dict[str, str] = field(default_factory=dict)  # rule 3's, for one open at a formal stage
    # A row still open: its stage's clock, from the day the stage began.
    stage_started_on: dt.date | None = None
    working_days: int | None = None
    due_date: dt.date | None = None
    # A row still open: who will hold its stage once brought in (role and agency, how many),
    # and the agencies of the difference with nobody in the role its stage needs.
    holders: list[StageHolder] = field(default_factory=list)
    nobody: list[NobodyThere] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    described: str = ""  # the row in words for the dry run ("Health with Police, stage 2, resolved")

    @property
    def is_open(self) -> bool:
        return self.outcome == STILL_OPEN

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_date is not None and self.due_date < clock.today()


@dataclass
class LogPlan:
    partnership: Partnership
    filename: str
    rows: list[LogRow]
    file_hash: str
    problems: list[str] = field(default_factory=list)  # about the file as a whole
    batch: EscalationImport | None = None  # once applied

    @property
    def refused(self) -> list[LogRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.refused and not self.problems

    @property
    def still_open(self) -> list[LogRow]:
        """The rows that come in open, at their stage with their due date: listed for the
        business unit to confirm before anything is written."""
        return [r for r in self.rows if r.is_open and not r.errors]

    @property
    def any_unheld_somewhere(self) -> bool:
        """Whether any row still open would come in with nobody at one of its agencies in the
        role its stage needs (held by others, so brought in, but said beside it)."""
        return any(r.warnings for r in self.still_open)

    @property
    def any_overdue(self) -> bool:
        """Whether any row still open would come in already overdue (and so be chased at once)."""
        return any(r.overdue for r in self.still_open)


def file_columns(content: bytes, filename: str) -> list[str]:
    """The file's column names (for the page's mapping choices)."""
    head, _body = read_table(content, filename, most_bytes=MOST_BYTES, most_rows=MOST_ROWS)
    return [h.strip() for h in head if h.strip()]


def file_words(content: bytes, filename: str, partnership: Partnership, mapping: Mapping) -> list[Word]:
    """Each distinct value of the file's mapped columns, with the choice it names or a close
    match (the page lists them, each with a choice beside it)."""
    return words_of(
        content, filename, mapping, vocabulary_of(partnership), most_bytes=MOST_BYTES, most_rows=MOST_ROWS
    )


def _parse_date(raw: str, formats: list[str]) -> dt.date | None:
    raw = raw.strip()
    for fmt in ["%Y-%m-%d", *formats]:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


@dataclass
class _Reading:
    """What every row is checked against, read once for the file."""

    partnership: Partnership
    mapping: Mapping
    at: dict[str, int]  # field → column
    words: Vocabulary
    ladder: Ladder
    already: set[str]  # references brought in before
    today: dt.date
    seen_refs: dict[str, int] = field(default_factory=dict)
    raisers: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # email → (id, agency)
    casework: set[int] = field(default_factory=set)  # the agencies a difference still open may be with
    holding: LogHolders | None = None  # read once, at the first row still open

    def holders(self) -> LogHolders:
        if self.holding is None:
            names = {pk: name for name, pk in self.words.agency_ids.items()}
            self.holding = LogHolders(self.partnership, names)
        return self.holding

    def cell(self, cells: list[str], name: str) -> str:
        i = self.at.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def value(self, kind: str, raw: str) -> str | None:
        """The choice a cell names, through the mapping's words."""
        return self.words.find(kind, self.mapping.value(kind, raw))


def _columns_at(plan: LogPlan, head: list[str], mapping: Mapping) -> dict[str, int]:
    """Where each mapped field's column is, noting a column the file lacks or a required
    field left out as problems of the whole file."""
    header = [h.strip().casefold() for h in head]
    at: dict[str, int] = {}
    for name, column in mapping.columns.items():
        if column.strip().casefold() not in header:
            plan.problems.append(
                _("The file has no column “%(column)s” (for %(field)s)")
                % {"column": column, "field": _(FIELD_LABELS[name]).lower()}
            )
        else:
            at[name] = header.index(column.strip().casefold())
    for name in REQUIRED_FIELDS:
        if name not in mapping.columns:
            plan.problems.append(
                _("Choose the column that holds %(field)s") % {"field": _(FIELD_LABELS[name]).lower()}
            )
    if "kind" not in mapping.columns and mapping.defaults.get("kind") not in Kind.values:
        plan.problems.append(
            _("Choose the column that holds the kind, or say that every row is about a child or a theme")
        )
    earlier = EscalationImport.objects.filter(
        partnership=plan.partnership, file_sha256=plan.file_hash, removed_at__isnull=True
    ).first()
    if earlier is not None:
        plan.problems.append(
            _("This file was brought in on %(date)s: remove that import first to bring it in again")
            % {"date": timezone.localdate(earlier.imported_at).strftime("%-d %B %Y")}
        )
    return at


def plan_log_import(partnership: Partnership, content: bytes, filename: str, mapping: Mapping) -> LogPlan:
    """Check every row of the file against the mapping, the partnership's agencies, ladder and
    taxonomies; change nothing."""
    file_hash = hashlib.sha256(content).hexdigest()
    # (A file of more than MOST_ROWS rows is refused while it is read, before its end.)
    head, body = read_table(content, filename, most_bytes=MOST_BYTES, most_rows=MOST_ROWS)
    plan = LogPlan(partnership=partnership, filename=filename[:200], rows=[], file_hash=file_hash)
    at = _columns_at(plan, head, mapping)
    if plan.problems:
        return plan
    reading = _Reading(
        partnership=partnership,
        mapping=mapping,
        at=at,
        words=vocabulary_of(partnership),
        ladder=ladder_of(partnership),
        already=set(
            Escalation.objects.filter(partnership=partnership, imported_in__removed_at__isnull=True)
            .exclude(imported_reference="")
            .values_list("imported_reference", flat=True)
        ),
        today=clock.today(),
        casework=set(casework_agencies(partnership).values_list("pk", flat=True)),
    )
    if "raised_by_email" in at:
        # Who may be named as a raiser: someone active with a role in the partnership.
        for pk, email, agency_id in (
            User.objects.filter(role_assignments__partnership=partnership, is_active=True)
            .distinct()
            .values_list("pk", "email", "agency_id")
        ):
            reading.raisers[email.strip().casefold()] = (pk, agency_id)
    plan.rows = [_check_row(reading, line, cells) for line, cells in enumerate(body, start=2)]
    if not plan.rows:
        plan.problems.append(_("The file has no rows under its first row"))
    return plan


def _check_row(reading: _Reading, line: int, cells: list[str]) -> LogRow:
    row = LogRow(line=line, reference=reading.cell(cells, "reference"))
    for check in (
        _check_agencies,
        _check_raiser,
        _check_dates,
        _check_stage,
        _check_outcome,
        _check_kind,
        _check_origin_and_priority,
        _check_taxonomies,
        _check_text,
        _check_reference,
        _check_still_open,
        _check_holders,
    ):
        check(reading, row, cells)
    if not row.errors:
        row.described = _describe(reading, row)
    return row


def _agency(reading: _Reading, row: LogRow, raw: str) -> int | None:
    found = reading.value("agency", raw)
    if found is None:
        row.errors.append(
            _("“%(agency)s” is not an agency of %(partnership)s: choose which of its agencies it is")
            % {"agency": raw, "partnership": reading.partnership}
        )
        return None
    return reading.words.agency_ids[found]


def _check_agencies(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    for name, label in (
        ("raising_agency", _("the agency that raised it")),
        ("with_agency", _("the agency it was with")),
    ):
        raw = reading.cell(cells, name)
        found = _agency(reading, row, raw) if raw else None
        if not raw:
            row.errors.append(_("Enter %(what)s") % {"what": label})
        setattr(row, f"{name}_id", found)
    if row.raising_agency_id and row.raising_agency_id == row.with_agency_id:
        row.errors.append(
            _(
                "The agency that raised it and the agency it was with are the same: Accord is for differences between agencies"
            )
        )
    for raw in split_cell(reading.cell(cells, "other_agencies"), True, reading.mapping.themes_separator):
        found = _agency(reading, row, raw)
        if found is not None and found not in (
            row.raising_agency_id,
            row.with_agency_id,
            *row.other_agency_ids,
        ):
            row.other_agency_ids.append(found)


def _check_raiser(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    """The person who raised it, where the log names them: someone of the raising agency who
    works in the partnership (they then see and work it as its raiser)."""
    raw = reading.cell(cells, "raised_by_email")
    if not raw or row.raising_agency_id is None:
        return
    found = reading.raisers.get(raw.casefold())
    if found is None or found[1] != row.raising_agency_id:
        row.errors.append(
            _("%(email)s is not someone of the agency that raised it who works in %(partnership)s")
            % {"email": raw, "partnership": reading.partnership}
        )
        return
    row.raised_by_id = found[0]


def _date(reading: _Reading, row: LogRow, raw: str, label: str) -> dt.date | None:
    value = _parse_date(raw, reading.mapping.date_formats)
    if value is None:
        row.errors.append(_("“%(raw)s” is not a date (the %(what)s)") % {"raw": raw, "what": label})
    elif value > reading.today:
        row.errors.append(_("The %(what)s is in the future") % {"what": label})
    elif value.year < EARLIEST_YEAR:
        row.errors.append(_("The %(what)s is before %(year)s") % {"what": label, "year": EARLIEST_YEAR})
    else:
        return value
    return None


def _check_dates(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    raised, closed = reading.cell(cells, "raised_on"), reading.cell(cells, "closed_on")
    if not raised:
        row.errors.append(_("Enter the date it was raised"))
    row.raised_on = _date(reading, row, raised, _("date raised")) if raised else None
    row.closed_on = _date(reading, row, closed, _("date closed")) if closed else None
    if row.raised_on and row.closed_on and row.closed_on < row.raised_on:
        row.errors.append(_("It was closed before it was raised"))


def _check_stage(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    raw = reading.cell(cells, "stage_reached")
    key = reading.value("stage", raw) if raw else None
    stage = reading.ladder.stage_keyed(key) if key else None
    if stage is not None:
        row.stage, row.stage_key = stage.number, stage.key
    elif raw:
        row.errors.append(
            _(
                "“%(raw)s” is not a stage of %(partnership)s's protocol: use 1 to %(top)s or a stage's name, "
                "or choose which stage it is"
            )
            % {"raw": raw, "partnership": reading.partnership, "top": reading.ladder.top}
        )
    else:
        row.errors.append(_("Enter the highest stage it reached"))


def _check_outcome(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    """An outcome (or withdrawn) with a date closed; a row still open has no date closed, and
    no outcome or one mapped to "still open"."""
    raw = reading.cell(cells, "outcome")
    closed = bool(reading.cell(cells, "closed_on"))
    found = reading.value("outcome", raw) if raw else None
    if raw and found is None:
        row.errors.append(
            _("“%(raw)s” is not an outcome Accord knows: choose which outcome it is, or “still open”")
            % {"raw": raw}
        )
        return
    if found is None or found == STILL_OPEN:
        row.outcome = STILL_OPEN
        if closed:
            row.errors.append(
                _("It has a date closed but no outcome: enter how it ended (or “withdrawn”)")
                if not raw
                else _("Its outcome says it is still open, but it has a date closed")
            )
        return
    row.outcome = found
    if not closed:
        row.errors.append(_("It has an outcome but no date closed: enter the date it closed"))


def _check_kind(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    raw = reading.cell(cells, "kind") if "kind" in reading.at else reading.mapping.defaults.get("kind", "")
    row.kind = (reading.value("kind", raw) or "") if raw else ""
    if not row.kind:
        row.errors.append(
            _("“%(raw)s” is not a kind: choose a child (a case) or a theme") % {"raw": raw}
            if raw
            else _("Enter whether it was about a child or a theme")
        )


def _check_origin_and_priority(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    raw = reading.cell(cells, "origin")
    if raw:
        found = reading.value("origin", raw)
        if found is None:
            row.errors.append(
                _("“%(raw)s” is not a place an escalation comes from: choose which") % {"raw": raw}
            )
        row.origin = found or row.origin
    raw = reading.cell(cells, "urgency")
    if raw:
        found = reading.value("urgency", raw)
        if found is None:
            row.errors.append(
                _("“%(raw)s” is not one of %(partnership)s's priorities: choose which")
                % {"raw": raw, "partnership": reading.partnership}
            )
        row.urgency = found or row.urgency


def _check_taxonomies(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    separator = reading.mapping.themes_separator
    for name, kind, ids, into, words in (
        ("area", "area", reading.words.area_ids, row.area_ids, _("areas of disagreement")),
        ("themes", "theme", reading.words.theme_ids, row.theme_ids, _("practice themes")),
    ):
        for raw in split_cell(reading.cell(cells, name), True, separator):
            found = reading.value(kind, raw)
            if found is None:
                row.errors.append(
                    _("“%(raw)s” is not one of the partnership's %(what)s") % {"raw": raw, "what": words}
                )
            elif ids[found] not in into:
                into.append(ids[found])


def _check_text(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    row.summary = " ".join(reading.cell(cells, "summary").split())
    if len(row.summary) > SUMMARY_MOST:
        row.errors.append(_("The summary must be %(n)s characters or fewer") % {"n": SUMMARY_MOST})
    for name in FORMAL_FIELDS:
        text = reading.cell(cells, name)
        if len(text) > ACCOUNT_MOST:
            row.errors.append(
                _("%(what)s must be %(n)s characters or fewer")
                % {"what": _(FIELD_LABELS[name]), "n": ACCOUNT_MOST}
            )
        elif text:
            row.accounts[name] = text


def _check_reference(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    if len(row.reference) > REFERENCE_MOST:
        row.errors.append(_("The reference must be %(n)s characters or fewer") % {"n": REFERENCE_MOST})
        return
    if not row.reference:
        return
    if row.reference in reading.seen_refs:
        row.errors.append(
            _("Reference %(ref)s is also on row %(line)s")
            % {"ref": row.reference, "line": reading.seen_refs[row.reference]}
        )
    else:
        reading.seen_refs[row.reference] = row.line
    if row.reference in reading.already:
        row.errors.append(_("Reference %(ref)s has already been brought in") % {"ref": row.reference})


def _check_still_open(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    """A row still open comes in at its stage, its clock running from the day the stage began
    (the log's, or the day it was raised), and, at a formal stage, only with what rule 3 asks."""
    if not row.is_open or row.stage is None or row.raised_on is None:
        return
    raw = reading.cell(cells, "stage_started_on")
    began = _date(reading, row, raw, _("date its current stage began")) if raw else row.raised_on
    if began is None:
        return
    if began < row.raised_on:
        row.errors.append(_("Its current stage began before it was raised"))
        return
    # Worked in Accord from now on: with agencies a difference raised here may be with.
    names = {pk: name for name, pk in reading.words.agency_ids.items()}
    outside = [pk for pk in [row.with_agency_id, *row.other_agency_ids] if pk and pk not in reading.casework]
    for pk in outside:
        row.errors.append(
            _(
                "It is still open, and %(agency)s takes no part in casework in %(partnership)s: "
                "choose the agency it is with, or settle it where it stands"
            )
            % {"agency": names[pk], "partnership": reading.partnership}
        )
    if outside:
        return
    if reading.ladder.is_formal(row.stage):
        missing = [str(_(FIELD_LABELS[name])).lower() for name in FORMAL_FIELDS if not row.accounts.get(name)]
        if missing:
            row.errors.append(
                _(
                    "It is still open at stage %(number)s (%(name)s), a formal stage: it comes in only with "
                    "what rule 3 asks, %(missing)s. Choose the columns that hold them, or settle with the "
                    "agencies where it stands"
                )
                % {
                    "number": row.stage,
                    "name": reading.ladder.name_of(row.stage),
                    "missing": ", ".join(missing),
                }
            )
            return
    row.stage_started_on = began
    row.working_days = period_allowance(
        reading.ladder, stage=row.stage, priority=row.urgency, origin=row.origin
    )
    row.due_date = calendar_for(reading.partnership).add_working_days(began, row.working_days)


def _holding_of(holders: LogHolders, row: LogRow) -> RowHolding:
    return holders.of(
        raising_agency_id=row.raising_agency_id,
        with_agency_id=row.with_agency_id,
        other_agency_ids=row.other_agency_ids,
        stage=row.stage,
        raised_by_id=row.raised_by_id,
    )


def unheld_refusal(nobody: list[NobodyThere]) -> str:
    """Why a row still open whose stage nobody would hold is not brought in, and what to do."""
    if not nobody:
        return _(
            "Nobody would see or work it once brought in: add the people who hold its stage first, "
            "then bring the log in."
        )
    said = nobody_said(nobody)
    return _(
        "Nobody would see or work it once brought in. %(nobody)s: add them first, then bring the log in."
    ) % {"nobody": said[:1].upper() + said[1:]}


def _check_holders(reading: _Reading, row: LogRow, cells: list[str]) -> None:
    """A row still open comes in only where someone will hold its stage: see it (rule 7) and
    work it (rule 2), as for a live escalation. Nobody at all: refused, naming the agencies
    and the role to add people in. Nobody at some of its agencies: said beside it."""
    if not row.is_open or row.stage is None or not row.raising_agency_id or not row.with_agency_id:
        return
    if row.raising_agency_id == row.with_agency_id:
        return
    if reading.cell(cells, "raised_by_email") and row.raised_by_id is None:
        return  # its raiser is refused already
    found = _holding_of(reading.holders(), row)
    row.holders, row.nobody = list(found.holders), list(found.nobody)
    if not found.held:
        row.errors.append(unheld_refusal(row.nobody))
    elif row.nobody:
        said = nobody_said(row.nobody)
        row.warnings.append(
            _("%(nobody)s yet: nobody there will see or work it until someone does")
            % {"nobody": said[:1].upper() + said[1:]}
        )


def _describe(reading: _Reading, row: LogRow) -> str:
    names = {pk: name for name, pk in reading.words.agency_ids.items()}
    with_names = ", ".join(names[pk] for pk in [row.with_agency_id, *row.other_agency_ids])
    if row.is_open:
        where = _("still open at stage %(stage)s (%(name)s)") % {
            "stage": row.stage,
            "name": reading.ladder.name_of(row.stage),
        }
    else:
        where = _("stage %(stage)s, %(outcome)s") % {
            "stage": row.stage,
            "outcome": _("withdrawn") if row.outcome == WITHDRAWN else Outcome(row.outcome).label.lower(),
        }
    return _("%(raising)s with %(with)s, %(where)s") % {
        "raising": names[row.raising_agency_id],
        "with": with_names,
        "where": where,
    }


def earlier_log_person(partnership: Partnership) -> User:
    """Who an imported escalation was raised and closed by: no one, "the earlier log", an
    account that cannot sign in (inactive, no password, no role), so it sees nothing."""
    person, created = User.objects.get_or_create(
        username=f"earlier-log.{partnership.slug}",
        defaults={
            "first_name": _("Earlier log"),
            "last_name": f"({partnership.reference_prefix})",
            "is_active": False,
        },
    )
    if created:
        person.set_unusable_password()
        person.save(update_fields=["password"])
    return person


def _moment(day: dt.date) -> dt.datetime:
    """Midday of a day, in the partnership's time zone: the day the log gives, whatever the
    clocks do (only the date is known)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def apply_log_import(
    *, actor: User | None, plan: LogPlan, confirm_open: bool = False, actor_label: str | None = None
) -> EscalationImport:
    """Bring in a plan with no refused row, all at once, or nothing. A closed row comes in as
    a record of the past; a row still open at the stage it reached (on the ladder now), its
    stage's clock running from the day the stage began, worked in Accord from now on: only
    once the business unit has confirmed the rows still open, their stages and due dates, as
    the dry run lists them (``confirm_open``)."""
    require_business_unit(actor, plan.partnership)
    if not plan.ok:
        raise ValidationError(_("Nothing was brought in: correct the rows with problems and try again."))
    if plan.still_open and not confirm_open:
        raise ValidationError(
            _(
                "Nothing was brought in: confirm where each escalation still open will stand, and "
                "when its stage is due, first."
            )
        )
    _refuse_unheld(plan)
    partnership = plan.partnership
    now = clock.now()
    try:
        with transaction.atomic():
            batch = EscalationImport.objects.create(
                partnership=partnership,
                filename=plan.filename,
                file_sha256=plan.file_hash,
                rows=len(plan.rows),
                imported_at=now,
                imported_by=actor,
            )
            writing = _Writing(
                batch=batch,
                actor=actor,
                nobody=earlier_log_person(partnership),
                ladder=ladder_of(partnership),
                version=protocol_version_now(partnership) if plan.still_open else None,
                stages={s.key: s for s in Stage.objects.filter(partnership=partnership)},
                now=now,
                actor_label=actor_label,
            )
            for row in plan.rows:
                _bring_in(writing, plan, row)
            audit_record(
                actor=actor,
                verb=Verb.ESCALATIONS_IMPORTED,
                partnership_id=partnership.pk,
                payload={"file_sha256": plan.file_hash, "rows": len(plan.rows), "import": batch.pk},
                actor_label=actor_label,
            )
    except IntegrityError as exc:  # the same file brought in at the same moment by someone else
        raise ValidationError(_("This file has just been brought in by someone else.")) from exc
    plan.batch = batch
    return batch


def _refuse_unheld(plan: LogPlan) -> None:
    """Asked again as it is brought in (someone's role may have gone since the rows were
    checked): a row still open whose stage nobody would hold is never brought in."""
    if not plan.still_open:
        return
    words = vocabulary_of(plan.partnership)
    holders = LogHolders(plan.partnership, {pk: name for name, pk in words.agency_ids.items()})
    unheld = [row.line for row in plan.still_open if not _holding_of(holders, row).held]
    if unheld:
        raise ValidationError(
            ngettext(
                "Nothing was brought in: nobody would see or work row %(lines)s now. Check every row again.",
                "Nothing was brought in: nobody would see or work rows %(lines)s now. Check every row again.",
                len(unheld),
            )
            % {"lines": ", ".join(str(line) for line in unheld)}
        )


def brought_in_open(*, viewer: User, batch: EscalationImport) -> tuple[list[Escalation], int]:
    """The escalations an import brought in still open that the viewer may open (rule 7: a
    business unit sees one only as a party, a leader of its agencies or the formal body), by
    reference; and how many more it brought in open, which the viewer may not open."""
    still_open = Escalation.objects.filter(imported_in=batch, status__in=OPEN_STATUSES)
    theirs = list(
        still_open.visible_to(viewer).order_by("reference").only("pk", "reference", "stage", "partnership_id")
    )
    return theirs, still_open.count() - len(theirs)


@dataclass
class _Writing:
    batch: EscalationImport
    actor: User | None
    nobody: User
    ladder: Ladder
    version: object | None  # the protocol's version now, for a row still open
    stages: dict[str, Stage]
    now: dt.datetime
    actor_label: str | None = None


def _bring_in(writing: _Writing, plan: LogPlan, row: LogRow) -> Escalation:
    partnership = plan.partnership
    raised_at = _moment(row.raised_on)
    formal = writing.ladder.is_formal(row.stage)
    closed = not row.is_open
    escalation = Escalation.objects.create(
        partnership=partnership,
        reference=f"{partnership.reference_prefix}-L{writing.batch.pk}-{row.line:05d}",
        kind=row.kind,
        # (A log says nothing of whom it was about: the partnership's first, as a raise
        # without one takes, so an adults board's log is about adults.)
        subject=default_subject(partnership.safeguards),
        status=_status(row),
        stage=row.stage,
        highest_stage=row.stage,
        urgency=row.urgency,
        origin=row.origin,
        # When it became formal the log does not say: no later than it was raised is all that
        # is known, and the detail page says so.
        formal_at=raised_at if formal else None,
        formal_reason=row.accounts.get("formal_reason", ""),
        evidence=row.accounts.get("evidence", ""),
        efforts_to_resolve=row.accounts.get("efforts_to_resolve", ""),
        raised_by_id=row.raised_by_id or writing.nobody.pk,
        raising_agency_id=row.raising_agency_id,
        with_agency_id=row.with_agency_id,
        summary=row.summary or _("Brought in from the earlier log"),
        area_of_disagreement_id=row.area_ids[0] if row.area_ids else None,
        raised_at=raised_at,
        stage_started_on=row.raised_on if closed else row.stage_started_on,
        due_date=None if closed else row.due_date,
        closed_at=_moment(row.closed_on) if closed else None,
        resolved_working_days=(
            working_days_to_resolution(partnership, raised_at, _moment(row.closed_on))
            if _status(row) == Status.RESOLVED
            else None
        ),
        # One still open runs under the protocol now; one closed never ran in Accord.
        runs_under=None if closed else writing.version,
        imported_in=writing.batch,
        imported_reference=row.reference,
    )
    if row.theme_ids:
        escalation.themes.set(row.theme_ids)
    if row.area_ids:
        escalation.areas_of_disagreement.set(row.area_ids)
    for agency_id in row.other_agency_ids:
        OtherParty.objects.create(
            escalation=escalation, agency_id=agency_id, added_at=raised_at, added_by=writing.nobody
        )
    escalation.forget_others()
    Event.objects.create(
        escalation=escalation,
        type=EventType.IMPORTED,
        at=writing.now,
        actor=writing.actor or writing.nobody,
        stage=row.stage,
        summary=_("From %(file)s, row %(line)s%(ref)s.")
        % {
            "file": plan.filename,
            "line": row.line,
            "ref": (_(", reference %(ref)s") % {"ref": row.reference}) if row.reference else "",
        },
    )
    tallies.escalation_raised(escalation, row.theme_ids, row.area_ids)
    if closed:
        _resolve(writing, escalation, row)
    else:
        _open_stage(writing, escalation, row)
    return escalation


def _status(row: LogRow) -> str:
    if row.is_open:
        return Status.OPEN
    return Status.WITHDRAWN if row.outcome == WITHDRAWN else Status.RESOLVED


def _resolve(writing: _Writing, escalation: Escalation, row: LogRow) -> None:
    if row.outcome == WITHDRAWN:
        return
    resolution = Resolution.objects.create(
        escalation=escalation,
        outcome=row.outcome,
        agreed_way_forward="",
        child_centred_outcome_achieved="",  # the log does not say: "not recorded"
        stage=row.stage,
        resolved_by=writing.nobody,
        resolved_at=escalation.closed_at,
    )
    tallies.resolution_recorded(resolution, escalation)


def _open_stage(writing: _Writing, escalation: Escalation, row: LogRow) -> None:
    """The stage it stands at, its clock running from the day the stage began: its reminders
    and its escalation onwards run as for any escalation, and its own trail begins with how
    it came (the import's entry, on the escalation)."""
    stage = writing.stages[row.stage_key]
    audit_record(
        actor=writing.actor,
        verb=Verb.ESCALATIONS_IMPORTED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"file_sha256": writing.batch.file_sha256, "rows": 1, "import": writing.batch.pk},
        actor_label=writing.actor_label,
    )
    StagePeriod.objects.create(
        escalation=escalation,
        stage=stage.number,
        stage_key=stage.key,
        stage_name=stage.name,
        formal=stage.is_formal,
        started_on=row.stage_started_on,
        working_days=row.working_days,
        due_date=row.due_date,
    )
    if stage.number > 1:
        # It passed stage 1 in the earlier log, which the protocol allows only after the
        # raiser's manager was consulted (rule 2): that is recorded, as the log's, so the
        # ladder runs on from where it stands.
        Discussion.objects.create(
            escalation=escalation,
            stage=1,
            recorded_by=writing.nobody,
            held_on=row.raised_on,
            with_manager=True,
            note=_(
                "Brought in at stage %(number)s from the earlier log: it had passed stage 1 there, "
                "after the consultation with the raiser's manager the protocol asks for."
            )
            % {"number": stage.number},
        )


def remove_log_import(*, actor: User | None, batch: EscalationImport, actor_label: str | None = None) -> int:
    """Remove every escalation an import brought in, taking back what each counted; the
    import's own row stays, marked removed, as the record that it was. Returns how many."""
    require_business_unit(actor, batch.partnership)
    with transaction.atomic():
        batch = EscalationImport.objects.select_for_update().get(pk=batch.pk)
        if batch.removed_at is not None:
            raise ValidationError(_("That import has already been removed."))
        escalations = list(
            Escalation.objects.filter(imported_in=batch)
            .prefetch_related("themes", "areas_of_disagreement", "resolutions", OTHER_PARTIES)
            .order_by("pk")
        )
        # One brought in open has run in Accord since (stages ended, follow-ups answered):
        # recounted from the records once it is gone, so nothing it counted stays.
        worked = any(e.runs_under_id is not None for e in escalations)
        for escalation in escalations:
            if not worked:
                tallies.escalation_removed(
                    escalation,
                    [t.pk for t in escalation.themes.all()],
                    list(escalation.resolutions.all()),
                    [a.pk for a in escalation.areas_of_disagreement.all()],
                )
            notifications_about([escalation.pk]).delete()
            escalation.delete()
        removed = len(escalations)
        if worked:
            tallies.rebuild(batch.partnership_id)
        batch.removed_at, batch.removed_by = clock.now(), actor
        batch.save(update_fields=["removed_at", "removed_by"])
        audit_record(
            actor=actor,
            verb=Verb.ESCALATION_IMPORT_REMOVED,
            partnership_id=batch.partnership_id,
            payload={"file_sha256": batch.file_sha256, "rows": removed, "import": batch.pk},
            actor_label=actor_label,
        )
    return removed
