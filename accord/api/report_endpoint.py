"""The PDG standing item's figures as JSON: the full figures for the PDG and the business unit,
the executive's suppressed as ``reports.disclosure`` says."""

from __future__ import annotations

import json
from typing import Any

from django.http import JsonResponse
from ninja import Query, Router
from ninja.errors import HttpError

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.partnership.roles import FULL_REPORT_ROLES, REPORT_ROLES
from accord.partnership.selectors import user_roles
from accord.reports.disclosure import WITHHELD_SYMBOL, small
from accord.reports.disclosure import key as disclosure_key
from accord.reports.selectors import Period, pdg_figures, shown_figures
from accord.reports.views import default_period

from . import schemas as s
from .app import STANDARD_ERRORS
from .common import named_partnership

# ------------------------------------------------------------------ reports

router = Router()


class PdgReportQuery(s.InSchema):
    from_: s.dt.date | None = s.Field(None, alias="from")
    to: s.dt.date | None = None
    partnership: str | None = s.Field(None, max_length=50)


@router.get(
    "/reports/pdg",
    response={200: dict, **STANDARD_ERRORS},
    summary="The formal body's standing-item figures (aggregates only)",
)
def pdg_report(request, q: Query[PdgReportQuery]):
    p = named_partnership(request, q.partnership)
    roles = user_roles(request.user, p.pk)
    if not roles & REPORT_ROLES:
        raise HttpError(403, "Your role does not see the partnership's reports.")
    period = default_period(p)
    period = Period(q.from_ or period.start, q.to or period.end)
    if period.start > period.end:
        raise HttpError(400, "'from' must be on or before 'to'.")
    if period.days > 3700:
        raise HttpError(400, "The period can be at most ten years.")
    figures = pdg_figures(p, period)
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=p.pk,
        payload={"report": "pdg", "api": True, "from": str(period.start), "to": str(period.end)},
    )
    full = bool(roles & FULL_REPORT_ROLES)
    body: dict[str, Any] = shown_figures(figures, full=full)
    body["matrix"] = {f"{a} -> {b}": n for (a, b), n in body["matrix"].items()}
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
