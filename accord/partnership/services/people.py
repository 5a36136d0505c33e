"""A partnership's people: added, their details, email, agency, line manager and roles
changed, deactivated. Every path that writes a person — the settings pages, the people
import, Django's admin, an agency's sign-in adding someone, the command line — comes here,
so the rule of who keeps a shared person (``ownership``) is stated once.

Each change is its own audited action (``person_added``, ``person_email_changed``,
``person_moved``, …) in the trail of every partnership the person belongs to. Where a change
reaches escalations (someone leaving, or moving agency, hands their open work on), the
escalations app's handler runs in the same transaction (``register_person_handlers``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.core import clock
from accord.core.errors import NotAllowed

from ..models import Agency, Language, Partnership, PartnershipAgency, Role, RoleAssignment, User
from .common import audit_in_trails, require_business_unit
from .ownership import (
    administrator_words,
    keeps_identity,
    people_of,
    person_partnership_ids,
    require_own_person,
)

NAME_MOST = 150
EMAIL_MOST = 150
JOB_MOST = 200

# What the escalations app does when someone leaves or moves agency (hand their open work
# on): registered by it when Django starts, answering how many escalations it handed on.
Handler = Callable[..., int]
_handlers: dict[str, Handler] = {}


def register_person_handlers(*, left: Handler, moved: Handler) -> None:
    _handlers.update(left=left, moved=moved)


def _hand_on(which: str, *, actor: User | None, person: User) -> int:
    """(The command line, with no one to name on the timelines, hands nothing on: the
    business unit does it on the pages.)"""
    handler = _handlers.get(which)
    return handler(actor=actor, person=person) if handler and actor is not None else 0


@dataclass
class PersonDetails:
    first_name: str
    last_name: str
    email: str
    agency: Agency | None
    job_title: str = ""
    line_manager_email: str = ""
    roles: list[str] = field(default_factory=list)
    is_active: bool = True
    # The language they are written to in (``Language``); None: left as it is (empty when new).
    language: str | None = None


@dataclass
class PersonSaved:
    person: User
    created: bool
    changed: list[str]
    handed_on: int = 0


# --------------------------------------------------------------------------- checking


def _clean_name(first: str, last: str) -> tuple[str, str]:
    return " ".join((first or "").split()), " ".join((last or "").split())


def check_email(email: str, *, person: User | None = None) -> str | None:
    """What is wrong with the email for this person (None when nothing is). An email is one
    person's in the whole deployment; the refusal names nobody and no partnership."""
    try:
        validate_email(email)
        if len(email) > EMAIL_MOST or "\x00" in email:
            raise ValidationError("long")
    except ValidationError:
        return _("Enter an email address in the correct format, like name@example.org")
    others = User.objects.annotate(lowered=Lower("email")).filter(lowered=email)
    taken = User.objects.filter(Q(username__iexact=email))
    if person is not None:
        others, taken = others.exclude(pk=person.pk), taken.exclude(pk=person.pk)
    if others.exists() or (person is None and taken.exists()):
        return _(
            "That email is already in use in Accord: if this person works in another partnership "
            "too, ask the deployment's administrators to give them a role here"
        )
    return None


def _check_agency(partnership: Partnership, agency: Agency | None, person: User | None) -> str | None:
    keeps = person is not None and agency is not None and person.agency_id == agency.pk
    if agency is None or not (
        keeps or PartnershipAgency.objects.filter(partnership=partnership, agency=agency).exists()
    ):
        return _("Select one of the partnership's agencies")
    if not agency.is_active and not keeps:
        return _("Select an agency that is still active")
    return None


