"""Who is told what about an escalation, and when: the notifications each timeline event
causes, and the due-tomorrow and overdue reminders. Written to the outbox
(``accord.notifications.services``) in the transaction of the change that causes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.core import clock
from accord.notifications.models import Notification, register_kinds
from accord.notifications.services import outbox_rows, save_notifications, unique_recipients
from accord.partnership.calendar import calendar_for, within_working_hours
from accord.partnership.models import Partnership, Role, RoleAssignment, Stage, User, WorkedBy
from accord.partnership.protocol import Ladder, ladder_of
from accord.partnership.roles import FORMAL_BODY_ROLES, LEADER_ROLES

from .models import OTHER_PARTIES, AgreedAction, Escalation, EventType, FollowUp, Held, Status


class NoticeKind(models.TextChoices):
    """What people are told about an escalation."""

    RAISED_WITH_YOU = "raised_with_you", _("An escalation was raised with you")
    SETTLED_WITH_YOU = "settled_with_you", _("A difference with you was recorded as settled: add your view")
    DISCUSSION = "discussion", _("A discussion or response was recorded")
    REACHED_YOUR_STAGE = "reached_your_stage", _("An escalation reached your stage")
    ESCALATED = "escalated", _("An escalation moved to the next stage")
    FACILITATOR_APPOINTED = "facilitator_appointed", _("A restorative facilitator was appointed")
    FACILITATOR_ENDED = "facilitator_ended", _("A restorative facilitator's appointment ended")
    REASSIGNED_TO_YOU = "reassigned_to_you", _("An escalation was reassigned to you")
    PARTIES_CHANGED = "parties_changed", _("An agency was added to or removed from a difference")
    ACTION_ASKED = "action_asked", _("An action was asked of your agency")
    ACTION_OVERDUE = "action_overdue", _("An agreed action is overdue")
    RESOLVED = "resolved", _("An escalation was resolved")
    FOLLOW_UP = "follow_up", _("Did the agreed way forward hold?")
    DID_NOT_HOLD = "did_not_hold", _("An agreed way forward did not hold: it may be reopened or raised again")
    WITHDRAWN = "withdrawn", _("An escalation was withdrawn")
    REOPENED = "reopened", _("An escalation was reopened")
    DUE_SOON = "due_soon", _("A stage is due in one working day")
    OVERDUE = "overdue", _("A stage is overdue")
    # A review of the protocol applied while the escalation was open (one a person for each).
    REVIEW_SIGHT_LOST = "review_sight_lost", _("With the protocol's review you no longer see an escalation")
    REVIEW_SIGHT_GAINED = "review_sight_gained", _("With the protocol's review you now see an escalation")
    REVIEW_ACTION_LOST = (
        "review_action_lost",
        _("With the protocol's review an escalation is no longer yours to act on"),
    )
    REVIEW_ACTION_GAINED = (
        "review_action_gained",
        _("With the protocol's review an escalation is now yours to act on"),
    )
    REVIEW_MOVED = "review_moved", _("With the protocol's review an escalation's stage or due date changed")


register_kinds(NoticeKind)


def about(escalation_id: int) -> str:
    """How an escalation's notifications name it (``Notification.about``)."""
    return f"escalation:{escalation_id}"


def notifications_about(escalation_ids) -> QuerySet[Notification]:
    return Notification.objects.filter(about__in=[about(pk) for pk in escalation_ids])


def notification_rows(
    *,
    escalation: Escalation,
    kind: str,
    recipients: Iterable[User],
    key: str,
    due_date: dt.date | None = None,
) -> list[Notification]:
    """One unsaved notification a recipient about an escalation: its reference, stage, due
    date (``due_date``: what is due, if not the escalation's stage) and page."""
    return outbox_rows(
        partnership_id=escalation.partnership_id,
        subject=escalation.reference,
        path=f"/escalations/{escalation.pk}/",
        kind=kind,
        recipients=recipients,
        key=key,
        due_date=due_date or escalation.due_date,
        about=about(escalation.pk),
        stage=escalation.stage,
    )


