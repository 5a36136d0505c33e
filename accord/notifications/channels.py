"""How the outbox's emails leave Accord: by SMTP (the default), or through GOV.UK Notify
when ``ACCORD_NOTIFY_API_KEY`` is set.

A channel sends one notice (``send_notice``) or one partnership's daily digest for one person
(``send_digest``); the outbox (``services.deliver_pending``, ``services.send_digests``)
decides what is due, locks it, and marks it sent or failed. Both channels carry the same
things and nothing else: the kind of notice in words, the record's reference (never a
child's details), the partnership, the stage, the due date and the link.

Notify is sent to with its own client (``notifications-python-client``), one email template
for each kind of notice and one for the digest (``checks.py`` refuses a key without them).
Each message names its outbox row in Notify's ``reference`` field. Notify does not refuse a
second message with the same reference (it is a label to find messages by, not a key), so
after an attempt whose answer never came, the worker asks Notify for messages with that
reference before it sends again, and sends only if there are none
(``NotifyChannel.delivered_earlier``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.utils import formats
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from accord.partnership.models import Safeguards
from accord.partnership.selectors import PARTNERSHIP_PARAMETER

from .models import Notification, kind_label

DIGEST = "digest"  # the template of the daily digest, beside one for each kind of notice


class ServiceFailed(Exception):
    """The channel itself failed (down, erroring, refusing the key, too busy): every notice
    still to go in this pass waits and is tried again later, not only this one."""


def link(n: Notification) -> str:
    """The page it is about, naming its partnership: following the link switches someone who
    works in several to it (``CurrentPartnershipMiddleware``)."""
    base = settings.ACCORD_BASE_URL.rstrip("/")
    return f"{base}{n.path}?{PARTNERSHIP_PARAMETER}={n.partnership.slug}"


# Whom a notice's partnership safeguards, in the words its emails use (never whom one
# escalation is about: a notice carries nothing of the difference): "any details of ((whom))",
# "if ((anyone)) is in immediate danger".
SAFEGUARDED_WORDS = {
    Safeguards.CHILDREN: ("the child", "a child"),
    Safeguards.ADULTS: ("the adult", "an adult"),
    Safeguards.BOTH: ("the child, adult or family", "anyone"),
}


def safeguarded_words(partnership) -> dict[str, str]:
    whom, anyone = SAFEGUARDED_WORDS.get(partnership.safeguards, SAFEGUARDED_WORDS[Safeguards.CHILDREN])
    return {"whom": whom, "anyone": anyone}


def render_email(notification: Notification) -> tuple[str, str]:
    context = {
        "n": notification,
        "reference": notification.subject,
        "kind": kind_label(notification.kind),
        "link": link(notification),
        "partnership": notification.partnership.name,
        **safeguarded_words(notification.partnership),
    }
    subject = render_to_string("notifications/email_subject.txt", context).strip()
    body = render_to_string("notifications/email_body.txt", context)
    return subject, body


def digest_subject(items: list[Notification]) -> str:
    return f"Accord: {len(items)} updates in {items[0].partnership.name}"


def digest_lines(items: list[Notification]) -> list[tuple[str, str, int | None, dt.date | None, str]]:
    return [(kind_label(n.kind), n.subject, n.stage, n.due_date, link(n)) for n in items]


class SmtpChannel:
    """Django's mail connection (``EMAIL_BACKEND``, the ``EMAIL_*`` settings)."""

    def open(self) -> None:
        self.mail = get_connection(fail_silently=False)
        self.mail.open()

    def close(self) -> None:
        try:
            self.mail.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection
            pass

    def delivered_earlier(self, items: list[Notification]) -> list[Notification]:
        """None: an SMTP server's answer is not lost (a row is marked sent once it accepted it)."""
        return []

    def send_notice(self, n: Notification) -> None:
        subject, body = render_email(n)
        EmailMessage(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [n.recipient.email],
            connection=self.mail,
            headers={"Message-ID": f"<{n.key.replace(':', '.')}@accord>"},
        ).send()

    def send_digest(self, items: list[Notification]) -> None:
        body = render_to_string(
            "notifications/digest_body.txt",
            {
                "partnership": items[0].partnership.name,
                "items": digest_lines(items),
                **safeguarded_words(items[0].partnership),
            },
        )
        EmailMessage(
            digest_subject(items),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [items[0].recipient.email],
            connection=self.mail,
        ).send()


