"""A person's words matched to a list of choices: exactly (without case or spacing), or a close
match offered for someone to confirm ("Royal Devon" for "Royal Devon University Healthcare NHS
Foundation Trust", "Level 2" for "Stage 2"). Nothing here decides: a suggestion is shown
beside the word, and only what a person confirms is used."""

from __future__ import annotations

import difflib
import re

CLOSE_ENOUGH = 0.6


def folded(text: str) -> str:
    """Without case, punctuation or runs of spaces: "Royal  Devon," and "royal devon" alike."""
    return " ".join(re.sub(r"[^\w]+", " ", str(text).casefold()).split())


def exact(raw: str, names: dict[str, str]) -> str | None:
    """The choice ``raw`` names exactly (``names``: each way of writing a choice → the choice)."""
    wanted = folded(raw)
    return (
        next((choice for name, choice in names.items() if folded(name) == wanted), None) if wanted else None
    )


def suggest(raw: str, names: dict[str, str]) -> str | None:
    """The choice ``raw`` most likely means: named exactly; else the only one whose words
    include all of its words; else the one it is closest to (difflib), if close enough; else
    none. ``names`` maps each way of writing a choice (a name, a label, a code) to the choice."""
    found = exact(raw, names)
    if found is not None or not folded(raw):
        return found
    wanted = folded(raw)
    words = set(wanted.split())
    containing = {choice for name, choice in names.items() if words <= set(folded(name).split())}
    if len(containing) == 1:
        return containing.pop()
    numbers = re.findall(r"\d+", wanted)
    if len(numbers) == 1:  # "Level 2", "Step 2": the choice numbered so, if only one is
        numbered = {choice for name, choice in names.items() if re.findall(r"\d+", folded(name)) == numbers}
        if len(numbered) == 1:
            return numbered.pop()
    by_folded = {folded(name): choice for name, choice in names.items() if folded(name)}
    close = difflib.get_close_matches(wanted, list(by_folded), n=1, cutoff=CLOSE_ENOUGH)
    return by_folded[close[0]] if close else None
