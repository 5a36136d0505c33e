"""The business unit's settings, one service each: the partnership's own settings (front door,
calendar, reporting year, reopening window, retention, suppression threshold, follow-up), a
part of its protocol changed, its agencies, its taxonomies and its people with their roles
and line managers. The settings pages are one caller; every rule is here.

Each takes ``actor=`` and refuses anyone but the partnership's business unit (the
deployment's administrators may act for any partnership), checks what it is given, writes
in one transaction with an audit entry naming the fields changed (never their values beyond
codes), and follows the change where it reaches escalations: a new calendar moves open
stages' due dates, a person leaving or moving agency hands their open work on, a role or
line manager changed recounts who sees what (the visibility table's signals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.core.records import apply_changes
from accord.partnership.calendar import calendar_problem
from accord.partnership.models import (
    Agency,
    AgencyKind,
    AreaOfDisagreement,
    Partnership,
    PartnershipAgency,
    PracticeTheme,
    PublicStatement,
    Role,
    RoleAssignment,
    User,
)
from accord.partnership.roles import SETTINGS_ROLES
from accord.partnership.selectors import user_roles

from .people import person_left, person_moved
from .timescales import escalations_recompute_due_dates

# The partnership's own settings the business unit keeps (its name, short name and
# reference prefix are the deployment's: references and addresses depend on them).
PARTNERSHIP_FIELDS = (
    "front_door_name",
    "front_door_phone",
    "emergency_wording",
    "holiday_country",
    "holiday_subdivision",
    "reporting_year_start_month",
    "reopen_within_days",
    "retention_days_after_closure",
    "suppression_threshold",
    "follow_up_weeks",
    "facilitators_see_children",
    "guest_idle_days",
)
CALENDAR_FIELDS = frozenset({"holiday_country", "holiday_subdivision"})


def require_business_unit(actor: User | None, partnership: Partnership) -> None:
    """Only the partnership's business unit (or the deployment's administrators) keeps its
    settings; ``actor=None`` is the command line, run by those who hold the server."""
    if actor is None or actor.is_superuser:
        return
    if not (actor.is_active and user_roles(actor, partnership.pk) & SETTINGS_ROLES):
        raise NotAllowed(_("Only the partnership's business unit changes its settings."))


def _changed(instance: Any, data: dict[str, Any], names) -> list[str]:
    return sorted(n for n in names if n in data and getattr(instance, n) != data[n])


def _by_field(error: ValidationError) -> ValidationError:
    """A model's own validation, as the fields' errors."""
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)


# --------------------------------------------------------------------------- the partnership


def partnership_update(*, actor: User | None, partnership: Partnership, data: dict[str, Any]) -> list[str]:
    """Change the partnership's own settings (``PARTNERSHIP_FIELDS``): answer the fields that
    changed. A new bank-holiday calendar moves the open stages' due dates with it."""
    require_business_unit(actor, partnership)
    unknown = set(data) - set(PARTNERSHIP_FIELDS)
    if unknown:
        raise ValidationError(_("These are not settings the business unit keeps: %s") % ", ".join(unknown))
    with transaction.atomic():
        locked = Partnership.objects.select_for_update(no_key=True).get(pk=partnership.pk)
        changed = _changed(locked, data, PARTNERSHIP_FIELDS)
        if not changed:
            return []
        for name in changed:
            setattr(locked, name, data[name])
        if "holiday_country" in changed or "holiday_subdivision" in changed:
            problem = calendar_problem(locked.holiday_country, locked.holiday_subdivision)
            if problem:
                raise ValidationError(problem)
        try:
            locked.full_clean(exclude=["name", "slug", "reference_prefix"])
        except ValidationError as error:
            raise _by_field(error) from error
        locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            verb=Verb.CONFIGURATION_CHANGED,
            target=locked,
            partnership_id=locked.pk,
            payload={"action": "partnership_settings_changed", "fields": changed},
        )
    for name in changed:
        setattr(partnership, name, data[name])
    if CALENDAR_FIELDS & set(changed):
        escalations_recompute_due_dates(partnership=locked)
    return changed


STATEMENT_FIELDS = (
    "compliance",
    "known_issues",
    "contact_email",
    "contact_phone",
    "last_tested",
    "last_reviewed",
    "privacy_notice",
    "data_protection_contact",
)


def statement_save(*, actor: User | None, partnership: Partnership, data: dict[str, Any]) -> list[str]:
    """What the partnership publishes about Accord: its accessibility statement (in GOV.UK's
    sample form) and its privacy notice, open to anyone. Answers the fields changed."""
    require_business_unit(actor, partnership)
    with transaction.atomic():
        statement, _created = PublicStatement.objects.select_for_update().get_or_create(
            partnership=partnership
        )
        wanted = {name: data[name] for name in STATEMENT_FIELDS if name in data}
        for name in wanted:
            setattr(statement, name, wanted[name])
        try:
            statement.full_clean(exclude=["partnership"])
        except ValidationError as error:
            raise _by_field(error) from error
        statement.refresh_from_db()
        changed = apply_changes(statement, wanted)
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.CONFIGURATION_CHANGED,
                target=statement,
                partnership_id=partnership.pk,
                payload={"statement": True, "fields": changed},
            )
    return changed


