"""What every partnership service shares: who keeps a partnership's settings, and writing an
entry into the trail of each partnership a change touches."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed

from ..models import Partnership, User
from ..roles import SETTINGS_ROLES
from ..selectors import user_roles


def is_business_unit(roles: Collection[str]) -> bool:
    """Whether these roles in a partnership keep its settings: the one check the services,
    the settings pages and the API's token pages make."""
    return bool(set(roles) & SETTINGS_ROLES)


def business_unit_refusal() -> str:
    """The words for anyone else, wherever they are refused."""
    return _("Only the partnership's business unit keeps its settings.")


def require_business_unit(actor: User | None, partnership: Partnership | None) -> None:
    """Only the partnership's business unit (or the deployment's administrators) keeps its
    settings; ``actor=None`` is the command line, run by those who hold the server."""
    if actor is None or actor.is_superuser:
        return
    if partnership is None or not (actor.is_active and is_business_unit(user_roles(actor, partnership.pk))):
        raise NotAllowed(business_unit_refusal())


def by_field(error: ValidationError) -> ValidationError:
    """A model's own validation, as the fields' errors."""
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


def changed_fields(instance: Any, data: dict[str, Any], names) -> list[str]:
    """The names among ``names`` whose value in ``data`` differs from the instance's."""
    return sorted(n for n in names if n in data and getattr(instance, n) != data[n])


def audit_in_trails(
    *,
    actor: User | None,
    verb: Verb,
    target: Any,
    partnership_ids: Iterable[int],
    payload: dict[str, Any],
    actor_label: str | None = None,
) -> None:
    """One entry in the trail of each partnership the change touches (in the caller's
    transaction): a shared person's or agency's auditors each see it in their own."""
    for pid in sorted(set(partnership_ids)) or [None]:
        audit_record(
            actor=actor,
            verb=verb,
            target=target,
            partnership_id=pid,
            payload=payload,
            actor_label=actor_label if actor is None else None,
        )
