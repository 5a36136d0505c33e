"""Taking part without an account: the professional of another agency, named on a difference
by work email, answers it as a guest of that escalation alone (docs/decisions/0008-guests.md).

The steps, each audited under its own verb:

- named (``guests_name``): by the raiser when raising, or after (a corrected address); the
  address must be at one of the agency's work email domains, which the business unit keeps;
  someone who already has an account is named as themselves instead and signs in as usual;
- the emailed link (no child's details): opening it uses nothing up and sends nothing, since
  mail scanners open links (``guest_link_opened``);
- a one-time code emailed on request (``guest_send_code``): it lasts ``CODE_MINUTES`` and
  ``CODE_TRIES`` tries, at most ``CODES_PER_HOUR`` are sent an hour, and it is kept only as
  a keyed hash; entered (``guest_check_code``), it opens a guest session of that escalation
  alone, ended after ``SESSION_IDLE_MINUTES`` idle;
- until they confirm they work with the child (or the theme) the child's identifiers stay
  hidden (``guest_confirm``); "this is not for me" ends their access and tells the raiser
  (``guest_decline``);
- access ends when the escalation closes, when the raiser's manager or the business unit
  removes it (``guest_remove``), or after the partnership's days without use.

The guest acts through the ordinary services with their guest account as the actor (the
policies' ``is_confirmed_guest``), so their answers count as any party's.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import models, transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import NotAllowed, NotFound
from accord.notifications.channels import in_their_languages
from accord.notifications.models import register_kinds
from accord.partnership.models import (
    Agency,
    Partnership,
    PartnershipAgency,
    Role,
    RoleAssignment,
    User,
    WorkedBy,
)
from accord.partnership.protocol import ladder_of
from accord.partnership.roles import LEADER_ROLES, SETTINGS_ROLES, TIER_ROLES
from accord.partnership.selectors import roles_by_partnership, user_roles
from accord.partnership.services.common import require_business_unit

from .. import visibility
from ..models import (
    GUEST_TIERS,
    OPEN_STATUSES,
    Escalation,
    Event,
    EventType,
    Guest,
    GuestEnd,
    GuestState,
    Kind,
    OtherParty,
)
from ..notices import notify
from ..policies import stage_holding
from ..selectors import escalation_leaders
from ..subjects import worded
from ._base import EVENT_LISTENERS, _locked

CODE_MINUTES = 10
CODE_TRIES = 5
CODES_PER_HOUR = 5
# And a day: someone holding a link but not the mailbox (one forwarded, or left in a shared
# browser's history) could otherwise try 25 codes an hour for as long as the access lasts.
CODES_PER_DAY = 10
SESSION_IDLE_MINUTES = 30
CODE_DIGITS = 6


class GuestNotice(models.TextChoices):
    """What the raiser is told of a guest."""

    GUEST_DECLINED = (
        "guest_declined",
        gettext_lazy("A professional named by email said the escalation is not for them"),
    )


register_kinds(GuestNotice)


def _digest(value: str) -> str:
    """A keyed hash: what is stored of a link, a code or a session, never the thing itself."""
    return salted_hmac("accord.guests", value, algorithm="sha256").hexdigest()


def link_digest(token: str) -> str:
    return _digest(f"link:{token}")


def _payload(guest: Guest, **more) -> dict:
    return {
        "reference": guest.escalation.reference,
        "guest": guest.pk,
        "agency": guest.agency_id,
        **{k: v for k, v in more.items() if v is not None},
    }


def _audit(actor: User | None, verb: Verb, guest: Guest, **more) -> None:
    audit_record(
        actor=actor,
        verb=verb,
        target=guest.escalation,
        partnership_id=guest.escalation.partnership_id,
        payload=_payload(guest, **more),
    )


# --------------------------------------------------------------------------- naming


def email_refusal(partnership: Partnership, agency: Agency, email: str) -> str | None:
    """Why this address cannot name a guest of ``agency`` here, in plain words; or None."""
    try:
        validate_email(email)
    except ValidationError:
        return _("Enter a work email address in the correct format, like name@example.nhs.uk")
    if len(email) > 150:
        return _("Enter a work email address of 150 characters or fewer")
    link = PartnershipAgency.objects.filter(partnership=partnership, agency=agency).first()
    domains = link.email_domains() if link else []
    if not domains:
        return _(
            "%(agency)s has no work email domains in Accord, so nobody there can be named by email: "
            "select a practitioner from the list, or nobody (its managers then receive it)"
        ) % {"agency": agency.name}
    domain = email.rsplit("@", 1)[-1].lower()
    if domain not in domains:
        return _("Enter a work email address at %(agency)s: it must end in %(domains)s") % {
            "agency": agency.name,
            "domains": " or ".join(f"@{d}" for d in domains),
        }
    return None


@dataclass(frozen=True)
class NamedByEmail:
    """A professional named by work email: the person themselves if they have an account at
    that agency (then they are named as any person is), else an address for a guest."""

    agency: Agency
    email: str
    person: User | None


def resolve_email(partnership: Partnership, agency: Agency, email: str) -> NamedByEmail:
    """Check an address for ``agency``; raises ``ValueError`` with the words for the page."""
    email = (email or "").strip().lower()
    problem = email_refusal(partnership, agency, email)
    if problem:
        raise ValueError(problem)
    # Someone who works in this partnership is named as themselves. Someone in Accord only
    # in another partnership (of an agency the two share, say) holds no role here, so could
    # not see it as themselves: they answer here as a guest, as anyone not in Accord does.
    person = _person_here(partnership.pk, email)
    if person is not None and person.agency_id != agency.pk:
        raise ValueError(
            _("%(email)s belongs to someone of another agency in Accord: check the address")
            % {"email": email}
        )
    return NamedByEmail(agency=agency, email=email, person=person)


def _person_here(partnership_id: int, email: str) -> User | None:
    """The active person with this address who works in this partnership, if any."""
    return (
        User.objects.filter(
            email__iexact=email, is_active=True, role_assignments__partnership_id=partnership_id
        )
        .order_by("pk")
        .first()
    )


def _account_for(email: str, agency: Agency, partnership_id: int) -> User:
    """The guest's account: none to sign in with (never active, no password, no role). One
    an address at an agency in a partnership, whatever escalations it is named on there, so
    that its history stays together: it acts for that agency (an address at a domain two
    agencies share, nhs.net say, is two guests), and the partnership that keeps it is the
    one whose business unit may make it one of its people."""
    found = (
        User.objects.filter(
            email__iexact=email,
            is_active=False,
            agency=agency,
            home_partnership_id=partnership_id,
            guest_places__isnull=False,
        )
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    account = User(
        username=f"guest-{secrets.token_hex(8)}",
        email=email,
        agency=agency,
        first_name=email,
        is_active=False,
        # The partnership of the escalation it was named on keeps it (and may make it a person).
        home_partnership_id=partnership_id,
    )
    account.set_unusable_password()
    account.save()
    return account


def guests_create(
    escalation: Escalation, actor: User, named: Sequence[NamedByEmail], *, tier: str = ""
) -> list[Guest]:
    """Write the guests named on an escalation (in the caller's transaction) and email each
    their link once it commits. ``tier``: the agency's tier a guest acts in (blank: the
    professional the difference is with)."""
    made = []
    for n in named:
        if n.person is not None:
            continue
        if escalation.guests.filter(
            email=n.email, state__in=[GuestState.NAMED, GuestState.CONFIRMED]
        ).exists():
            continue
        token = secrets.token_urlsafe(32)
        guest = Guest.objects.create(
            escalation=escalation,
            agency=n.agency,
            email=n.email,
            account=_account_for(n.email, n.agency, escalation.partnership_id),
            named_by=actor,
            named_at=clock.now(),
            link_hash=link_digest(token),
            tier=tier,
        )
        _audit(actor, Verb.GUEST_NAMED, guest, tier=tier or None)
        transaction.on_commit(lambda g=guest, t=token: _send_link(g, t))
        made.append(guest)
    return made


def guest_link(token: str) -> str:
    return f"{settings.ACCORD_BASE_URL.rstrip('/')}{reverse('guest_link', kwargs={'token': token})}"


def _send_to_guest(guest: Guest, write) -> None:
    """An email to a guest in their language (their own account's), or in both, Welsh first,
    where it is not known and the partnership works in Wales."""
    subject, body = in_their_languages(guest.account, guest.escalation.partnership, write)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [guest.email])


def _send_link(guest: Guest, token: str) -> None:
    _send_to_guest(guest, lambda: _link_email(guest, token))


def _link_email(guest: Guest, token: str) -> tuple[str, str]:
    escalation = guest.escalation
    raiser = escalation.raised_by
    if guest.tier:
        named_as = _(
            "%(raiser)s of %(raising)s has raised a professional difference with %(agency)s in "
            "%(partnership)s's Accord. It has reached a stage the agencies' %(tier)s work, and "
            "nobody at %(agency)s holds that part in Accord, so %(namer)s has named you to act "
            "for %(agency)s as one of its %(tier)s, on this difference alone.\n\n"
        ) % {
            "raiser": raiser.get_full_name() or raiser.username,
            "raising": escalation.raising_agency.name,
            "agency": guest.agency.name,
            "partnership": escalation.partnership.name,
            "tier": str(tier_words(guest.tier)),
            "namer": guest.named_by.get_full_name() or guest.named_by.username,
        }
    else:
        named_as = _(
            "%(raiser)s of %(raising)s has raised a professional difference with %(agency)s in "
            "%(partnership)s's Accord, and named you as the professional it is with.\n\n"
        ) % {
            "raiser": raiser.get_full_name() or raiser.username,
            "raising": escalation.raising_agency.name,
            "agency": guest.agency.name,
            "partnership": escalation.partnership.name,
        }
    return (
        _("Accord: a professional difference has been raised with you (%(reference)s)")
        % {"reference": escalation.reference},
        named_as
        + _(
            "You do not need an account. To answer it, open this link:\n%(link)s\n\n"
            "Opening the link does nothing by itself: it offers to email you a one-time code, which "
            "signs you in to this one escalation. If it is not for you, open the link and say so.\n\n"
            "The escalation's details are not in this email. Do not reply to this email."
        )
        % {"link": guest_link(token)},
    )


def _tell_guests(event: Event) -> None:
    """Each later step of the escalation is emailed to its guests (not the one who took it),
    with a fresh link: the earlier one stops working. What happened, never the account of
    it: an event's words may name the child."""
    if event.type == EventType.RAISED:
        return  # (the guests named as it is raised are emailed their link)
    escalation = event.escalation
    for guest in escalation.guests.filter(state__in=[GuestState.NAMED, GuestState.CONFIRMED]).exclude(
        account_id=event.actor_id
    ):
        token = secrets.token_urlsafe(32)
        Guest.objects.filter(pk=guest.pk).update(link_hash=link_digest(token))
        transaction.on_commit(lambda g=guest, k=event.type, t=token: _send_news(g, k, t))


def _send_news(guest: Guest, kind: str, token: str) -> None:
    def write() -> tuple[str, str]:
        reference, what = guest.escalation.reference, str(EventType(kind).label)
        return (
            _("Accord: news of escalation %(reference)s") % {"reference": reference},
            _(
                "There is news of escalation %(reference)s, on which you are a guest: %(what)s.\n\n"
                "To see it, open this link (links in earlier emails no longer work):\n%(link)s\n\n"
                "It offers to email you a one-time code. The escalation's details are not in this email. "
                "Do not reply to this email."
            )
            % {"reference": reference, "what": what.lower(), "link": guest_link(token)},
        )

    _send_to_guest(guest, write)


EVENT_LISTENERS.append(_tell_guests)


def _may_name_guests(actor: User, escalation: Escalation) -> None:
    """The parties working the difference (never a guest: a guest cannot name another)."""
    if not actor.is_active or not actor.has_perm("escalations.change_parties", escalation):
        raise NotAllowed(_("Only the parties working this difference name someone on it by email."))


def guest_name(*, actor: User, escalation: Escalation, agency_id: int, email: str) -> Guest | None:
    """Name (or name again, at a corrected address) the professional of one of the agencies
    the difference is with. Answers the guest, or None when the address is someone with an
    account (then they are told as any named person is, and sign in as usual)."""
    with transaction.atomic():
        escalation = _locked(escalation, None)
        if not actor.has_perm("escalations.view", escalation):
            raise NotAllowed(_("Only the parties working this difference name someone on it by email."))
        _may_name_guests(actor, escalation)
        if agency_id not in escalation.receiving_agency_ids():
            raise ValidationError({"agency": _("Select one of the agencies the difference is with")})
        agency = Agency.objects.get(pk=agency_id)
        try:
            named = resolve_email(escalation.partnership, agency, email)
        except ValueError as e:
            raise ValidationError({"email": str(e)}) from None
        if named.person is not None:
            raise ValidationError(
                {
                    "email": _(
                        "%(name)s has an account in Accord: name them from the list of practitioners instead"
                    )
                    % {"name": named.person.get_full_name() or named.person.username}
                }
            )
        if escalation.guests.filter(
            email=named.email, state__in=[GuestState.NAMED, GuestState.CONFIRMED]
        ).exists():
            raise ValidationError(
                {"email": _("%(email)s is already named on this escalation") % {"email": named.email}}
            )
        [guest] = guests_create(escalation, actor, [named])
    return guest


# --------------------------------------------------------------------------- naming the other agency's leader

LEADER_TIERS = (WorkedBy.MANAGERS, WorkedBy.SENIOR_LEADERS)


def tier_words(tier: str) -> str:
    return str(GUEST_TIERS.get(tier, ""))


def may_name_leader(actor: User, escalation: Escalation) -> bool:
    """Who names another agency's manager or senior leader by email: the raiser's line manager
    (while they lead) or the partnership's business unit (as for removing a guest)."""
    roles = user_roles(actor, escalation.partnership_id)
    if roles & SETTINGS_ROLES:
        return True
    return bool(
        roles & LEADER_ROLES
        and actor.agency_id == escalation.raising_agency_id
        and escalation.raised_by.line_manager_id == actor.pk
    )


def leader_tier_wanted(escalation: Escalation) -> str | None:
    """The agencies' tier holding the escalation's current stage, where it is their managers'
    or senior leaders' (rule 2, the policies' ``stage_holding``); else None."""
    tier = stage_holding(ladder_of(escalation.partnership), escalation.stage).tier
    return tier if tier in LEADER_TIERS else None


def agencies_without_leader(escalation: Escalation) -> list[Agency]:
    """The agencies the difference is with that have nobody in this partnership to work its
    current stage (nobody active holding that tier's role or a higher one) and no guest named
    to act in that tier or a higher one: those whose leader may be named by email. Empty
    while the stage is the practitioners' or the escalation is not open."""
    tier = leader_tier_wanted(escalation)
    if tier is None or escalation.status not in OPEN_STATUSES:
        return []
    # One escalation: its agencies' leaders as the page reads them for who holds the stage,
    # its guests as read with it where they were (the page's), its agencies as read with it.
    staffed = {(person.agency_id, role) for person, role in escalation_leaders(escalation)}
    guests = escalation.__dict__.get("_accord_guest_list")
    if guests is None:
        guests = list(escalation.guests.all())
    named = {
        (g.agency_id, g.tier)
        for g in guests
        if g.state in (GuestState.NAMED, GuestState.CONFIRMED) and g.tier in LEADER_TIERS
    }
    agencies = {escalation.with_agency_id: escalation.with_agency}
    for other in escalation.others():
        agencies.setdefault(other.agency_id, other.agency)
    roles = _roles_admitting(tier)
    return [
        agencies[a]
        for a in escalation.receiving_agency_ids()
        if not any((a, r) in staffed for r in roles)
        and not any((a, t) in named for t in LEADER_TIERS[LEADER_TIERS.index(tier) :])
    ]


def _roles_admitting(tier: str) -> set[str]:
    """The roles that work a leaders' tier: its own, and those of the tiers above it."""
    return set().union(*(TIER_ROLES[t] for t in LEADER_TIERS[LEADER_TIERS.index(tier) :]))


def _without_leader(partnership_id: int, wanted: list[tuple[Escalation, str]]) -> dict[int, list[Agency]]:
    """For each (escalation, the leaders' tier its stage wants), the agencies it is with that
    have nobody to work it: in three queries however many escalations."""
    receiving = {e.pk: e.receiving_agency_ids() for e, _tier in wanted}
    agency_ids = {a for ids in receiving.values() for a in ids}
    staffed = set(
        RoleAssignment.objects.filter(
            partnership_id=partnership_id,
            role__in=LEADER_ROLES,
            user__is_active=True,
            user__agency_id__in=agency_ids,
        ).values_list("user__agency_id", "role")
    )
    named = set(
        Guest.objects.filter(
            escalation_id__in=list(receiving),
            state__in=[GuestState.NAMED, GuestState.CONFIRMED],
            tier__in=LEADER_TIERS,
        ).values_list("escalation_id", "agency_id", "tier")
    )
    agencies = Agency.objects.in_bulk(agency_ids)
    found = {}
    for e, tier in wanted:
        admitting = LEADER_TIERS[LEADER_TIERS.index(tier) :]
        roles = _roles_admitting(tier)
        found[e.pk] = [
            agencies[a]
            for a in receiving[e.pk]
            if a in agencies
            and not any((a, r) in staffed for r in roles)
            and not any((e.pk, a, t) in named for t in admitting)
        ]
    return found


def leader_openings(partnership: Partnership) -> list[tuple[Escalation, list[Agency], str]]:
    """For the business unit: each open escalation at a stage the agencies' leaders work with
    an agency that has nobody to work it, by reference (it does not see the escalations under
    rule 7: their references and agencies only). In a fixed number of queries."""
    ladder = ladder_of(partnership)
    tier_at = {s.number: stage_holding(ladder, s.number).tier for s in ladder.stages}
    numbers = [n for n, t in tier_at.items() if t in LEADER_TIERS]
    escalations = list(
        Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, stage__in=numbers)
        .prefetch_related("other_parties")
        .order_by("reference")
    )
    wanted = [(e, tier_at[e.stage]) for e in escalations]
    found = _without_leader(partnership.pk, wanted) if wanted else {}
    return [(e, found[e.pk], tier) for e, tier in wanted if found[e.pk]]