def notify(*, escalation: Escalation, kind: str, recipients: Iterable[User], key: str) -> int:
    """Write one notification per recipient (in the caller's transaction). A key already used is skipped."""
    return save_notifications(
        notification_rows(escalation=escalation, kind=kind, recipients=recipients, key=key)
    )


_REMINDER_LOCK = 74_737_002
REMINDER_BATCH = 500  # notifications checked and inserted per query


LEADING_ROLES = tuple(sorted(LEADER_ROLES | FORMAL_BODY_ROLES))
FORMAL_BODY_ROLE_CODES = tuple(sorted(FORMAL_BODY_ROLES))  # (in a fixed order, for the queries)


class Directory:
    """Who holds the roles that own stages, and who owns each stage, read once.

    For one event it reads the role holders of the escalation's two agencies and the
    PDG; for a reminder sweep, those of the whole partnership. Either way the number of
    queries does not grow with the number of escalations or recipients.
    """

    def __init__(
        self, partnership_id: int, agency_ids: Iterable[int] | None = None, ladder: Ladder | None = None
    ):
        self.partnership_id = partnership_id
        self.agency_ids = None if agency_ids is None else sorted({a for a in agency_ids if a})
        self._holders: dict[tuple[str, int | None], list[User]] | None = None
        # Who owns each stage: from the partnership's ladder where it is at hand (as this
        # process keeps it), else read from its stages when first asked.
        self._stage_owners: dict[int, str] | None = (
            None if ladder is None else {s.number: s.worked_by for s in ladder.stages}
        )

    def stage_owner(self, number: int) -> str:
        if self._stage_owners is None:
            self._stage_owners = dict(
                Stage.objects.filter(partnership_id=self.partnership_id).values_list("number", "worked_by")
            )
        return self._stage_owners.get(number, WorkedBy.PRACTITIONERS)

    def holders(self, role: str, agency_ids: Iterable[int] = ()) -> list[User]:
        """Active holders of ``role`` in the partnership: in these agencies, or anywhere for the PDG."""
        if self._holders is None:
            holders = RoleAssignment.objects.filter(
                partnership_id=self.partnership_id, user__is_active=True
            ).select_related("user")
            if self.agency_ids is None:
                found = list(holders.filter(role__in=LEADING_ROLES).order_by("user_id"))
            else:
                # Two plain queries: with an OR across the two tables the planner reads every user.
                leaders = [r for r in LEADING_ROLES if r not in FORMAL_BODY_ROLE_CODES]
                of_agencies = holders.filter(role__in=leaders, user__agency_id__in=self.agency_ids)
                found = list(of_agencies.order_by("user_id")) + list(
                    holders.filter(role__in=FORMAL_BODY_ROLE_CODES).order_by("user_id")
                )
            self._holders = {}
            for a in found:
                key = (a.role, None if a.role in FORMAL_BODY_ROLE_CODES else a.user.agency_id)
                self._holders.setdefault(key, []).append(a.user)
        if role in FORMAL_BODY_ROLE_CODES:
            return list(self._holders.get((role, None), []))
        return [u for agency in dict.fromkeys(agency_ids) for u in self._holders.get((role, agency), [])]


def _directory(escalation, directory: Directory | None) -> Directory:
    if directory is not None:
        return directory
    # The escalation's partnership where it was read with it (raising, for one): its ladder.
    ladder = ladder_of(escalation.partnership) if Escalation.partnership.is_cached(escalation) else None
    return Directory(escalation.partnership_id, escalation.party_agency_ids(), ladder=ladder)


def receivers(escalation, agency_id: int, practitioner, directory: Directory | None = None) -> list[User]:
    """Who receives the difference in one agency it is with: the practitioner named there,
    or, naming nobody, the agency's managers."""
    if practitioner is not None:
        return [practitioner]
    return _directory(escalation, directory).holders(Role.MANAGER, [agency_id])


def parties(escalation, directory: Directory | None = None) -> list[User]:
    """The raiser first, then who receives it in each agency it is with."""
    people = [escalation.raised_by]
    people += receivers(
        escalation,
        escalation.with_agency_id,
        escalation.with_practitioner if escalation.with_practitioner_id else None,
        directory,
    )
    for other in escalation.others():
        people += receivers(escalation, other.agency_id, other.practitioner, directory)
    return people


