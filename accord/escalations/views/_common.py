"""What the escalation pages share: the partnership worked in, the escalation within rule 7, the
raiser's right to raise, and the audit of a page that shows an escalation."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotFound

from ..models import Escalation
from ..policies import (
    can_raise_in,
)
from ..selectors import escalation_get

logger = logging.getLogger("accord.escalations")

# --------------------------------------------------------------------------- helpers


def _partnership(request: HttpRequest):
    if request.partnership is None:
        raise PermissionDenied
    return request.partnership


def _get(request: HttpRequest, pk: int) -> Escalation:
    try:
        return escalation_get(user=request.user, pk=pk, partnership=_partnership(request))
    except NotFound:
        raise Http404 from None


def _require_raiser(request: HttpRequest):
    partnership = _partnership(request)
    if not can_raise_in(request.user, partnership.pk):
        raise PermissionDenied
    return partnership


def _audit_read(request: HttpRequest, escalation: Escalation, page: str) -> None:
    """A page that shows an escalation's summary or discussions is a read of it."""
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference, "page": page},
    )