def escalation_for_leader_naming(actor: User, pk: int) -> Escalation:
    """The escalation, for naming another agency's leader: one the actor sees, or one of their
    partnership's where they may name (the business unit, who does not see it under rule 7);
    else ``NotFound``, alike for missing and hidden."""
    escalation = (
        Escalation.objects.select_related("partnership", "raised_by", "with_agency")
        .filter(pk=pk, partnership_id__in=list(roles_by_partnership(actor)))
        .first()
    )
    if escalation is None or not (
        actor.has_perm("escalations.view", escalation) or may_name_leader(actor, escalation)
    ):
        raise NotFound()
    return escalation


def guest_name_leader(*, actor: User, escalation: Escalation, agency_id: int, email: str) -> Guest:
    """Where the difference stands at a stage the agencies' managers (or senior leaders) work
    and an agency it is with has nobody in Accord to work it, the raiser's line manager or the
    business unit names that agency's manager (or senior leader) by work email. Invited as any
    guest is; once confirmed, they act for their agency in that tier on this escalation alone
    (the policies' ``guest_roles``)."""
    with transaction.atomic():
        escalation = _locked(escalation, None)
        if not actor.is_active or not (
            actor.has_perm("escalations.view", escalation) or may_name_leader(actor, escalation)
        ):
            raise NotFound()
        if not may_name_leader(actor, escalation):
            raise NotAllowed(
                _(
                    "Only the raiser's line manager or the business unit names another agency's "
                    "manager or senior leader by email."
                )
            )
        if escalation.status not in OPEN_STATUSES:
            raise ValidationError(_("This escalation is closed: nobody more can be named on it."))
        tier = leader_tier_wanted(escalation)
        if tier is None:
            raise ValidationError(
                _(
                    "The current stage is the practitioners': another agency's manager or senior "
                    "leader is named by email only once the difference reaches a stage they work."
                )
            )
        if agency_id not in escalation.receiving_agency_ids():
            raise ValidationError({"agency": _("Select one of the agencies the difference is with")})
        agency = Agency.objects.get(pk=agency_id)
        if agency not in agencies_without_leader(escalation):
            raise ValidationError(
                {
                    "agency": _(
                        "%(agency)s already has someone to work this stage: its %(tier)s in Accord, "
                        "or one named by email"
                    )
                    % {"agency": agency.name, "tier": tier_words(tier)}
                }
            )
        try:
            named = resolve_email(escalation.partnership, agency, email)
        except ValueError as e:
            raise ValidationError({"email": str(e)}) from None
        if named.person is not None:
            raise ValidationError(
                {
                    "email": _(
                        "%(name)s has an account in Accord: the business unit gives them the role instead"
                    )
                    % {"name": named.person.get_full_name() or named.person.username}
                }
            )
        if escalation.guests.filter(
            email=named.email, state__in=[GuestState.NAMED, GuestState.CONFIRMED]
        ).exists():
            raise ValidationError(
                {"email": _("%(email)s is already named on this escalation") % {"email": named.email}}
            )
        [guest] = guests_create(escalation, actor, [named], tier=tier)
    return guest


