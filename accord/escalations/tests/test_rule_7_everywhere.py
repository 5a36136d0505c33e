"""Rule 7 (who may see an escalation) is stated once for lists (``policies.visibility_filter``,
installed as ``Escalation.objects.visible_to``) and kept in four more places for speed: the
predicates that answer for one loaded escalation (``escalations.view``), the visibility
table (``visibility``), who is told (``notices``) and "awaiting you" (``selectors.awaiting_q``).
This test holds the five to one another on every preset, in two partnerships that share an
agency and a person, whatever state the escalations are walked into:

- the list's filter, the predicates and the table let through exactly the same people;
- nobody is told of an escalation they may not see, and nothing awaits anyone who may not
  see it;
- everyone who holds the current stage (those told it reached them) finds it awaiting them.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.escalations import services
from accord.escalations.models import Escalation, PdgAction, PdgActionKind, Visibility
from accord.escalations.notices import parties, stage_owners
from accord.escalations.selectors import awaiting_q
from accord.partnership.models import Role, RoleAssignment, User
from accord.partnership.protocol import forget_ladder, install_ladder, ladder_of, preset, preset_names
from accord.testing.factories import WORLD_ROLES

pytestmark = pytest.mark.django_db


def _five_statements(people: list[User], escalations: list[Escalation]) -> None:
    ids = [e.pk for e in escalations]
    escalations = list(Escalation.objects.filter(pk__in=ids).select_related("partnership"))
    partnerships = {e.partnership_id: e.partnership for e in escalations}
    table = set(Visibility.objects.filter(escalation_id__in=ids).values_list("user_id", "escalation_id"))
    people = list(User.objects.filter(pk__in=[p.pk for p in people]))  # no roles kept from before
    listed = {
        (person.pk, pk)
        for person in people
        for pk in Escalation.objects.visible_to(person).filter(pk__in=ids).values_list("pk", flat=True)
    }
    awaiting = {
        (person.pk, pk)
        for person in people
        for p in partnerships.values()
        for pk in Escalation.objects.filter(partnership=p, pk__in=ids)
        .filter(awaiting_q(person, p))
        .values_list("pk", flat=True)
    }
    for e in escalations:
        told = {u.pk for u in parties(e) + stage_owners(e)}
        holders = {u.pk for u in stage_owners(e)}
        for person in people:
            pair = (person.pk, e.pk)
            where = (person.username, e.reference, e.stage)
            assert (pair in listed) == person.has_perm("escalations.view", e) == (pair in table), where
            if pair in awaiting or person.pk in told:
                assert pair in listed, ("told or awaiting, but may not see it", *where)
            if person.pk in holders:
                assert pair in awaiting, ("holds the stage, but it does not await them", *where)


@pytest.mark.parametrize("name", preset_names())
def test_rule_7_is_the_same_in_all_five_places_on_every_preset(name, world, neighbour):
    for p in (world.partnership, neighbour.partnership):
        install_ladder(p, preset(name))
        forget_ladder(p)
    ladder = ladder_of(world.partnership)
    # A person in both: the shared health trust's manager leads there too.
    RoleAssignment.objects.create(
        user=world.manager_health, partnership=neighbour.partnership, role=Role.MANAGER
    )
    escalations = [
        world.raised(),  # with a named practitioner
        world.raised(with_agency=world.other),  # naming nobody: the agency's managers receive it
        world.raised(other_parties=[services.PartyDetails(world.other.pk, "")]),
        neighbour.raised(),  # raised from the shared trust, in the other partnership
        neighbour.raised(raiser=neighbour.practitioner_social, with_agency=neighbour.health),
    ]
    people = [getattr(w, n) for w in (world, neighbour) for n in WORLD_ROLES]
    stage = st.integers(1, ladder.top)

    @settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(st.tuples(stage, st.booleans()), min_size=len(escalations), max_size=len(escalations)),
    )
    def check(moves):
        with transaction.atomic():
            for e, (number, facilitated) in zip(escalations, moves, strict=True):
                e = Escalation.objects.get(pk=e.pk)
                e.stage = e.highest_stage = number
                formal = ladder.formal_from is not None and number >= ladder.formal_from
                e.formal_at = timezone.now() if formal else None
                e.save()
                if facilitated:
                    w = world if e.partnership_id == world.partnership.pk else neighbour
                    PdgAction.objects.create(
                        escalation=e,
                        action=PdgActionKind.RESTORATIVE_FACILITATOR,
                        facilitator=w.facilitator,
                        recorded_by=w.pdg_chair,
                    )
            _five_statements(people, escalations)
            transaction.set_rollback(True)

    _five_statements(people, escalations)
    check()
