"""Who may do what with the formal body's own records: a meeting's actions."""

from __future__ import annotations

from accord.partnership.roles import FULL_REPORT_ROLES, MEETING_RECORD_ROLES
from accord.partnership.selectors import user_roles

from .models import MeetingAction


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