# --------------------------------------------------------------------------- the link and the code


def guest_by_link(token: str) -> Guest | None:
    """The guest a link names, whatever its state (None for a link that never was)."""
    if not token or len(token) > 100:
        return None
    return (
        Guest.objects.select_related("escalation__partnership", "escalation__raised_by", "agency", "account")
        .filter(link_hash=link_digest(token))
        .first()
    )


def access_ended(guest: Guest) -> bool:
    """Whether the guest's access has ended: recorded so, or found so now (the escalation
    closed, or the partnership's days without use passed), which is then recorded."""
    if not guest.is_live:
        return True
    now = clock.now()
    why = None
    if guest.escalation.status not in OPEN_STATUSES:
        why = GuestEnd.CLOSED
    else:
        idle = dt.timedelta(days=guest.escalation.partnership.guest_idle_days)
        if now - (guest.last_used_at or guest.named_at) > idle:
            why = GuestEnd.IDLE
    if why is None:
        return False
    _end(guest, None, why)
    return True


def _end(guest: Guest, actor: User | None, why: str) -> None:
    with transaction.atomic():
        guest.state = GuestState.ENDED
        guest.end_reason = why
        guest.ended_at = clock.now()
        guest.ended_by = actor
        guest.session_hash = ""
        guest.code_hash = ""
        guest.save(update_fields=["state", "end_reason", "ended_at", "ended_by", "session_hash", "code_hash"])
        _audit(actor if actor is not None else guest.account, Verb.GUEST_ACCESS_ENDED, guest, why=why)