def _find_manager(
    partnership: Partnership, person: User | None, email: str
) -> tuple[User | None, str | None]:
    email = (email or "").strip().lower()
    current = person.line_manager if person is not None and person.line_manager_id else None
    if current is not None and email == (current.email or "").lower():
        return current, None  # kept as it is, wherever they work
    if not email:
        return None, None
    manager = (
        people_of(partnership).annotate(lowered=Lower("email")).filter(lowered=email, is_active=True).first()
    )
    if manager is None:
        return None, _("Enter the email of someone who works in this partnership now")
    if person is not None and manager.pk == person.pk:
        return None, _("A person cannot be their own line manager")
    if person is not None and _manages(person, manager):
        return None, _("%(who)s is managed by this person: a line cannot go round") % {"who": manager}
    return manager, None


def _manages(person: User, manager: User) -> bool:
    """Whether ``person`` is above ``manager`` in the line (so that making them the manager's
    report would make a loop)."""
    seen, above = set(), manager.line_manager_id
    while above and above not in seen:
        if above == person.pk:
            return True
        seen.add(above)
        above = User.objects.filter(pk=above).values_list("line_manager_id", flat=True).first()
    return False


@dataclass
class _Wanted:
    first_name: str
    last_name: str
    email: str
    job_title: str
    agency: Agency
    manager: User | None
    roles: set[str]
    is_active: bool


def _checked(partnership: Partnership, details: PersonDetails, person: User | None) -> _Wanted:
    errors: dict[str, str] = {}
    first, last = _clean_name(details.first_name, details.last_name)
    email = (details.email or "").strip().lower()
    job = (details.job_title or "").strip()
    if not first and not last:
        errors["first_name"] = _("Enter the person's name")
    elif len(first) > NAME_MOST or len(last) > NAME_MOST:
        errors["first_name"] = _("Each part of the name must be %(n)s characters or fewer") % {"n": NAME_MOST}
    if "\x00" in first + last + job:
        errors["first_name"] = _("Enter the name without control characters")
    same_email = person is not None and email == (person.email or "").lower()
    problem = None if same_email else check_email(email, person=person)
    if problem:
        errors["email"] = problem
    problem = _check_agency(partnership, details.agency, person)
    if problem:
        errors["agency"] = problem
    unknown = sorted(set(details.roles) - set(Role.values))
    if unknown:
        errors["roles"] = _("Unknown role %(codes)s") % {"codes": ", ".join(unknown)}
    manager, problem = _find_manager(partnership, person, details.line_manager_email)
    if problem:
        errors["line_manager_email"] = problem
    if len(job) > JOB_MOST:
        errors["job_title"] = _("The job title must be %(n)s characters or fewer") % {"n": JOB_MOST}
    if errors:
        raise ValidationError(errors)
    return _Wanted(first, last, email, job, details.agency, manager, set(details.roles), details.is_active)


# --------------------------------------------------------------------------- the services


def _trails(person: User, partnership: Partnership) -> set[int]:
    return {partnership.pk, *person_partnership_ids(person)}


def person_add(
    *,
    actor: User | None,
    partnership: Partnership,
    details: PersonDetails,
    added_by_sign_in: str = "",
) -> User:
    """A new person of one of the partnership's agencies, with their roles here. Nobody's
    password is set here: they are invited, or sign in through their agency."""
    if not added_by_sign_in:
        require_business_unit(actor, partnership)
    wanted = _checked(partnership, details, None)
    with transaction.atomic():
        person = User(
            username=wanted.email,
            email=wanted.email,
            first_name=wanted.first_name,
            last_name=wanted.last_name,
            job_title=wanted.job_title,
            agency=wanted.agency,
            line_manager=wanted.manager,
            is_active=wanted.is_active,
            language=details.language or "",
            added_by_sign_in_at=clock.now() if added_by_sign_in else None,
            # Theirs alone while they hold no role (none for someone who signed in: every
            # partnership keeping the agency may give them one).
            home_partnership=None if added_by_sign_in else partnership,
        )
        person.set_unusable_password()
        person.full_clean(exclude=["password", "username"])
        person.save()
        for role in sorted(wanted.roles):  # one by one: each keeps the visibility table (its signal)
            RoleAssignment.objects.create(user=person, partnership=partnership, role=role)
        payload = (
            {"sign_in": added_by_sign_in, "agency": wanted.agency.name}
            if added_by_sign_in
            else {"person": person.username, "agency": wanted.agency.name, "roles": sorted(wanted.roles)}
        )
        audit_in_trails(
            actor=actor,
            verb=Verb.SIGNED_IN_ADDED if added_by_sign_in else Verb.PERSON_ADDED,
            target=person,
            partnership_ids=_trails(person, partnership),
            payload=payload,
            actor_label="single sign-on" if added_by_sign_in else None,
        )
    return person


