"""Reads about partnerships, people and roles."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Agency, Partnership, ProtocolVersion, Role, RoleAssignment, User
from .roles import RAISING_ROLES


def roles_by_partnership(user) -> dict[int, frozenset[str]]:
    """Each partnership the user works in, with the user's roles there (cached on the user)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_accord_roles", None)
    if cached is None:
        _load_roles(user)
        cached = user._accord_roles
    return cached


def partnership_of(user, partnership_id: int) -> Partnership | None:
    """One of the partnerships the user works in, read with their roles (no query of its
    own: every page needs both)."""
    roles_by_partnership(user)
    return getattr(user, "_accord_partnerships", {}).get(partnership_id)


def _load_roles(user) -> None:
    found: dict[int, set[str]] = {}
    partnerships: dict[int, Partnership] = {}
    for assignment in RoleAssignment.objects.filter(user_id=user.pk).select_related("partnership"):
        found.setdefault(assignment.partnership_id, set()).add(assignment.role)
        partnerships[assignment.partnership_id] = assignment.partnership
    user._accord_roles = {pid: frozenset(roles) for pid, roles in found.items()}
    user._accord_partnerships = partnerships


def user_roles(user, partnership_id: int | None) -> frozenset[str]:
    if partnership_id is None:
        return frozenset()
    return roles_by_partnership(user).get(partnership_id, frozenset())


def user_has_role(user, partnership_id: int | None, *roles: str) -> bool:
    return bool(user_roles(user, partnership_id) & set(roles))


def partnerships_for(user) -> QuerySet[Partnership]:
    return Partnership.objects.filter(pk__in=list(roles_by_partnership(user)))


def partnership_agencies(partnership: Partnership, *, active_only: bool = True) -> QuerySet[Agency]:
    agencies = Agency.objects.filter(partnershipagency__partnership=partnership)
    if active_only:
        agencies = agencies.filter(is_active=True)
    return agencies.order_by("name")


def casework_agencies(partnership: Partnership) -> QuerySet[Agency]:
    """The agencies a difference may be with: the partnership's, but for those its business
    unit marks as taking no part in casework (itself, the formal body's host, a facilitators'
    organisation: ``PartnershipAgency.takes_part_in_raising``)."""
    return Agency.objects.filter(
        is_active=True,
        partnershipagency__partnership=partnership,
        partnershipagency__takes_part_in_raising=True,
    ).order_by("name")


DIRECTORY_SHORTEST = 3  # characters before the directory of staff answers
DIRECTORY_MOST = 10


def casework_people(partnership: Partnership) -> QuerySet[User]:
    """The people a difference may name as its practitioner: active, and working on
    escalations in this partnership (a practitioner, manager, senior leader or conference
    chair here). Someone who holds only another role here (the executive's aggregates, the
    auditor's trail, the formal body's or a facilitator's part) is never made a party, nor is
    someone of a shared agency who works only in another partnership."""
    return User.objects.filter(
        is_active=True, role_assignments__partnership=partnership, role_assignments__role__in=RAISING_ROLES
    ).distinct()


def directory_search(
    partnership: Partnership, agency_id: int | None, text: str, *, among: list[int] | None = None
) -> list[User]:
    """The partnership's staff whose name or work email starts with ``text`` (or whose name
    has a word that does), at most ``DIRECTORY_MOST``: only the people a difference may name
    (``casework_people``), of ``agency_id`` where given. Nothing for under three characters."""
    text = " ".join((text or "").split())[:100]
    if len(text) < DIRECTORY_SHORTEST:
        return []
    people = casework_people(partnership)
    if agency_id is not None:
        people = people.filter(agency_id=agency_id)
    if among is not None:
        people = people.filter(agency_id__in=among)
    first, _space, rest = text.partition(" ")
    match = Q(first_name__istartswith=text) | Q(last_name__istartswith=text) | Q(email__istartswith=text)
    if rest:
        match |= Q(first_name__iexact=first, last_name__istartswith=rest)
    return list(
        people.filter(match)
        .select_related("agency")
        .distinct()
        .order_by("last_name", "first_name", "pk")[:DIRECTORY_MOST]
    )


def partnership_users_with_role(partnership: Partnership, role: Role | str) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, role_assignments__partnership=partnership, role_assignments__role=role
    ).distinct()


# A link naming one of the user's partnerships (``?partnership=devon``) switches them to it,
# as an email about another partnership's escalation does (``CurrentPartnershipMiddleware``).
PARTNERSHIP_PARAMETER = "partnership"


def protocol_versions(partnership: Partnership) -> QuerySet[ProtocolVersion]:
    """The versions of the partnership's protocol, newest first, without their documents."""
    return (
        ProtocolVersion.objects.filter(partnership=partnership)
        .select_related("made_by")
        .defer("document")
        .order_by("-number")
    )


def protocol_version_get(partnership: Partnership, number: int) -> ProtocolVersion | None:
    """One version of the partnership's protocol, whole (None: it has no such version)."""
    return (
        ProtocolVersion.objects.filter(partnership=partnership, number=number)
        .select_related("made_by")
        .first()
    )