def guest_link_opened(guest: Guest) -> None:
    """Recorded, and nothing else: a mail scanner opening the link uses nothing up."""
    _audit(guest.account, Verb.GUEST_LINK_OPENED, guest)


def guest_has_account(guest: Guest) -> User | None:
    """Someone with an account at that address who works in the escalation's partnership
    (made one of its people since): they sign in as usual instead. An account only in another
    partnership is not one they could see this escalation with: they go on as a guest."""
    return _person_here(guest.escalation.partnership_id, guest.email)


class CodeRefused(Exception):
    """Why a code was not sent or not accepted, in words for the guest."""


def guest_send_code(guest: Guest) -> None:
    """Email a one-time code (the earlier one stops working). At most ``CODES_PER_HOUR`` an hour."""
    if access_ended(guest):
        raise CodeRefused(_("This link no longer works."))
    now = clock.now()
    with transaction.atomic():
        guest = (
            Guest.objects.select_for_update()
            .select_related("escalation", "agency", "account")
            .get(pk=guest.pk)
        )
        if guest.codes_since is None or now - guest.codes_since > dt.timedelta(hours=1):
            guest.codes_since, guest.codes_sent = now, 0
        if guest.codes_sent >= CODES_PER_HOUR:
            raise CodeRefused(
                _("%(n)s codes have been sent in the last hour: wait an hour, then ask again.")
                % {"n": CODES_PER_HOUR}
            )
        if _codes_sent_since(guest, now - dt.timedelta(days=1)) >= CODES_PER_DAY:
            raise CodeRefused(
                _(
                    "%(n)s codes have been sent in the last day: ask again tomorrow, or ask the "
                    "practitioner who raised it for help."
                )
                % {"n": CODES_PER_DAY}
            )
        code = "".join(secrets.choice("0123456789") for _i in range(CODE_DIGITS))
        guest.code_hash = _digest(f"code:{guest.pk}:{code}")
        guest.code_expires_at = now + dt.timedelta(minutes=CODE_MINUTES)
        guest.code_tries = 0
        guest.codes_sent += 1
        guest.save(update_fields=["code_hash", "code_expires_at", "code_tries", "codes_since", "codes_sent"])
        _audit(guest.account, Verb.GUEST_CODE_SENT, guest)
        transaction.on_commit(lambda: _send_code(guest, code))


