"""The audit trail: append-only, each entry chained to the one before by a hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Verb(models.TextChoices):
    LOGIN = "auth.login", _("Logged in")
    LOGIN_FAILED = "auth.login_failed", _("Failed log-in")
    LOGOUT = "auth.logout", _("Logged out")
    ESCALATION_VIEWED = "escalation.viewed", _("Viewed an escalation")
    ESCALATION_LISTED = "escalation.listed", _("Listed escalations")
    ESCALATIONS_EXPORTED = "escalation.exported", _("Downloaded a list of escalations")
    ESCALATION_RAISED = "escalation.raised", _("Raised an escalation")
    # Entries written before each action had its own verb.
    ESCALATION_CHANGED = "escalation.changed", _("Changed an escalation")
    DISCUSSION_RECORDED = "escalation.discussion_recorded", _("Recorded a discussion")
    ESCALATED = "escalation.escalated", _("Escalated to a higher stage")
    PAUSED = "escalation.paused", _("Paused an escalation")
    RESUMED = "escalation.resumed", _("Resumed an escalation")
    PDG_ACTION = "escalation.pdg_action", _("Recorded an offer or action of the formal body")
    FACILITATION_ENDED = "escalation.facilitation_ended", _("Ended a restorative facilitator's appointment")
    RESPONSE_COMMISSIONED = "escalation.response_commissioned", _("Commissioned a multi-agency response")
    ACTION_COMPLETED = "escalation.action_completed", _("Marked an agreed action done")
    PARTY_ADDED = "escalation.party_added", _("Added an agency to a difference")
    PARTY_REMOVED = "escalation.party_removed", _("Removed an agency from a difference")
    REASSIGNED = "escalation.reassigned", _("Reassigned an escalation's raiser or named practitioner")
    RESOLVED = "escalation.resolved", _("Recorded an escalation's resolution")
    FOLLOWED_UP = "escalation.followed_up", _("Said whether an agreed way forward held")
    WITHDRAWN = "escalation.withdrawn", _("Withdrew an escalation")
    REOPENED = "escalation.reopened", _("Reopened an escalation")
    RAISED_AGAIN = (
        "escalation.raised_again",
        _("Raised a linked escalation after an agreed way forward did not hold"),
    )
    LEARNING_PUBLISHED = "learning.published", _("Marked learning fit to publish in the annual report")
    ESCALATION_PRINTED = "escalation.printed", _("Opened the printable record for the agency's file")
    DOCUMENT_UPLOADED = "document.uploaded", _("Attached an evidence document")
    DOCUMENT_DOWNLOADED = "document.downloaded", _("Downloaded an evidence document")
    DRAFT_SAVED = "draft.saved", _("Saved a draft")
    # Entries written before each change of a partnership's settings had its own verb: kept
    # so that they still read and verify; nothing writes it (``payloads.LEGACY``).
    CONFIGURATION_CHANGED = "configuration.changed", _("Changed the configuration")
    PARTNERSHIP_SETTINGS_CHANGED = "partnership.settings_changed", _("Changed the partnership's settings")
    STATEMENT_CHANGED = (
        "partnership.statement_changed",
        _("Changed the accessibility statement or the privacy notice"),
    )
    AGENCY_ADDED = "agency.added", _("Added an agency to the partnership")
    AGENCY_CHANGED = "agency.changed", _("Changed an agency")
    TERM_ADDED = "taxonomy.term_added", _("Added an area of disagreement or a practice theme")
    TERM_CHANGED = "taxonomy.term_changed", _("Changed an area of disagreement or a practice theme")
    TERM_DELETED = "taxonomy.term_deleted", _("Deleted an area of disagreement or a practice theme")
    PROTOCOL_CHANGED = "protocol.changed", _("Changed a part of the protocol")
    PROTOCOL_LOADED = "protocol.loaded", _("Loaded the protocol from a file")
    NARRATIVE_CHANGED = "report.narrative_changed", _("Wrote the annual report's account of the year")
    NARRATIVE_DELETED = "report.narrative_deleted", _("Deleted the annual report's account of a year")
    MEETING_RECORDED = "meeting.recorded", _("Recorded a meeting of the formal body")
    MEETING_CHANGED = "meeting.changed", _("Changed the record of a meeting of the formal body")
    MEETING_DELETED = "meeting.deleted", _("Deleted the record of a meeting of the formal body")
    MEETING_ACTION_ADDED = "meeting.action_added", _("Added an action a PDG meeting asked for")
    MEETING_ACTIONS_CHANGED = "meeting.actions_changed", _("Changed the actions a PDG meeting asked for")
    PARTNERSHIP_CREATED = "partnership.created", _("Set up a partnership")
    PEOPLE_IMPORTED = "people.imported", _("Imported people from a spreadsheet")
    AGENCIES_MERGED = "agency.merged", _("Merged one agency into another")
    ESCALATIONS_IMPORTED = "escalations.imported", _("Brought in escalations from an earlier log")
    ESCALATION_IMPORT_REMOVED = (
        "escalations.import_removed",
        _("Removed escalations brought in from an earlier log"),
    )
    INVITATION_SENT = "invitation.sent", _("Sent an invitation to set a password")
    INVITATION_REVOKED = "invitation.revoked", _("Revoked an invitation")
    PASSWORD_SET = "auth.password_set", _("Set their password from an invitation")
    SIGNED_IN_ADDED = "auth.added_by_sign_in", _("Added by signing in through their agency's provider")
    PERSON_ADDED = "person.added", _("Added a person")
    PERSON_DETAILS_CHANGED = "person.details_changed", _("Changed a person's name or job title")
    PERSON_EMAIL_CHANGED = "person.email_changed", _("Changed a person's email")
    PERSON_MOVED = "person.moved", _("Moved a person to another agency")
    PERSON_LINE_MANAGER_CHANGED = "person.line_manager_changed", _("Changed a person's line manager")
    PERSON_ROLES_CHANGED = "person.roles_changed", _("Changed a person's roles in a partnership")
    PERSON_DEACTIVATED = "person.deactivated", _("Deactivated a person")
    PERSON_REACTIVATED = "person.reactivated", _("Reactivated a person")
    SHARED_CHANGE_REFUSED = "shared.change_refused", _("Was refused a change to a shared person or agency")
    SIGN_IN_PROVIDER_ADDED = "sign_in_provider.added", _("Added an agency's sign-in provider")
    SIGN_IN_PROVIDER_CHANGED = "sign_in_provider.changed", _("Changed an agency's sign-in provider")
    SIGN_IN_PROVIDER_CONFIRMED = "sign_in_provider.confirmed", _("Confirmed an agency's sign-in provider")
    DEMO_LOADED = "demo.loaded", _("Loaded the demo partnership")
    API_TOKEN_CREATED = "api_token.created", _("Created an API token")
    API_TOKEN_REVOKED = "api_token.revoked", _("Revoked an API token")
    KEYS_ROTATED = "keys.rotated", _("Re-encrypted data with a new key")
    MFA_ENROLLED = "mfa.enrolled", _("Set up two-step verification")
    MFA_VERIFIED = "mfa.verified", _("Passed two-step verification")
    MFA_FAILED = "mfa.failed", _("Failed two-step verification")
    LOCKED_OUT = "auth.locked_out", _("Locked out after failed log-ins")
    AUDIT_SEARCHED = "audit.searched", _("Searched the audit trail")
    DIRECTORY_SEARCHED = "directory.searched", _("Searched the partnership's staff")
    AUDIT_EXPORTED = "audit.exported", _("Exported the audit trail")
    SUBJECT_ACCESS = "data.subject_access", _("Gathered a subject access request")
    RETENTION_APPLIED = "data.retention_applied", _("Removed data past its retention period")
    REPORT_VIEWED = "report.viewed", _("Viewed a report")
    REPORT_DOWNLOADED = "report.downloaded", _("Downloaded a report")
    MEETING_ACTION_DONE = "meeting.action_done", _("Marked an action a PDG meeting asked for done")
    ACCESS_REFUSED = "access.refused", _("Was refused a page, an escalation or a report")
    AGENCY_EMAIL_DOMAINS_CHANGED = (
        "agency.email_domains_changed",
        _("Changed an agency's work email domains"),
    )
    GUEST_NAMED = "guest.named", _("Named a professional by work email as a guest")
    GUEST_LINK_OPENED = "guest.link_opened", _("Opened a guest's emailed link")
    GUEST_CODE_SENT = "guest.code_sent", _("Was emailed a guest's one-time code")
    GUEST_CODE_REFUSED = "guest.code_refused", _("Entered a guest's one-time code that was refused")
    GUEST_SIGNED_IN = "guest.signed_in", _("Signed in as a guest of one escalation")
    GUEST_CONFIRMED = "guest.confirmed", _("Confirmed, as a guest, they work with the child or theme")
    GUEST_DECLINED = "guest.declined", _("Said, as a guest, the escalation is not for them")
    GUEST_ACCESS_ENDED = "guest.access_ended", _("Ended a guest's access")
    GUEST_MADE_PERSON = "guest.made_person", _("Made a guest one of the partnership's people")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # pragma: no cover - guarded path
        raise PermissionError("The audit trail is append-only.")

    def delete(self):  # pragma: no cover - guarded path
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One entry of the trail. No path in Accord updates or deletes one."""

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for Accord's own scheduled work (the system actor)."),
    )
    actor_label = models.CharField(max_length=200)
    actor_agency = models.CharField(max_length=200, blank=True)
    actor_roles = models.CharField(max_length=300, blank=True)
    verb = models.CharField(max_length=40, choices=Verb.choices, db_index=True)
    partnership_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=60, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    # How entry_hash was made: 1, a plain SHA-256 (entries written before the chain was
    # keyed); 2, an HMAC-SHA256 under ACCORD_AUDIT_KEY, which is not in the database.
    scheme = models.PositiveSmallIntegerField(default=2)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(verb__in=Verb.values), name="audit_verb_valid")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")


class PendingRead(models.Model):
    """A read (an escalation viewed, a list, a report, a download) recorded without waiting
    for the chain: one insert, sealed with an HMAC of its own content under
    ``ACCORD_AUDIT_KEY``, and appended to the chain, in order of time, by the worker
    (``chain_pending_reads``) and before the trail is searched or exported. So readers never
    queue behind the chain's lock, and a read is durable before its answer leaves
    (docs/decisions/0002-audit-trail.md). Its rows are removed only once chained.

    The verb is not a choice of ``Verb`` here: ``audit_record`` routes only the read verbs
    (``READ_VERBS``) to this table."""

    at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    actor_agency = models.CharField(max_length=200, blank=True)
    actor_roles = models.CharField(max_length=300, blank=True)
    verb = models.CharField(max_length=40)
    partnership_id = models.BigIntegerField(null=True, blank=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=60, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    seal = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb} (not yet chained)"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("A read waiting to be chained is never changed.")
        super().save(*args, **kwargs)

    def get_verb_display(self) -> str:
        return str(Verb(self.verb).label) if self.verb in Verb.values else self.verb
