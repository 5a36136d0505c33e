"""The trail in plain words for the people who read it: who (by name, not an account's
number), what happened (the verb's words, and the page of an escalation that was opened) and
what it was about (an escalation's reference, a person's or an agency's name). A page of
entries costs one query for each kind of record named on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.directory import directory

from .models import AuditEvent, Verb

# What an entry's record is, where the trail names it by kind and number only.
KIND_WORDS = {
    "escalation": gettext_lazy("escalation"),
    "user": gettext_lazy("person"),
    "agency": gettext_lazy("agency"),
    "partnership": gettext_lazy("partnership"),
    "document": gettext_lazy("evidence document"),
    "draft": gettext_lazy("draft"),
    "pdgmeeting": gettext_lazy("meeting of the formal body"),
    "meetingaction": gettext_lazy("action a meeting asked for"),
    "apitoken": gettext_lazy("API token"),
    "guest": gettext_lazy("guest"),
    "learning": gettext_lazy("learning"),
    "areaofdisagreement": gettext_lazy("area of disagreement"),
    "practicetheme": gettext_lazy("practice theme"),
    "publicstatement": gettext_lazy("accessibility statement and privacy notice"),
    "annualnarrative": gettext_lazy("annual report's account of the year"),
}
# The pages of an escalation that a "viewed" entry names, in words.
PAGE_WORDS = {
    "agreed_action": gettext_lazy("an agreed action's page"),
    "raise_again": gettext_lazy("raising it again"),
    "follow_up": gettext_lazy("the follow-up question"),
    "reopen": gettext_lazy("the page to reopen it"),
    "raised": gettext_lazy("the page confirming it was raised"),
}
NAMED_KINDS = ("user", "agency", "partnership")


@dataclass
class Described:
    entry: AuditEvent
    who: str
    what: str
    record: str


def _what(entry: AuditEvent) -> str:
    words = entry.get_verb_display()
    page = (entry.payload or {}).get("part") or (entry.payload or {}).get("page")
    if entry.verb == Verb.ESCALATION_VIEWED and isinstance(page, str) and page:
        where = PAGE_WORDS.get(page) or _("its %(page)s page") % {"page": page.replace("_", " ")}
        words = _("%(verb)s: %(where)s") % {"verb": words, "where": where}
    elif entry.verb == Verb.PROTOCOL_CHANGED and isinstance(page, str) and page:
        words = _("%(verb)s: %(part)s") % {"verb": words, "part": page.replace("_", " ")}
    if (entry.payload or {}).get("api"):
        words = _("%(verb)s, through the API") % {"verb": words}
    return str(words)


def described(entries: Iterable[AuditEvent]) -> list[Described]:
    entries = list(entries)
    wanted: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.actor_id is not None:
            wanted["user"].add(str(e.actor_id))
        if e.target_type in NAMED_KINDS and e.target_id:
            wanted[e.target_type].add(e.target_id)
    names = {kind: directory().names_of(kind, sorted(ids)) for kind, ids in wanted.items()}
    rows = []
    for e in entries:
        who = names["user"].get(str(e.actor_id), e.actor_label) if e.actor_id is not None else e.actor_label
        if e.actor_id is None:
            who = {"system": _("Accord (scheduled work)"), "anonymous": _("Someone not signed in")}.get(
                e.actor_label, e.actor_label
            )
        payload = e.payload or {}
        if payload.get("reference"):
            record = str(payload["reference"])
        elif e.target_type in NAMED_KINDS and e.target_id in names.get(e.target_type, {}):
            record = names[e.target_type][e.target_id]
        elif payload.get("username"):
            record = _("the account %(username)s") % {"username": payload["username"]}
        elif e.target_type:
            record = f"{KIND_WORDS.get(e.target_type, e.target_type.replace('_', ' '))} {e.target_id}".strip()
        else:
            record = "–"
        rows.append(Described(entry=e, who=who, what=_what(e), record=record))
    return rows
