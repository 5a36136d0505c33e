"""Each agency's own sign-in, against a real OpenID Connect provider the tests start
(panva's oidc-provider): the business unit adds it (its endpoints read from the issuer's
discovery document, the secret kept encrypted and never shown); a person of that agency
signs in by their verified email; someone of another agency with that email does not; a
person not yet known is added with no role only where the business unit said so, and waits
for its approval; a token from an issuer not accepted, or for another client, is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import SuspiciousOperation, ValidationError

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotAllowed
from accord.partnership.models import Role, SignInProvider, User
from accord.partnership.services.sign_in import (
    ProviderDetails,
    discover,
    sign_in_provider_confirm,
    sign_in_provider_save,
)
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory, World
from accord.testing.oidc import local_provider, sign_in_at_provider
from accord.web.sign_in import AgencyOIDCBackend

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/sign-in/callback/"
CLIENT = {"client_id": "accord-health", "client_secret": "health-secret", "redirect_uris": [CALLBACK]}


@pytest.fixture(scope="module")
def issuer():
    with local_provider([CLIENT]) as url:
        yield url


@pytest.fixture
def provider(client, world, issuer) -> SignInProvider:
    """Added by the business unit on its page, as it would be."""
    sign_in(client, world.admin)
    added = client.post(
        "/business-unit/sign-in/",
        {
            "agency": world.health.pk,
            "name": "Health staff account",
            "issuer": issuer,
            "client_id": CLIENT["client_id"],
            "client_secret": CLIENT["client_secret"],
            "accepted_issuers": "",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    client.logout()
    return SignInProvider.objects.get()


def through(client, provider, email: str):
    """Start on Accord's sign-in page's button, sign in at the provider, come back."""
    started = client.get(f"/sign-in/{provider.pk}/")
    assert started.status_code == 302 and started["Location"].startswith(provider.authorization_endpoint)
    back = sign_in_at_provider(started["Location"], email)
    return client.get(back.removeprefix("http://testserver"))


def test_the_business_unit_adds_a_provider_read_from_its_discovery_document(client, world, provider, issuer):
    assert provider.token_endpoint.startswith(issuer) and provider.jwks_uri.startswith(issuer)
    assert provider.client_secret == CLIENT["client_secret"]  # kept (encrypted in the database)
    entry = AuditEvent.objects.get(verb=Verb.SIGN_IN_PROVIDER_ADDED, target_id=str(provider.pk))
    assert entry.partnership_id == world.partnership.pk and provider.partnership == world.partnership
    assert "health-secret" not in str(entry.payload)
    sign_in(client, world.admin)
    page = client.get("/business-unit/sign-in/").content.decode()
    assert "Health staff account" in page and "health-secret" not in page and CALLBACK in page
    # Saved again with the secret left empty: the one saved is kept.
    edited = client.post(
        f"/business-unit/sign-in/{provider.pk}/",
        {
            "agency": world.health.pk,
            "name": "Health account",
            "issuer": issuer,
            "client_id": CLIENT["client_id"],
            "is_active": "on",
        },
    )
    assert edited.status_code == 302
    assert SignInProvider.objects.get().client_secret == CLIENT["client_secret"]
    # An issuer Accord cannot read is said plainly, and nothing is kept.
    refused = client.post(
        "/business-unit/sign-in/",
        {
            "agency": world.social.pk,
            "name": "Social",
            "issuer": "http://127.0.0.1:9/nowhere",
            "client_id": "x",
            "client_secret": "y",
        },
    )
    assert "could not read the provider" in refused.content.decode()
    assert SignInProvider.objects.count() == 1
    sign_in(client, world.manager_health)
    assert client.get("/business-unit/sign-in/").status_code == 403


def test_a_person_of_the_agency_signs_in_by_their_verified_email(client, world, provider):
    html = client.get("/login/").content.decode()
    assert "Sign in with Health staff account" in html
    world.practitioner_health.email = "Sam.Health@Health.example"
    world.practitioner_health.save()
    done = through(client, provider, "sam.health@health.example")
    assert done.status_code == 302 and not done["Location"].startswith("/login/")
    assert client.session["_auth_user_id"] == str(world.practitioner_health.pk)
    assert AuditEvent.objects.filter(verb=Verb.LOGIN, actor=world.practitioner_health).exists()


def test_someone_of_another_agency_with_that_email_is_not_signed_in_through_it(client, world, provider):
    world.practitioner_social.email = "pat.social@social.example"
    world.practitioner_social.save()
    done = through(client, provider, "pat.social@social.example")
    assert done["Location"] == "/login/?sso=failed" and "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED, payload__sign_in="Health staff account").exists()
    assert not User.objects.filter(email="pat.social@social.example", agency=world.health).exists()


def test_a_person_not_yet_known_is_added_with_no_role_only_where_the_business_unit_said_so(
    client, world, provider
):
    refused = through(client, provider, "new.nurse@health.example")
    assert refused["Location"] == "/login/?sso=failed"
    assert not User.objects.filter(email="new.nurse@health.example").exists()
    SignInProvider.objects.filter(pk=provider.pk).update(creates_people=True)
    done = through(client, provider, "new.nurse@health.example")
    assert done.status_code == 302 and done["Location"] != "/login/?sso=failed"
    person = User.objects.get(email="new.nurse@health.example")
    assert (
        person.agency == world.health and person.added_by_sign_in_at and not person.role_assignments.exists()
    )
    assert not person.has_usable_password()
    assert "business unit sees that you are waiting" in client.get("/").content.decode()
    assert AuditEvent.objects.filter(verb=Verb.SIGNED_IN_ADDED, target_id=str(person.pk)).exists()
    client.logout()
    sign_in(client, world.admin)
    waiting = client.get("/business-unit/sign-in/").content.decode()
    assert "new.nurse@health.example" in waiting and "Give a role" in waiting


def test_a_token_from_an_issuer_not_accepted_is_refused(client, world, provider):
    SignInProvider.objects.filter(pk=provider.pk).update(
        issuer="https://login.example.invalid/other-tenant/v2.0"
    )
    done = through(client, provider, world.practitioner_health.email)
    assert done["Location"] == "/login/?sso=failed" and "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED)
    assert any("not accepted" in e.payload.get("why", "") for e in failures)


def test_a_token_for_another_client_is_refused(world, provider, monkeypatch):
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    backend = AgencyOIDCBackend()
    backend.provider = provider
    monkeypatch.setattr(
        OIDCAuthenticationBackend,
        "verify_token",
        lambda self, token, **kw: {"iss": provider.issuer, "aud": "someone-else"},
    )
    with pytest.raises(SuspiciousOperation, match="another client"):
        backend.verify_token("token", nonce="n")
    monkeypatch.setattr(
        OIDCAuthenticationBackend,
        "verify_token",
        lambda self, token, **kw: {"iss": provider.issuer, "aud": [CLIENT["client_id"], "other"]},
    )
    assert backend.verify_token("token", nonce="n")["aud"][0] == CLIENT["client_id"]


def test_an_issuer_not_on_https_is_refused_outside_the_tests(client, world, settings):
    settings.ACCORD_SIGN_IN_ALLOW_HTTP = False
    sign_in(client, world.admin)
    refused = client.post(
        "/business-unit/sign-in/",
        {
            "agency": world.health.pk,
            "name": "Health",
            "issuer": "http://10.0.0.5/",
            "client_id": "x",
            "client_secret": "y",
        },
    )
    assert "Enter the issuer" in refused.content.decode() and not SignInProvider.objects.exists()


def test_the_same_provider_twice_is_said_plainly(client, world, provider, issuer):
    sign_in(client, world.admin)
    again = client.post(
        "/business-unit/sign-in/",
        {
            "agency": world.health.pk,
            "name": "Again",
            "issuer": issuer,
            "client_id": CLIENT["client_id"],
            "client_secret": "x",
        },
    )
    assert again.status_code == 200
    assert "Accord already has a provider with this issuer and client ID" in again.content.decode()
    assert SignInProvider.objects.count() == 1


# --------------------------------------------------------------------------- what partnerships share


def test_a_provider_one_partnership_keeps_signs_in_nobody_who_works_in_another(client, world, provider):
    """The provider was Devon-like ``world``'s own; then a neighbouring partnership came to keep
    the same trust. Its people, and anyone working in both, are not signed in through it:
    only a partnership's own people are, and the neighbour's trail says each attempt failed."""
    neighbour = World(name="Neighbourton", prefix="NBR", shares_health_with=world)
    theirs = neighbour.practitioner_health  # the shared trust, the neighbour's roles only
    refused = through(client, provider, theirs.email)
    assert refused["Location"] == "/login/?sso=failed" and "_auth_user_id" not in client.session
    both = UserFactory(
        username="both.places",
        email="both.places@health.example",
        agency=world.health,
        roles=[(world.partnership, Role.PRACTITIONER), (neighbour.partnership, Role.PRACTITIONER)],
    )
    assert through(client, provider, both.email)["Location"] == "/login/?sso=failed"
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED, payload__sign_in=provider.name)
    assert failures.count() == 2 and all("not trusted" in e.payload["why"] for e in failures)
    # Its own people still sign in through it.
    done = through(client, provider, world.practitioner_health.email)
    assert client.session["_auth_user_id"] == str(world.practitioner_health.pk), done
    # And it no longer adds anyone: a newcomer would belong to both partnerships.
    SignInProvider.objects.filter(pk=provider.pk).update(creates_people=True)
    client.logout()
    assert through(client, provider, "new.nurse@health.example")["Location"] == "/login/?sso=failed"
    assert not User.objects.filter(email="new.nurse@health.example").exists()


def test_a_business_unit_cannot_set_or_change_the_sign_in_of_an_agency_another_keeps(
    client, world, neighbour, issuer
):
    """The trust is shared: only the deployment's administrators add its provider, and each
    attempt by one business unit is in both partnerships' trails."""
    sign_in(client, neighbour.admin)
    page = client.post(
        "/business-unit/sign-in/",
        {
            "agency": world.health.pk,
            "name": "Trust account",
            "issuer": issuer,
            "client_id": CLIENT["client_id"],
            "client_secret": "x",
        },
    )
    assert page.status_code == 200 and not SignInProvider.objects.exists()
    details = ProviderDetails(
        agency=world.health,
        name="Trust",
        issuer=issuer,
        client_id=CLIENT["client_id"],
        client_secret=CLIENT["client_secret"],
    )
    with pytest.raises(NotAllowed, match="deployment's administrators"):
        sign_in_provider_save(actor=neighbour.admin, partnership=neighbour.partnership, details=details)
    refusals = AuditEvent.objects.filter(verb=Verb.SHARED_CHANGE_REFUSED, target_id=str(world.health.pk))
    assert {e.partnership_id for e in refusals} == {world.partnership.pk, neighbour.partnership.pk}
    # The deployment's administrators add it: every partnership keeping the trust sees it in
    # its own trail, and it signs in people of both.
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True)
    provider = sign_in_provider_save(actor=root, partnership=None, details=details)
    assert provider.partnership is None
    added = AuditEvent.objects.filter(verb=Verb.SIGN_IN_PROVIDER_ADDED, target_id=str(provider.pk))
    assert {e.partnership_id for e in added} == {world.partnership.pk, neighbour.partnership.pk}
    client.logout()
    through(client, provider, neighbour.practitioner_health.email)
    assert client.session["_auth_user_id"] == str(neighbour.practitioner_health.pk)
    # Neither business unit may change it, on the page or through the service.
    sign_in(client, world.admin)
    assert client.get(f"/business-unit/sign-in/{provider.pk}/").status_code == 404
    assert "Kept by the deployment" in client.get("/business-unit/sign-in/").content.decode()
    with pytest.raises(NotAllowed):
        sign_in_provider_save(
            actor=world.admin, partnership=world.partnership, details=details, provider=provider
        )


