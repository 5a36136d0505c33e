"""The business unit's imports, as its pages make them: the earlier log of escalations and
people in bulk. Each is checked first (``dry_run``, the default) and answered row by row,
with the file's own words that need a choice (each with the one it names exactly or the
closest); applied only when asked, with the same refusals as the pages. Only the
partnership's business unit, refused by the services themselves."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from accord.core.errors import NotAllowed
from accord.core.spreadsheets import SpreadsheetError
from accord.escalations.services.importing import (
    LogPlan,
    Mapping,
    apply_log_import,
    brought_in_open,
    file_columns,
    file_words,
    guess_mapping,
    plan_log_import,
)
from accord.partnership.services.common import require_business_unit
from accord.partnership.services.invitations import invite
from accord.partnership.services.people_import import ImportFileError, apply_import, plan_import

from .app import STANDARD_ERRORS, problem
from .common import named_partnership

router = Router()


class FileIn(Schema):
    filename: str = Field(max_length=200, description="The file's name: its ending says CSV or XLSX.")
    content_base64: str = Field(description="The file's bytes, base64-encoded.")
    dry_run: bool = Field(True, description="Check every row and change nothing (the default).")


class LogImportIn(FileIn):
    mapping: Mapping | None = Field(
        None,
        description="Columns and words, as manage.py import_escalations takes; else chosen by the columns' names.",
    )
    confirm_open: bool = Field(
        False, description="Bring in the rows still open at the stages and due dates a dry run listed."
    )


class PeopleImportIn(FileIn):
    words: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='The file\'s own words confirmed: {"agency": {"Royal Devon": "…"}, "role": {"Safeguarding lead": "manager"}}.',
    )
    invite: bool = Field(False, description="Email each person added an invitation to set their password.")


class HolderOut(Schema):
    agency: str = Field(description="The agency (or the formal body) whose people will hold the stage.")
    role: str = Field(description="The role they hold it in.")
    people: int = Field(description="How many of them.")


class NobodyOut(Schema):
    agency: str
    role: str = Field(description="The role its stage needs there, which nobody there holds.")


class LogRowOut(Schema):
    line: int
    reference: str
    errors: list[str]
    described: str
    still_open: bool
    stage: int | None
    stage_key: str
    stage_started_on: dt.date | None
    due_date: dt.date | None
    holders: list[HolderOut] = Field(
        description="A row still open: who will see it and work its stage once brought in, by role and "
        "agency (none: it is refused, and its errors say whom to add first)."
    )
    nobody: list[NobodyOut] = Field(
        description="A row still open: the agencies of the difference with nobody in the role its stage needs."
    )
    warnings: list[str]


class OpenOut(Schema):
    id: int
    reference: str
    stage: int


class LogImportOut(Schema):
    ok: bool
    problems: list[str]
    rows: list[LogRowOut]
    words: list[dict[str, Any]]
    imported: int | None = Field(None, description="The import's number, once brought in.")
    open_escalations: list[OpenOut] = Field(
        default_factory=list,
        description="Once brought in: those still open that the caller may open (rule 7).",
    )


class PersonRowOut(Schema):
    line: int
    email: str
    errors: list[str]
    action: str
    changes: list[str]


class PeopleImportOut(Schema):
    ok: bool
    rows: list[PersonRowOut]
    words: list[dict[str, Any]]
    counts: dict[str, int]
    applied: bool
    invited: int = 0


def _answer(schema: type[Schema], status: int, body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(schema(**body).model_dump(mode="json"), status=status)


def _content(body: FileIn) -> bytes:
    try:
        return base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HttpError(400, "content_base64 is not base64.") from None


def _log_out(plan: LogPlan, words: list, imported: int | None = None) -> dict[str, Any]:
    return {
        "ok": plan.ok,
        "problems": plan.problems,
        "rows": [
            {
                "line": r.line,
                "reference": r.reference,
                "errors": r.errors,
                "described": r.described,
                "still_open": r.is_open and not r.errors,
                "stage": r.stage,
                "stage_key": r.stage_key,
                "stage_started_on": r.stage_started_on,
                "due_date": r.due_date,
                "holders": [{"agency": h.agency, "role": h.role, "people": h.people} for h in r.holders],
                "nobody": [{"agency": n.agency, "role": n.role} for n in r.nobody],
                "warnings": r.warnings,
            }
            for r in plan.rows
        ],
        "words": [
            {"field": w.field, "kind": w.kind, "raw": w.raw, "exact": w.exact, "suggested": w.suggested}
            for w in words
        ],
        "imported": imported,
    }


@router.post(
    "/imports/escalations",
    response={200: LogImportOut, 201: LogImportOut, **STANDARD_ERRORS},
    summary="Check, or bring in, the partnership's earlier log of escalations",
)
def import_escalations(request, body: LogImportIn, partnership: str | None = None):
    p = named_partnership(request, partnership)
    require_business_unit(request.user, p)
    content = _content(body)
    try:
        mapping = body.mapping or guess_mapping(file_columns(content, body.filename))
        plan = plan_log_import(p, content, body.filename, mapping)
        words = file_words(content, body.filename, p, mapping)
    except SpreadsheetError as unread:
        raise HttpError(400, str(unread)) from unread
    if body.dry_run:
        return _log_out(plan, words)
    try:
        batch = apply_log_import(actor=request.user, plan=plan, confirm_open=body.confirm_open)
    except ValidationError as refused:
        # (problem+json, as every refusal: the rows and words beside it, as a dry run gives them)
        out = {**_log_out(plan, words), "problems": [*plan.problems, *refused.messages]}
        return problem(422, "Nothing was brought in", " ".join(refused.messages), **out)
    theirs, _others = brought_in_open(viewer=request.user, batch=batch)
    out = _log_out(plan, words, batch.pk) | {
        "open_escalations": [{"id": e.pk, "reference": e.reference, "stage": e.stage} for e in theirs]
    }
    return _answer(LogImportOut, 201, out)


@router.post(
    "/imports/people",
    response={200: PeopleImportOut, 201: PeopleImportOut, **STANDARD_ERRORS},
    summary="Check, or apply, a spreadsheet of the partnership's people",
)
def import_people(request, body: PeopleImportIn, partnership: str | None = None):
    p = named_partnership(request, partnership)
    require_business_unit(request.user, p)
    try:
        plan = plan_import(p, _content(body), body.filename, body.words)
    except ImportFileError as unread:
        raise HttpError(400, str(unread)) from unread
    out = {
        "ok": plan.ok,
        "rows": [
            {"line": r.line, "email": r.email, "errors": r.errors, "action": r.action, "changes": r.changes}
            for r in plan.rows
        ],
        "words": [{"kind": w.kind, "raw": w.raw, "suggested": w.suggested} for w in plan.words],
        "counts": {action: plan.count(action) for action in ("create", "update", "unchanged")},
        "applied": False,
    }
    if body.dry_run:
        return out
    try:
        apply_import(actor=request.user, plan=plan)
    except ValidationError:
        return problem(422, "Nothing was imported", "Correct the rows with problems and try again.", **out)
    invited = 0
    for person in plan.created if body.invite else ():
        try:
            invite(actor=request.user, person=person, partnership=p)
        except (ValidationError, NotAllowed):
            continue  # (applied all the same: the page can invite them later)
        invited += 1
    return _answer(PeopleImportOut, 201, {**out, "applied": True, "invited": invited})
