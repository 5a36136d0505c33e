"""The words an earlier log uses for Accord's values, and the partnership's own choices for
each: its agencies, the stages of its ladder now (by identity, ``Stage.key``), Accord's
outcomes, kinds and origins, its priorities, areas of disagreement and practice themes.

A log's own words ("Level 2", "Resolved - agreed", "Royal Devon") are matched exactly where
they name a choice (without case or punctuation), and otherwise a close match is suggested
(``accord.core.matching``) for the business unit to confirm on the page, beside each
distinct value of the column; only what it confirms is used (``Mapping.values``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.matching import folded, suggest
from accord.core.spreadsheets import read_table
from accord.partnership.models import AreaOfDisagreement, Origin, Partnership, PracticeTheme
from accord.partnership.protocol import ladder_of
from accord.partnership.selectors import partnership_agencies

from ..models import Kind, Outcome

WITHDRAWN = "withdrawn"  # the outcome of a row withdrawn rather than resolved
STILL_OPEN = "open"  # the outcome of a row still open: it comes in at the stage it reached

# How logs kept by hand commonly write an outcome, offered (never taken unconfirmed) where a
# value names no choice exactly: "Resolved - agreed", "Ongoing".
COMMON_WORDS: dict[str, dict[str, str]] = {
    "outcome": {
        "resolved": Outcome.AGREED_WAY_FORWARD,
        "agreed": Outcome.AGREED_WAY_FORWARD,
        "resolved agreed": Outcome.AGREED_WAY_FORWARD,
        "agreed resolved": Outcome.AGREED_WAY_FORWARD,
        "upheld": Outcome.DECISION_UPHELD,
        "decision upheld": Outcome.DECISION_UPHELD,
        "changed": Outcome.DECISION_CHANGED,
        "ongoing": STILL_OPEN,
        "in progress": STILL_OPEN,
        "live": STILL_OPEN,
        "active": STILL_OPEN,
        "not resolved": STILL_OPEN,
        "unresolved": STILL_OPEN,
    },
}

VALUE_KINDS = ("agency", "stage", "outcome", "kind", "origin", "urgency", "area", "theme")
# Which of Accord's fields holds values of which kind, and whether one cell may hold several
# (separated by the mapping's ``themes_separator``).
FIELD_VALUES: dict[str, tuple[str, bool]] = {
    "raising_agency": ("agency", False),
    "with_agency": ("agency", False),
    "other_agencies": ("agency", True),
    "stage_reached": ("stage", False),
    "outcome": ("outcome", False),
    "kind": ("kind", False),
    "origin": ("origin", False),
    "urgency": ("urgency", False),
    "area": ("area", True),
    "themes": ("theme", True),
}
MOST_WORDS = 100  # distinct values of one kind listed on the page
# The heading each kind's values are listed under on the page.
KIND_LABELS = {
    "agency": gettext_lazy("Agencies"),
    "stage": gettext_lazy("Stages"),
    "outcome": gettext_lazy("Outcomes"),
    "kind": gettext_lazy("Kinds"),
    "origin": gettext_lazy("Where they came from"),
    "urgency": gettext_lazy("Priorities"),
    "area": gettext_lazy("Areas of disagreement"),
    "theme": gettext_lazy("Practice themes"),
}


@dataclass
class Vocabulary:
    """The partnership's choices for each kind of value: ``names`` (every way of writing a
    choice, folded → the choice's value) and ``choices`` (value, label) for the page."""

    names: dict[str, dict[str, str]] = field(default_factory=dict)
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    agency_ids: dict[str, int] = field(default_factory=dict)  # name → id
    area_ids: dict[str, int] = field(default_factory=dict)  # code → id
    theme_ids: dict[str, int] = field(default_factory=dict)  # code → id

    def add(self, kind: str, value: str, label: str, *names: str) -> None:
        self.choices.setdefault(kind, []).append((value, label))
        table = self.names.setdefault(kind, {})
        for name in (value, label, *names):
            if name and folded(name):
                table.setdefault(folded(name), value)

    def find(self, kind: str, raw: str) -> str | None:
        """The choice ``raw`` names exactly, or None."""
        return self.names.get(kind, {}).get(folded(raw)) if raw.strip() else None

    def suggest(self, kind: str, raw: str) -> str | None:
        common = COMMON_WORDS.get(kind, {}).get(folded(raw))
        return (
            self.find(kind, raw)
            or (str(common) if common else None)
            or suggest(raw, self.names.get(kind, {}))
        )

    def label(self, kind: str, value: str) -> str:
        return next((label for v, label in self.choices.get(kind, []) if v == value), value)