def stage_owners(
    escalation, stage_number: int | None = None, directory: Directory | None = None
) -> list[User]:
    directory = _directory(escalation, directory)
    owner = directory.stage_owner(stage_number or escalation.stage)
    agencies = escalation.party_agency_ids()
    if owner == WorkedBy.PRACTITIONERS:
        return parties(escalation, directory)
    if owner == WorkedBy.MANAGERS:
        return directory.holders(Role.MANAGER, agencies)
    if owner == WorkedBy.SENIOR_LEADERS:
        return directory.holders(Role.SENIOR_LEADER, agencies)
    return [u for role in FORMAL_BODY_ROLE_CODES for u in directory.holders(role)]


def escalation_party_added(escalation):
    """The agency most recently brought into the difference."""
    others = escalation.others()
    return max(others, key=lambda o: (o.added_at, o.pk)) if others else None


def _facilitator_changed(e, event, directory) -> None:
    """A restorative facilitator appointed, or their appointment (and their access) ended:
    they and the parties hear of it."""
    if event.type == EventType.FACILITATOR_APPOINTED:
        kind = NoticeKind.FACILITATOR_APPOINTED
        action = e.pdg_actions.exclude(facilitator=None).order_by("-id").select_related("facilitator").first()
    else:
        kind = NoticeKind.FACILITATOR_ENDED
        action = (
            e.pdg_actions.filter(ended_at__isnull=False)
            .exclude(facilitator=None)
            .order_by("-ended_at", "-id")
            .select_related("facilitator")
            .first()
        )
    facilitator = [action.facilitator] if action else []
    notify(
        escalation=e,
        kind=kind,
        recipients=unique_recipients(facilitator + parties(e, directory), exclude=event.actor),
        key=f"event:{event.pk}",
    )


def _party_added(e, event, directory, everyone) -> None:
    """The agency brought in receives it as the first did; everyone else hears of it."""
    key = f"event:{event.pk}"
    added = escalation_party_added(e)
    newcomers = receivers(e, added.agency_id, added.practitioner, directory) if added else []
    notify(
        escalation=e,
        kind=NoticeKind.RAISED_WITH_YOU,
        recipients=unique_recipients(newcomers, exclude=event.actor),
        key=key,
    )
    newcomer_ids = {u.pk for u in newcomers}
    notify(
        escalation=e,
        kind=NoticeKind.PARTIES_CHANGED,
        recipients=[u for u in unique_recipients(everyone, exclude=event.actor) if u.pk not in newcomer_ids],
        key=key + ":parties",
    )


