"""GET /api/v1/protocol/versions and /protocol/versions/<number>: the versions of the
partnership's protocol, read only, for its business unit."""

import copy

import pytest

from accord.api.services import api_token_create
from accord.escalations.protocol import protocol_apply
from accord.partnership.protocol import document_of

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _, token = api_token_create(actor=None, user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_business_unit_reads_each_version_and_what_it_changed(client, world):
    before = document_of(world.partnership)
    e = world.raised()
    document = copy.deepcopy(before)
    document["stages"][1]["name"] = "Managers"
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    auth = bearer(world.admin)

    listed = client.get("/api/v1/protocol/versions", **auth)
    assert listed.status_code == 200
    body = listed.json()
    assert [v["number"] for v in body] == [2, 1]
    assert body[0]["made_by"] == world.admin.get_full_name() and body[1]["made_by"] is None
    assert body[0]["changes"] == ["Stage 2 is now called Managers (was Line management)."]
    assert "document" not in body[0]

    whole = client.get("/api/v1/protocol/versions/2", **auth).json()
    assert whole["document"] == document_of(world.partnership)
    assert client.get("/api/v1/protocol/versions/1", **auth).json()["document"] == before
    for missing in ("3", str(2**40), "0", "-1"):
        assert client.get(f"/api/v1/protocol/versions/{missing}", **auth).status_code == 404, missing
    assert client.get("/api/v1/protocol/versions/x", **auth).status_code == 400
    # The escalation says which version it runs under (the raiser reads it; no protocol rights needed).
    detail = client.get(f"/api/v1/escalations/{e.pk}", **bearer(e.raised_by)).json()
    assert detail["protocol_version"] == 2


def test_another_partnerships_versions_are_not_found(client, world, neighbour):
    auth = bearer(neighbour.admin)
    assert (
        client.get(f"/api/v1/protocol/versions?partnership={world.partnership.slug}", **auth).status_code
        == 404
    )
    assert (
        client.get("/api/v1/protocol/versions/1?partnership=" + world.partnership.slug, **auth).status_code
        == 404
    )
    own = client.get("/api/v1/protocol/versions", **auth)
    assert own.status_code == 200 and [v["number"] for v in own.json()] == [1]