def test_a_provider_set_on_a_shared_agency_before_ownership_waits_for_the_administrators(
    world, neighbour, issuer
):
    """What the migration does to a provider one business unit had set on a shared agency: it
    is off, and waits; the deployment's administrators confirm it, in every trail."""
    provider = SignInProvider(
        agency=world.health,
        name="Set by one",
        issuer=issuer,
        client_id=CLIENT["client_id"],
        client_secret="s",
    )
    discover(provider)
    provider.is_active, provider.awaiting_confirmation = False, True
    provider.save()
    from accord.web.sign_in import providers_for_sign_in

    assert not providers_for_sign_in().filter(pk=provider.pk).exists()
    with pytest.raises(NotAllowed):
        sign_in_provider_confirm(actor=world.admin, provider=provider)
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True)
    sign_in_provider_confirm(actor=root, provider=provider)
    assert providers_for_sign_in().filter(pk=provider.pk).exists()
    confirmed = AuditEvent.objects.filter(verb=Verb.SIGN_IN_PROVIDER_CONFIRMED)
    assert {e.partnership_id for e in confirmed} == {world.partnership.pk, neighbour.partnership.pk}


def test_the_migration_holds_providers_of_shared_agencies_for_confirmation(world, neighbour, issuer):
    from importlib import import_module

    from django.apps import apps

    own = SignInProvider.objects.create(
        agency=world.social, name="Own", issuer=issuer, client_id="a", client_secret="s"
    )
    shared = SignInProvider.objects.create(
        agency=world.health, name="Shared", issuer=issuer, client_id="b", client_secret="s"
    )
    migration = import_module("accord.partnership.migrations.0003_sign_in_provider_owner")
    migration.own_or_hold(apps, None)
    own.refresh_from_db()
    shared.refresh_from_db()
    assert own.partnership == world.partnership and own.is_active and not own.awaiting_confirmation
    assert shared.partnership is None and not shared.is_active and shared.awaiting_confirmation


