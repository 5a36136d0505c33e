"""Invitations: nobody types another person's password. A new person is emailed a single-use
link, valid for ``ACCORD_INVITATION_DAYS``, to set their own; the business unit can send it
again (the earlier link then stops working) or revoke it.

The link is Django's password-reset token for the person: it is worth nothing once a password
has been set with it (the token covers the password's hash) or once it is revoked (a new
unusable password changes that hash), and it is never stored."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed

from ..models import Partnership, User, languages_for
from .common import audit_in_trails, require_business_unit
from .ownership import people_of, person_partnership_ids, require_own_person


def refusal_words(refused: ValidationError | NotAllowed) -> str:
    """An invitation's refusal in the words shown to the business unit."""
    return " ".join(refused.messages) if isinstance(refused, ValidationError) else str(refused)


def _may_invite(actor: User | None, person: User, partnership: Partnership) -> None:
    """The partnership's business unit (or the deployment's administrators, or the command
    line) invites only the partnership's own people."""
    require_business_unit(actor, partnership)
    if not people_of(partnership).filter(pk=person.pk).exists() and not (actor is None or actor.is_superuser):
        raise NotAllowed(_("This person works in another partnership: their own business unit invites them."))
    if person.is_superuser and not (actor is None or actor.is_superuser):
        raise NotAllowed(_("This person is one of the deployment's administrators: only they change them."))
    # A password is theirs in every partnership they work in: for someone shared, only the
    # deployment's administrators send or revoke the link that sets it.
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="invitation")


def _trails(person: User, partnership: Partnership) -> set[int]:
    """An invitation sets (and a revoked one takes away) the person's password: in the trail
    of this partnership and of every other they work in (a shared person's, sent by the
    deployment's administrators)."""
    return {partnership.pk, *person_partnership_ids(person)}


def invitation_link(person: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(person.pk))
    token = default_token_generator.make_token(person)
    path = reverse("set_password", kwargs={"uidb64": uid, "token": token})
    return f"{settings.ACCORD_BASE_URL.rstrip('/')}{path}"


def invite(*, actor: User | None, person: User, partnership: Partnership) -> None:
    """Email the person a link to set their password. Sent again, the earlier link dies."""
    _may_invite(actor, person, partnership)
    if not person.is_active:
        raise ValidationError(_("%(name)s's account is not active") % {"name": person})
    if not person.email:
        raise ValidationError(_("%(name)s has no email address to send the invitation to") % {"name": person})
    if person.last_login:
        # (Whether with a password or through their agency's sign-in: a link to set a password
        # would let whoever reads that mailbox sign in as them.)
        raise ValidationError(
            _("%(name)s already signs in: they can reset their own password") % {"name": person}
        )
    with transaction.atomic():
        person.set_unusable_password()  # any earlier link stops working
        person.invited_at = timezone.now()
        person.save(update_fields=["password", "invited_at"])
        days = settings.PASSWORD_RESET_TIMEOUT // 86400
        try:
            _send(person, partnership, days)
        except OSError as exc:  # the mail server down or refusing (smtplib's errors are OSErrors)
            raise ValidationError(
                _("The invitation to %(email)s could not be sent now: try again later")
                % {"email": person.email}
            ) from exc
        audit_in_trails(
            actor=actor,
            verb=Verb.INVITATION_SENT,
            target=person,
            partnership_ids=_trails(person, partnership),
            payload={"person": person.username},
            actor_label="manage.py",
        )


def _send(person: User, partnership: Partnership, days: int) -> None:
    """In the person's language (recorded as the business unit added them), or, where it is
    not known and the partnership works in Wales, in Welsh and English, Welsh first."""
    link = invitation_link(person)
    subjects, bodies = [], []
    for code in languages_for(person, partnership):
        with translation.override(code):
            subjects.append(
                _("Accord: set your password for %(partnership)s") % {"partnership": partnership.name}
            )
            bodies.append(
                _(
                    "You have been given an account in Accord, which %(partnership)s uses to settle "
                    "professional differences about children's safety.\n\n"
                    "Your sign-in name is %(username)s. Set your password here (the link works once, "
                    "for %(days)s days):\n%(link)s\n\n"
                    "If you did not expect this, tell the partnership's business unit. Do not reply to this email."
                )
                % {"partnership": partnership.name, "username": person.username, "days": days, "link": link}
            )
    send_mail(
        " / ".join(subjects),
        "\n------------------------------------------------------------\n\n".join(bodies),
        settings.DEFAULT_FROM_EMAIL,
        [person.email],
    )


def revoke_invitation(*, actor: User, person: User, partnership: Partnership) -> None:
    """The link sent stops working; the person cannot sign in with a password until invited
    again. Only a pending invitation is revoked: someone who has set their password keeps it."""
    _may_invite(actor, person, partnership)
    if person.invited_at is None or person.has_usable_password() or person.last_login:
        # Nothing pending: a password set (or a first sign-in) used the invitation up, and
        # revoking never takes away a password someone has set.
        return
    with transaction.atomic():
        person.set_unusable_password()
        person.invited_at = None
        person.save(update_fields=["password", "invited_at"])
        audit_in_trails(
            actor=actor,
            verb=Verb.INVITATION_REVOKED,
            target=person,
            partnership_ids=_trails(person, partnership),
            payload={"person": person.username},
        )


def invitation_password_set(*, person: User, password: str, request=None) -> User:
    """The invitation's link used: the person's own password set, once. Nothing is pending to
    revoke after it (revoking must never take away a password someone has set)."""
    with transaction.atomic():
        person.set_password(password)
        person.invited_at = None
        person.save(update_fields=["password", "invited_at"])
        audit_record(actor=person, verb=Verb.PASSWORD_SET, target=person, payload={}, request=request)
    return person
