"""The business unit sees and revokes its people's API tokens on Accord's own page; another
partnership's business unit, even sharing an agency, neither sees nor revokes them."""

import pytest

from accord.api.models import ApiToken
from accord.api.services import api_token_create, api_token_revoke
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


def test_a_shared_persons_token_is_no_one_business_units_to_see_or_revoke(client, world, neighbour):
    """A token acts as its person in every partnership they work in: neither business unit
    lists or revokes that of someone who works in both (each is told how many there are); the
    person and the deployment's administrators revoke it, audited in both trails."""
    from accord.core.errors import NotAllowed
    from accord.partnership.models import Role, RoleAssignment
    from accord.testing.factories import UserFactory

    shared = world.practitioner_health
    RoleAssignment.objects.create(user=shared, partnership=neighbour.partnership, role=Role.PRACTITIONER)
    token, _raw = api_token_create(actor=shared, user=shared, name="Case system")
    own, _raw = api_token_create(actor=world.manager_social, user=world.manager_social, name="Ours")
    for unit in (world.admin, neighbour.admin):
        sign_in(client, unit)
        page = client.get("/business-unit/api-tokens/")
        assert token.pk not in {t.pk for t in page.context["page"].object_list}
        assert (
            "1 token in use belongs to someone who also works in another partnership" in page.content.decode()
        )
        assert client.post(f"/business-unit/api-tokens/{token.pk}/revoke/").status_code == 404
        with pytest.raises(NotAllowed):
            api_token_revoke(actor=unit, token=token)
        with pytest.raises(NotAllowed):
            api_token_create(actor=unit, user=shared, name="Made for them")
    token.refresh_from_db()
    assert token.revoked_at is None
    sign_in(client, world.admin)
    assert own.pk in {t.pk for t in client.get("/business-unit/api-tokens/").context["page"].object_list}
    root = UserFactory(username="deployment.admin", is_superuser=True, is_staff=True)
    api_token_revoke(actor=root, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    trails = set(
        AuditEvent.objects.filter(verb=Verb.API_TOKEN_REVOKED, actor=root).values_list(
            "partnership_id", flat=True
        )
    )
    assert trails == {world.partnership.pk, neighbour.partnership.pk}
    again, _raw = api_token_create(actor=shared, user=shared, name="Again")
    api_token_revoke(actor=shared, token=again)  # their own, always
    again.refresh_from_db()
    assert again.revoked_at is not None
