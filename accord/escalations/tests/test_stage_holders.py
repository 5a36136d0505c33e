"""Who holds the current stage (rule 2), on the escalation's page and in the API: the stage's
workers agency by agency, named where the viewer may see names, and what each may do; read
in a number of queries that does not grow with the agencies or the people."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from accord.api.tests.test_api import Api
from accord.escalations import services
from accord.escalations.policies import STAGE_ACTIONS, allowed_actions
from accord.partnership.models import Role
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_senior_leaders_stage_lists_each_agencys_senior_leaders_and_what_they_may_do(client, world):
    e = world.at_stage_3()  # Testshire's default ladder: stage 3 is the senior leaders'
    sign_in(client, world.manager_health)
    page = client.get(f"/escalations/{e.pk}/").content.decode()
    assert "Who holds stage 3" in page
    for senior in (world.senior_health, world.senior_social):
        assert escape(senior.get_full_name()) in page
    assert "record the outcome" in page
    # The manager viewing is not among them, and is offered none of the stage's actions.
    holders = Api(client, world.manager_health).get(f"/escalations/{e.pk}").json()["current_stage_holders"]
    assert holders["stage"] == 3
    groups = {g["agency"]: g for g in holders["groups"]}
    assert set(groups) == {world.health.name, world.social.name}
    assert [p["username"] for p in groups[world.health.name]["people"]] == [world.senior_health.username]
    # (Running, below the top: everything but resuming.)
    assert groups[world.social.name]["may"] == [a for a in STAGE_ACTIONS if a != "resume"]
    # What the list says each may do is what the policies let them do.
    for senior in (world.senior_health, world.senior_social):
        fresh = type(senior).objects.get(pk=senior.pk)
        assert set(STAGE_ACTIONS) - {"resume"} <= allowed_actions(fresh, e)
    fresh = type(world.manager_health).objects.get(pk=world.manager_health.pk)
    assert not (set(STAGE_ACTIONS) & allowed_actions(fresh, e))


def test_at_stage_1_the_named_practitioners_hold_it_and_a_closed_escalation_lists_nobody(client, world):
    e = world.consulted(world.raised())
    holders = (
        Api(client, world.practitioner_social).get(f"/escalations/{e.pk}").json()["current_stage_holders"]
    )
    people = {g["agency"]: [p["username"] for p in g["people"]] for g in holders["groups"]}
    assert people == {
        world.health.name: [world.practitioner_health.username],
        world.social.name: [world.practitioner_social.username],
    }
    assert all(g["may"] == ["escalate"] for g in holders["groups"]) and holders["senior_tiers_too"]
    services.escalation_withdraw(actor=world.practitioner_health, escalation=e, reason="Settled by phone.")
    assert (
        Api(client, world.practitioner_health).get(f"/escalations/{e.pk}").json()["current_stage_holders"]
        is None
    )


def test_a_facilitator_sees_who_holds_it_by_agency_and_role_but_not_their_names(client, world):
    e = world.formal()  # the top of the ladder: nobody escalates from it
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action="restorative_facilitator",
        note="Appointed.",
        facilitator_username=world.facilitator.username,
    )
    holders = Api(client, world.facilitator).get(f"/escalations/{e.pk}").json()["current_stage_holders"]
    assert holders["groups"] and all(g["people"] is None for g in holders["groups"])
    assert all("escalate" not in g["may"] for g in holders["groups"])
    sign_in(client, world.facilitator)
    assert world.senior_social.get_full_name() not in client.get(f"/escalations/{e.pk}/").content.decode()


def _queries(client, e) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/escalations/{e.pk}/").status_code == 200
    return len(ctx)


def test_the_page_reads_the_holders_in_the_same_number_of_queries_however_many(client, world):
    e = world.at_stage_3()
    sign_in(client, world.senior_health)
    _queries(client, e)  # (the first read of the ladder and the session)
    before = _queries(client, e)
    for n in range(6):
        UserFactory(
            username=f"extra.senior.{n}", agency=world.social, roles=[(world.partnership, Role.SENIOR_LEADER)]
        )
    services.escalation_add_party(
        actor=world.senior_health, escalation=e, agency_id=world.other.pk, reason="Probation hold the plan."
    )
    e.refresh_from_db()
    _queries(client, e)
    assert _queries(client, e) == before
