"""The formal body's own records that are not figures: what its meetings asked for, marked
done and chased while overdue, on the same once-only rules as the escalations' reminders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.notifications.models import Kind
from accord.notifications.services import outbox_rows, save_notifications, unique_recipients
from accord.partnership.calendar import calendar_for, within_working_hours
from accord.partnership.models import Partnership, User

from .models import MeetingAction
from .policies import may_mark_meeting_action_done, may_see_meeting_action


def meeting_action_path(action: MeetingAction) -> str:
    return f"/reports/meetings/actions/{action.pk}/"


def meeting_action_done(*, actor: User, action_id: int, note: str = "") -> MeetingAction:
    """Mark what a meeting asked for done, with what was done: once, audited."""
    with transaction.atomic():
        action = (
            MeetingAction.objects.select_for_update(of=("self",))
            .select_related("owner", "meeting")
            .filter(pk=action_id)
            .first()
        )
        if action is None or not may_see_meeting_action(actor, action):
            raise NotFound()
        if action.done_on is not None:
            raise IllegalTransition(_("That action was already marked done."))
        if not may_mark_meeting_action_done(actor, action):  # pragma: no cover - the same people today
            raise NotAllowed(_("Its owner, their line manager, the PDG or the business unit marks it done."))
        action.done_on, action.done_by, action.done_note = clock.today(), actor, note.strip()
        action.save(update_fields=["done_on", "done_by", "done_note"])
        audit_record(
            actor=actor,
            verb=Verb.MEETING_ACTION_DONE,
            target=action,
            partnership_id=action.meeting.partnership_id,
            payload={"meeting": str(action.meeting.held_on), "action": action.pk},
        )
    return action


def chase_meeting_actions(now: dt.datetime | None = None) -> int:
    """An action a meeting asked for, past its date and not done: its owner and their line
    manager are told, again every few working days while it stays so (once each: the key
    names the interval), only in working hours on working days."""
    now = now or clock.now()
    written = 0
    today = timezone.localtime(now).date()
    for partnership in Partnership.objects.all():
        if not within_working_hours(partnership, now):
            continue
        calendar = calendar_for(partnership)
        overdue = MeetingAction.objects.filter(
            meeting__partnership=partnership, done_on__isnull=True, due_on__lt=today
        ).select_related("owner__line_manager", "meeting")
        rows = []
        for action in overdue:
            late = calendar.working_days_between(action.due_on, today)
            interval = max(late - 1, 0) // settings.NOTIFY_OVERDUE_REPEAT_WORKING_DAYS
            told = [action.owner] + ([action.owner.line_manager] if action.owner.line_manager_id else [])
            rows += outbox_rows(
                partnership_id=partnership.pk,
                subject=_("PDG meeting of %(date)s") % {"date": date_format(action.meeting.held_on, "j F Y")},
                path=meeting_action_path(action),
                kind=Kind.MEETING_ACTION_OVERDUE,
                recipients=unique_recipients(told),
                key=f"meeting_action_overdue:{action.pk}:{interval}",
                due_date=action.due_on,
            )
        written += save_notifications(rows)
    return written
