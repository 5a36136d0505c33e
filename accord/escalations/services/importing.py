"""A partnership's earlier log brought in: the "challenge log" spreadsheet most partnerships
kept before Accord, one past escalation a row, so that the reports' trends start from the
partnership's real history and not from zero.

The business unit maps the file's columns to Accord's fields (and, where the log wrote
them its own way, its values to Accord's: "CSC" for an agency's name, "Resolved" for an
outcome), sees every row checked in plain words with nothing changed (a dry run), then
brings the whole file in at once, or nothing of it. The page and ``manage.py
import_escalations`` both call these. The mapping is a small JSON document (``Mapping``,
checked by pydantic); the page builds one from its choices.

What an imported escalation is: closed (resolved with its outcome, or withdrawn), at the
stage it reached, between the agencies named, with its kind, area and themes where the log
gives them, marked as imported with the log's own reference, its raiser "the earlier log"
(no one: nobody sees it as its raiser). It counts in the reports' tallies as any other, on
the day it was raised and the day it closed; no stage was timed in Accord, so it adds
nothing to the timeliness figures. Rule 7 decides who sees it, as for every escalation: the
parties' managers and leaders by the stage it reached, the formal body if it reached a
formal stage. It sends no notification, sets no reminder, asks no follow-up and cannot be
reopened. One audit entry records the import with the file's hash; the whole batch can be
removed, which takes back everything it counted.
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
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.spreadsheets import read_table
from accord.partnership.models import AreaOfDisagreement, Partnership, PracticeTheme, User
from accord.partnership.protocol import ladder_of
from accord.partnership.selectors import partnership_agencies
from accord.partnership.services.common import require_business_unit

from .. import tallies
from ..models import Escalation, EscalationImport, Event, EventType, Kind, Outcome, Resolution, Status
from ..notices import notifications_about

MOST_BYTES = 5 * 1024 * 1024
MOST_ROWS = 5000
SUMMARY_MOST = 200
REFERENCE_MOST = 60
EARLIEST_YEAR = 2000  # an older date in a safeguarding partnership's log is a slip
WITHDRAWN = "withdrawn"  # the outcome of a row withdrawn rather than resolved

# Accord's fields a column can be mapped to: the first six are required (kind may instead
# be given once for the whole file, in the mapping's ``defaults``).
REQUIRED_FIELDS = ("raising_agency", "with_agency", "raised_on", "closed_on", "stage_reached", "outcome")
OPTIONAL_FIELDS = ("kind", "area", "themes", "summary", "reference")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
FIELD_LABELS = {
    "raising_agency": "Agency that raised it",
    "with_agency": "Agency it was with",
    "raised_on": "Date raised",
    "closed_on": "Date closed",
    "stage_reached": "Highest stage reached",
    "outcome": "Outcome",
    "kind": "Kind (a child, or a theme)",
    "area": "Area of disagreement",
    "themes": "Practice themes",
    "summary": "Summary",
    "reference": "Reference in the earlier log",
}

FieldName = Literal[
    "raising_agency",
    "with_agency",
    "raised_on",
    "closed_on",
    "stage_reached",
    "outcome",
    "kind",
    "area",
    "themes",
    "summary",
    "reference",
]
ValueKind = Literal["agency", "outcome", "kind", "stage", "area", "theme"]


class Mapping(BaseModel):
    """Which column of the file holds each of Accord's fields, how the log wrote some values,
    how it wrote dates, and the kind when the log has no such column."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[FieldName, str] = Field(default_factory=dict)
    values: dict[ValueKind, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[Literal["kind"], str] = Field(default_factory=dict)
    date_formats: list[str] = Field(default_factory=lambda: ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"])
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


@dataclass
class LogRow:
    line: int  # the spreadsheet's own row number (the header is row 1)
    reference: str = ""
    errors: list[str] = field(default_factory=list)
    # Once checked, what it will be in Accord:
    raising_agency_id: int | None = None
    with_agency_id: int | None = None
    raised_on: dt.date | None = None
    closed_on: dt.date | None = None
    stage: int | None = None
    outcome: str = ""
    kind: str = ""
    area_id: int | None = None
    theme_ids: list[int] = field(default_factory=list)
    summary: str = ""
    described: str = ""  # the row in words for the dry run ("Health with Police, stage 2, resolved")


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


def file_columns(content: bytes, filename: str) -> list[str]:
    """The file's column names (for the page's mapping choices)."""
    head, _body = read_table(content, filename, most_bytes=MOST_BYTES, most_rows=MOST_ROWS)
    return [h.strip() for h in head if h.strip()]


def _parse_date(raw: str, formats: list[str]) -> dt.date | None:
    raw = raw.strip()
    for fmt in ["%Y-%m-%d", *formats]:
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _by_name(pairs) -> dict[str, int]:
    """Names and codes, without case, to ids."""
    found: dict[str, int] = {}
    for pk, *names in pairs:
        for name in names:
            if name:
                found.setdefault(str(name).strip().casefold(), pk)
    return found


def plan_log_import(partnership: Partnership, content: bytes, filename: str, mapping: Mapping) -> LogPlan:
    """Check every row of the file against the mapping, the partnership's agencies, ladder and
    taxonomies; change nothing."""
    file_hash = hashlib.sha256(content).hexdigest()
    # (A file of more than MOST_ROWS rows is refused while it is read, before its end.)
    head, body = read_table(content, filename, most_bytes=MOST_BYTES, most_rows=MOST_ROWS)
    header = [h.strip().casefold() for h in head]
    plan = LogPlan(partnership=partnership, filename=filename[:200], rows=[], file_hash=file_hash)
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
        partnership=partnership, file_sha256=file_hash, removed_at__isnull=True
    ).first()
    if earlier is not None:
        plan.problems.append(
            _("This file was brought in on %(date)s: remove that import first to bring it in again")
            % {"date": timezone.localdate(earlier.imported_at).strftime("%-d %B %Y")}
        )
    if plan.problems:
        return plan

    agencies = _by_name(partnership_agencies(partnership).values_list("pk", "name"))
    agency_names = dict(partnership_agencies(partnership).values_list("pk", "name"))
    areas = _by_name(
        AreaOfDisagreement.objects.filter(partnership=partnership).values_list("pk", "code", "label")
    )
    themes = _by_name(
        PracticeTheme.objects.filter(partnership=partnership).values_list("pk", "code", "label")
    )
    ladder = ladder_of(partnership)
    stages = {str(s.number): s.number for s in ladder.stages}
    stages |= {f"stage {s.number}": s.number for s in ladder.stages}
    stages |= {s.name.strip().casefold(): s.number for s in ladder.stages}
    outcomes = {code: code for code in [*Outcome.values, WITHDRAWN]}
    outcomes |= {str(label).casefold(): code for code, label in Outcome.choices}
    outcomes |= {"withdrawn": WITHDRAWN}
    kinds = {"case": Kind.CASE, "theme": Kind.THEME, "child": Kind.CASE, "a child": Kind.CASE}
    kinds |= {str(label).split(":")[0].strip().casefold(): code for code, label in Kind.choices}
    already = set(
        Escalation.objects.filter(partnership=partnership, imported_in__removed_at__isnull=True)
        .exclude(imported_reference="")
        .values_list("imported_reference", flat=True)
    )
    today = clock.today()
    seen_refs: dict[str, int] = {}

    for line, cells in enumerate(body, start=2):

        def cell(name: str, cells=cells) -> str:
            i = at.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        row = LogRow(line=line, reference=cell("reference"))
        fail = row.errors.append

        def agency(name: str, label: str, row=row, fail=fail, cell=cell) -> int | None:
            raw = cell(name)
            if not raw:
                fail(_("Enter %(what)s") % {"what": label})
                return None
            found = agencies.get(mapping.value("agency", raw).casefold())
            if found is None:
                fail(
                    _("“%(agency)s” is not an agency of %(partnership)s")
                    % {"agency": raw, "partnership": partnership}
                )
            return found

        row.raising_agency_id = agency("raising_agency", _("the agency that raised it"))
        row.with_agency_id = agency("with_agency", _("the agency it was with"))
        if row.raising_agency_id and row.raising_agency_id == row.with_agency_id:
            fail(
                _(
                    "The agency that raised it and the agency it was with are the same: Accord is for differences between agencies"
                )
            )

        for name, label in (("raised_on", _("date raised")), ("closed_on", _("date closed"))):
            raw = cell(name)
            value = _parse_date(raw, mapping.date_formats) if raw else None
            if not raw:
                fail(
                    _(
                        "Enter the date it was closed: a difference still open is raised in Accord, so that its stages run"
                    )
                    if name == "closed_on"
                    else _("Enter the date it was raised")
                )
            elif value is None:
                fail(_("“%(raw)s” is not a date (the %(what)s)") % {"raw": raw, "what": label})
            elif value > today:
                fail(_("The %(what)s is in the future") % {"what": label})
            elif value.year < EARLIEST_YEAR:
                fail(_("The %(what)s is before %(year)s") % {"what": label, "year": EARLIEST_YEAR})
            setattr(row, name, value)
        if row.raised_on and row.closed_on and row.closed_on < row.raised_on:
            fail(_("It was closed before it was raised"))

        raw = cell("stage_reached")
        row.stage = stages.get(mapping.value("stage", raw).casefold()) if raw else None
        if row.stage is None:
            fail(
                _(
                    "“%(raw)s” is not a stage of %(partnership)s's protocol: use 1 to %(top)s or a stage's name"
                )
                % {"raw": raw, "partnership": partnership, "top": ladder.top}
                if raw
                else _("Enter the highest stage it reached")
            )

        raw = cell("outcome")
        row.outcome = outcomes.get(mapping.value("outcome", raw).casefold(), "") if raw else ""
        if not row.outcome:
            fail(
                _("“%(raw)s” is not an outcome Accord knows: use %(valid)s, or map it")
                % {"raw": raw, "valid": ", ".join([*Outcome.values, WITHDRAWN])}
                if raw
                else _("Enter the outcome (or “withdrawn”)")
            )

        raw = cell("kind") if "kind" in at else mapping.defaults.get("kind", "")
        row.kind = kinds.get(mapping.value("kind", raw).casefold(), "") if raw else ""
        if not row.kind:
            fail(
                _("“%(raw)s” is not a kind: use “case” (a child) or “theme”, or map it") % {"raw": raw}
                if raw
                else _("Enter whether it was about a child or a theme")
            )

        raw = cell("area")
        if raw:
            row.area_id = areas.get(mapping.value("area", raw).casefold())
            if row.area_id is None:
                fail(_("“%(raw)s” is not one of the partnership's areas of disagreement") % {"raw": raw})
        for raw_theme in [t for t in cell("themes").split(mapping.themes_separator) if t.strip()]:
            found = themes.get(mapping.value("theme", raw_theme).casefold())
            if found is None:
                fail(
                    _("“%(raw)s” is not one of the partnership's practice themes")
                    % {"raw": raw_theme.strip()}
                )
            elif found not in row.theme_ids:
                row.theme_ids.append(found)

        row.summary = " ".join(cell("summary").split())
        if len(row.summary) > SUMMARY_MOST:
            fail(_("The summary must be %(n)s characters or fewer") % {"n": SUMMARY_MOST})
        if len(row.reference) > REFERENCE_MOST:
            fail(_("The reference must be %(n)s characters or fewer") % {"n": REFERENCE_MOST})
        elif row.reference:
            if row.reference in seen_refs:
                fail(
                    _("Reference %(ref)s is also on row %(line)s")
                    % {"ref": row.reference, "line": seen_refs[row.reference]}
                )
            else:
                seen_refs[row.reference] = line
            if row.reference in already:
                fail(_("Reference %(ref)s has already been brought in") % {"ref": row.reference})
        if not row.errors:
            row.described = _("%(raising)s with %(with)s, stage %(stage)s, %(outcome)s") % {
                "raising": agency_names[row.raising_agency_id],
                "with": agency_names[row.with_agency_id],
                "stage": row.stage,
                "outcome": _("withdrawn") if row.outcome == WITHDRAWN else Outcome(row.outcome).label.lower(),
            }
        plan.rows.append(row)
    if not plan.rows:
        plan.problems.append(_("The file has no rows under its first row"))
    return plan


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
    *, actor: User | None, plan: LogPlan, actor_label: str | None = None
) -> EscalationImport:
    """Bring in a plan with no refused row, all at once, or nothing."""
    require_business_unit(actor, plan.partnership)
    if not plan.ok:
        raise ValidationError(_("Nothing was brought in: correct the rows with problems and try again."))
    partnership = plan.partnership
    ladder = ladder_of(partnership)
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
            nobody = earlier_log_person(partnership)
            for row in plan.rows:
                raised_at, closed_at = _moment(row.raised_on), _moment(row.closed_on)
                formal = ladder.formal_from is not None and row.stage >= ladder.formal_from
                escalation = Escalation.objects.create(
                    partnership=partnership,
                    reference=f"{partnership.reference_prefix}-L{batch.pk}-{row.line:05d}",
                    kind=row.kind,
                    status=Status.WITHDRAWN if row.outcome == WITHDRAWN else Status.RESOLVED,
                    stage=row.stage,
                    highest_stage=row.stage,
                    # When it became formal the log does not say: no later than it was raised
                    # is all that is known, and the detail page says so.
                    formal_at=raised_at if formal else None,
                    raised_by=nobody,
                    raising_agency_id=row.raising_agency_id,
                    with_agency_id=row.with_agency_id,
                    summary=row.summary or _("Brought in from the earlier log"),
                    decision_challenged="",
                    concern="",
                    evidence="",
                    tried_so_far="",
                    desired_outcome="",
                    area_of_disagreement_id=row.area_id,
                    raised_at=raised_at,
                    stage_started_on=row.raised_on,
                    due_date=None,
                    closed_at=closed_at,
                    imported_in=batch,
                    imported_reference=row.reference,
                )
                if row.theme_ids:
                    escalation.themes.set(row.theme_ids)
                Event.objects.create(
                    escalation=escalation,
                    type=EventType.IMPORTED,
                    at=now,
                    actor=actor or nobody,
                    stage=row.stage,
                    summary=_("From %(file)s, row %(line)s%(ref)s.")
                    % {
                        "file": plan.filename,
                        "line": row.line,
                        "ref": (_(", reference %(ref)s") % {"ref": row.reference}) if row.reference else "",
                    },
                )
                tallies.escalation_raised(escalation, row.theme_ids)
                if row.outcome != WITHDRAWN:
                    resolution = Resolution.objects.create(
                        escalation=escalation,
                        outcome=row.outcome,
                        agreed_way_forward="",
                        child_centred_outcome_achieved="",  # the log does not say: "not recorded"
                        stage=row.stage,
                        resolved_by=nobody,
                        resolved_at=closed_at,
                    )
                    tallies.resolution_recorded(resolution, escalation)
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


def remove_log_import(*, actor: User | None, batch: EscalationImport, actor_label: str | None = None) -> int:
    """Remove every escalation an import brought in, taking back what each counted; the
    import's own row stays, marked removed, as the record that it was. Returns how many."""
    require_business_unit(actor, batch.partnership)
    with transaction.atomic():
        batch = EscalationImport.objects.select_for_update().get(pk=batch.pk)
        if batch.removed_at is not None:
            raise ValidationError(_("That import has already been removed."))
        removed = 0
        for escalation in (
            Escalation.objects.filter(imported_in=batch)
            .prefetch_related("themes", "resolutions")
            .order_by("pk")
        ):
            tallies.escalation_removed(
                escalation, [t.pk for t in escalation.themes.all()], list(escalation.resolutions.all())
            )
            notifications_about([escalation.pk]).delete()  # (none is sent for one brought in)
            escalation.delete()
            removed += 1
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