# ------------------------------------------------------------------ GOV.UK Notify


def _date(value: dt.date | None) -> str:
    return formats.date_format(value, "l j F Y") if value else ""


def notice_personalisation(n: Notification) -> dict[str, str]:
    """What a notice's template is given: the same as the SMTP email says, and no more.
    A value a template does not use is ignored by Notify; every one is always given (empty
    when there is none), so that a template may use any of them."""
    stage, due_date = str(n.stage or ""), _date(n.due_date)
    details = [f"Stage: {stage}" if stage else "", f"Due by: {due_date}" if due_date else ""]
    return {
        "kind": str(kind_label(n.kind)),
        "about": n.about_label,
        "reference": n.subject,
        "partnership": n.partnership.name,
        "stage": stage,
        "due_date": due_date,
        "details": "\n".join(line for line in details if line),  # (both, as lines, or empty)
        "link": link(n),
        **safeguarded_words(n.partnership),
    }


def digest_personalisation(items: list[Notification]) -> dict[str, Any]:
    """The digest's template is given the partnership, the number of updates and one line an
    update (a list, which Notify shows as bullet points)."""
    updates = []
    for kind, reference, stage, due, url in digest_lines(items):
        when = ", ".join(
            part for part in (f"stage {stage}" if stage else "", f"due {_date(due)}" if due else "") if part
        )
        updates.append(f"{reference}{f' ({when})' if when else ''}: {kind} {url}")
    return {
        "partnership": items[0].partnership.name,
        "count": str(len(items)),
        "updates": updates,
        **safeguarded_words(items[0].partnership),
    }


def notice_reference(n: Notification) -> str:
    return f"accord-notification-{n.pk}"


def digest_reference(items: list[Notification]) -> str:
    return f"accord-digest-{items[0].pk}-{items[-1].pk}"


class NotifyChannel:
    """GOV.UK Notify's API, through its Python client."""

    def open(self) -> None:
        self.client = NotificationsAPIClient(
            settings.ACCORD_NOTIFY_API_KEY,
            base_url=settings.ACCORD_NOTIFY_BASE_URL,
            timeout=settings.ACCORD_NOTIFY_TIMEOUT,
        )

    def close(self) -> None:
        self.client.request_session.close()

    def _call(self, method, /, **kwargs) -> dict:
        """One request. A failure of the service (no answer, a timeout, a 5xx, a 429, a key it
        refuses) is ``ServiceFailed``; only a 400, about this one message, is the message's own."""
        try:
            return method(**kwargs)
        except APIError as exc:
            if exc.response is not None and exc.status_code == 400:
                raise
            raise ServiceFailed(f"GOV.UK Notify: {exc}") from exc

    def delivered_earlier(self, items: list[Notification]) -> list[Notification]:
        """The rows an earlier attempt handed to Notify, whose answer was lost, and which Notify
        did receive: they are sent, and must not go again. One question a reference, and
        none for a row never handed to Notify. Notify lists only the messages it still keeps
        (seven days unless the service keeps them longer); a row waits an hour at most
        between attempts."""
        found = []
        for reference in sorted({n.sent_as for n in items if n.sent_as}):
            answer = self._call(self.client.get_all_notifications, template_type="email", reference=reference)
            if any(m.get("reference") == reference for m in answer.get("notifications", [])):
                found.extend(n for n in items if n.sent_as == reference)
        return found

    def _send(self, *, to: str, template: str, personalisation: dict, reference: str) -> None:
        self._call(
            self.client.send_email_notification,
            email_address=to,
            template_id=settings.ACCORD_NOTIFY_TEMPLATES[template],
            personalisation=personalisation,
            reference=reference,
        )

    def send_notice(self, n: Notification) -> None:
        n.sent_as = notice_reference(n)  # (saved with the row, sent or not)
        self._send(
            to=n.recipient.email,
            template=n.kind,
            personalisation=notice_personalisation(n),
            reference=n.sent_as,
        )

    def send_digest(self, items: list[Notification]) -> None:
        reference = digest_reference(items)
        for n in items:
            n.sent_as = reference
        self._send(
            to=items[0].recipient.email,
            template=DIGEST,
            personalisation=digest_personalisation(items),
            reference=reference,
        )


def current() -> SmtpChannel | NotifyChannel:
    return NotifyChannel() if settings.ACCORD_NOTIFY_API_KEY else SmtpChannel()