def _codes_sent_since(guest: Guest, since: dt.datetime) -> int:
    """The codes sent to this address for this escalation since then, as the audit trail
    records each (whatever guest places the address held on it: a second naming after "this
    is not for me" starts no new count)."""
    return AuditEvent.objects.filter(
        verb=Verb.GUEST_CODE_SENT,
        actor_id=guest.account_id,
        target_id=str(guest.escalation_id),
        at__gte=since,
    ).count()


def _send_code(guest: Guest, code: str) -> None:
    def write() -> tuple[str, str]:
        return (
            _("Accord: your one-time code is %(code)s") % {"code": code},
            _(
                "Your one-time code for escalation %(reference)s is:\n\n%(code)s\n\n"
                "It works for %(minutes)s minutes. If you did not ask for it, you can ignore this email."
            )
            % {"reference": guest.escalation.reference, "code": code, "minutes": CODE_MINUTES},
        )

    _send_to_guest(guest, write)


def guest_check_code(guest: Guest, code: str) -> str:
    """Check the code entered; answers a new session's secret for the guest's cookie.
    Raises ``CodeRefused`` saying why (wrong, expired, too many tries)."""
    if access_ended(guest):
        raise CodeRefused(_("This link no longer works."))
    # Digits as typed or pasted, whatever the keyboard gave (full-width ones from an East
    # Asian input method, say); spaces, dashes and anything else are ignored.
    entered = "".join(str(unicodedata.decimal(ch)) for ch in (code or "") if ch.isdecimal())[
        : CODE_DIGITS + 2
    ]
    now = clock.now()
    # A refusal is written (the try counted, the audit entry) before it is said: raised
    # after the transaction commits, not inside it.
    refused = None
    with transaction.atomic():
        guest = (
            Guest.objects.select_for_update()
            .select_related("escalation", "agency", "account")
            .get(pk=guest.pk)
        )
        if not guest.code_hash:
            refused = ("none", None, _("Ask for a code first: choose “Email me a code”."))
        elif guest.code_expires_at is None or now > guest.code_expires_at:
            refused = ("expired", None, _("That code has expired: ask for a new one."))
        elif guest.code_tries >= CODE_TRIES:
            refused = (
                "tries",
                0,
                _("That code has been tried %(n)s times: ask for a new one.") % {"n": CODE_TRIES},
            )
        elif not constant_time_compare(_digest(f"code:{guest.pk}:{entered}"), guest.code_hash):
            guest.code_tries += 1
            left = CODE_TRIES - guest.code_tries
            guest.save(update_fields=["code_tries"])
            words = (
                _("That code is not right, and it cannot be tried again: ask for a new one.")
                if left <= 0
                else ngettext(
                    "That code is not right: check it and try again (%(n)s more try).",
                    "That code is not right: check it and try again (%(n)s more tries).",
                    left,
                )
                % {"n": left}
            )
            refused = ("wrong", left, words)
        if refused is not None:
            why, left, _words = refused
            _audit(guest.account, Verb.GUEST_CODE_REFUSED, guest, why=why, tries_left=left)
        else:
            secret = secrets.token_urlsafe(32)
            guest.code_hash = ""
            guest.code_expires_at = None
            guest.session_hash = _digest(f"session:{guest.pk}:{secret}")
            guest.session_seen_at = now
            guest.last_used_at = now
            guest.save(
                update_fields=[
                    "code_hash",
                    "code_expires_at",
                    "session_hash",
                    "session_seen_at",
                    "last_used_at",
                ]
            )
            _audit(guest.account, Verb.GUEST_SIGNED_IN, guest)
    if refused is not None:
        raise CodeRefused(refused[2])
    return secret


