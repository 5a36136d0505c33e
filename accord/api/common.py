"""What every endpoint asks first: the partnership named (or the only one), the escalation
within rule 7, the version in If-Match."""

from __future__ import annotations

import re

from django.http import HttpRequest
from ninja.errors import HttpError

from accord.escalations.models import Escalation
from accord.escalations.selectors import (
    escalation_get,
)
from accord.partnership.models import Partnership
from accord.partnership.selectors import PARTNERSHIP_PARAMETER, partnership_of, roles_by_partnership

# ------------------------------------------------------------------ helpers


def named_partnership(request: HttpRequest, slug: str | None) -> Partnership:
    # The partnerships read with the user's roles: no statement of their own.
    mine = [partnership_of(request.user, pk) for pk in roles_by_partnership(request.user)]
    if slug:
        for p in mine:
            if p.slug == slug:
                return p
        raise HttpError(404, "No such partnership, or you have no role in it.")
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise HttpError(403, "You have no role in any partnership.")
    raise HttpError(400, "You work in several partnerships: name one with 'partnership'.")


def if_match_version(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if not match:
        raise HttpError(400, 'If-Match must be the escalation\'s version, e.g. "3".')
    return int(match.group(1))


def visible_escalation(
    request: HttpRequest, escalation_id: int, partnership: str | None = None
) -> Escalation:
    """The escalation within rule 7, in the partnership the request names (``?partnership=``),
    as a page finds it only in the partnership being worked in: one of the user's other
    partnerships' escalations is not found there (404, audited), whatever its id. A request
    naming none finds it in whichever of the user's partnerships it is in, as a link in an
    email about it switches a page to that partnership."""
    slug = partnership or request.GET.get(PARTNERSHIP_PARAMETER) or None
    within = named_partnership(request, slug) if slug else None
    return escalation_get(user=request.user, pk=escalation_id, partnership=within)