def notify_for_event(event) -> None:
    """Called by the escalation services for every timeline event, in the same transaction."""
    e = event.escalation
    actor = event.actor
    key = f"event:{event.pk}"
    directory = _directory(e, None)
    everyone = parties(e, directory) + stage_owners(e, directory=directory)
    if event.type == EventType.RAISED:
        notify(
            escalation=e,
            kind=NoticeKind.RAISED_WITH_YOU,
            recipients=unique_recipients(parties(e, directory)[1:], exclude=actor),
            key=key,
        )
        if e.stage > 1:
            notify(
                escalation=e,
                kind=NoticeKind.REACHED_YOUR_STAGE,
                recipients=unique_recipients(stage_owners(e, directory=directory), exclude=actor),
                key=key + ":stage",
            )
    elif event.type == EventType.SETTLED:
        notify(
            escalation=e,
            kind=NoticeKind.SETTLED_WITH_YOU,
            recipients=unique_recipients(parties(e, directory)[1:], exclude=actor),
            key=key,
        )
    elif event.type in (EventType.DISCUSSION, EventType.VIEW_ADDED):
        notify(
            escalation=e,
            kind=NoticeKind.DISCUSSION,
            recipients=unique_recipients(everyone, exclude=actor),
            key=key,
        )
    elif event.type in (EventType.ESCALATED, EventType.FORMALLY_ESCALATED):
        owners = unique_recipients(stage_owners(e, directory=directory), exclude=actor)
        notify(escalation=e, kind=NoticeKind.REACHED_YOUR_STAGE, recipients=owners, key=key + ":stage")
        owner_ids = {u.pk for u in owners}
        notify(
            escalation=e,
            kind=NoticeKind.ESCALATED,
            recipients=[
                u for u in unique_recipients(parties(e, directory), exclude=actor) if u.pk not in owner_ids
            ],
            key=key,
        )
    elif event.type in (EventType.FACILITATOR_APPOINTED, EventType.FACILITATOR_ENDED):
        _facilitator_changed(e, event, directory)
    elif event.type == EventType.PARTY_ADDED:
        _party_added(e, event, directory, everyone)
    elif event.type == EventType.PARTY_REMOVED:
        notify(
            escalation=e,
            kind=NoticeKind.PARTIES_CHANGED,
            recipients=unique_recipients(everyone, exclude=actor),
            key=key,
        )
    elif event.type == EventType.FOLLOWED_UP:
        _did_not_hold(e, event, directory)
    elif event.type in (EventType.RESOLVED, EventType.WITHDRAWN, EventType.REOPENED):
        kind = {
            EventType.RESOLVED: NoticeKind.RESOLVED,
            EventType.WITHDRAWN: NoticeKind.WITHDRAWN,
            EventType.REOPENED: NoticeKind.REOPENED,
        }[event.type]
        notify(escalation=e, kind=kind, recipients=unique_recipients(everyone, exclude=actor), key=key)


def notify_protocol_review(
    *, version, escalations: list[Escalation], standing: dict, actor: User | None
) -> int:
    """Who a review of the protocol changes something for, told once about each open
    escalation it changes it on (in the review's transaction): whoever gains or loses sight of
    it or the right to act on it (``standing``: the review's preview, by reference), and its
    parties where it will stand at another stage or its due date moves. Someone for whom
    several things change hears the first that applies of: sight lost, sight gained, action
    lost, action gained, stage or due date changed. Sight lost names the escalation's
    reference without a link to it (its page is no longer theirs to open)."""
    names = {
        name
        for s in standing.values()
        for name in (*s.loses_sight, *s.gains_sight, *s.loses_action, *s.gains_action)
    }
    people = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    directory = Directory(version.partnership_id)
    rows: list[Notification] = []
    for e in escalations:
        s = standing.get(e.reference)
        if s is None:
            continue
        told: dict[int, tuple[User, str]] = {}

        def tell(users: Iterable[User | None], kind: str, told=told) -> None:
            for user in users:
                if user is not None and user.is_active and user.pk not in told:
                    if actor is None or user.pk != actor.pk:
                        told[user.pk] = (user, kind)

        tell((people.get(n) for n in s.loses_sight), NoticeKind.REVIEW_SIGHT_LOST)
        tell((people.get(n) for n in s.gains_sight), NoticeKind.REVIEW_SIGHT_GAINED)
        tell((people.get(n) for n in s.loses_action), NoticeKind.REVIEW_ACTION_LOST)
        tell((people.get(n) for n in s.gains_action), NoticeKind.REVIEW_ACTION_GAINED)
        if s.moves_stage or s.due_now != s.due_after:
            tell(parties(e, directory), NoticeKind.REVIEW_MOVED)
        key = f"protocol:{version.pk}:{e.pk}"
        for kind in dict.fromkeys(kind for _user, kind in told.values()):
            recipients = [user for user, k in told.values() if k == kind]
            rows += outbox_rows(
                partnership_id=e.partnership_id,
                subject=e.reference,
                path="" if kind == NoticeKind.REVIEW_SIGHT_LOST else f"/escalations/{e.pk}/",
                kind=kind,
                recipients=recipients,
                key=key,
                due_date=s.due_after,
                about=about(e.pk),
                stage=e.stage,
            )
    created = 0
    for start in range(0, len(rows), REMINDER_BATCH):
        created += save_notifications(rows[start : start + REMINDER_BATCH])
    return created


