"""Two agencies merged: people, escalations, agreed actions and the partnership's links move
with their history; who sees what and the reports' tallies follow exactly; a difference
between the two refuses the merge; an agency shared with another partnership is not one
business unit's to merge; every merge audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotAllowed
from accord.escalations import tallies, visibility
from accord.escalations.models import DailyTally, Escalation
from accord.escalations.services.agencies import agency_merge, agency_merge_plan
from accord.partnership.models import Agency, PartnershipAgency
from accord.partnership.selectors import partnership_agencies
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def snapshot(partnership):
    return {
        (t.day, t.dimension, t.key): t.n for t in DailyTally.objects.filter(partnership=partnership) if t.n
    }


def test_merging_moves_everything_with_its_history_and_the_read_models_follow(world):
    e = world.at_stage_2()  # health with social: both agencies' managers see it
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.other).update(staff=40)
    assert not Escalation.objects.visible_to(world.manager_other).filter(pk=e.pk).exists()
    plan = agency_merge_plan(
        actor=world.admin, partnership=world.partnership, source=world.social, into=world.other
    )
    assert plan.ok and plan.escalations == 1 and plan.people >= 3
    agency_merge(actor=world.admin, partnership=world.partnership, source=world.social, into=world.other)
    e.refresh_from_db()
    assert e.with_agency == world.other
    world.practitioner_social.refresh_from_db()
    assert world.practitioner_social.agency == world.other
    # Probation's manager now manages a party's agency at stage 2; social care's manager, in
    # probation now too, still sees it (each read afresh, as the next request reads them).
    world.manager_social.refresh_from_db()
    assert Escalation.objects.visible_to(world.manager_other).filter(pk=e.pk).exists()
    assert Escalation.objects.visible_to(world.manager_social).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)
    kept = snapshot(world.partnership)
    tallies.rebuild(world.partnership.pk)
    assert snapshot(world.partnership) == kept
    assert not any(k[1] == "receiving" and k[2] == str(world.social.pk) for k in kept)
    social = Agency.objects.get(pk=world.social.pk)
    assert not social.is_active and social.merged_into == world.other
    assert world.social not in partnership_agencies(world.partnership, active_only=False)
    entry = AuditEvent.objects.get(verb=Verb.AGENCIES_MERGED)
    assert entry.payload["merged_name"] == world.social.name and entry.payload["escalations"] == 1
    with pytest.raises(ValidationError, match="already been merged"):
        agency_merge(actor=world.admin, partnership=world.partnership, source=social, into=world.health)


def test_a_difference_between_the_two_refuses_the_merge(world):
    e = world.raised()  # health with social
    plan = agency_merge_plan(
        actor=world.admin, partnership=world.partnership, source=world.social, into=world.health
    )
    assert plan.between == [e.reference] and not plan.ok
    with pytest.raises(ValidationError, match="differences within one agency"):
        agency_merge(actor=world.admin, partnership=world.partnership, source=world.social, into=world.health)
    assert Escalation.objects.get(pk=e.pk).with_agency == world.social


def test_only_the_business_unit_and_not_an_agency_another_partnership_shares(world, neighbour):
    with pytest.raises(NotAllowed):
        agency_merge(
            actor=world.manager_health, partnership=world.partnership, source=world.other, into=world.social
        )
    # The health trust also works in the neighbouring partnership.
    with pytest.raises(NotAllowed, match="another partnership"):
        agency_merge(actor=world.admin, partnership=world.partnership, source=world.health, into=world.other)
    # Nor one of another partnership's agencies.
    with pytest.raises(ValidationError, match="two agencies of this partnership"):
        agency_merge(
            actor=world.admin, partnership=world.partnership, source=neighbour.social, into=world.other
        )
    assert not AuditEvent.objects.filter(verb=Verb.AGENCIES_MERGED).exists()


def test_the_page_shows_what_would_move_then_merges(client, world):
    world.at_stage_2()
    sign_in(client, world.admin)
    assert client.get("/business-unit/agencies/merge/").status_code == 200
    checked = client.post(
        "/business-unit/agencies/merge/", {"source": world.social.pk, "into": world.other.pk}
    )
    html = checked.content.decode()
    assert "Merge them" in html and checked.context["plan"].escalations == 1
    assert Agency.objects.get(pk=world.social.pk).is_active  # nothing yet
    done = client.post(
        "/business-unit/agencies/merge/",
        {"source": world.social.pk, "into": world.other.pk, "confirm": "yes"},
    )
    assert done.status_code == 302 and not Agency.objects.get(pk=world.social.pk).is_active
    same = client.post("/business-unit/agencies/merge/", {"source": world.health.pk, "into": world.health.pk})
    assert "Choose another agency to merge it into" in same.content.decode()
    sign_in(client, world.manager_health)
    assert client.get("/business-unit/agencies/merge/").status_code == 403
