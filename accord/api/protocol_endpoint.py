"""The versions of the partnership's protocol, read only, for those who read its protocol (its
business unit): each change applied made one, with who made it, when, what it changed and
the protocol as applied."""

from __future__ import annotations

from typing import Any

from ninja import Router
from ninja.errors import HttpError

from accord.partnership.models import ProtocolVersion
from accord.partnership.roles import PROTOCOL_ROLES
from accord.partnership.selectors import protocol_version_get, protocol_versions, user_roles
from accord.partnership.services.versions import protocol_version_now

from . import schemas as s
from .app import STANDARD_ERRORS
from .common import named_partnership

router = Router()
MOST_VERSION = 2**31 - 1  # (a larger number is no version, not a database error)


def _readable(request, partnership: str | None):
    p = named_partnership(request, partnership)
    if not user_roles(request.user, p.pk) & PROTOCOL_ROLES:
        raise HttpError(403, "Only the partnership's business unit reads its protocol.")
    protocol_version_now(p)  # (a partnership set up without one has its version 1 made now)
    return p


def _out(version: ProtocolVersion) -> dict[str, Any]:
    person = version.made_by
    return {
        "number": version.number,
        "made_at": version.made_at,
        "made_by": (person.get_full_name() or person.username) if person else None,
        "changes": list(version.changes),
    }


@router.get(
    "/protocol/versions",
    response={200: list[s.ProtocolVersionOut], **STANDARD_ERRORS},
    summary="The versions of the partnership's protocol, newest first",
)
def list_protocol_versions(request, partnership: str | None = None):
    return [_out(v) for v in protocol_versions(_readable(request, partnership))]


@router.get(
    "/protocol/versions/{number}",
    response={200: s.ProtocolVersionWholeOut, **STANDARD_ERRORS},
    summary="One version of the partnership's protocol, as applied",
)
def get_protocol_version(request, number: int, partnership: str | None = None):
    p = _readable(request, partnership)
    found = protocol_version_get(p, number) if 1 <= number <= MOST_VERSION else None
    if found is None:
        raise HttpError(404, "The partnership's protocol has no such version.")
    return {**_out(found), "document": found.document}
