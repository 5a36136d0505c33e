"""Resolution, withdrawal and reopening (services/closing.py): who records the outcome (rule 4), its actions and the reopening window."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.core import clock
from accord.core.errors import NotAllowed, RuleViolation
from accord.escalations import services
from accord.escalations.models import (
    Outcome,
    PdgActionKind,
    Status,
)

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def test_the_pdg_and_facilitators_can_never_record_a_resolution(world):
    e = world.formal()
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
    )
    for user in (world.pdg_member, world.pdg_chair, world.facilitator):
        with pytest.raises(NotAllowed):
            services.escalation_resolve(
                actor=user,
                escalation=e,
                outcome=Outcome.AGREED_WAY_FORWARD,
                agreed_way_forward="x",
                child_centred_outcome_achieved="yes",
            )
    e.refresh_from_db()
    assert e.status == Status.OPEN
    assert not e.resolutions.exists()


def test_a_pdg_member_who_is_also_a_manager_still_cannot_resolve(world):
    from accord.partnership.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        user=world.manager_social, partnership=world.partnership, role=Role.PDG_MEMBER
    )
    e = world.formal()
    with pytest.raises(NotAllowed):
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )


def test_parties_managers_and_leaders_resolve_with_actions(world):
    e = world.formal()
    resolution = services.escalation_resolve(
        actor=world.senior_social,
        escalation=e,
        outcome=Outcome.MULTI_AGENCY_PLAN,
        agreed_way_forward="Joint plan",
        child_centred_outcome_achieved="partly",
        learning="Meet sooner",
        actions=[
            services.ActionDetails(
                description="Joint visit", owner_agency_id=world.health.pk, due_date=dt.date(2027, 1, 8)
            )
        ],
    )
    e.refresh_from_db()
    assert e.status == Status.RESOLVED and e.closed_at is not None and e.due_date is None
    assert resolution.stage == 4
    assert e.agreed_actions.get().description == "Joint visit"


def test_a_practitioner_cannot_record_a_resolution(world):
    e = world.raised()
    with pytest.raises(NotAllowed):
        services.escalation_resolve(
            actor=world.practitioner_health,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )


def test_referred_on_needs_the_process(world):
    e = world.at_stage_2()
    with pytest.raises(ValidationError) as refused:
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=e,
            outcome=Outcome.REFERRED_ON,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )
    assert "referred_to" in refused.value.message_dict


def test_withdraw_and_reopen_within_the_window(world):
    e = world.raised()
    with pytest.raises(NotAllowed):
        services.escalation_withdraw(actor=world.practitioner_social, escalation=e, reason="not mine")
    services.escalation_withdraw(actor=world.practitioner_health, escalation=e, reason="Family moved away")
    e.refresh_from_db()
    assert e.status == Status.WITHDRAWN
    with pytest.raises(NotAllowed):
        services.escalation_record_discussion(
            actor=world.practitioner_health, escalation=e, held_on=clock.today(), note="x"
        )
    services.escalation_reopen(actor=world.manager_health, escalation=e, reason="They came back")
    e.refresh_from_db()
    assert e.status == Status.OPEN and e.due_date is not None


def test_reopening_after_the_window_is_refused(world):
    e = world.at_stage_2(at=at(2026, 1, 5))
    with clock.set_to(at(2026, 1, 6)):
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=e,
            outcome=Outcome.DECISION_UPHELD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    with clock.set_to(at(2026, 3, 1)), pytest.raises(RuleViolation) as refused:
        services.escalation_reopen(actor=world.manager_health, escalation=e, reason="late")
    assert refused.value.rule == "reopen_window"
    e.refresh_from_db()
    assert e.status == Status.RESOLVED


def test_the_reopening_window_is_in_the_policies_so_pages_and_api_offer_the_same(world, client):
    from accord.api.tests.test_api import Api
    from accord.escalations.policies import allowed_actions

    e = world.at_stage_2(at=at(2026, 1, 5))
    with clock.set_to(at(2026, 1, 6)):
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=e,
            outcome=Outcome.DECISION_UPHELD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    e.refresh_from_db()
    api = Api(client, world.manager_health)
    with clock.set_to(at(2026, 1, 10)):
        assert "reopen" in allowed_actions(world.manager_health, e)
        assert "reopen" in api.get(f"/escalations/{e.pk}").json()["allowed_actions"]
    with clock.set_to(at(2026, 3, 1)):
        assert "reopen" not in allowed_actions(world.manager_health, e)
        assert "reopen" not in api.get(f"/escalations/{e.pk}").json()["allowed_actions"]
        # Someone it would never be for is refused as before, not told of the window.
        with pytest.raises(NotAllowed):
            services.escalation_reopen(actor=world.practitioner_social, escalation=e, reason="x")


def test_after_the_window_reopening_is_not_offered_and_its_page_says_why(world, client):
    from accord.testing.auth import sign_in

    e = world.at_stage_2(at=at(2026, 1, 5))
    with clock.set_to(at(2026, 1, 6)):
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=e,
            outcome=Outcome.DECISION_UPHELD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    sign_in(client, world.manager_health)
    with clock.set_to(at(2026, 1, 10)):  # within the window: offered, with its form
        assert "Reopen the escalation" in client.get(f"/escalations/{e.pk}/").content.decode()
        assert 'name="reason"' in client.get(f"/escalations/{e.pk}/reopen/").content.decode()
    with clock.set_to(at(2026, 3, 1)):
        detail = client.get(f"/escalations/{e.pk}/").content.decode()
        assert "Reopen the escalation" not in detail and "can no longer be reopened" in detail
        page = client.get(f"/escalations/{e.pk}/reopen/").content.decode()
        assert 'name="reason"' not in page and "closed on 6 January 2026" in page
        assert "raise a new escalation" in page


def test_a_refusal_under_rule_4_says_why_on_the_page_and_in_the_api(world, client):
    """The PDG and facilitators are told that the agencies decide, not just that their
    role does not allow it; anyone else refused still gets the plain refusal."""
    import json

    from accord.api.services import api_token_create
    from accord.testing.auth import sign_in

    e = world.formal()
    why = "never decide it: the agencies"
    with pytest.raises(NotAllowed) as refused:
        services.escalation_resolve(
            actor=world.pdg_chair,
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )
    assert why in str(refused.value)

    sign_in(client, world.pdg_chair)
    page = client.get(f"/escalations/{e.pk}/resolve/")
    assert page.status_code == 403 and why in page.content.decode()
    client.logout()

    _, token = api_token_create(actor=None, user=world.pdg_member)
    answer = client.post(
        f"/api/v1/escalations/{e.pk}/resolve",
        json.dumps(
            {
                "outcome": "agreed_way_forward",
                "agreed_way_forward": "x",
                "child_centred_outcome_achieved": "yes",
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 403 and why in answer.json()["detail"]

    # A practitioner who is a party, but does not hold the stage, is told who does (rule 2).
    sign_in(client, world.practitioner_health)
    plain = client.get(f"/escalations/{e.pk}/resolve/").content.decode()
    assert why not in plain and "held by the senior leaders of the agencies in the difference" in plain