def test_a_deactivated_person_signed_in_through_their_agency_is_signed_out(client, world, provider):
    through(client, provider, world.practitioner_health.email)
    assert client.get("/").status_code == 200 and "_auth_user_id" in client.session
    User.objects.filter(pk=world.practitioner_health.pk).update(is_active=False)
    after = client.get("/escalations/")
    assert after.status_code == 302 and after["Location"].startswith("/login/")


def test_discovery_never_follows_a_redirect(world, monkeypatch):
    """A discovery document that redirects (to plain HTTP, or into the hosting network) is
    refused without following it."""
    asked = {}

    class Redirect:
        status_code = 302
        is_redirect = True
        headers = {"Location": "http://169.254.169.254/latest/meta-data/"}

    def get(url, **kwargs):
        asked.update(kwargs)
        return Redirect()

    monkeypatch.setattr("accord.partnership.services.sign_in.requests.get", get)
    provider = SignInProvider(agency=world.health, name="x", issuer="https://idp.example/", client_id="c")
    with pytest.raises(ValidationError, match="sends Accord elsewhere"):
        discover(provider)
    assert asked["allow_redirects"] is False


def test_discovery_never_reaches_into_the_hosting_network(world, settings):
    settings.ACCORD_SIGN_IN_ALLOW_HTTP = False
    for issuer in ("https://127.0.0.1/", "https://10.1.2.3/tenant", "https://169.254.169.254/"):
        provider = SignInProvider(agency=world.health, name="x", issuer=issuer, client_id="c")
        with pytest.raises(ValidationError, match="on the internet"):
            discover(provider)
