"""The PDG standing item's figures as JSON: the full figures for the PDG and the business unit,
the executive's suppressed as ``reports.disclosure`` says."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import JsonResponse
from ninja import Query, Router
from ninja.errors import HttpError
from pydantic import field_validator

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.escalations.services.learning import learning_publish
from accord.partnership.selectors import user_roles
from accord.reports.disclosure import WITHHELD_SYMBOL, small
from accord.reports.disclosure import key as disclosure_key
from accord.reports.periods import PeriodNotAllowed, asked_period, default_for, require_allowed
from accord.reports.policies import Report, report_reading
from accord.reports.selectors import API_FIGURES, learning_by_theme
from accord.reports.views import default_period, figures_for_reader

from . import schemas as s
from .app import STANDARD_ERRORS
from .common import named_partnership

# ------------------------------------------------------------------ reports

router = Router()


class PdgReportQuery(s.InSchema):
    from_: s.dt.date | None = s.Field(None, alias="from")
    to: s.dt.date | None = None
    partnership: str | None = s.Field(None, max_length=50)

    @field_validator("from_", "to")
    @classmethod
    def _within_reason(cls, value: dt.date | None) -> dt.date | None:
        """Dates the pages take (1900 to 2099): a reporting year around 9999-12-31 or
        0001-01-01 is past the calendar's ends, and the answer would be a server's error."""
        if value is not None and not 1900 <= value.year <= 2099:
            raise ValueError("must be a date from 1900 to 2099")
        return value


@router.get(
    "/reports/pdg",
    response={200: dict, **STANDARD_ERRORS},
    summary="The formal body's standing-item figures (aggregates only)",
)
def pdg_report(request, q: Query[PdgReportQuery]):
    p = named_partnership(request, q.partnership)
    reading = report_reading(user_roles(request.user, p.pk), Report.STANDING_ITEM)
    if reading is None:
        raise HttpError(403, "Your role does not see the partnership's reports.")
    full = reading.full
    default = default_for(p, default_period(p), full=full)
    period = asked_period(p, q.from_, q.to, default, full=full)
    if period.start > period.end:
        raise HttpError(400, "'from' must be on or before 'to'.")
    if period.days > 3700:
        raise HttpError(400, "The period can be at most ten years.")
    try:  # a reader who sees small counts hidden reads whole reporting years (``reports.periods``)
        period = require_allowed(p, period, full=full)
    except PeriodNotAllowed as refused:
        raise HttpError(422, str(refused)) from None
    # For a reader who sees small counts hidden, the year's protected set: the same cells hidden
    # as on the page, in its CSV and PDF and in the annual report (``views.figures_for_reader``).
    figures, shown = figures_for_reader(p, period, full=full)
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=p.pk,
        payload={"report": "pdg", "api": True, "from": str(period.start), "to": str(period.end)},
    )
    body: dict[str, Any] = {name: shown[name] for name in API_FIGURES}
    body["matrix"] = {f"{a} -> {b}": n for (a, b), n in body["matrix"].items()}
    # The first day anything was counted: before it, figures are not known (not 0).
    body["records_begin"] = figures.records_begin.isoformat() if figures.records_begin else None
    if full:
        body.update(
            timeliness=figures.timeliness,
            low_challenge=[vars(sig) for sig in figures.low_challenge],
            iru=figures.iru,
            trend=figures.trend,
        )
    else:
        # What a count shown as text means: "fewer than N" is a count from 1 to N - 1, "[c]" a
        # count withheld to protect another (``reports.disclosure``).
        body["disclosure"] = {
            "threshold": figures.threshold,
            "small": str(small(figures.threshold)),
            "withheld": WITHHELD_SYMBOL,
            "key": disclosure_key(figures.threshold),
        }
    body["from"], body["to"] = period.start, period.end
    return JsonResponse(json.loads(json.dumps(body, default=str)))


class LearningPublishIn(s.InSchema):
    partnership: str | None = s.Field(None, max_length=50)


@router.get(
    "/reports/learning",
    response={200: list[dict], **STANDARD_ERRORS},
    summary=(
        "Learning for the partnership in words, from every stage, by practice theme and area "
        "(the formal body and the business unit; never a child's details)"
    ),
)
def learning_report(request, q: Query[PdgReportQuery]):
    p = named_partnership(request, q.partnership)
    if report_reading(user_roles(request.user, p.pk), Report.LEARNING) is None:
        raise HttpError(403, "Your role does not read the partnership's learning.")
    period = asked_period(
        p, q.from_, q.to, default_period(p), full=True
    )  # read by those who see every figure
    if period.start > period.end:
        raise HttpError(400, "'from' must be on or before 'to'.")
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=p.pk,
        payload={"report": "learning", "api": True, "from": str(period.start), "to": str(period.end)},
    )
    return [
        {
            "theme": group.theme,
            "areas": [
                {
                    "area": area,
                    "learning": [
                        {
                            "id": n.pk,
                            "text": n.text,
                            "stage": n.stage,
                            "recorded_with": n.recorded_with,
                            "written_on": str(n.written_on),
                            "fit_to_publish": n.published,
                            "reference": n.reference or None,
                        }
                        for n in notes
                    ],
                }
                for area, notes in group.areas
            ],
        }
        for group in learning_by_theme(p, period, request.user)
    ]


@router.post(
    "/learning/{learning_id}/publish",
    response={200: dict, **STANDARD_ERRORS},
    summary="Mark learning fit to publish in the annual report (the formal body's chair)",
)
def learning_fit_to_publish(request, learning_id: int, payload: LearningPublishIn):
    p = named_partnership(request, payload.partnership)
    learning = learning_publish(actor=request.user, partnership=p, learning_id=learning_id)
    return {"id": learning.pk, "fit_to_publish": True, "published_at": learning.published_at.isoformat()}
