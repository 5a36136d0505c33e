"""The agencies a difference is with: the first (``with_agency``) and any others, checked
when it is raised, and others added or taken out later as steps of their own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import RuleViolation
from accord.notifications.services import unique_recipients
from accord.partnership.models import Agency, Partnership, User
from accord.partnership.selectors import casework_agencies, casework_people

from .. import tallies
from ..models import Escalation, EventType, OtherParty
from ..notices import NoticeKind, notify, receivers
from ._base import _audit, _blank, _event, _locked, _require, _touch

LARGEST_KEY = 2**63 - 1  # the largest key PostgreSQL's bigint and SQLite's integer hold
# A network in dispute is a few agencies, not the partnership: more is a slip.
MOST_OTHER_PARTIES = 8


@dataclass(frozen=True)
class PartyDetails:
    """Another agency the difference is with, and the practitioner there if known."""

    agency_id: int
    practitioner_username: str = ""
    # Or named by work email, when they are not in Accord (``guests.py``): raising only.
    practitioner_email: str = ""


def practitioner_in(
    agency: Agency | None, username: str, partnership: Partnership | None = None
) -> User | None:
    """The active person ``username`` if they work for ``agency`` (and in ``partnership``,
    where given); None if nobody is named. Raises ``LookupError`` when someone is named who
    does not work there."""
    if not username:
        return None
    people = User.objects.filter(username=username, is_active=True)
    if partnership is not None:
        people = casework_people(partnership).filter(username=username)
    person = people.first()
    if person is None or agency is None or person.agency_id != agency.pk:
        raise LookupError(username)
    return person


def validate_other_parties(
    *,
    partnership: Partnership,
    raising_agency_id: int | None,
    first_agency_id: int | None,
    others: Sequence[PartyDetails],
    already: Sequence[int] = (),
    field: str = "other_parties",
) -> list[tuple[Agency, User | None]]:
    """Check the other agencies against the partnership and each other: each one of the
    partnership's agencies, neither the raising agency nor the first, none twice, and a named
    practitioner working for the agency named. Raises ``ValidationError`` on ``field``."""
    errors: list[str] = []
    if len(others) + len(already) > MOST_OTHER_PARTIES:
        errors.append(
            _("A difference can be with at most %(n)s agencies besides the first") % {"n": MOST_OTHER_PARTIES}
        )
    # An id no database key can hold is no agency of the partnership's (asked for, it
    # would overflow SQLite's integer rather than find nothing).
    found = casework_agencies(partnership).in_bulk(
        [o.agency_id for o in others if 1 <= o.agency_id <= LARGEST_KEY]
    )
    seen = Counter([*already, raising_agency_id, first_agency_id])
    chosen: list[tuple[Agency, User | None]] = []
    for other in others:
        agency = found.get(other.agency_id)
        if agency is None:
            errors.append(_("Select each other agency from the partnership's agencies"))
            continue
        if agency.pk == raising_agency_id:
            errors.append(
                _("%(agency)s is the agency raising the difference: select another") % {"agency": agency.name}
            )
            continue
        if seen[agency.pk]:
            errors.append(
                _("%(agency)s is already one of the agencies the difference is with")
                % {"agency": agency.name}
            )
            continue
        seen[agency.pk] += 1
        try:
            person = practitioner_in(agency, other.practitioner_username, partnership)
        except LookupError:
            errors.append(
                _("Select a practitioner who works for %(agency)s, or nobody") % {"agency": agency.name}
            )
            continue
        chosen.append((agency, person))
    if errors:
        raise ValidationError({field: list(dict.fromkeys(errors))})
    return chosen


def _tally(escalation: Escalation, agency_id: int, delta: int) -> None:
    """The receiving-agency and pair counts follow the parties (counted on the day raised)."""
    day = timezone.localdate(escalation.raised_at)
    tallies.apply(
        escalation.partnership_id,
        Counter(
            {
                (day, "receiving", str(agency_id)): delta,
                (day, "pair", f"{escalation.raising_agency_id}:{agency_id}"): delta,
            }
        ),
    )


def create_other_parties(
    escalation: Escalation, actor: User, chosen: Sequence[tuple[Agency, User | None]]
) -> list[OtherParty]:
    """Write the other parties of a new escalation (the caller recounts who sees it)."""
    now = clock.now()
    rows = OtherParty.objects.bulk_create(
        [
            OtherParty(
                escalation=escalation, agency=agency, practitioner=person, added_at=now, added_by=actor
            )
            for agency, person in chosen
        ]
    )
    escalation.__dict__["_accord_others"] = list(rows)
    return rows


def escalation_add_party(
    *,
    actor: User,
    escalation: Escalation,
    agency_id: int,
    practitioner_username: str = "",
    reason: str = "",
    expected_version: int | None = None,
) -> OtherParty:
    """Bring another agency into an open difference: its people become parties at the
    stages the ladder gives them, and who receives it there is told."""
    if _blank(reason):
        raise ValidationError({"reason": _("Enter why this agency is being brought in")})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "change_parties", escalation)
        [(agency, person)] = validate_other_parties(
            partnership=escalation.partnership,
            raising_agency_id=escalation.raising_agency_id,
            first_agency_id=escalation.with_agency_id,
            others=[PartyDetails(agency_id, practitioner_username)],
            already=[o.agency_id for o in escalation.others()],
            field="agency",
        )
        party = OtherParty.objects.create(
            escalation=escalation, agency=agency, practitioner=person, added_at=clock.now(), added_by=actor
        )
        escalation.forget_others()
        _tally(escalation, agency.pk, +1)
        named = f" ({person.get_full_name() or person.username})" if person else ""
        _event(
            escalation,
            actor,
            EventType.PARTY_ADDED,
            _("%(agency)s%(named)s brought in: %(reason)s")
            % {"agency": agency.name, "named": named, "reason": reason.strip()},
        )
        _touch(escalation)
        _audit(
            actor,
            escalation,
            "add_party",
            agency=agency.pk,
            practitioner=person.username if person else None,
            reason=reason.strip(),
        )
    return party


def escalation_remove_party(
    *,
    actor: User,
    escalation: Escalation,
    agency_id: int,
    reason: str,
    expected_version: int | None = None,
) -> None:
    """Take out an agency brought in beside the first (the first stays: the difference is
    with it). Its people lose the access it gave them, and are told."""
    if _blank(reason):
        raise ValidationError({"reason": _("Enter why this agency is no longer part of the difference")})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "change_parties", escalation)
        party = next((o for o in escalation.others() if o.agency_id == agency_id), None)
        if party is None and agency_id == escalation.with_agency_id:
            # A rule of the record, not a slip in a field (422).
            raise RuleViolation(
                {
                    "agency": [
                        _(
                            "The difference stays with the agency it was raised with: only an agency "
                            "brought in beside it can be taken out"
                        )
                    ]
                },
                code="first_party_stays",
            )
        if party is None:
            raise ValidationError({"agency": _("Select one of the other agencies the difference is with")})
        told = receivers(escalation, party.agency_id, party.practitioner)
        party.delete()
        escalation.forget_others()
        _tally(escalation, party.agency_id, -1)
        event = _event(
            escalation,
            actor,
            EventType.PARTY_REMOVED,
            _("%(agency)s no longer part of the difference: %(reason)s")
            % {"agency": party.agency.name, "reason": reason.strip()},
        )
        notify(
            escalation=escalation,
            kind=NoticeKind.PARTIES_CHANGED,
            recipients=unique_recipients(told, exclude=actor),
            key=f"event:{event.pk}:removed",
        )
        _touch(escalation)
        _audit(
            actor,
            escalation,
            "remove_party",
            agency=party.agency_id,
            practitioner=party.practitioner.username if party.practitioner else None,
            reason=reason.strip(),
        )