def _did_not_hold(e, event, directory: Directory) -> None:
    """A party said the agreed way forward did not hold: the parties, the managers of their
    agencies and the formal body are told (rule 5: everything reaches it), so that someone
    acts on it. The formal body sees the escalation only once formal (rule 7): below that its
    link is to the standing item, where it is counted, and it is not named by its reference."""
    answered = e.follow_ups.filter(answered_at__isnull=False).order_by("-answered_at").first()
    if answered is None or answered.held != Held.NOT_HELD:
        return
    key = f"event:{event.pk}"
    agencies = e.party_agency_ids()
    told = unique_recipients(
        parties(e, directory)
        + directory.holders(Role.MANAGER, agencies)
        + directory.holders(Role.SENIOR_LEADER, agencies),
        exclude=event.actor,
    )
    notify(escalation=e, kind=NoticeKind.DID_NOT_HOLD, recipients=told, key=key)
    told_ids = {u.pk for u in told} | {event.actor_id}
    body = [
        u
        for u in unique_recipients(u for role in FORMAL_BODY_ROLE_CODES for u in directory.holders(role))
        if u.pk not in told_ids
    ]
    if e.formal_at is not None:
        notify(escalation=e, kind=NoticeKind.DID_NOT_HOLD, recipients=body, key=key + ":body")
        return
    save_notifications(
        outbox_rows(
            partnership_id=e.partnership_id,
            subject=str(_("A difference settled below the formal stages")),
            path=reverse("reports:pdg"),
            kind=NoticeKind.DID_NOT_HOLD,
            recipients=body,
            key=key + ":body",
            about=about(e.pk),
        )
    )


def action_path(action) -> str:
    """An agreed action's own page: its owning agency opens it whether or not it is a party."""
    return reverse("escalations:agreed_action", kwargs={"action": action.pk})


def action_owners(action, directory: Directory) -> list[User]:
    """Who answers for an action: its owning agency's managers and senior leaders in the
    partnership, as they are now (someone who left the agency or the role is not)."""
    return unique_recipients(
        directory.holders(Role.MANAGER, [action.owner_agency_id])
        + directory.holders(Role.SENIOR_LEADER, [action.owner_agency_id])
    )


def action_rows(action, escalation, *, kind: str, recipients: Iterable[User], key: str) -> list[Notification]:
    return outbox_rows(
        partnership_id=escalation.partnership_id,
        subject=escalation.reference,
        path=action_path(action),
        kind=kind,
        recipients=recipients,
        key=key,
        due_date=action.due_date,
        about=about(escalation.pk),
        stage=escalation.stage,
    )


def notify_actions_asked(escalation, actions, actor) -> None:
    """Agreed or commissioned actions were recorded: each owning agency's managers and senior
    leaders are told, with a link to the action (in the recording's transaction)."""
    if not actions:
        return
    directory = Directory(escalation.partnership_id, {a.owner_agency_id for a in actions})
    rows = []
    for action in actions:
        rows += action_rows(
            action,
            escalation,
            kind=NoticeKind.ACTION_ASKED,
            recipients=[u for u in action_owners(action, directory) if u.pk != actor.pk],
            key=f"action_asked:{action.pk}",
        )
    save_notifications(rows)