# --------------------------------------------------------------------------- agencies


@dataclass(frozen=True)
class AgencyDetails:
    name: str
    kind: str
    is_active: bool
    takes_part_in_raising: bool
    staff: int | None


def agency_add(
    *,
    actor: User | None,
    partnership: Partnership,
    name: str,
    kind: str,
    takes_part_in_raising: bool = True,
    staff: int | None = None,
) -> tuple[Agency, bool]:
    """An agency joins the partnership: a new one, or one already in Accord for another
    partnership (a police force covering both), joined under its own name. Answers the
    agency and whether it was shared. Raises ``ValidationError`` by field."""
    require_business_unit(actor, partnership)
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise ValidationError({"name": _("Enter the agency's name, up to 200 characters")})
    if "\x00" in name:
        raise ValidationError({"name": _("Enter the name without control characters")})
    existing = Agency.objects.filter(name__iexact=name).first()
    if existing is None and kind not in AgencyKind.values:
        raise ValidationError({"kind": _("Select what kind of agency it is")})
    if staff is not None and not 1 <= staff <= 1_000_000:
        raise ValidationError({"staff": _("Enter a number from 1 to 1,000,000, or leave it empty")})
    if existing is not None and existing.merged_into_id:
        raise ValidationError(
            {
                "name": _("%(name)s was merged into %(into)s: add that instead")
                % {"name": existing, "into": existing.merged_into}
            }
        )
    if (
        existing is not None
        and PartnershipAgency.objects.filter(partnership=partnership, agency=existing).exists()
    ):
        raise ValidationError(
            {"name": _("%(name)s is already one of the partnership's agencies") % {"name": existing}}
        )
    with transaction.atomic():
        agency = existing or Agency.objects.create(name=name, kind=kind)
        PartnershipAgency.objects.create(
            partnership=partnership, agency=agency, takes_part_in_raising=takes_part_in_raising, staff=staff
        )
        audit_record(
            actor=actor,
            verb=Verb.CONFIGURATION_CHANGED,
            target=agency,
            partnership_id=partnership.pk,
            payload={"agency_added": agency.name, "shared": existing is not None},
        )
    return agency, existing is not None


def agency_shared_elsewhere(agency: Agency, partnership: Partnership) -> bool:
    """The agency also works in another partnership (a police force covering two areas): its
    name, kind and whether it is active are theirs too, so not one business unit's to change."""
    return PartnershipAgency.objects.filter(agency=agency).exclude(partnership=partnership).exists()


def agency_update(
    *, actor: User | None, partnership: Partnership, agency: Agency, details: AgencyDetails
) -> list[str]:
    """Change an agency of the partnership: how it takes part here (raising and receiving,
    its size) always; its name, kind and whether it is active only when no other partnership
    shares it. An agency that leaves is made inactive, never deleted: its escalations keep
    their history. Answers the fields that changed."""
    require_business_unit(actor, partnership)
    with transaction.atomic():
        link = (
            PartnershipAgency.objects.select_for_update()
            .select_related("agency")
            .filter(partnership=partnership, agency=agency)
            .first()
        )
        if link is None:
            raise NotAllowed(_("That agency is not one of the partnership's."))
        agency = link.agency
        name = " ".join((details.name or "").split())
        own = {"name": name, "kind": details.kind, "is_active": details.is_active}
        changed = _changed(agency, own, own)
        if changed and agency_shared_elsewhere(agency, partnership):
            raise NotAllowed(
                _(
                    "%(agency)s also works in another partnership: its name, kind and whether it is "
                    "active are theirs too. Ask the deployment's administrators."
                )
                % {"agency": agency}
            )
        if agency.merged_into_id:
            raise ValidationError(_("That agency was merged into another and is kept only for its history."))
        if "name" in changed:
            if not name:
                raise ValidationError({"name": _("Enter the agency's name")})
            if Agency.objects.filter(name__iexact=name).exclude(pk=agency.pk).exists():
                raise ValidationError({"name": _("Another agency in Accord has that name")})
        if details.kind not in AgencyKind.values:
            raise ValidationError({"kind": _("Select what kind of agency it is")})
        if details.staff is not None and not 1 <= details.staff <= 1_000_000:
            raise ValidationError({"staff": _("Enter a number from 1 to 1,000,000, or leave it empty")})
        apply_changes(agency, own)
        changed += apply_changes(
            link, {"takes_part_in_raising": details.takes_part_in_raising, "staff": details.staff}
        )
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.CONFIGURATION_CHANGED,
                target=agency,
                partnership_id=partnership.pk,
                payload={"action": "agency_changed", "agency": agency.name, "fields": sorted(changed)},
            )
    return sorted(changed)


