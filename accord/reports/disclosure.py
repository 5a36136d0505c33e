"""Disclosure control: which counts a report may show, and how it says what it hides.

One rule for every page, download, chart and API answer, as the UK statistical system
states it:

- a count from 1 to one less than the partnership's threshold (5 unless it sets another)
  is *primary-suppressed*: it reads "fewer than 5", which is true of it;
- where a single hidden cell could be worked out from the others and a total, the next
  smallest count is hidden too: it is *withheld* ("[c]", confidential), never labelled
  "fewer than 5", since it is not;
- 0 is shown as 0, and a count at or above the threshold as itself.

A hidden cell is a ``Hidden`` (a string, so a page prints it as it is, and never an
``int``, so nothing adds it up or draws it as a bar). Downloads write numbers as numbers:
a hidden cell is left empty, with its symbol and meaning in a note column beside it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

DEFAULT_THRESHOLD = 5
SMALL = "small"  # primary suppression: the count is from 1 to threshold - 1
WITHHELD = "withheld"  # secondary suppression: hidden to protect another cell
WITHHELD_SYMBOL = "[c]"


class Hidden(str):
    """A count a report does not show, as the words or symbol it shows instead."""

    reason: str
    short: str  # for a chart's narrow space: "<5" or "[c]"

    def __new__(cls, text: str, reason: str, short: str) -> Hidden:
        made = super().__new__(cls, text)
        made.reason = reason
        made.short = short
        return made


def small(threshold: int = DEFAULT_THRESHOLD) -> Hidden:
    return Hidden(_("fewer than %(n)s") % {"n": threshold}, SMALL, f"<{threshold}")


def withheld() -> Hidden:
    return Hidden(WITHHELD_SYMBOL, WITHHELD, WITHHELD_SYMBOL)


def is_hidden(value: Any) -> bool:
    return isinstance(value, Hidden)


def key(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The sentence every report shows with its figures, explaining what it hides."""
    return _(
        "Counts from 1 to %(below)s are shown as “fewer than %(n)s” so that no child can be "
        "identified. Where that would let a hidden count be worked out from a total, the next "
        "smallest count is withheld too and shown as “%(symbol)s”: it is not necessarily small."
    ) % {"below": threshold - 1, "n": threshold, "symbol": WITHHELD_SYMBOL}


def suppress_count(value: int, threshold: int = DEFAULT_THRESHOLD) -> int | Hidden:
    """One count on its own (a total, a period's figure): hidden only if it is small."""
    return small(threshold) if 0 < value < threshold else value


def suppress_counts(counts: dict[Any, int], threshold: int = DEFAULT_THRESHOLD) -> dict[Any, int | Hidden]:
    """A breakdown whose cells add up to a shown total: the small ones hidden as such, and if
    that leaves exactly one hidden, the next smallest withheld so that it cannot be worked
    out by subtraction."""
    shown: dict[Any, int | Hidden] = {k: suppress_count(v, threshold) for k, v in counts.items()}
    hidden = [k for k, v in shown.items() if is_hidden(v)]
    if len(hidden) == 1:
        candidates = sorted((v, str(k), k) for k, v in counts.items() if k not in hidden and v > 0)
        if candidates:
            shown[candidates[0][2]] = withheld()
    return shown


def suppress_table(
    cells: dict[tuple[Any, Any], int], threshold: int = DEFAULT_THRESHOLD
) -> dict[tuple[Any, Any], int | Hidden]:
    """A two-way table (the agency matrix: raising × receiving) whose rows and columns add up
    to totals shown elsewhere: the small cells hidden as such, then, as long as some row or
    column holds exactly one hidden cell and another count above 0, its next smallest count
    withheld, so that no hidden cell can be worked out from its row's or its column's total
    (nor, with them, from the grand total)."""
    shown: dict[tuple[Any, Any], int | Hidden] = {k: suppress_count(v, threshold) for k, v in cells.items()}
    lines: dict[tuple[int, Any], list[tuple[Any, Any]]] = {}
    for key in cells:
        lines.setdefault((0, key[0]), []).append(key)
        lines.setdefault((1, key[1]), []).append(key)
    changed = True
    while changed:  # each pass withholds at least one more cell, so this ends
        changed = False
        for members in lines.values():
            hidden = [k for k in members if is_hidden(shown[k])]
            if len(hidden) != 1:
                continue
            candidates = sorted(
                (cells[k], str(k), k) for k in members if not is_hidden(shown[k]) and cells[k] > 0
            )
            if candidates:
                shown[candidates[0][2]] = withheld()
                changed = True
    return shown


# ---------------------------------------------------------------- a report as one system

Equation = dict[Hashable, int]  # cell -> its coefficient: the cells' weighted sum is known