def _locked_person(person: User) -> User:
    # (Only the person's row is locked: PostgreSQL locks no row of an outer join's nullable side.)
    return (
        User.objects.select_for_update(of=("self",))
        .select_related("agency", "line_manager")
        .get(pk=person.pk)
    )


def person_details_change(
    *,
    actor: User | None,
    partnership: Partnership,
    person: User,
    first_name: str,
    last_name: str,
    job_title: str,
) -> list[str]:
    """Their name and job title (theirs in every partnership: a shared person's only by the
    deployment's administrators)."""
    changed = [
        n
        for n, v in (("first_name", first_name), ("last_name", last_name), ("job_title", job_title))
        if getattr(person, n) != v
    ]
    if not changed:
        return []
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="details")
    with transaction.atomic():
        locked = _locked_person(person)
        locked.first_name, locked.last_name, locked.job_title = first_name, last_name, job_title
        locked.save(update_fields=changed)
        _audit(actor, Verb.PERSON_DETAILS_CHANGED, locked, partnership, {"fields": changed})
    return changed


def person_email_change(*, actor: User | None, partnership: Partnership, person: User, email: str) -> bool:
    """Their email, by which they are told and sign in through their agency."""
    email = (email or "").strip().lower()
    if email == (person.email or "").lower():
        return False
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="email")
    problem = check_email(email, person=person)
    if problem:
        raise ValidationError({"email": problem})
    with transaction.atomic():
        locked = _locked_person(person)
        locked.email = email
        locked.save(update_fields=["email"])
        _audit(actor, Verb.PERSON_EMAIL_CHANGED, locked, partnership, {"fields": ["email"]})
    return True


def person_move(*, actor: User | None, partnership: Partnership, person: User, agency: Agency) -> int:
    """Move them to another of the partnership's agencies: what they were named on for the
    old agency is handed on; what they raised stays theirs. Answers how many were handed on."""
    if person.agency_id == agency.pk:
        return 0
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="agency")
    problem = _check_agency(partnership, agency, person)
    if problem:
        raise ValidationError({"agency": problem})
    with transaction.atomic():
        locked = _locked_person(person)
        before = locked.agency.name if locked.agency_id else ""
        locked.agency = agency
        locked.save(update_fields=["agency"])
        handed = _hand_on("moved", actor=actor, person=locked) if locked.is_active else 0
        _audit(
            actor,
            Verb.PERSON_MOVED,
            locked,
            partnership,
            {"from_agency": before, "agency": agency.name, "handed_on": handed},
        )
    person.agency = agency
    return handed


def person_line_manager_set(
    *, actor: User | None, partnership: Partnership, person: User, manager: User | None
) -> bool:
    """Their line manager (whom they consult before escalating, and who sees what they raise)."""
    if person.line_manager_id == (manager.pk if manager else None):
        return False
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="line_manager")
    if manager is not None and (manager.pk == person.pk or _manages(person, manager)):
        raise ValidationError({"line_manager_email": _("A line cannot go round")})
    with transaction.atomic():
        locked = _locked_person(person)
        locked.line_manager = manager
        locked.save(update_fields=["line_manager"])
        _audit(actor, Verb.PERSON_LINE_MANAGER_CHANGED, locked, partnership, {"fields": ["line_manager"]})
    person.line_manager = manager
    return True


