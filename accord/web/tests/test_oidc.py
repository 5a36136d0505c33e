"""Optional single sign-on: the provider's user is matched to an Accord user by email."""

import pytest

from accord.web.oidc import AccordOIDCBackend

pytestmark = pytest.mark.django_db


def test_the_log_in_page_offers_the_organisations_sign_in(client):
    html = client.get("/login/").content.decode()
    assert "Sign in with Testshire ID" in html


def test_starting_single_sign_on_goes_to_the_provider(client):
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.example.invalid/authorize?")
    assert "client_id=accord-test" in response["Location"]


def test_users_are_matched_by_email_and_never_created(world):
    backend = AccordOIDCBackend()
    world.manager_health.email = "Priya.Shah@Health.example"
    world.manager_health.save()
    assert list(backend.filter_users_by_claims({"email": "priya.shah@health.example"})) == [
        world.manager_health
    ]
    assert not backend.filter_users_by_claims({"email": "stranger@elsewhere.example"}).exists()
    assert not backend.verify_claims({"sub": "x"})
    assert not backend.verify_claims({"email": "a@b.example", "email_verified": False})
    world.manager_health.is_active = False
    world.manager_health.save()
    assert not backend.filter_users_by_claims({"email": "priya.shah@health.example"}).exists()


def test_a_failed_callback_comes_back_to_the_log_in_page(client):
    response = client.get("/oidc/callback/", {"error": "access_denied"})
    assert response.status_code == 302 and response["Location"].startswith("/login/?sso=failed")
