"""Several agencies over the API: ``other_parties`` on raising (``with_agency`` and
``with_practitioner`` kept exactly), ``parties`` on every escalation it shows, and another
agency brought in or taken out with the same refusals as the pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.api.tests.test_api import Api, raise_body
from accord.escalations.models import Escalation

pytestmark = pytest.mark.django_db


def test_raised_with_three_agencies_every_answer_names_the_parties(client, world):
    health = Api(client, world.practitioner_health)
    body = raise_body(
        world, other_parties=[{"agency": world.other.pk, "practitioner": world.practitioner_other.username}]
    )
    created = health.post("/escalations", body)
    assert created.status_code == 201, created.content
    e = created.json()
    assert e["with_agency"]["id"] == world.social.pk
    assert e["with_practitioner"] == world.practitioner_social.username
    assert e["parties"] == [
        {
            "agency": world.health.pk,
            "agency_name": world.health.name,
            "practitioner": world.practitioner_health.username,
            "side": "raising",
        },
        {
            "agency": world.social.pk,
            "agency_name": world.social.name,
            "practitioner": world.practitioner_social.username,
            "side": "other",
        },
        {
            "agency": world.other.pk,
            "agency_name": world.other.name,
            "practitioner": world.practitioner_other.username,
            "side": "other",
        },
    ]
    # The third agency's practitioner sees it, in the list and on its own, with the parties.
    third = Api(client, world.practitioner_other)
    listed = third.get("/escalations").json()
    assert [r["id"] for r in listed["results"]] == [e["id"]]
    assert listed["results"][0]["parties"] == e["parties"]
    assert third.get(f"/escalations/{e['id']}").json()["parties"] == e["parties"]


def test_the_list_reads_the_parties_of_a_page_in_a_constant_number_of_statements(client, world):
    api = Api(client, world.practitioner_health)
    api.get("/escalations")  # the token's first use of the minute
    for n in range(2):
        world.raised(other_parties=[])
    with CaptureQueriesContext(connection) as few:
        assert api.get("/escalations").status_code == 200
    from accord.escalations.services import PartyDetails

    for n in range(4):
        world.raised(other_parties=[PartyDetails(world.other.pk)])
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/escalations").json()["results"]) == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_raising_refuses_other_parties_that_cannot_be(client, world):
    api = Api(client, world.practitioner_health)
    for others in (
        [{"agency": world.health.pk}],  # the raising agency
        [{"agency": world.social.pk}],  # the first, again
        [{"agency": world.other.pk}, {"agency": world.other.pk}],
        [{"agency": world.other.pk, "practitioner": world.practitioner_social.username}],
        [{"agency": 987654321}],
    ):
        r = api.post("/escalations", raise_body(world, other_parties=others))
        assert r.status_code == 400, others
        assert "other_parties" in r.json()["errors"], r.json()
    assert not Escalation.objects.exists()
    # Rule 1 first, whatever the other parties say.
    r = api.post(
        "/escalations", raise_body(world, immediate_danger=True, other_parties=[{"agency": world.health.pk}])
    )
    assert r.status_code == 422 and "999" in r.json()["detail"]


def test_an_agency_brought_in_and_taken_out_over_the_api(client, world):
    e = world.raised()
    manager = Api(client, world.manager_health)
    stale = manager.post(
        f"/escalations/{e.pk}/parties",
        {"agency": world.other.pk, "practitioner": None, "reason": "Probation knows the father."},
        headers={"If-Match": "999"},
    )
    assert stale.status_code == 409
    added = manager.post(
        f"/escalations/{e.pk}/parties",
        {"agency": world.other.pk, "practitioner": None, "reason": "Probation knows the father."},
    )
    assert added.status_code == 201, added.content
    assert [p["agency"] for p in added.json()["parties"]] == [
        world.health.pk,
        world.social.pk,
        world.other.pk,
    ]
    # Naming nobody there: its managers receive it, and see it at once.
    assert Api(client, world.manager_other).get(f"/escalations/{e.pk}").status_code == 200
    again = manager.post(f"/escalations/{e.pk}/parties", {"agency": world.other.pk, "reason": "Twice."})
    assert again.status_code == 400
    outsider = Api(client, world.practitioner_other)
    assert (
        outsider.post(f"/escalations/{e.pk}/parties/{world.other.pk}/remove", {"reason": "r"}).status_code
        == 404
    )
    first = manager.post(f"/escalations/{e.pk}/parties/{world.social.pk}/remove", {"reason": "r"})
    assert first.status_code == 422 and first.json()["rule"] == "first_party_stays"
    removed = manager.post(f"/escalations/{e.pk}/parties/{world.other.pk}/remove", {"reason": "In error."})
    assert removed.status_code == 200
    assert len(removed.json()["parties"]) == 2
    assert Api(client, world.manager_other).get(f"/escalations/{e.pk}").status_code == 404
    no_reason = manager.post(f"/escalations/{e.pk}/parties", {"agency": world.other.pk, "reason": ""})
    assert no_reason.status_code == 400


def test_an_agency_id_no_database_can_hold_is_refused_as_a_field_never_an_error(client, world):
    api = Api(client, world.practitioner_health)
    huge = 93329346293688086945167572992
    r = api.post("/escalations", raise_body(world, other_parties=[{"agency": huge}]))
    assert r.status_code == 400
    r = api.post("/escalations", raise_body(world, with_agency=huge))
    assert r.status_code == 400 and "with_agency" in r.json()["errors"]
    from django.core.exceptions import ValidationError

    from accord.escalations import services

    e = world.raised()
    with pytest.raises(ValidationError) as refused:
        services.escalation_add_party(actor=world.manager_health, escalation=e, agency_id=huge, reason="r")
    assert "agency" in refused.value.message_dict
    assert not Escalation.objects.exclude(pk=e.pk).exists()
