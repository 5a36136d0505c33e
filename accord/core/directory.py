"""What the layers beneath the partnership app (the audit trail) may ask about people: the
roles they hold, the partnerships whose trail they audit, and who works in a partnership.

The kit knows nothing of partnerships: the partnership app answers, registering itself when
Django starts (``PartnershipConfig.ready``). So the audit trail records an actor's roles as
it is handed them, and the layers still point one way (pyproject.toml)."""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


class Directory(Protocol):
    def roles_of(self, user: Any) -> frozenset[str]:
        """Every role the user holds, in any partnership."""

    def audited_partnerships(self, user: Any) -> list[int]:
        """The partnerships whose trail the user reads."""

    def people_in(self, partnership_ids: list[int]) -> QuerySet:
        """The ids of the people who work in these partnerships (a ``values("user_id")`` query,
        for use as a subquery)."""

    def names_of(self, kind: str, ids: list[str]) -> dict[str, str]:
        """What people, agencies and partnerships are called, by id (as text), for a trail that
        names them: ``kind`` is an audit entry's target type ("user", "agency", ...); an id or
        a kind it does not know is left out."""


_registered: list[Directory] = []


def register_directory(directory: Directory) -> None:
    _registered[:] = [directory]


def directory() -> Directory:
    if not _registered:
        raise ImproperlyConfigured("No directory of people is registered (is accord.partnership installed?)")
    return _registered[0]
