"""Who reads which report, and how much of it; who may do what with the formal body's own
records (a meeting's actions). Decided here once: the report pages, their downloads, the API
and the navigation all ask these."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from accord.partnership.models import Role
from accord.partnership.roles import MEETING_RECORD_ROLES, PDG_ROLES
from accord.partnership.selectors import user_roles

from .models import MeetingAction

# Who reads every figure of a report they read (the executive reads them with the small
# counts suppressed), and who may drill down from a figure to the escalations behind it.
FULL_REPORT_ROLES = PDG_ROLES | {Role.BUSINESS_UNIT}
DRILL_DOWN_ROLES = PDG_ROLES
# Who reads the formal body's standing item and the annual report.
REPORT_ROLES = FULL_REPORT_ROLES | {Role.EXECUTIVE}


class Report(StrEnum):
    STANDING_ITEM = "pdg"  # the formal body's standing item: its page, CSV, PDF and the API's
    ANNUAL = "annual"  # the annual report in each of its forms
    IRU = "iru"  # the Independent Reviewing Unit's section on its own
    LEARNING = "learning"  # learning in words: its page and the API's


# Who reads each report. The IRU's section: the report readers, and the conference chairs for
# their own unit's part of the work. Learning in words: only those who read every figure.
REPORT_READERS: dict[Report, frozenset[str]] = {
    Report.STANDING_ITEM: REPORT_ROLES,
    Report.ANNUAL: REPORT_ROLES,
    Report.IRU: REPORT_ROLES | {Role.CONFERENCE_CHAIR},
    Report.LEARNING: FULL_REPORT_ROLES,
}


@dataclass(frozen=True)
class Reading:
    """How someone reads a report they may read."""

    full: bool  # every figure (otherwise small counts are suppressed)
    drill_down: bool  # from a figure to the escalations behind it


def report_reading(roles: Collection[str], report: Report) -> Reading | None:
    """How someone with these roles in a partnership reads its report (None: not at all)."""
    roles = set(roles)
    if not roles & REPORT_READERS[report]:
        return None
    return Reading(full=bool(roles & FULL_REPORT_ROLES), drill_down=bool(roles & DRILL_DOWN_ROLES))


def may_see_meeting_action(user, action: MeetingAction) -> bool:
    """Its owner, the owner's line manager, and the PDG and business unit of its partnership."""
    return (
        action.owner_id == user.pk
        or (action.owner.line_manager_id is not None and action.owner.line_manager_id == user.pk)
        or bool(user_roles(user, action.meeting.partnership_id) & FULL_REPORT_ROLES)
    )


def may_mark_meeting_action_done(user, action: MeetingAction) -> bool:
    """The same people: the owner says it is done, or someone who follows it up for them."""
    return may_see_meeting_action(user, action)


def may_record_meetings(user, partnership_id: int) -> bool:
    """The business unit and the PDG's chair keep the record of its meetings."""
    return bool(user_roles(user, partnership_id) & MEETING_RECORD_ROLES)
