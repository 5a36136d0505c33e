"""The versions of a partnership's protocol: each change applied makes the next, with who made
it, when, the protocol as applied and what it changed, in words.

``protocol_apply`` (``accord.escalations.protocol``) records a version for every change it
applies, in its own transaction and under its lock of the partnership; raising an escalation
asks which version is in force (``protocol_version_now``). A partnership whose ladder was
installed without one (set up by a script, say) has its version 1 made when first asked.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accord.core import clock

from ..models import FormalBodyAuthority, Partnership, ProtocolVersion, Safeguards, User, WorkedBy
from ..protocol import ANSWERS, document_of


def protocol_version_now(partnership: Partnership) -> ProtocolVersion:
    """The version of the partnership's protocol in force: the latest, or, where none was
    kept yet, version 1 made from the ladder as it stands."""
    found = ProtocolVersion.objects.filter(partnership_id=partnership.pk).order_by("-number").first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ProtocolVersion.objects.create(
                partnership_id=partnership.pk,
                number=1,
                made_at=clock.now(),
                document=document_of(partnership),
                changes=[_("The protocol as it stood when its versions began to be kept.")],
            )
    except IntegrityError:  # made at the same moment by another request
        return ProtocolVersion.objects.get(partnership_id=partnership.pk, number=1)


def protocol_version_record(
    *, partnership: Partnership, actor: User | None, before: dict[str, Any], after: dict[str, Any]
) -> ProtocolVersion | None:
    """The next version, for a change just applied (in the caller's transaction, the
    partnership locked): ``before`` and ``after`` are the protocol's documents either side of
    it. None when nothing changed (a document applied again as it was)."""
    if before == after:
        return None
    latest = ProtocolVersion.objects.filter(partnership_id=partnership.pk).order_by("-number").first()
    return ProtocolVersion.objects.create(
        partnership_id=partnership.pk,
        number=(latest.number if latest else 0) + 1,
        made_at=clock.now(),
        made_by=actor,
        document=after,
        changes=protocol_changes(before, after),
    )


def _days(stage: dict[str, Any]) -> str:
    words = _("%(routine)s working days routine, %(urgent)s urgent") % {
        "routine": stage["routine_working_days"],
        "urgent": stage["urgent_working_days"],
    }
    others = ", ".join(f"{days} {code}" for code, days in sorted(stage.get("other_working_days", {}).items()))
    return f"{words}, {others}" if others else words


def _worked_by(value: str) -> str:
    return str(WorkedBy(value).label).lower() if value in WorkedBy.values else value


def protocol_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What a change of the protocol changed, a sentence each: stages by their identity (key),
    so that a stage inserted below another says it was added, and the other that it moved."""
    lines: list[str] = []
    was_body, body = before.get("formal_body", {}), after.get("formal_body", {})
    if was_body.get("name") != body.get("name"):
        lines.append(
            _("The formal body is now called %(name)s (was %(was)s).")
            % {"name": body.get("name"), "was": was_body.get("name")}
        )
    if was_body.get("authority") != body.get("authority"):
        authority = body.get("authority")
        label = FormalBodyAuthority(authority).label if authority in FormalBodyAuthority.values else authority
        lines.append(_("What the formal body may do: %(label)s.") % {"label": label})
    if before.get("source", "") != after.get("source", ""):
        lines.append(_("The published procedure the ladder follows changed."))
    if before.get("safeguards", "children") != after.get("safeguards", "children"):
        safeguards = after.get("safeguards")
        label = Safeguards(safeguards).label if safeguards in Safeguards.values else safeguards
        lines.append(_("The partnership now safeguards: %(label)s.") % {"label": label})
    old = {s["key"]: s for s in before.get("stages", [])}
    new = {s["key"]: s for s in after.get("stages", [])}
    for s in after.get("stages", []):
        was = old.get(s["key"])
        named = {"number": s["number"], "name": s["name"]}
        if was is None:
            lines.append(
                _("Stage %(number)s, %(name)s, added: worked by %(who)s, %(days)s%(formal)s.")
                % {
                    **named,
                    "who": _worked_by(s["worked_by"]),
                    "days": _days(s),
                    "formal": _(", formal") if s["formal"] else "",
                }
            )
            continue
        if was["number"] != s["number"]:
            lines.append(
                _("%(name)s is now stage %(number)s (was %(was)s).") % {**named, "was": was["number"]}
            )
        if was["name"] != s["name"]:
            lines.append(
                _("Stage %(number)s is now called %(name)s (was %(was)s).") % {**named, "was": was["name"]}
            )
        if was["worked_by"] != s["worked_by"]:
            lines.append(
                _("Stage %(number)s, %(name)s, is now worked by %(who)s (was %(was)s).")
                % {**named, "who": _worked_by(s["worked_by"]), "was": _worked_by(was["worked_by"])}
            )
        if was["formal"] != s["formal"]:
            lines.append(
                (
                    _("Stage %(number)s, %(name)s, is now formal.")
                    if s["formal"]
                    else _("Stage %(number)s, %(name)s, is no longer formal.")
                )
                % named
            )
        if _days(was) != _days(s):
            lines.append(
                _("Stage %(number)s, %(name)s: %(days)s (was %(was)s).")
                % {**named, "days": _days(s), "was": _days(was)}
            )
        if bool(was.get("facilitated")) != bool(s.get("facilitated")):
            lines.append(
                (
                    _("Stage %(number)s, %(name)s, is now facilitated.")
                    if s.get("facilitated")
                    else _("Stage %(number)s, %(name)s, is no longer facilitated.")
                )
                % named
            )
        if bool(was.get("conference_chair_may_start")) != bool(s.get("conference_chair_may_start")):
            lines.append(
                (
                    _("A conference chair or IRO may now start at stage %(number)s, %(name)s.")
                    if s.get("conference_chair_may_start")
                    else _("A conference chair or IRO may no longer start at stage %(number)s, %(name)s.")
                )
                % named
            )
        if list(was.get("requires") or []) != list(s.get("requires") or []) and "requires" in was:
            asked = ", ".join(str(ANSWERS.get(a, a)).lower() for a in s.get("requires") or []) or _("nothing")
            lines.append(
                _("Stage %(number)s, %(name)s, now asks for: %(answers)s.") % {**named, "answers": asked}
            )
    for key, was in old.items():
        if key not in new:
            lines.append(
                _("Stage %(number)s, %(name)s, removed.") % {"number": was["number"], "name": was["name"]}
            )
    old_priorities = {p["code"]: p for p in before.get("priorities", [])}
    new_priorities = {p["code"]: p for p in after.get("priorities", [])}
    for code, p in new_priorities.items():
        if code not in old_priorities:
            lines.append(_("Priority %(label)s added.") % {"label": p["label"]})
        elif old_priorities[code] != p:
            lines.append(_("Priority %(label)s changed.") % {"label": p["label"]})
    for code, p in old_priorities.items():
        if code not in new_priorities:
            lines.append(_("Priority %(label)s removed.") % {"label": p["label"]})
    if before.get("budgets", []) != after.get("budgets", []):
        lines.append(_("The limits on the working days a run of stages may take changed."))
    return lines or [_("The order of the protocol's parts changed; nothing else.")]
