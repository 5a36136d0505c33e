"""Naming someone by work email through the API: the same service, and the same refusals, as
the pages (the professional the difference is with, and another agency's leader)."""

import json

import pytest
from django.core import mail

from accord.api.services import api_token_create
from accord.escalations.models import Guest
from accord.escalations.tests.services.test_guest_leaders import HEAD, with_probation

pytestmark = pytest.mark.django_db


def post(client, user, escalation, body):
    _, token = api_token_create(actor=None, user=user)
    return client.post(
        f"/api/v1/escalations/{escalation.pk}/guests",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_raisers_manager_names_another_agencys_senior_leader(
    client, world, django_capture_on_commit_callbacks
):
    e = with_probation(world, 3)
    body = {"agency": world.other.pk, "email": HEAD, "acts_as": "leader"}
    refused = post(client, world.practitioner_health, e, body)
    assert refused.status_code == 403 and "raiser's line manager" in refused.json()["detail"]
    wrong = post(client, world.manager_health, e, {**body, "email": "head@gmail.com"})
    assert wrong.status_code == 400 and "@justice.gov.uk" in json.dumps(wrong.json())
    with django_capture_on_commit_callbacks(execute=True):
        done = post(client, world.manager_health, e, body)
    assert done.status_code == 201 and done.json()["reference"] == e.reference
    assert Guest.objects.get(escalation=e).tier == "senior_leaders"
    assert [m for m in mail.outbox if m.to == [HEAD]]
    again = post(client, world.admin, e, {**body, "email": "other@justice.gov.uk"})
    assert again.status_code == 400 and "already has someone" in json.dumps(again.json())


def test_the_business_unit_names_one_without_seeing_the_escalation(client, world):
    e = with_probation(world, 3)
    done = post(client, world.admin, e, {"agency": world.other.pk, "email": HEAD, "acts_as": "leader"})
    assert done.status_code == 204 and not done.content  # rule 7: nothing of it comes back
    assert Guest.objects.get(escalation=e).named_by == world.admin


def test_a_stranger_finds_nothing_and_bad_input_is_never_a_500(client, world, neighbour):
    e = with_probation(world, 3)
    for user in (world.practitioner_social, neighbour.admin, neighbour.manager_health):
        assert (
            post(client, user, e, {"agency": world.other.pk, "email": HEAD, "acts_as": "leader"}).status_code
            == 404
        )
    for body in (
        {"agency": world.other.pk, "email": HEAD, "acts_as": "chief"},
        {"agency": 0, "email": HEAD},
        {"agency": world.other.pk, "email": ""},
        {"agency": world.other.pk, "email": "x" * 300},
        {"agency": 2**62, "email": HEAD, "acts_as": "leader"},
        {"agency": world.other.pk, "email": "a\x00b@justice.gov.uk", "acts_as": "leader"},
    ):
        assert post(client, world.manager_health, e, body).status_code in (400, 422)
    assert not Guest.objects.filter(escalation=e).exists()
