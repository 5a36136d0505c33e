"""The partnership app's answers to the kit's directory of people (``accord.core.directory``):
what the audit trail, beneath this app, needs to know of an actor and of a partnership."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Agency, Partnership, Role, RoleAssignment, User
from .selectors import roles_by_partnership


class PartnershipDirectory:
    def roles_of(self, user) -> frozenset[str]:
        return frozenset().union(*roles_by_partnership(user).values())

    def audited_partnerships(self, user) -> list[int]:
        return [pid for pid, roles in roles_by_partnership(user).items() if Role.AUDITOR in roles]

    def people_in(self, partnership_ids: list[int]) -> QuerySet:
        return RoleAssignment.objects.filter(partnership_id__in=partnership_ids).values("user_id")

    def names_of(self, kind: str, ids: list[str]) -> dict[str, str]:
        numbers = [int(i) for i in ids if str(i).isdigit()]
        if not numbers:
            return {}
        if kind == "user":
            return {
                str(u.pk): f"{u.get_full_name() or u.username} ({u.username})"
                for u in User.objects.filter(pk__in=numbers).only("pk", "first_name", "last_name", "username")
            }
        model = {"agency": Agency, "partnership": Partnership}.get(kind)
        if model is None:
            return {}
        return {str(pk): name for pk, name in model.objects.filter(pk__in=numbers).values_list("pk", "name")}