# --------------------------------------------------------------------------- the session


def guest_from_session(guest_id: int, secret: str) -> Guest | None:
    """The guest whose session this is, while it lasts (``SESSION_IDLE_MINUTES`` idle), their
    access has not ended and the escalation is open; each use keeps it alive."""
    guest = (
        Guest.objects.select_related(
            "escalation__partnership",
            "escalation__raised_by",
            "escalation__raising_agency",
            "agency",
            "account",
        )
        .filter(pk=guest_id)
        .first()
    )
    if guest is None or not guest.session_hash or not secret:
        return None
    if not constant_time_compare(_digest(f"session:{guest.pk}:{secret}"), guest.session_hash):
        return None
    now = clock.now()
    if guest.session_seen_at is None or now - guest.session_seen_at > dt.timedelta(
        minutes=SESSION_IDLE_MINUTES
    ):
        return None
    if access_ended(guest):
        return None
    Guest.objects.filter(pk=guest.pk).update(session_seen_at=now, last_used_at=now)
    guest.session_seen_at = guest.last_used_at = now
    return guest


def guest_sign_out(guest: Guest) -> None:
    Guest.objects.filter(pk=guest.pk).update(session_hash="")


# --------------------------------------------------------------------------- confirming


def _live(guest: Guest, state: str) -> Guest:
    locked = Guest.objects.select_for_update().select_related("escalation", "account").get(pk=guest.pk)
    if locked.state != state:
        raise NotAllowed(_("That has already been answered."))
    return locked


