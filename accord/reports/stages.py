"""The rows of "stage reached" and of the time taken at each stage: a stage on the ladder now
by its number, and a stage a review removed under its own name, so that its past counts keep
their own row (the tallies count it as ``was:<key>``, ``tallies.GONE``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accord.escalations.tallies import GONE
from accord.partnership.models import ProtocolVersion


def gone_names(partnership) -> dict[str, str]:
    """Each stage key the partnership's protocol ever had, with its name in its latest
    version that had it (in Welsh where Welsh is in use and one was given)."""
    cached = getattr(partnership, "_stage_names_ever", None)
    if cached is None:
        welsh = (get_language() or "").startswith("cy")
        cached = {}
        documents = ProtocolVersion.objects.filter(partnership=partnership).order_by("-number")
        for document in documents.values_list("document", flat=True).iterator():
            for stage in (document or {}).get("stages", []) or []:
                key = stage.get("key") if isinstance(stage, dict) else None
                if key and key not in cached:
                    cached[key] = (welsh and stage.get("name_cy")) or stage.get("name") or key
        partnership._stage_names_ever = cached
    return cached


def removed_stage_named(partnership, key: str) -> str:
    name = gone_names(partnership).get(key, key)
    return _("%(name)s (no longer on the ladder)") % {"name": name}


def in_order(keys) -> list[str]:
    """Tally keys by stage in the reports' order: the ladder's stages by number, then the
    removed stages by key."""
    keys = list(keys)
    numbered = sorted((k for k in keys if not k.startswith(GONE)), key=int)
    return numbered + sorted(k for k in keys if k.startswith(GONE))


def row_of(partnership, key: str) -> Any:
    """A tally key by stage as a report's row: the number, or a removed stage's own name."""
    return removed_stage_named(partnership, key.removeprefix(GONE)) if key.startswith(GONE) else int(key)


def stage_rows(partnership, counts: dict[str, Any]) -> dict[Any, Any]:
    """Tallies by stage as the reports list them: the ladder's stages by number in order,
    then each removed stage that had counts, by its own name."""
    return {row_of(partnership, k): counts[k] for k in in_order(counts)}


def stage_label(stage: Any) -> str:
    """A row's words where the report names a stage by its number alone."""
    return _("Stage %(n)s") % {"n": stage} if isinstance(stage, int) else str(stage)
