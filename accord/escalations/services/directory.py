"""The directory of a partnership's staff, for naming the practitioner a difference is with
(the pages' picker and the API alike): only the people a difference may name, at least
three characters, rate limited and audited like any other read."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.selectors import reads_since
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import NotAllowed, TooMany
from accord.partnership.models import Partnership, User
from accord.partnership.selectors import DIRECTORY_SHORTEST, casework_agencies, directory_search

from ..policies import can_raise_in

DIRECTORY_PER_MINUTE = 60


def directory_text(text: str) -> str:
    """The search as it is run: NULs out, spaces made single, 100 characters at most."""
    return " ".join((text or "").replace("\x00", "").split())[:100]


def directory_lookup(
    *, actor: User, partnership: Partnership, text: str, agency_id: int | None
) -> list[User]:
    """The staff ``text`` finds (of ``agency_id``, one of the partnership's casework
    agencies, where given: any other finds nobody). Raises ``ValidationError`` for under
    three characters and ``TooMany`` past the rate; each search answered is audited. Only
    someone who may raise (and so name) here searches."""
    if not can_raise_in(actor, partnership.pk):
        raise NotAllowed(_("Only people who raise escalations here search the partnership's staff."))
    text = directory_text(text)
    if len(text) < DIRECTORY_SHORTEST:
        raise ValidationError({"q": _("Type at least three characters")})
    recent = reads_since(
        actor=actor, verb=Verb.DIRECTORY_SEARCHED, since=clock.now() - dt.timedelta(minutes=1)
    )
    if recent >= DIRECTORY_PER_MINUTE:
        raise TooMany(_("Too many searches: wait a minute"), retry_after=60)
    casework = list(casework_agencies(partnership).values_list("pk", flat=True))
    known = agency_id is None or agency_id in casework
    people = directory_search(partnership, agency_id, text, among=casework) if known else []
    audit_record(
        actor=actor,
        verb=Verb.DIRECTORY_SEARCHED,
        target=None,
        partnership_id=partnership.pk,
        payload={"text": text, "agency": agency_id if known else None, "found": len(people)},
    )
    return people
