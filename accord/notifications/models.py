"""Notifications: the in-app list and the email outbox, in one table.

A notification is written in the same transaction as the event that causes it
(a transactional outbox); a worker delivers the email later, with retries, so a
mail-server outage loses nothing. Each row has a unique key, so the same
reminder or event can never be notified twice to the same person.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# What a notification is about, by its code: each app that tells people things registers its
# own kinds (``register_kinds``) with the words the list and the emails use. The outbox
# knows none of them.
_KINDS: dict[str, Any] = {}


def register_kinds(choices: type[models.TextChoices]) -> None:
    """Make an app's notification kinds known (its ``TextChoices``: code and words)."""
    for value, label in choices.choices:
        _KINDS[value] = label


def kind_label(code: str) -> str:
    """The words for a notification's kind (the code itself if no app registered it)."""
    return str(_KINDS.get(code, code))


def kind_codes() -> list[str]:
    return sorted(_KINDS)


class EmailState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    DIGEST = "digest", _("Waiting for the daily digest")
    SENT = "sent", _("Sent")
    NOT_SENT = "not_sent", _("Not sent (no email address)")


class Notification(models.Model):
    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # The partnership it belongs to: a person working in several sees, counts and is emailed
    # about each partnership's notifications apart (the one they are working in).
    partnership = models.ForeignKey("partnership.Partnership", on_delete=models.CASCADE, related_name="+")
    # What it is about and where in Accord to see it: an escalation's reference and page, or
    # any other thing of Accord's (a PDG meeting's action). Never a child's details.
    subject = models.CharField(max_length=120, default="")
    path = models.CharField(max_length=300, default="")
    # The record it is about, as its app names it ("escalation:42"), so that the app can find
    # its notifications (and remove them with the record); empty for none.
    about = models.CharField(max_length=60, blank=True, db_index=True)
    kind = models.CharField(max_length=30)  # a code some app registered (``register_kinds``)
    stage = models.PositiveSmallIntegerField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The reference under which it was last handed to GOV.UK Notify (its own, or a digest's):
    # after an attempt whose answer never came (a timeout), the worker asks Notify whether a
    # message with this reference arrived before it sends again. Empty for SMTP.
    sent_as = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["email_state", "next_attempt_at"]),
            models.Index(fields=["recipient", "partnership", "read_at"], name="notification_unread_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(email_state__in=EmailState.values), name="notification_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient_id}"

    def get_kind_display(self) -> str:
        return kind_label(self.kind)

    @property
    def about_label(self) -> str:
        """What kind of record it is about, in words ("Escalation"), or "About"."""
        kind = self.about.partition(":")[0]
        return kind.replace("_", " ").capitalize() if kind else "About"