# --------------------------------------------------------------------------- taxonomies

TAXONOMIES = {"areas": AreaOfDisagreement, "themes": PracticeTheme}


@dataclass(frozen=True)
class TermDetails:
    label: str
    code: str
    is_active: bool = True
    position: int = 0


def term_save(
    *,
    actor: User | None,
    partnership: Partnership,
    taxonomy: str,
    details: TermDetails,
    term: AreaOfDisagreement | PracticeTheme | None = None,
) -> AreaOfDisagreement | PracticeTheme:
    """Add a term to one of the partnership's taxonomies (its areas of disagreement or its
    practice themes), or change one. A term's code never changes once escalations may carry
    it (the reports count by it); a term no longer used is made inactive, never deleted, so
    the escalations that carry it keep it."""
    require_business_unit(actor, partnership)
    model = TAXONOMIES.get(taxonomy)
    if model is None or (
        term is not None and (type(term) is not model or term.partnership_id != partnership.pk)
    ):
        raise NotAllowed(_("That is not one of the partnership's taxonomies."))
    label = " ".join((details.label or "").split())
    errors: dict[str, str] = {}
    if not label or len(label) > 200:
        errors["label"] = _("Enter the label, up to 200 characters")
    if not 0 <= details.position <= 1000:
        errors["position"] = _("Enter a position from 0 to 1000")
    code = term.code if term is not None else (details.code or "").strip().lower()
    if term is None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", code):
            errors["code"] = _("Enter a code of lower-case letters, digits, - or _, up to 60")
        elif model.objects.filter(partnership=partnership, code=code).exists():
            errors["code"] = _("Another term has that code: choose another")
    if (
        model.objects.filter(partnership=partnership, label__iexact=label)
        .exclude(pk=term.pk if term else None)
        .exists()
    ):
        errors["label"] = _("Another term has that label: choose another")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if term is None:
            term = model.objects.create(
                partnership=partnership,
                code=code,
                label=label,
                is_active=details.is_active,
                position=details.position,
            )
            changed = ["code", "label", "is_active", "position"]
        else:
            changed = apply_changes(
                term, {"label": label, "is_active": details.is_active, "position": details.position}
            )
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.CONFIGURATION_CHANGED,
                target=term,
                partnership_id=partnership.pk,
                payload={"action": f"{taxonomy}_term_saved", "term": term.code, "fields": changed},
            )
    return term


# --------------------------------------------------------------------------- people


def people_of(partnership: Partnership):
    """The people whose details this business unit keeps: those with a role in the
    partnership, and those of its agencies with no role anywhere yet (just added, or added by
    signing in). Someone of an agency shared with another partnership who works only there
    is that partnership's to keep. (Written as semi-joins, so that no row repeats and the
    list needs no DISTINCT over every person.)"""
    return User.objects.filter(
        Q(pk__in=RoleAssignment.objects.filter(partnership=partnership).values("user_id"))
        | (
            Q(agency_id__in=PartnershipAgency.objects.filter(partnership=partnership).values("agency_id"))
            & ~Q(pk__in=RoleAssignment.objects.values("user_id"))
        )
    )


@dataclass
class PersonDetails:
    first_name: str
    last_name: str
    email: str
    agency: Agency
    job_title: str = ""
    line_manager_email: str = ""
    roles: list[str] = field(default_factory=list)
    is_active: bool = True


@dataclass
class PersonSaved:
    person: User
    created: bool
    changed: list[str]
    handed_on: int = 0


NAME_MOST = 150


