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
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
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
    User,
)
from accord.partnership.services.common import by_field, require_business_unit
from accord.partnership.services.ownership import (
    agency_is_shared,
    agency_partnership_ids,
    keeps_identity,
    refuse,
    require_own_agency,
)

from .timescales import escalations_recompute_due_dates

# The partnership's own settings the business unit keeps (its name, short name and
# reference prefix are the deployment's: references and addresses depend on them).
PARTNERSHIP_FIELDS = (
    "front_door_name",
    "front_door_phone",
    "front_door_form_url",
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
    "safeguards",
)
CALENDAR_FIELDS = frozenset({"holiday_country", "holiday_subdivision"})


def _changed(instance: Any, data: dict[str, Any], names) -> list[str]:
    return sorted(n for n in names if n in data and getattr(instance, n) != data[n])


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
            raise by_field(error) from error
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
            raise by_field(error) from error
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
    if existing is not None and not keeps_identity(actor):
        # An agency another partnership keeps is shared only by the deployment's
        # administrators: joining it makes its people and its sign-in the other partnership's
        # business too (recorded in each keeper's trail).
        keepers = agency_partnership_ids(existing.pk)
        if keepers:
            raise refuse(
                actor=actor,
                partnership=partnership,
                target=existing,
                partnership_ids=keepers,
                attempted="agency_join",
                words=_(
                    "%(name)s already works in Accord for another partnership: ask the deployment's "
                    "administrators to add it to this partnership too."
                )
                % {"name": existing},
            )
    with transaction.atomic():
        agency = existing or Agency.objects.create(name=name, kind=kind)
        PartnershipAgency.objects.create(
            partnership=partnership, agency=agency, takes_part_in_raising=takes_part_in_raising, staff=staff
        )
        for pid in sorted(agency_partnership_ids(agency.pk)):  # each keeper's trail: it is shared now
            audit_record(
                actor=actor,
                verb=Verb.CONFIGURATION_CHANGED,
                target=agency,
                partnership_id=pid,
                payload={"agency_added": agency.name, "shared": existing is not None},
            )
    return agency, existing is not None


def agency_shared_elsewhere(agency: Agency, partnership: Partnership) -> bool:
    """The agency also works in another partnership (a police force covering two areas): its
    name, kind and whether it is active are theirs too, so not one business unit's to change."""
    return agency_is_shared(agency, partnership)


def agency_update(
    *, actor: User | None, partnership: Partnership, agency: Agency, details: AgencyDetails
) -> list[str]:
    """Change an agency of the partnership: how it takes part here (raising and receiving,
    its size) always; its name, kind and whether it is active only when no other partnership
    shares it (``partnership.services.ownership``: refused and recorded in each partnership's
    trail otherwise). An agency that leaves is made inactive, never deleted: its escalations
    keep their history. Answers the fields that changed."""
    require_business_unit(actor, partnership)
    name = " ".join((details.name or "").split())
    own = {"name": name, "kind": details.kind, "is_active": details.is_active}
    if _changed(agency, own, own):  # refused (and recorded) before anything is written
        require_own_agency(actor=actor, partnership=partnership, agency=agency, attempted="agency")
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
        changed = _changed(agency, own, own)
        if changed:
            require_own_agency(actor=actor, partnership=partnership, agency=agency, attempted="agency")
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
