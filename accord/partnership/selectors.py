"""Reads about partnerships, people and roles."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Agency, Partnership, Role, RoleAssignment, User


def roles_by_partnership(user) -> dict[int, frozenset[str]]:
    """Each partnership the user works in, with the user's roles there (cached on the user)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_accord_roles", None)
    if cached is None:
        found: dict[int, set[str]] = {}
        for partnership_id, role in RoleAssignment.objects.filter(user_id=user.pk).values_list(
            "partnership_id", "role"
        ):
            found.setdefault(partnership_id, set()).add(role)
        cached = {pid: frozenset(roles) for pid, roles in found.items()}
        user._accord_roles = cached
    return cached


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


def partnership_users_with_role(partnership: Partnership, role: Role | str) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, role_assignments__partnership=partnership, role_assignments__role=role
    ).distinct()