def vocabulary_of(partnership: Partnership) -> Vocabulary:
    """Every choice of the partnership's, read once for a file."""
    words = Vocabulary()
    for pk, name in partnership_agencies(partnership).values_list("pk", "name"):
        words.agency_ids[name] = pk
        words.add("agency", name, name)
    _stages(words, partnership)
    for code, label in Outcome.choices:
        words.add("outcome", code, str(label))
    words.add("outcome", WITHDRAWN, _("Withdrawn"))
    words.add("outcome", STILL_OPEN, _("Still open: bring it in at the stage it reached"))
    for code, label in Kind.choices:
        words.add("kind", code, str(label), str(label).split(":")[0])
    words.add("kind", Kind.CASE, str(Kind.CASE.label), "child", "a child")
    for code, label in Origin.choices:
        words.add("origin", code, str(label))
    for priority in ladder_of(partnership).priorities:
        words.add("urgency", priority.code, priority.label)
    for model, kind, ids in (
        (AreaOfDisagreement, "area", words.area_ids),
        (PracticeTheme, "theme", words.theme_ids),
    ):
        for pk, code, label in model.objects.filter(partnership=partnership).values_list(
            "pk", "code", "label"
        ):
            ids[code] = pk
            words.add(kind, code, label)
    return words


def _stages(words: Vocabulary, partnership: Partnership) -> None:
    """The ladder's stages now, known by key: by number, "stage n", name or key."""
    for stage in ladder_of(partnership).stages:
        label = _("Stage %(number)s: %(name)s") % {"number": stage.number, "name": stage.name}
        words.add("stage", stage.key, label, str(stage.number), f"stage {stage.number}", stage.name)


@dataclass
class Word:
    """A distinct value of one of the file's columns, with what Accord makes of it."""

    field: str  # Accord's field the column is mapped to
    kind: str  # the kind of value (``VALUE_KINDS``)
    raw: str
    exact: str | None  # the choice it names exactly
    suggested: str | None  # a close match, for the business unit to confirm


def split_cell(raw: str, several: bool, separator: str) -> list[str]:
    parts = raw.split(separator) if several else [raw]
    return [p.strip() for p in parts if p.strip()]


def words_of(content: bytes, filename: str, mapping, words: Vocabulary, **limits) -> list[Word]:
    """Each distinct value (without case) of the mapped columns that hold Accord's values, once
    for each kind (an agency named in the raising and the receiving columns is listed once,
    so it means one thing), in the file's order, at most ``MOST_WORDS`` a kind: what the page
    lists to map."""
    head, body = read_table(content, filename, **limits)
    header = [h.strip().casefold() for h in head]
    found: list[Word] = []
    seen: dict[str, set[str]] = {}
    for name, (kind, several) in FIELD_VALUES.items():
        column = mapping.columns.get(name, "").strip().casefold()
        if not column or column not in header:
            continue
        at, known = header.index(column), seen.setdefault(kind, set())
        for cells in body:
            raw = cells[at].strip() if at < len(cells) else ""
            for part in split_cell(raw, several, mapping.themes_separator):
                if part.casefold() in known or len(known) >= MOST_WORDS:
                    continue
                known.add(part.casefold())
                found.append(Word(name, kind, part, words.find(kind, part), words.suggest(kind, part)))
    return found