def person_save(
    *, actor: User | None, partnership: Partnership, details: PersonDetails, person: User | None = None
) -> PersonSaved:
    """Add a person to the partnership, or change one of its people: their name, email, job,
    agency, line manager, roles here and whether they still work in Accord.

    Nobody's password is set here (a new person is invited, or signs in through their
    agency). Deactivating someone hands their open work on (``person_left``); moving them to
    another agency hands on what they were named on for the old one (``person_moved``),
    while what they raised stays theirs. Their roles in other partnerships are not this
    business unit's to change. Raises ``ValidationError`` by field."""
    require_business_unit(actor, partnership)
    if person is not None and not people_of(partnership).filter(pk=person.pk).exists():
        raise NotAllowed(_("This person works in another partnership: their own business unit keeps them."))
    if person is not None and person.is_superuser and not (actor is None or actor.is_superuser):
        raise NotAllowed(_("This person is one of the deployment's administrators: only they change them."))
    errors: dict[str, str] = {}
    first, last = " ".join(details.first_name.split()), " ".join(details.last_name.split())
    email = (details.email or "").strip().lower()
    if not first and not last:
        errors["first_name"] = _("Enter the person's name")
    elif len(first) > NAME_MOST or len(last) > NAME_MOST:
        errors["first_name"] = _("Each part of the name must be %(n)s characters or fewer") % {"n": NAME_MOST}
    if "\x00" in first + last + email + (details.job_title or ""):
        errors["first_name"] = _("Enter the name without control characters")
    try:
        validate_email(email)
        if len(email) > 150:
            raise ValidationError("long")
    except ValidationError:
        errors["email"] = _("Enter an email address in the correct format, like name@example.org")
    else:
        others = User.objects.annotate(lowered=Lower("email")).filter(lowered=email)
        taken = User.objects.filter(Q(username__iexact=email))
        if person is not None:
            others, taken = others.exclude(pk=person.pk), taken.exclude(pk=person.pk)
        if others.exists() or (person is None and taken.exists()):
            errors["email"] = _("Someone in Accord has that email already: find them in the list")
    agency = details.agency
    keeps_agency = person is not None and agency is not None and person.agency_id == agency.pk
    if agency is None or not (
        keeps_agency or PartnershipAgency.objects.filter(partnership=partnership, agency=agency).exists()
    ):
        # (Someone who also works in another partnership may keep an agency of that one's.)
        errors["agency"] = _("Select one of the partnership's agencies")
    elif not agency.is_active and (person is None or person.agency_id != agency.pk):
        errors["agency"] = _("Select an agency that is still active")
    unknown = sorted(set(details.roles) - set(Role.values))
    if unknown:
        errors["roles"] = _("Unknown role %(codes)s") % {"codes": ", ".join(unknown)}
    manager = None
    manager_email = (details.line_manager_email or "").strip().lower()
    current_manager = person.line_manager if person is not None and person.line_manager_id else None
    if current_manager is not None and manager_email == (current_manager.email or "").lower():
        manager = current_manager  # kept as it is, wherever they work
    elif manager_email:
        manager = (
            people_of(partnership)
            .annotate(lowered=Lower("email"))
            .filter(lowered=manager_email, is_active=True)
            .first()
        )
        if manager is None:
            errors["line_manager_email"] = _("Enter the email of someone who works in this partnership now")
        elif person is not None and manager.pk == person.pk:
            errors["line_manager_email"] = _("A person cannot be their own line manager")
        elif person is not None and _manages(person, manager):
            errors["line_manager_email"] = _("%(who)s is managed by this person: a line cannot go round") % {
                "who": manager
            }
    if len(details.job_title or "") > 200:
        errors["job_title"] = _("The job title must be 200 characters or fewer")
    if (
        person is not None
        and person.is_active
        and not details.is_active
        and RoleAssignment.objects.filter(user=person).exclude(partnership=partnership).exists()
    ):
        errors["is_active"] = _(
            "They also work in another partnership: take away their roles here instead (that "
            "partnership's business unit deactivates them when they leave)"
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created = person is None
        if created:
            person = User(username=email)
            person.set_unusable_password()  # an invitation, or their agency's sign-in
            was_agency, was_active = None, True
        else:
            person = User.objects.select_for_update().get(pk=person.pk)
            was_agency, was_active = person.agency_id, person.is_active
        wanted = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "job_title": (details.job_title or "").strip(),
            "agency_id": agency.pk,
            "line_manager_id": manager.pk if manager else None,
            "is_active": details.is_active,
        }
        changed = [n for n, v in wanted.items() if created or getattr(person, n) != v]
        for n in changed:
            setattr(person, n, wanted[n])
        if created or changed:
            person.save()
        held = set(
            RoleAssignment.objects.filter(user=person, partnership=partnership).values_list("role", flat=True)
        )
        roles = set(details.roles)
        if held != roles:
            RoleAssignment.objects.filter(
                user=person, partnership=partnership, role__in=held - roles
            ).delete()
            for role in sorted(roles - held):  # one by one: each keeps the visibility table
                RoleAssignment.objects.create(user=person, partnership=partnership, role=role)
            changed.append("roles")
        handed = 0
        if not created and was_active and not person.is_active:
            handed = person_left(actor=actor, person=person)
        elif not created and person.is_active and was_agency != person.agency_id:
            handed = person_moved(actor=actor, person=person)
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.CONFIGURATION_CHANGED,
                target=person,
                partnership_id=partnership.pk,
                payload={
                    "action": "person_added" if created else "person_changed",
                    "fields": sorted(n.removesuffix("_id") for n in changed),
                    "roles": sorted(roles),
                    "handed_on": handed,
                },
            )
    if hasattr(person, "_accord_roles"):
        del person._accord_roles
    return PersonSaved(person=person, created=created, changed=changed, handed_on=handed)


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