def send_due_reminders() -> int:
    """Due-tomorrow and overdue reminders to a stage's workers and their line managers, once
    each and never twice (rule 6; a partnership may ask for an overdue repeat), only in
    working hours on working days. Safe to run in several copies at once,
    and after downtime it catches up without sending anything twice."""
    now = clock.now()
    created = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_REMINDER_LOCK])
                if not cursor.fetchone()[0]:
                    return 0  # another copy is sending reminders now
        for partnership in Partnership.objects.all():
            if not within_working_hours(partnership, now):
                continue
            calendar = calendar_for(partnership)
            today = timezone.localtime(now).date()
            tomorrow = calendar.next_working_day(today)
            open_ = (
                Escalation.objects.filter(partnership=partnership, status=Status.OPEN)
                .select_related("raised_by", "with_practitioner", "partnership")
                .prefetch_related(OTHER_PARTIES)
            )
            # Role holders and stage owners for the whole partnership, read once for the sweep.
            directory = Directory(partnership.pk)
            rows: list[Notification] = []
            due_soon = list(open_.filter(due_date=tomorrow))
            overdue = list(open_.filter(due_date__lt=today))
            # Rule 6: each reminder goes to the stage's workers and their line managers.
            owners_of = {
                e.pk: unique_recipients(stage_owners(e, directory=directory)) for e in due_soon + overdue
            }
            manager_ids = {
                u.line_manager_id for owners in owners_of.values() for u in owners if u.line_manager_id
            }
            line_managers = User.objects.in_bulk(manager_ids)

            told: dict[int, list[User]] = {}
            for pk, owners in owners_of.items():
                managers = [line_managers.get(u.line_manager_id) for u in owners if u.line_manager_id]
                told[pk] = unique_recipients(owners + [m for m in managers if m is not None and m.is_active])
            for e in due_soon:
                key = f"due_soon:{e.pk}:{e.stage}:{e.stage_started_on}"
                rows += notification_rows(
                    escalation=e, kind=NoticeKind.DUE_SOON, recipients=told[e.pk], key=key
                )
            repeat = partnership.overdue_reminder_repeat_working_days
            for e in overdue:
                # Once for the stage period (never twice), unless the partnership asks for a
                # repeat every so many working days while it stays overdue.
                key = f"overdue:{e.pk}:{e.stage}:{e.stage_started_on}"
                if repeat:
                    late = calendar.working_days_between(e.due_date, today)
                    key += f":{max(late - 1, 0) // repeat}"
                rows += notification_rows(
                    escalation=e, kind=NoticeKind.OVERDUE, recipients=told[e.pk], key=key
                )
            # Agreed actions past their due date and not done: their agency's managers and
            # senior leaders are told, again every few working days while it stays so (an
            # action is chased until done; rule 6's once-only is for the stages).
            overdue_actions = AgreedAction.objects.filter(
                escalation__partnership=partnership, completed_on__isnull=True, due_date__lt=today
            ).select_related("escalation")
            for action in overdue_actions:
                late = calendar.working_days_between(action.due_date, today)
                interval = max(late - 1, 0) // settings.NOTIFY_OVERDUE_REPEAT_WORKING_DAYS
                # Chased only while it is theirs: its owning agency's leaders as they are now,
                # with a link to the action itself (they need not be a party to open it).
                rows += action_rows(
                    action,
                    action.escalation,
                    kind=NoticeKind.ACTION_OVERDUE,
                    recipients=action_owners(action, directory),
                    key=f"action_overdue:{action.pk}:{interval}",
                )
            rows += _follow_ups_to_ask(partnership, today, now, directory)
            for start in range(0, len(rows), REMINDER_BATCH):
                created += save_notifications(rows[start : start + REMINDER_BATCH])
    return created


def _follow_ups_to_ask(partnership: Partnership, today: dt.date, now: dt.datetime, directory) -> list:
    """Some weeks after a resolution, the parties and whoever recorded it are asked whether
    the agreed way forward held (once: the follow-up is marked asked, and its key is unique).
    An escalation reopened since is not asked: its follow-up went with the reopening."""
    due = list(
        FollowUp.objects.filter(
            escalation__partnership=partnership,
            asked_at__isnull=True,
            due_on__lte=today,
            escalation__status=Status.RESOLVED,
        ).select_related("resolution__resolved_by")
    )
    if not due:
        return []
    escalations = (
        Escalation.objects.select_related("raised_by", "with_practitioner", "partnership")
        .prefetch_related(OTHER_PARTIES)
        .in_bulk([f.escalation_id for f in due])
    )
    rows = []
    for follow_up in due:
        e = escalations[follow_up.escalation_id]
        asked = unique_recipients([*parties(e, directory=directory), follow_up.resolution.resolved_by])
        rows += notification_rows(
            escalation=e, kind=NoticeKind.FOLLOW_UP, recipients=asked, key=f"follow_up:{follow_up.pk}"
        )
    FollowUp.objects.filter(pk__in=[f.pk for f in due]).update(asked_at=now)
    return rows
