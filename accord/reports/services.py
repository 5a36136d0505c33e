"""The formal body's own records that are not figures: what its meetings asked for, marked
done and chased while overdue, on the same once-only rules as the escalations' reminders."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.core.records import apply_changes
from accord.notifications.models import register_kinds
from accord.notifications.services import outbox_rows, save_notifications, unique_recipients
from accord.partnership.calendar import calendar_for, within_working_hours
from accord.partnership.models import Partnership, RoleAssignment, User
from accord.partnership.services.common import require_business_unit

from .models import AnnualNarrative, MeetingAction, PdgMeeting
from .policies import may_mark_meeting_action_done, may_record_meetings, may_see_meeting_action


class MeetingNoticeKind(models.TextChoices):
    """What people are told about the actions a PDG meeting asked of them."""

    MEETING_ACTION_OVERDUE = (
        "meeting_action_overdue",
        gettext_lazy("An action a meeting asked of you is overdue"),
    )


register_kinds(MeetingNoticeKind)


NARRATIVE_FIELDS = ("culture", "learning", "next_year")


def annual_narrative_save(
    *, actor: User, partnership: Partnership, year: int, text: dict[str, str]
) -> list[str]:
    """What the business unit writes for a year's annual report (how the culture of
    challenge developed, the learning, next year's actions): answers the fields changed,
    audited by their names."""
    require_business_unit(actor, partnership)
    with transaction.atomic():
        narrative, _created = AnnualNarrative.objects.select_for_update().get_or_create(
            partnership=partnership, year=year
        )
        changed = apply_changes(
            narrative, {name: (text.get(name) or "").strip() for name in NARRATIVE_FIELDS}
        )
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.NARRATIVE_CHANGED,
                target=narrative,
                partnership_id=partnership.pk,
                payload={"year": year, "fields": changed},
            )
    return changed


def meeting_action_path(action: MeetingAction) -> str:
    return f"/reports/meetings/actions/{action.pk}/"


def meeting_save(
    *,
    actor: User,
    partnership: Partnership,
    held_on: dt.date,
    discussed: str = "",
    decided: str = "",
    asked_for: str = "",
    meeting: PdgMeeting | None = None,
) -> PdgMeeting:
    """Record a meeting of the formal body (or change its record): when, what it discussed
    and decided, and what it asked for in words. The business unit and the PDG's chair do it;
    one meeting a day; audited by the fields changed."""
    if not may_record_meetings(actor, partnership.pk):
        raise NotAllowed(
            _("The business unit or the %(body)s's chair records its meetings.")
            % {"body": partnership.formal_body_shown}
        )
    if meeting is not None and meeting.partnership_id != partnership.pk:
        raise NotFound()
    if held_on > clock.today():
        raise ValidationError({"held_on": _("Enter the date of a meeting that has been held")})
    clash = PdgMeeting.objects.filter(partnership=partnership, held_on=held_on)
    if meeting is not None:
        clash = clash.exclude(pk=meeting.pk)
    if clash.exists():
        raise ValidationError({"held_on": _("A meeting on that date is recorded already: change that one")})
    wanted = {
        "held_on": held_on,
        "discussed": discussed.strip(),
        "decided": decided.strip(),
        "asked_for": asked_for.strip(),
    }
    with transaction.atomic():
        recorded = meeting is None
        if meeting is None:
            meeting = PdgMeeting.objects.create(partnership=partnership, **wanted)
            changed = sorted(wanted)
        else:
            changed = apply_changes(meeting, wanted)
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.MEETING_RECORDED if recorded else Verb.MEETING_CHANGED,
                target=meeting,
                partnership_id=partnership.pk,
                payload={"meeting": str(meeting.held_on), "fields": changed},
            )
    return meeting


def meeting_action_add(
    *, actor: User, meeting: PdgMeeting, description: str, owner_email: str, due_on: dt.date
) -> MeetingAction:
    """What a meeting asked of someone of its partnership, by when: on their home page, chased
    while overdue, marked done by them (``meeting_action_done``)."""
    if not may_record_meetings(actor, meeting.partnership_id):
        raise NotAllowed(
            _("The business unit or the %(body)s's chair records its meetings.")
            % {"body": meeting.partnership.formal_body_shown}
        )
    errors = {}
    if not description.strip():
        errors["description"] = _("Enter what the meeting asked for")
    owner = (
        User.objects.annotate(lowered=Lower("email"))
        .filter(
            lowered=owner_email.strip().lower(),
            is_active=True,
            pk__in=RoleAssignment.objects.filter(partnership_id=meeting.partnership_id).values("user_id"),
        )
        .first()
    )
    if owner is None:
        errors["owner_email"] = _("Enter the email of someone who works in this partnership now")
    if due_on < meeting.held_on:
        errors["due_on"] = _("Enter a date on or after the meeting")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        action = MeetingAction.objects.create(
            meeting=meeting, description=description.strip(), owner=owner, due_on=due_on
        )
        audit_record(
            actor=actor,
            verb=Verb.MEETING_ACTION_ADDED,
            target=meeting,
            partnership_id=meeting.partnership_id,
            payload={"meeting": str(meeting.held_on), "action": action.pk},
        )
    return action


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
            raise NotAllowed(
                _("Its owner, their line manager, the formal body or the business unit marks it done.")
            )
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
                subject=_("Meeting of the %(body)s, %(date)s")
                % {
                    "body": partnership.formal_body_shown,
                    "date": date_format(action.meeting.held_on, "j F Y"),
                },
                path=meeting_action_path(action),
                kind=MeetingNoticeKind.MEETING_ACTION_OVERDUE,
                recipients=unique_recipients(told),
                key=f"meeting_action_overdue:{action.pk}:{interval}",
                due_date=action.due_on,
            )
        written += save_notifications(rows)
    return written
