"""Small steps every service that changes a record shares."""

from __future__ import annotations

from typing import Any

from django.db import models


def apply_changes(instance: models.Model, wanted: dict[str, Any]) -> list[str]:
    """Set the fields of ``instance`` whose values differ from ``wanted`` and save just those
    (nothing when none differs). Answers the names of the fields changed, sorted, for the
    audit entry."""
    changed = sorted(name for name, value in wanted.items() if getattr(instance, name) != value)
    for name in changed:
        setattr(instance, name, wanted[name])
    if changed:
        instance.save(update_fields=changed)
    return changed
