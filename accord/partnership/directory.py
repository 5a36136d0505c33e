"""The partnership app's answers to the kit's directory of people (``accord.core.directory``):
what the audit trail, beneath this app, needs to know of an actor and of a partnership."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Role, RoleAssignment
from .selectors import roles_by_partnership


class PartnershipDirectory:
    def roles_of(self, user) -> frozenset[str]:
        return frozenset().union(*roles_by_partnership(user).values())

    def audited_partnerships(self, user) -> list[int]:
        return [pid for pid, roles in roles_by_partnership(user).items() if Role.AUDITOR in roles]

    def people_in(self, partnership_ids: list[int]) -> QuerySet:
        return RoleAssignment.objects.filter(partnership_id__in=partnership_ids).values("user_id")
