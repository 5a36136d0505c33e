"""Two partnerships on different ladders sharing an agency: each escalation is seen by the
rules of its own partnership's ladder, and nothing of one is seen from the other."""

from __future__ import annotations

import pytest

from accord.escalations import services, visibility
from accord.escalations.models import Escalation
from accord.partnership.models import PartnershipAgency, Role, RoleAssignment
from accord.partnership.protocol import install_ladder, preset
from accord.testing.factories import UserFactory, raise_details

pytestmark = pytest.mark.django_db


def sees(person, e) -> bool:
    by_filter = Escalation.objects.visible_to(person).filter(pk=e.pk).exists()
    fresh = type(person).objects.get(pk=person.pk)
    assert by_filter == fresh.has_perm("escalations.view", Escalation.objects.get(pk=e.pk))
    return by_filter


def test_each_partnerships_ladder_decides_who_sees_its_escalations_through_a_shared_agency(
    world, other_world
):
    install_ladder(other_world.partnership, preset("croydon"))  # formal from stage 3
    PartnershipAgency.objects.create(partnership=other_world.partnership, agency=world.health)
    # A health manager and a health practitioner who work in both partnerships.
    RoleAssignment.objects.create(
        user=world.manager_health, partnership=other_world.partnership, role=Role.MANAGER
    )
    both = UserFactory(
        username="both.practitioner",
        agency=world.health,
        line_manager=world.manager_health,
        roles=[(world.partnership, Role.PRACTITIONER), (other_world.partnership, Role.PRACTITIONER)],
    )
    theirs = services.escalation_raise(
        actor=both,
        partnership=other_world.partnership,
        details=raise_details(
            with_agency=other_world.social,
            with_practitioner_username=other_world.practitioner_social.username,
        ),
        immediate_danger=False,
    )
    theirs = other_world.consulted(theirs)
    theirs = services.escalation_escalate(actor=both, escalation=theirs, reason="Stuck.")
    theirs = services.escalation_escalate(
        actor=world.manager_health, escalation=theirs, reason="Still stuck.", efforts_to_resolve="Met twice."
    )
    assert theirs.stage == 3 and theirs.formal_at is not None  # Croydon's first formal stage
    assert sees(other_world.pdg_chair, theirs)  # the other partnership's formal body, at its stage 3
    assert not sees(world.pdg_chair, theirs)  # never Devon's
    assert not sees(world.senior_health, theirs)  # holds no role in the other partnership
    assert sees(world.manager_health, theirs)

    mine = world.at_stage_3()
    assert not sees(world.pdg_chair, mine)  # Devon's formal stage is 4
    assert not sees(other_world.pdg_chair, mine)
    assert visibility.differences() == (0, 0, 0)
