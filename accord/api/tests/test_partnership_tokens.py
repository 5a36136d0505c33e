"""The business unit sees and revokes its people's API tokens on Accord's own page; another
partnership's business unit, even sharing an agency, neither sees nor revokes them."""

import pytest

from accord.api.models import ApiToken
from accord.api.services import api_token_create
from accord.audit.models import AuditEvent, Verb
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_the_business_unit_revokes_a_token_of_its_people(client, world, neighbour):
    token, _raw = api_token_create(
        actor=world.practitioner_health, user=world.practitioner_health, name="Case system"
    )
    theirs, _raw = api_token_create(
        actor=neighbour.practitioner_health, user=neighbour.practitioner_health, name="Other"
    )
    sign_in(client, world.admin)
    page = client.get("/business-unit/api-tokens/")
    shown = {t.pk for t in page.context["page"].object_list}
    assert token.pk in shown and theirs.pk not in shown
    assert client.post(f"/business-unit/api-tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/business-unit/api-tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    theirs.refresh_from_db()
    assert token.revoked_at is not None and theirs.revoked_at is None
    assert AuditEvent.objects.filter(verb=Verb.API_TOKEN_REVOKED, actor=world.admin).count() == 1
    sign_in(client, neighbour.admin)
    assert client.post(f"/business-unit/api-tokens/{token.pk}/revoke/").status_code == 404
    sign_in(client, world.manager_health)
    assert client.get("/business-unit/api-tokens/").status_code == 403
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_tokens_page_costs_the_same_queries_however_many_tokens(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.admin)
    client.get("/business-unit/api-tokens/")
    for person in (world.practitioner_health, world.manager_social, world.senior_health):
        for n in range(10):
            api_token_create(actor=person, user=person, name=f"System {n}")
    with django_assert_max_num_queries(12):
        assert client.get("/business-unit/api-tokens/").status_code == 200
