"""The presets a test walks: one for each shape of protocol that could find a different bug.

Walking all of them costs minutes each time the suite runs, and presets of one shape (the same
tiers working the same stages, the same formality, the same facilitation) find the same bugs.
A test asks for the aspects it depends on: ``"ladder"`` (who works each stage, whether it is
formal or facilitated, whether a conference chair may start there), ``"tiers"`` (which
tiers work some stage), ``"facilitated"`` (some stage is facilitated), ``"subject"`` (whom the
partnership safeguards), ``"wales"`` (a board in Wales, with its Welsh names) and
``"limits"`` (budgets of working days over runs of stages). The first preset by name of each
shape is the one walked; a new preset of a new shape is walked without anyone adding it."""

from __future__ import annotations

from typing import Any

from accord.partnership.protocol import preset, preset_names

ASPECTS = ("ladder", "tiers", "facilitated", "subject", "wales", "limits")


def _aspect(document: dict[str, Any], aspect: str) -> Any:
    if aspect == "ladder":
        return tuple(
            (
                s["worked_by"],
                bool(s.get("formal")),
                bool(s.get("facilitated")),
                bool(s.get("conference_chair_may_start")),
            )
            for s in document["stages"]
        )
    if aspect == "tiers":
        return frozenset(s["worked_by"] for s in document["stages"])
    if aspect == "facilitated":
        return any(s.get("facilitated") for s in document["stages"])
    if aspect == "subject":
        return document.get("safeguards") or "children"
    if aspect == "wales":
        return bool(document.get("works_in_wales"))
    if aspect == "limits":
        return bool(document.get("budgets"))
    raise ValueError(f"unknown aspect {aspect!r}: one of {ASPECTS}")


def presets_by_shape(*aspects: str, among: list[str] | None = None) -> list[str]:
    """One preset's name for each distinct combination of ``aspects`` among the presets (or
    among the names given)."""
    seen: set[tuple] = set()
    names = []
    for name in preset_names() if among is None else among:
        document = preset(name)
        shape = tuple(_aspect(document, a) for a in aspects)
        if shape not in seen:
            seen.add(shape)
            names.append(name)
    return names
