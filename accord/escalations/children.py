"""Whether a text names one of an escalation's children: their recorded names (or any part of
a name), dates of birth (as people write them) or agencies' references. Text meant for the
partnership (learning) or for people who may not see the children (an action's line) must
not, since such text is read beyond the escalation's parties (rule 7)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

# A part of a name this short is matched only as initials standing alone ("ZQ"), never
# inside a word; a longer one as a whole word ("Zebedee", not "Zebedees").
SHORTEST_NAME_PART = 2


def _date_forms(day: dt.date) -> set[str]:
    months = [day.strftime("%B"), day.strftime("%b")]
    forms = {
        day.isoformat(),
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        f"{day.day}.{day.month}.{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.day}-{day.month}-{day.year}",
        f"{day.day:02d}-{day.month:02d}-{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}",
        f"{day.day}/{day.month}/{day.year % 100:02d}",
    }
    for month in months:
        for suffix in ("", "st", "nd", "rd", "th"):
            forms.add(f"{day.day}{suffix} {month} {day.year}")
            forms.add(f"{month} {day.day}{suffix}, {day.year}")
            forms.add(f"{month} {day.day}{suffix} {day.year}")
    return {f.lower() for f in forms}


def child_details_named(text: str, children: Iterable) -> list[str]:
    """Which kinds of a child's details ``text`` holds ("name", "date of birth", "reference"),
    each once, for the children given (an escalation's ``Child`` rows)."""
    found: list[str] = []
    lowered = " ".join((text or "").lower().split())
    if not lowered:
        return found
    for child in children:
        parts = [
            p for p in re.split(r"[\s,.'’-]+", (child.name or "").lower()) if len(p) >= SHORTEST_NAME_PART
        ]
        if any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lowered) for p in parts):
            found.append("name")
        if child.date_of_birth and any(form in lowered for form in _date_forms(child.date_of_birth)):
            found.append("date of birth")
        reference = " ".join((child.agency_reference or "").lower().split())
        if len(reference) >= 3 and reference in lowered:
            found.append("reference")
    return list(dict.fromkeys(found))
