"""Each agency's own sign-in: the OpenID Connect providers the business units add
(``SignInProvider``, kept in the database), each through mozilla-django-oidc's code flow
with the provider's own endpoints, client and keys.

- ``/sign-in/<provider>/`` starts it (state, nonce and PKCE kept in the session, with which
  provider they are for); ``/sign-in/callback/`` finishes it.
- The ID token must be signed by the provider's keys, for this client, from an issuer the
  provider accepts (mozilla-django-oidc checks neither audience nor issuer; Accord does).
- The person is matched by verified email among the provider's agency's own active people;
  someone of another agency with that email is not signed in through it. A person not
  known is added, with no role, only where the business unit said so, and shown to it to
  approve. Signing in, failing and being added are audited.

The single provider from the environment (``accord.web.oidc``) still works beside these.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.partnership.models import SignInProvider, User
from accord.partnership.selectors import partnership_agencies

SESSION_KEY = "accord_sign_in"  # state -> provider id, for the callback
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256")
DISCOVERY_TIMEOUT = 10

# What the flow asks of mozilla-django-oidc's settings for these providers.
FLOW_SETTINGS: dict[str, Any] = {
    "OIDC_AUTHENTICATION_CALLBACK_URL": "agency_sign_in_callback",
    "OIDC_RP_SCOPES": "openid email profile",
    "OIDC_USE_PKCE": True,
    "OIDC_USE_NONCE": True,
    "LOGIN_REDIRECT_URL_FAILURE": "/login/?sso=failed",
    "OIDC_TIMEOUT": DISCOVERY_TIMEOUT,
}


def flow_setting(attr: str, *default):
    if attr in FLOW_SETTINGS:
        return FLOW_SETTINGS[attr]
    return import_from_settings(attr, *default)


def discover(provider: SignInProvider) -> None:
    """Fill the provider's endpoints from its issuer's discovery document (the issuer it
    names must be the one given). Raises ``ValidationError`` in plain words."""
    if not provider.issuer.startswith("https://") and not getattr(
        settings, "ACCORD_SIGN_IN_ALLOW_HTTP", False
    ):
        # Tokens and secrets go to it: never in the clear (and no reaching into plain-HTTP
        # services inside the hosting network by naming one as an issuer).
        raise ValidationError({"issuer": _("Enter the issuer's https:// address")})
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=DISCOVERY_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ValidationError(
            {"issuer": _("Accord could not read the provider's configuration at %(url)s") % {"url": url}}
        ) from exc
    if str(document.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
        raise ValidationError(
            {
                "issuer": _("The provider at that address names another issuer: %(other)s")
                % {"other": document.get("issuer")}
            }
        )
    needed = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    missing = [name for name in needed if not document.get(name)]
    if missing:
        raise ValidationError(
            {"issuer": _("The provider's configuration lacks %(names)s") % {"names": ", ".join(missing)}}
        )
    for name in needed:
        if not str(document[name]).startswith("https://") and not getattr(
            settings, "ACCORD_SIGN_IN_ALLOW_HTTP", False
        ):
            raise ValidationError(
                {"issuer": _("The provider's configuration names an address that is not https://")}
            )
        setattr(provider, name, document[name])
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    provider.signing_algorithm = next((a for a in ALGORITHMS if a in offered), "")
    if not provider.signing_algorithm:
        raise ValidationError(
            {"issuer": _("The provider signs its tokens in no way Accord accepts (RS256 or ES256).")}
        )


def providers_for_sign_in():
    return SignInProvider.objects.filter(is_active=True).exclude(token_endpoint="").select_related("agency")


@method_decorator(never_cache, name="dispatch")
class StartView(OIDCAuthenticationRequestView):
    """Off to the chosen provider, remembering which it was for the callback."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)  # (not the settings' provider)

    @staticmethod
    def get_settings(attr, *args):
        return flow_setting(attr, *args)

    def get(self, request, pk: int):
        provider = get_object_or_404(providers_for_sign_in(), pk=pk)
        self.OIDC_OP_AUTH_ENDPOINT = provider.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = provider.client_id
        response = super().get(request)
        state = parse_qs(urlparse(response["Location"]).query)["state"][0]
        started = request.session.get(SESSION_KEY, {})
        started[state] = provider.pk
        request.session[SESSION_KEY] = dict(list(started.items())[-10:])  # a few tabs at most
        return response


