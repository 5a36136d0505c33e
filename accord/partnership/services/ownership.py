"""Who keeps what partnerships share (docs/decisions/0006-shared-ownership.md).

What is a partnership's own — its roles, how an agency takes part in it, its invitations to
its own people, its settings — its business unit manages alone. A person who works in more
than one partnership, and an agency that more than one keeps, belong to all of them: their
identity (name, email, agency, line manager, account, password, sign-in, API tokens) is
changed only by the deployment's administrators. A refused attempt is in the trail of every
partnership the person or agency belongs to, as every change touching them is."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.core.errors import NotAllowed

from ..models import Agency, Partnership, PartnershipAgency, RoleAssignment, User
from .common import audit_in_trails


def agency_partnership_ids(agency_id: int | None) -> set[int]:
    """The partnerships that keep the agency."""
    if agency_id is None:
        return set()
    return set(PartnershipAgency.objects.filter(agency_id=agency_id).values_list("partnership_id", flat=True))


def person_partnership_ids(person: User) -> set[int]:
    """The partnerships a person belongs to: those they hold a role in; with no role anywhere,
    their home partnership (whose business unit added them, or where they last worked); with
    neither (added by signing in, or by the deployment's administrators), every partnership
    that keeps their agency, since each of those business units sees them to give a role."""
    held = set(RoleAssignment.objects.filter(user=person).values_list("partnership_id", flat=True))
    if held:
        return held
    if person.home_partnership_id is not None:
        return {person.home_partnership_id}
    return agency_partnership_ids(person.agency_id)


def person_is_shared(person: User, partnership: Partnership) -> bool:
    """The person belongs to a partnership other than this one too."""
    return bool(person_partnership_ids(person) - {partnership.pk})


def agency_is_shared(agency: Agency, partnership: Partnership) -> bool:
    """Another partnership keeps the agency too (a police force covering two areas)."""
    return PartnershipAgency.objects.filter(agency=agency).exclude(partnership=partnership).exists()


def keeps_identity(actor: User | None) -> bool:
    """The deployment's administrators (and the command line, run by those who hold the
    server) change what partnerships share."""
    return actor is None or actor.is_superuser


def shared_person_words(person: User) -> str:
    return _(
        "%(name)s also works in another partnership, so their name, email, agency, line manager, "
        "account, password, sign-in and API tokens are not one business unit's to change: ask "
        "the deployment's administrators. Here you can change their roles in this partnership."
    ) % {"name": person.get_full_name() or person.email}


def administrator_words() -> str:
    return _("This person is one of the deployment's administrators: only they change them.")


def shared_agency_words(agency: Agency) -> str:
    return _(
        "%(agency)s also works in another partnership: its name, kind, whether it is active and "
        "its sign-in are theirs too. Ask the deployment's administrators."
    ) % {"agency": agency}


def refuse(
    *,
    actor: User | None,
    partnership: Partnership,
    target: User | Agency,
    partnership_ids: set[int],
    attempted: str,
    words: str,
) -> NotAllowed:
    """Record a refused change to something shared in the trail of this partnership and of
    each other it belongs to, and answer the refusal to raise."""
    audit_in_trails(
        actor=actor,
        verb=Verb.SHARED_CHANGE_REFUSED,
        target=target,
        partnership_ids={partnership.pk, *partnership_ids},
        payload={"attempted": attempted, "by_partnership": partnership.pk},
    )
    return NotAllowed(words)


def require_own_person(*, actor: User | None, partnership: Partnership, person: User, attempted: str) -> None:
    """Refuse (and record) a change to a shared person's identity by one business unit; a
    deployment administrator's is changed only by their peers, whoever else they work for."""
    if keeps_identity(actor):
        return
    if person.is_superuser:
        raise NotAllowed(administrator_words())
    others = person_partnership_ids(person) - {partnership.pk}
    if others:
        raise refuse(
            actor=actor,
            partnership=partnership,
            target=person,
            partnership_ids=others,
            attempted=attempted,
            words=shared_person_words(person),
        )


def require_own_agency(
    *, actor: User | None, partnership: Partnership, agency: Agency, attempted: str
) -> None:
    """Refuse (and record) a change to a shared agency's own details by one business unit."""
    if keeps_identity(actor):
        return
    others = agency_partnership_ids(agency.pk) - {partnership.pk}
    if others:
        raise refuse(
            actor=actor,
            partnership=partnership,
            target=agency,
            partnership_ids=others,
            attempted=attempted,
            words=shared_agency_words(agency),
        )


def people_of(partnership: Partnership):
    """The people whose details this business unit keeps: those with a role in the
    partnership, and those with no role anywhere whose home it is (it added them, or they
    last worked here), or who have no home and are of one of its agencies (added by signing
    in). Someone of an agency shared with another partnership who works only there, or was
    added by it, is that partnership's to keep. (Written as semi-joins, so that no row
    repeats and the list needs no DISTINCT over every person.)"""
    return User.objects.filter(
        Q(pk__in=RoleAssignment.objects.filter(partnership=partnership).values("user_id"))
        | (
            ~Q(pk__in=RoleAssignment.objects.values("user_id"))
            & (
                Q(home_partnership=partnership)
                | Q(
                    home_partnership__isnull=True,
                    agency_id__in=PartnershipAgency.objects.filter(partnership=partnership).values(
                        "agency_id"
                    ),
                )
            )
        )
    )