def determined(hidden: Iterable[Hashable], equations: Iterable[Equation]) -> set[Hashable]:
    """The hidden cells a reader could work out exactly from what is published: those whose
    value the published cells and the known sums fix, whatever the other hidden cells are.

    What is published fixes, for each equation, the weighted sum of its hidden cells; a
    hidden cell is fixed exactly when it is a combination of those sums, i.e. when its row of
    the fully reduced echelon form of the system (over the hidden cells, in exact fractions)
    holds it alone."""
    hidden = set(hidden)
    pivots: dict[Hashable, dict[Hashable, Fraction]] = {}  # fully reduced: no other pivot in a row
    order = {key: str(key) for key in hidden}
    for equation in equations:
        row = {k: Fraction(c) for k, c in equation.items() if k in hidden and c}
        for var in [v for v in row if v in pivots]:
            factor = row.get(var, 0)
            if factor:
                for k, c in pivots[var].items():
                    row[k] = row.get(k, 0) - factor * c
                row = {k: c for k, c in row.items() if c}
        if not row:
            continue
        pivot = min(row, key=order.__getitem__)
        scale = row[pivot]
        row = {k: c / scale for k, c in row.items()}
        for other in pivots.values():
            factor = other.get(pivot, 0)
            if factor:
                for k, c in row.items():
                    other[k] = other.get(k, 0) - factor * c
                for k in [k for k, c in other.items() if not c]:
                    del other[k]
        pivots[pivot] = row
    return {var for var, row in pivots.items() if len(row) == 1}


def pinned(
    cells: dict[Hashable, int], shown: dict[Hashable, Any], equations: list[Equation], threshold: int
) -> set[Hashable]:
    """Hidden cells fixed by the range "fewer than n" gives them: where every hidden cell of
    a sum is small and the rest of it is shown, their sum is known, and a sum as low as one
    each, or as high as n - 1 each, leaves each no other value."""
    found: set[Hashable] = set()
    for equation in equations:
        hidden = [k for k in equation if k in shown and is_hidden(shown[k])]
        if len(hidden) < 2 or any(shown[k].reason != SMALL for k in hidden):
            continue
        if len({equation[k] for k in hidden}) != 1:
            continue
        total = sum(cells[k] for k in hidden)
        if total in (len(hidden), len(hidden) * (threshold - 1)):
            found.update(hidden)
    return found


def protect(
    cells: dict[Hashable, int],
    equations: list[Equation],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    last: Iterable[Hashable] = (),
) -> dict[Hashable, int | Hidden]:
    """Every table of one report protected together: the small cells hidden as such, then, as
    long as any hidden cell could be worked out from what is published (``determined``: from
    any of the report's tables and the sums that join them, a one-way table's total, a matrix
    row's raising agency, a column's receiving agency), the smallest count above 0 beside one
    of them in an equation is withheld too (a cell in ``last``, such as the grand total every
    table adds up to, only where nothing else would do). Each pass withholds one more cell,
    so this ends."""
    shown: dict[Hashable, int | Hidden] = {k: suppress_count(v, threshold) for k, v in cells.items()}
    equations = [eq for eq in equations if eq]
    last = set(last)

    def rank(key: Hashable) -> tuple:
        return (key in last, cells[key], str(key))

    while True:
        hidden = {k for k, v in shown.items() if is_hidden(v)}
        exposed = determined(hidden, equations) | pinned(cells, shown, equations, threshold)
        if not exposed:
            return shown
        beside = {
            k
            for eq in equations
            if exposed & eq.keys()
            for k in eq
            if k in cells and not is_hidden(shown[k]) and cells[k] > 0
        }
        if not beside:  # nothing beside them to withhold: the next smallest anywhere joined
            beside = {
                k
                for eq in equations
                if hidden & eq.keys()
                for k in eq
                if k in cells and not is_hidden(shown[k]) and cells[k] > 0
            }
            if not beside:
                return shown
        shown[min(beside, key=rank)] = withheld()


def as_number_and_note(value: Any, threshold: int = DEFAULT_THRESHOLD) -> tuple[Any, str]:
    """A cell for a download: the number itself, or nothing with a note saying why."""
    if isinstance(value, Hidden):
        if value.reason == SMALL:
            return None, _("fewer than %(n)s: hidden so that no child can be identified") % {"n": threshold}
        return None, _("%(symbol)s: withheld so that a smaller hidden count cannot be worked out") % {
            "symbol": WITHHELD_SYMBOL
        }
    return value, ""


def too_few_finished(threshold: int = DEFAULT_THRESHOLD) -> str:
    """Why a stage's median and share within its timescale are not shown."""
    return _("not shown: fewer than %(n)s stages finished") % {"n": threshold}
