"""The partnership's agencies: one joining it (a new agency, or one already in Accord for
another partnership, joined only by the deployment's administrators), and how one takes part
in it, or its own details where no other partnership shares it
(``ownership.require_own_agency``). An agency that leaves is made inactive, never deleted.
Merging one agency into another reaches escalations: ``escalations.services.agencies``."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.core.records import apply_changes

from ..models import Agency, AgencyKind, Partnership, PartnershipAgency, User
from .common import audit_in_trails, changed_fields, require_business_unit
from .ownership import agency_is_shared, agency_partnership_ids, keeps_identity, refuse, require_own_agency


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
                verb=Verb.AGENCY_ADDED,
                target=agency,
                partnership_id=pid,
                payload={"agency": agency.name, "shared": existing is not None},
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
    if changed_fields(agency, own, own):  # refused (and recorded) before anything is written
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
        changed = changed_fields(agency, own, own)
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
            # Its name, kind or whether it is active are every keeping partnership's: the
            # change is in each one's trail (how it takes part here, in this one's only).
            audit_in_trails(
                actor=actor,
                verb=Verb.AGENCY_CHANGED,
                target=agency,
                partnership_ids={
                    partnership.pk,
                    *(agency_partnership_ids(agency.pk) if set(changed) & set(own) else ()),
                },
                payload={"agency": agency.name, "fields": sorted(changed)},
            )
    return sorted(changed)
