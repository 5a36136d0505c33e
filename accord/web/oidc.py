"""Optional single sign-on through a partner agency's OpenID Connect provider.

Switched on by ``OIDC_RP_CLIENT_ID`` and the provider's endpoints in the environment.
People are not created by signing in: the business unit creates them, and a
provider's user is matched to an active Accord user by email address. Roles that
need two-step verification still need Accord's own second step.
"""

from __future__ import annotations

from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class AccordOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        if getattr(request, "accord_agency_sign_in", False):
            return None  # a sign-in through an agency's own provider (``sign_in``), not this one's
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def filter_users_by_claims(self, claims: dict):
        email = (claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def get_user(self, user_id):
        """The signed-in person with their agency, in one query (as ``AccordModelBackend``)."""
        return self.UserModel.objects.select_related("agency").filter(pk=user_id).first()

    def create_user(self, claims: dict):  # pragma: no cover - guarded by OIDC_CREATE_USER = False
        return None
