"""Request-wide concerns that know nothing of Accord's domain: log-in required (keeping what
was typed when a session expired), a declared body too large, session renewal, security
headers. The current partnership is the web shell's (``accord.web.middleware``)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from accord.core.crypto import decrypt_text, encrypt_text

PENDING_POST_KEY = "accord_pending_post"
# The pages where what was typed is kept over an idle sign-out: the raising pages (a settled
# difference's two among them) and every action's page of an escalation (the forms where
# people write at length).
_KEEP_ON_EXPIRY = re.compile(r"^/escalations/(raise/\d+/[a-z-]+(/[a-z-]+)?|\d+/[a-z-]+(/\d+/[a-z-]+)?)/$")


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a logged-in user except those marked ``login_not_required``.

    If a session expires while someone is part-way through raising an escalation or
    writing on one of its action pages, what they had typed on that page is kept until
    they sign in again, and the page shows it back to them (see ``pending_post``).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None  # the API authenticates every request with a bearer token
        if request.path.startswith(("/oidc/", "/sign-in/")):
            return None  # single sign-on: the provider's redirects come back before log-in
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(self, request: HttpRequest, view_func):
        who = last_signed_in(request)
        if request.method == "POST" and _KEEP_ON_EXPIRY.match(request.path) and who is not None:
            data = {k: v for k, v in request.POST.lists() if k != "csrfmiddlewaretoken"}
            # Encrypted: what was typed may name a child, and sessions are stored in the database.
            # Kept for the person who was signed in on this browser, and shown to them alone.
            request.session[PENDING_POST_KEY] = {
                "path": request.path,
                "who": who,
                "data": encrypt_text(json.dumps(data)),
            }
        return super().handle_no_permission(request, view_func)


LAST_SIGNED_IN_COOKIE = "accord_last"
LAST_SIGNED_IN_SALT = "accord.last-signed-in"
LAST_SIGNED_IN_SECONDS = 24 * 60 * 60


def last_signed_in(request: HttpRequest) -> int | None:
    """Who was last signed in on this browser (a signed cookie, a day at most), if anyone."""
    signer = signing.get_cookie_signer(salt=LAST_SIGNED_IN_SALT)
    try:
        return int(
            signer.unsign(request.COOKIES.get(LAST_SIGNED_IN_COOKIE, ""), max_age=LAST_SIGNED_IN_SECONDS)
        )
    except (signing.BadSignature, ValueError):
        return None


def pending_post(request: HttpRequest) -> dict | None:
    """What the user typed on this page before their session expired, if anything (once):
    only for the person who typed it (someone else signing in on the browser sees nothing)."""
    pending = request.session.get(PENDING_POST_KEY)
    if pending and pending.get("path") == request.path:
        del request.session[PENDING_POST_KEY]
        if pending.get("who") != getattr(request.user, "pk", None):
            return None
        try:
            return json.loads(decrypt_text(pending.get("data") or "{}"))
        except (ValueError, ImproperlyConfigured):
            return {}
    return None


class DeclaredLengthMiddleware:
    """A page's request declaring a body larger than any page takes (an evidence document
    and its form) is refused from that declaration, before a byte of it is read (the API
    answers its own, ``accord.api.middleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.EVIDENCE_MAX_BYTES + 64 * 1024
            if length > limit:
                from django.shortcuts import render

                context = {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
                return render(request, "413.html", context, status=413)
        return self.get_response(request)


RENEWED_KEY = "accord_renewed_at"


class SessionRenewalMiddleware:
    """Renews a signed-in session's idle limit, at most once a ``SESSION_RENEW_SECONDS``.

    Saving the session on every request (Django's ``SESSION_SAVE_EVERY_REQUEST``) costs a
    database write and commit per page; renewing once a minute keeps the idle limit to
    within a minute of ``SESSION_COOKIE_AGE``, and never longer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in:
            now = int(time.time())
            if now - request.session.get(RENEWED_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                request.session[RENEWED_KEY] = now  # modified: saved with a new expiry
        response = self.get_response(request)
        if (
            signed_in
            and getattr(request.user, "is_authenticated", False)
            and last_signed_in(request) != user.pk
        ):
            # Whose typing an idle sign-out keeps (``pending_post``): this person's alone.
            response.set_cookie(
                LAST_SIGNED_IN_COOKIE,
                signing.get_cookie_signer(salt=LAST_SIGNED_IN_SALT).sign(str(user.pk)),
                max_age=LAST_SIGNED_IN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def renew_on_sign_in(sender, request, user, **kwargs) -> None:
    """Signing in starts the idle limit (the session is saved then anyway)."""
    if request is not None and hasattr(request, "session"):
        request.session[RENEWED_KEY] = int(time.time())


class SecurityHeadersMiddleware:
    """A strict Content Security Policy (no inline script or style) and related headers."""

    POLICY = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'self'",
        ]
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if not request.path.startswith("/static/"):
            response.setdefault("Cache-Control", "no-store")
        return response
