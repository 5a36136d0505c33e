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
from django.db import IntegrityError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.partnership.models import SignInProvider, User
from accord.partnership.selectors import partnership_agencies
from accord.partnership.services.sign_in import DISCOVERY_TIMEOUT, provider_trusted_by, sign_in_person_add

SESSION_KEY = "accord_sign_in"  # state -> provider id, for the callback

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


def providers_for_sign_in():
    return (
        SignInProvider.objects.filter(is_active=True, awaiting_confirmation=False)
        .exclude(token_endpoint="")
        .select_related("agency")
    )


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
        self.untrusted: User | None = None

    def get_settings(self, attr, *args):  # (an instance's: it reads the provider)
        if attr == "OIDC_CREATE_USER":
            return bool(self.provider and self.provider.creates_people and self.untrusted is None)
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
        self.untrusted = None
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
        if user is None and self.untrusted is not None:
            self._failed(
                request, "that person works where this provider is not trusted", target=self.untrusted
            )
        elif user is None:
            self._failed(request, "no one of the agency has that verified email")
        return user

    def _failed(self, request, why: str, target: User | None = None) -> None:
        audit_record(
            actor=None,
            verb=Verb.LOGIN_FAILED,
            target=target,  # their partnerships' auditors see it
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
        """The active person of the provider's agency with that email, where every partnership
        they work in trusts the provider (``provider_trusted_by``): a provider one partnership
        keeps never signs in someone who also works in another."""
        email = (claims.get("email") or "").strip()
        if not email or self.provider is None:
            return User.objects.none()
        found = list(
            User.objects.filter(email__iexact=email, agency_id=self.provider.agency_id, is_active=True)
        )
        trusted = [person.pk for person in found if provider_trusted_by(self.provider, person)]
        if found and not trusted:
            # Known, so not added either: the sign-in fails, in the trails of their partnerships.
            self.untrusted = found[0]
        return User.objects.filter(pk__in=trusted)

    def create_user(self, claims: dict):
        """Someone of the agency not yet in Accord: added with no role, to be approved (the
        people services' rules, as for anyone added)."""
        if User.objects.filter(
            Q(email__iexact=claims["email"].strip()) | Q(username__iexact=claims["email"].strip())
        ).exists():
            # Known in another agency, or inactive: not signed in, and not added twice.
            raise SuspiciousOperation("that email belongs to someone else in Accord")
        try:
            return sign_in_person_add(
                provider=self.provider,
                email=claims["email"],
                first_name=claims.get("given_name") or "",
                last_name=claims.get("family_name") or "",
            )
        except (
            ValidationError,
            NotAllowed,
            IntegrityError,
        ) as exc:  # (added meanwhile, by a second callback)
            raise SuspiciousOperation(f"not added: {exc}") from exc

    def get_user(self, user_id):
        """The signed-in person, while their account is active (a deactivated person's session
        ends at their next request, as with a password)."""
        return User.objects.select_related("agency").filter(pk=user_id, is_active=True).first()


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