def guest_confirm(*, guest: Guest, name: str) -> Guest:
    """The guest works with this child (or theme): they see it as a party does from now."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Enter your name")})
    if len(name) > 150 or "\x00" in name:
        raise ValidationError({"name": _("Enter your name in 150 characters or fewer")})
    with transaction.atomic():
        guest = _live(guest, GuestState.NAMED)
        guest.state = GuestState.CONFIRMED
        guest.confirmed_at = clock.now()
        guest.save(update_fields=["state", "confirmed_at"])
        account = guest.account
        first, _sep, last = name.rpartition(" ")
        account.first_name, account.last_name = (first, last) if first else (last, "")
        account.save(update_fields=["first_name", "last_name"])
        _audit(account, Verb.GUEST_CONFIRMED, guest)
    return guest


def guest_decline(*, guest: Guest) -> Guest:
    """ "This is not for me": their access ends at once, and the raiser is told (who may name
    the right address)."""
    with transaction.atomic():
        guest = _live(guest, GuestState.NAMED)
        guest.state = GuestState.DECLINED
        guest.declined_at = clock.now()
        guest.session_hash = ""
        guest.save(update_fields=["state", "declined_at", "session_hash"])
        _audit(guest.account, Verb.GUEST_DECLINED, guest)
        notify(
            escalation=guest.escalation,
            kind=GuestNotice.GUEST_DECLINED,
            recipients=[guest.escalation.raised_by] if guest.escalation.raised_by.is_active else [],
            key=f"guest:{guest.pk}:declined",
        )
    return guest


# --------------------------------------------------------------------------- ending, and people


def may_remove(actor: User, guest: Guest) -> bool:
    """The raiser's line manager (while they lead) or the partnership's business unit."""
    escalation = guest.escalation
    roles = user_roles(actor, escalation.partnership_id)
    if roles & SETTINGS_ROLES:
        return True
    return bool(
        roles & LEADER_ROLES
        and actor.agency_id == escalation.raising_agency_id
        and escalation.raised_by.line_manager_id == actor.pk
    )


def guest_remove(*, actor: User, guest: Guest) -> None:
    if not actor.is_active or not may_remove(actor, guest):
        raise NotAllowed(_("Only the raiser's manager or the business unit removes a guest's access."))
    if not guest.is_live:
        raise ValidationError(_("That guest's access has already ended."))
    _end(guest, actor, GuestEnd.REMOVED)


def guests_made_person(*, actor: User, account: User, partnership: Partnership) -> list[int]:
    """A guest made one of the partnership's people (by its business unit, who invites them):
    their guest places in that partnership end, and they are named, as themselves, on the
    open escalations where they were a guest and the agency names nobody else. Answers those
    escalations. (Another partnership's escalations are never this one's to change.)"""
    named = []
    with transaction.atomic():
        for guest in account.guest_places.select_related("escalation").filter(
            state__in=[GuestState.NAMED, GuestState.CONFIRMED], escalation__partnership=partnership
        ):
            e = guest.escalation
            # (One who acted as the agency's manager or senior leader now holds that role, which
            # is how they see it: they are named as no practitioner.)
            if e.status in OPEN_STATUSES and not guest.tier:
                if e.with_agency_id == guest.agency_id and e.with_practitioner_id is None:
                    Escalation.objects.filter(pk=e.pk).update(with_practitioner=account)
                    named.append(e.pk)
                elif OtherParty.objects.filter(
                    escalation=e, agency_id=guest.agency_id, practitioner=None
                ).update(practitioner=account):
                    named.append(e.pk)
            guest.state = GuestState.ENDED
            guest.end_reason = GuestEnd.MADE_PERSON
            guest.ended_at = clock.now()
            guest.ended_by = actor
            guest.session_hash = ""
            guest.save(update_fields=["state", "end_reason", "ended_at", "ended_by", "session_hash"])
            _audit(actor, Verb.GUEST_MADE_PERSON, guest)
        if named:
            visibility.for_escalations(named)
    return named


def guest_person_roles(guest: Guest) -> list[str]:
    """The role a guest made one of the partnership's people is given: that of the tier they
    acted in for their agency, else a practitioner's."""
    return sorted(TIER_ROLES[guest.tier]) if guest.tier in LEADER_TIERS else [Role.PRACTITIONER]