def person_roles_set(*, actor: User | None, partnership: Partnership, person: User, roles: set[str]) -> bool:
    """Their roles in this partnership: the partnership's own, whoever else they work for.
    Their roles elsewhere are not touched. Only someone whose details this business unit
    keeps (``require_person_of``): anyone else is given a role here by the deployment's
    administrators, as the refusal of their email says."""
    require_business_unit(actor, partnership)
    require_person_of(actor=actor, partnership=partnership, person=person)
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ValidationError({"roles": _("Unknown role %(codes)s") % {"codes": ", ".join(unknown)}})
    with transaction.atomic():
        held = set(
            RoleAssignment.objects.select_for_update()
            .filter(user=person, partnership=partnership)
            .values_list("role", flat=True)
        )
        if held == set(roles):
            return False
        trails = _trails(person, partnership)  # before: whoever kept them sees the change
        RoleAssignment.objects.filter(
            user=person, partnership=partnership, role__in=held - set(roles)
        ).delete()
        for role in sorted(set(roles) - held):  # one by one: each keeps the visibility table
            RoleAssignment.objects.create(user=person, partnership=partnership, role=role)
        if not RoleAssignment.objects.filter(user=person).exists() or person.home_partnership_id is None:
            # With no role left anywhere they stay this partnership's (where they last worked);
            # someone given a first role belongs here.
            User.objects.filter(pk=person.pk).update(home_partnership=partnership)
            person.home_partnership_id = partnership.pk
        audit_in_trails(
            actor=actor,
            verb=Verb.PERSON_ROLES_CHANGED,
            target=person,
            partnership_ids=trails | _trails(person, partnership),
            payload={"person": person.username, "roles": sorted(roles), "before": sorted(held)},
        )
    if hasattr(person, "_accord_roles"):
        del person._accord_roles
    return True


def person_deactivate(*, actor: User | None, partnership: Partnership, person: User) -> int:
    """They no longer work in Accord: their open work is handed on. Someone who also works in
    another partnership is not deactivated by one business unit (their roles here are taken
    away instead). Answers how many escalations were handed on."""
    if not person.is_active:
        return 0
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="deactivate")
    with transaction.atomic():
        locked = _locked_person(person)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        handed = _hand_on("left", actor=actor, person=locked)
        _audit(actor, Verb.PERSON_DEACTIVATED, locked, partnership, {"handed_on": handed})
    person.is_active = False
    return handed


def person_reactivate(*, actor: User | None, partnership: Partnership, person: User) -> bool:
    if person.is_active:
        return False
    require_own_person(actor=actor, partnership=partnership, person=person, attempted="reactivate")
    with transaction.atomic():
        locked = _locked_person(person)
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        _audit(actor, Verb.PERSON_REACTIVATED, locked, partnership, {})
    person.is_active = True
    return True


def person_language_set(
    *, actor: User | None, person: User, language: str, partnership: Partnership | None = None
) -> bool:
    """The language a person is written to in, emails and documents alike (``""``: not known).

    Theirs to choose (their settings, the header's switch: a guest's on their own account),
    or set by the business unit that keeps them, as it adds or invites them; a shared
    person's only by themselves or the deployment's administrators, like their name."""
    if language not in ("", *Language.values):
        raise ValidationError({"language": _("Select English or Welsh")})
    if person.language == language:
        return False
    themselves = actor is not None and actor.pk == person.pk
    if not themselves:
        if partnership is None:
            raise NotAllowed(_("Only the person themselves chooses their language here."))
        require_business_unit(actor, partnership)
        require_person_of(actor=actor, partnership=partnership, person=person)
        require_own_person(actor=actor, partnership=partnership, person=person, attempted="language")
    with transaction.atomic():
        locked = _locked_person(person)
        locked.language = language
        locked.save(update_fields=["language"])
        trails = person_partnership_ids(locked) | {
            pid for pid in (partnership.pk if partnership else None, locked.home_partnership_id) if pid
        }
        audit_in_trails(
            actor=actor,
            verb=Verb.PERSON_DETAILS_CHANGED,
            target=locked,
            partnership_ids=trails,
            payload={"person": locked.username, "fields": ["language"]},
        )
    person.language = language
    return True