class CallbackView(OIDCAuthenticationCallbackView):
    @staticmethod
    def get_settings(attr, *args):
        return flow_setting(attr, *args)


class AgencyOIDCBackend(OIDCAuthenticationBackend):
    """Authenticates a callback of a sign-in started through one of the agencies' providers
    (and nothing else: without one, the other backends decide)."""

    def __init__(self, *args, **kwargs):
        self.UserModel = User
        self.provider: SignInProvider | None = None

    def get_settings(self, attr, *args):  # (an instance's: it reads the provider)
        if attr == "OIDC_CREATE_USER":
            return bool(self.provider and self.provider.creates_people)
        return flow_setting(attr, *args)

    def authenticate(self, request, **kwargs):
        if request is None or "code" not in request.GET:
            return None
        started = request.session.get(SESSION_KEY) or {}
        pk = started.pop(request.GET.get("state", ""), None)
        if pk is None:
            return None
        request.session[SESSION_KEY] = started
        request.accord_agency_sign_in = True  # this callback is ours alone, whatever becomes of it
        self.provider = providers_for_sign_in().filter(pk=pk).first()
        if self.provider is None:
            return None
        self.OIDC_OP_TOKEN_ENDPOINT = self.provider.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = self.provider.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = self.provider.jwks_uri
        self.OIDC_RP_CLIENT_ID = self.provider.client_id
        self.OIDC_RP_CLIENT_SECRET = self.provider.client_secret
        self.OIDC_RP_SIGN_ALGO = self.provider.signing_algorithm
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            user = super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException) as exc:
            self._failed(request, str(exc))
            return None
        if user is None:
            self._failed(request, "no one of the agency has that verified email")
        return user

    def _failed(self, request, why: str) -> None:
        audit_record(
            actor=None,
            verb=Verb.LOGIN_FAILED,
            payload={"sign_in": self.provider.name if self.provider else "", "why": why[:200]},
            request=request,
            actor_label="anonymous",
        )

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if kwargs.get("nonce") is not None:  # the ID token (not a signed userinfo answer)
            issuer = str(payload.get("iss", "")).rstrip("/")
            if issuer not in self.provider.issuers():
                raise SuspiciousOperation(f"issuer {issuer!r} is not accepted")
            audience = payload.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if self.provider.client_id not in audiences:
                raise SuspiciousOperation("the token is for another client")
        return payload

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def filter_users_by_claims(self, claims: dict):
        email = (claims.get("email") or "").strip()
        if not email or self.provider is None:
            return User.objects.none()
        return User.objects.filter(email__iexact=email, agency_id=self.provider.agency_id, is_active=True)

    def create_user(self, claims: dict):
        """Someone of the agency not yet in Accord: added with no role, to be approved."""
        email = claims["email"].strip().lower()
        if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
            # Known in another agency, or inactive: not signed in, and not added twice.
            raise SuspiciousOperation("that email belongs to someone else in Accord")
        try:
            with transaction.atomic():
                person = User(
                    username=email,
                    email=email,
                    first_name=(claims.get("given_name") or "")[:150],
                    last_name=(claims.get("family_name") or "")[:150],
                    agency_id=self.provider.agency_id,
                    added_by_sign_in_at=clock.now(),
                )
                person.set_unusable_password()
                person.save()
                audit_record(
                    actor=None,
                    verb=Verb.SIGNED_IN_ADDED,
                    target=person,
                    payload={"sign_in": self.provider.name, "agency": self.provider.agency.name},
                    actor_label="single sign-on",
                )
        except IntegrityError as exc:  # added by a second callback at the same moment
            raise SuspiciousOperation("added meanwhile") from exc
        return person

    def get_user(self, user_id):
        return User.objects.select_related("agency").filter(pk=user_id).first()


def awaiting_approval(partnership) -> list[User]:
    """People of the partnership's agencies added by signing in who have no role yet."""
    return list(
        User.objects.filter(
            added_by_sign_in_at__isnull=False,
            is_active=True,
            agency__in=partnership_agencies(partnership),
            role_assignments__isnull=True,
        )
        .select_related("agency")
        .order_by("added_by_sign_in_at")[:100]
    )


def sign_in_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ENABLED", False)) or providers_for_sign_in().exists()