def guest_kind_words(escalation: Escalation) -> tuple[str, str]:
    """The answer a guest gives that the escalation is theirs, and the words asking for it,
    for whom it is about (a child, an adult at risk, a family) or its theme."""
    if escalation.kind == Kind.CASE:
        return (
            worded("I work with this child", escalation.subject),
            worded("Select whether you work with this child, or this is not for you", escalation.subject),
        )
    return _("I work with this theme"), _("Select whether you work with this theme, or this is not for you")


# --------------------------------------------------------------------------- the agencies' domains

DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MOST_DOMAINS = 20
# Anyone can have an address at these: never an agency's own.
PERSONAL_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "live.co.uk",
        "yahoo.com",
        "yahoo.co.uk",
        "icloud.com",
        "me.com",
        "aol.com",
        "btinternet.com",
        "protonmail.com",
        "proton.me",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "gmx.com",
        "mail.com",
    }
)


def agency_email_domains_set(
    *, actor: User | None, partnership: Partnership, agency: Agency, domains: str
) -> list[str]:
    """The business unit keeps each agency's work email domains here (one a line). Answers
    them as kept; raises ``ValidationError`` on ``domains`` saying which one is wrong."""
    require_business_unit(actor, partnership)
    found = [line.strip().lstrip("@").lower() for line in (domains or "").replace(",", "\n").splitlines()]
    found = list(dict.fromkeys(d for d in found if d))
    for d in found:
        if not DOMAIN.match(d):
            raise ValidationError(
                {"domains": _("%(domain)s is not a domain: enter one like nhs.net") % {"domain": d[:60]}}
            )
        if d in PERSONAL_MAIL:
            raise ValidationError(
                {
                    "domains": _(
                        "%(domain)s is a personal email service, not an agency's own: anyone can have an address there"
                    )
                    % {"domain": d}
                }
            )
    if len(found) > MOST_DOMAINS:
        raise ValidationError({"domains": _("Enter at most %(n)s domains") % {"n": MOST_DOMAINS}})
    with transaction.atomic():
        link = (
            PartnershipAgency.objects.select_for_update()
            .filter(partnership=partnership, agency=agency)
            .first()
        )
        if link is None:
            raise NotAllowed(_("That agency is not one of the partnership's."))
        if link.email_domains() != found:
            link.work_email_domains = "\n".join(found)
            link.save(update_fields=["work_email_domains"])
            audit_record(
                actor=actor,
                verb=Verb.AGENCY_EMAIL_DOMAINS_CHANGED,
                target=agency,
                partnership_id=partnership.pk,
                payload={"agency": agency.pk, "domains": found},
                actor_label=None if actor else "manage.py",
            )
    return found


def guest_escalation(guest: Guest) -> Escalation:
    """The guest's one escalation, as they may see it now (rule 7 through the policies'
    ``is_confirmed_guest``: confirmed, and the escalation open); else ``NotFound``."""
    escalation = (
        Escalation.objects.select_related(
            "partnership",
            "raising_agency",
            "with_agency",
            "area_of_disagreement",
            "raised_by",
            "with_practitioner",
        )
        .filter(pk=guest.escalation_id)
        .first()
    )
    if escalation is None or not guest.account.has_perm("escalations.view", escalation):
        raise NotFound()
    return escalation


def guest_accounts(escalation: Escalation) -> set[int]:
    """The accounts that wrote on this escalation as its guests (those still guests' accounts:
    one made a person since is named as themselves), so that the pages can say an entry was
    written by a guest."""
    return set(escalation.guests.filter(account__is_active=False).values_list("account_id", flat=True))