def _audit(actor: User | None, verb: Verb, person: User, partnership: Partnership, payload: dict) -> None:
    audit_in_trails(
        actor=actor,
        verb=verb,
        target=person,
        partnership_ids=_trails(person, partnership),
        payload={"person": person.username, **payload},
    )


# --------------------------------------------------------------------------- one form, one call


def require_person_of(*, actor: User | None, partnership: Partnership, person: User) -> None:
    """The person is one whose details this business unit keeps (or the deployment's
    administrators act); a deployment administrator is changed only by their peers."""
    if not people_of(partnership).filter(pk=person.pk).exists() and not keeps_identity(actor):
        raise NotAllowed(_("This person works in another partnership: their own business unit keeps them."))
    if person.is_superuser and not keeps_identity(actor):
        raise NotAllowed(administrator_words())


def person_save(
    *, actor: User | None, partnership: Partnership, details: PersonDetails, person: User | None = None
) -> PersonSaved:
    """The settings page's person, added or changed at once: each part that differs goes
    through its own service above (and its own refusal), in one transaction."""
    require_business_unit(actor, partnership)
    if person is None:
        added = person_add(actor=actor, partnership=partnership, details=details)
        return PersonSaved(person=added, created=True, changed=["added"])
    require_person_of(actor=actor, partnership=partnership, person=person)
    wanted = _checked(partnership, details, person)
    identity = _identity_changes(person, wanted)
    if identity:  # refused (and recorded) before anything is written
        require_own_person(actor=actor, partnership=partnership, person=person, attempted=",".join(identity))
    changed: list[str] = []
    handed = 0
    with transaction.atomic():
        person = _locked_person(person)
        changed += ["roles"] * person_roles_set(
            actor=actor, partnership=partnership, person=person, roles=wanted.roles
        )
        if not wanted.is_active:
            if person.is_active:
                handed = person_deactivate(actor=actor, partnership=partnership, person=person)
                changed.append("is_active")
            return PersonSaved(person=person, created=False, changed=changed, handed_on=handed)
        changed += ["is_active"] * person_reactivate(actor=actor, partnership=partnership, person=person)
        changed += person_details_change(
            actor=actor,
            partnership=partnership,
            person=person,
            first_name=wanted.first_name,
            last_name=wanted.last_name,
            job_title=wanted.job_title,
        )
        changed += ["email"] * person_email_change(
            actor=actor, partnership=partnership, person=person, email=wanted.email
        )
        if person.agency_id != wanted.agency.pk:
            handed = person_move(actor=actor, partnership=partnership, person=person, agency=wanted.agency)
            changed.append("agency")
        changed += ["line_manager"] * person_line_manager_set(
            actor=actor, partnership=partnership, person=person, manager=wanted.manager
        )
        if details.language is not None:
            changed += ["language"] * person_language_set(
                actor=actor, partnership=partnership, person=person, language=details.language
            )
    return PersonSaved(person=person, created=False, changed=changed, handed_on=handed)


def _identity_changes(person: User, wanted: _Wanted) -> list[str]:
    """The parts of a person's identity (theirs in every partnership) the change touches."""
    now = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "job_title": person.job_title,
        "email": (person.email or "").lower(),
        "agency": person.agency_id,
        "line_manager": person.line_manager_id,
        "is_active": person.is_active,
    }
    after = {
        "first_name": wanted.first_name,
        "last_name": wanted.last_name,
        "job_title": wanted.job_title,
        "email": wanted.email,
        "agency": wanted.agency.pk,
        "line_manager": wanted.manager.pk if wanted.manager else None,
        "is_active": wanted.is_active,
    }
    return [name for name in now if now[name] != after[name]]
