"""Two agencies merged into one (two trusts become one, a council's services reorganise):
everything of the one (its people, the escalations it raised, received or was brought into,
the agreed actions it owns, its place in each partnership) moves to the other with its
history, and the read models follow (who sees what, the reports' tallies). The agency
merged is kept, inactive, pointing at the one it became.

A business unit merges its own partnership's agencies; one shared with another partnership
is not its alone to merge (the deployment's administrators may). A difference between the
two agencies themselves would become a difference within one, which Accord does not hold:
such a merge is refused, saying which escalations stand in the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.partnership.models import Agency, Partnership, PartnershipAgency, User
from accord.partnership.services.common import require_business_unit
from accord.partnership.services.ownership import person_is_shared, person_partnership_ids, refuse

from .. import tallies, visibility
from ..models import AgreedAction, Escalation, OtherParty


@dataclass
class MergePlan:
    """What a merge would move (shown before it is confirmed)."""

    source: Agency
    into: Agency
    people: int
    escalations: int
    parties: int
    actions: int
    between: list[str]  # references of escalations between the two: the merge is refused

    @property
    def ok(self) -> bool:
        return not self.between


def _escalations_of(agency: Agency):
    return Escalation.objects.filter(
        Q(raising_agency=agency)
        | Q(with_agency=agency)
        | Q(pk__in=OtherParty.objects.filter(agency=agency).values("escalation_id"))
    )


def _may_merge(actor: User, partnership: Partnership | None, source: Agency, into: Agency) -> None:
    if source.pk == into.pk:
        raise ValidationError({"into": _("Choose another agency to merge it into")})
    if source.merged_into_id or into.merged_into_id:
        raise ValidationError({"source": _("That agency has already been merged into another")})
    if actor.is_superuser:
        return
    require_business_unit(actor, partnership)
    theirs = set(PartnershipAgency.objects.filter(agency=source).values_list("partnership_id", flat=True))
    if (
        partnership.pk not in theirs
        or not PartnershipAgency.objects.filter(partnership=partnership, agency=into).exists()
    ):
        raise ValidationError({"source": _("Choose two agencies of this partnership")})
    if theirs - {partnership.pk}:
        raise refuse(
            actor=actor,
            partnership=partnership,
            target=source,
            partnership_ids=theirs,
            attempted="agency_merge",
            words=_(
                "%(agency)s also works in another partnership: it is not this business unit's alone to "
                "merge. Ask the deployment's administrators."
            )
            % {"agency": source},
        )
    shared_people = [p for p in User.objects.filter(agency=source) if person_is_shared(p, partnership)]
    if shared_people:
        # Their agency is theirs in every partnership they work in (docs/decisions/0006).
        raise refuse(
            actor=actor,
            partnership=partnership,
            target=shared_people[0],
            partnership_ids=set().union(*(person_partnership_ids(p) for p in shared_people)),
            attempted="agency_merge",
            words=_(
                "%(n)s of %(agency)s's people also work in another partnership, so their agency is not "
                "this business unit's alone to change: ask the deployment's administrators to merge it."
            )
            % {"n": len(shared_people), "agency": source},
        )


def agency_merge_plan(
    *, actor: User, partnership: Partnership | None, source: Agency, into: Agency
) -> MergePlan:
    _may_merge(actor, partnership, source, into)
    mine = _escalations_of(source)
    between = list(
        mine.filter(pk__in=_escalations_of(into).values("pk"))
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    return MergePlan(
        source=source,
        into=into,
        people=User.objects.filter(agency=source).count(),
        escalations=mine.count(),
        parties=OtherParty.objects.filter(agency=source).count(),
        actions=AgreedAction.objects.filter(owner_agency=source).count(),
        between=between,
    )


def agency_merge(*, actor: User, partnership: Partnership | None, source: Agency, into: Agency) -> MergePlan:
    """Merge ``source`` into ``into``, all at once or not at all."""
    with transaction.atomic():
        # Both rows locked: a second merge of either waits, then finds it merged.
        locked = {a.pk: a for a in Agency.objects.select_for_update().filter(pk__in=[source.pk, into.pk])}
        source, into = locked[source.pk], locked[into.pk]
        plan = agency_merge_plan(actor=actor, partnership=partnership, source=source, into=into)
        if not plan.ok:
            raise ValidationError(
                {
                    "source": _(
                        "%(n)s escalations are between these two agencies (%(refs)s): merged, they would "
                        "be differences within one agency. They cannot be merged."
                    )
                    % {"n": len(plan.between), "refs": ", ".join(plan.between[:10])}
                }
            )
        escalation_ids = list(_escalations_of(source).values_list("pk", flat=True))
        partnership_ids = set(
            Escalation.objects.filter(pk__in=escalation_ids).values_list("partnership_id", flat=True)
        )
        Escalation.objects.filter(raising_agency=source).update(raising_agency=into)
        Escalation.objects.filter(with_agency=source).update(with_agency=into)
        OtherParty.objects.filter(agency=source).update(agency=into)
        AgreedAction.objects.filter(owner_agency=source).update(owner_agency=into)
        people = list(User.objects.filter(agency=source).values_list("pk", flat=True))
        User.objects.filter(agency=source).update(agency=into)
        for link in PartnershipAgency.objects.filter(agency=source):
            kept, created = PartnershipAgency.objects.get_or_create(
                partnership_id=link.partnership_id,
                agency=into,
                defaults={"takes_part_in_raising": link.takes_part_in_raising, "staff": link.staff},
            )
            if not created and link.staff:
                kept.staff = (kept.staff or 0) + link.staff  # the two workforces are one now
                kept.save(update_fields=["staff"])
            link.delete()
        source.is_active, source.merged_into, source.merged_at = False, into, clock.now()
        source.save(update_fields=["is_active", "merged_into", "merged_at"])
        # The read models: the updates above bypassed the signals that keep them.
        for start in range(0, len(escalation_ids), 500):
            visibility.for_escalations(escalation_ids[start : start + 500])
        visibility.for_people(people)
        for pid in sorted(partnership_ids):
            tallies.rebuild(pid)
        audit_record(
            actor=actor,
            verb=Verb.AGENCIES_MERGED,
            partnership_id=partnership.pk if partnership else None,
            payload={
                "merged": source.pk,
                "merged_name": source.name,
                "into": into.pk,
                "into_name": into.name,
                "people": plan.people,
                "escalations": plan.escalations,
                "actions": plan.actions,
            },
        )
    return plan
