"""A guest's session: small, separate from a signed-in person's (it is not a Django log-in).

A signed cookie holds the guest's number and a secret whose keyed hash the guest's record
keeps (``accord.escalations.services.guests``): it lasts while it is used at least every
``SESSION_IDLE_MINUTES`` and while the guest's access lasts, and ends at once when their
access does. While it is held by someone not signed in, every page but the guest's own
answers "not found": a guest sees their one escalation and nothing else of Accord.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse

from accord.escalations.models import Guest
from accord.escalations.services.guests import guest_from_session

COOKIE = "accord_guest"
SALT = "accord.guest-session"
# What a guest may open beside their own pages: the page assets, the public statements,
# and the sign-in page (someone who has an account signs in as usual). The API is left to
# answer for itself: it takes only a bearer token, so a guest's session is nothing to it (401).
GUEST_MAY_OPEN = (
    "/guest/",
    "/language/",
    "/static/",
    "/accessibility/",
    "/privacy/",
    "/login/",
    "/healthz",
    "/readyz",
    "/api/",
)


def _cookie(request: HttpRequest) -> tuple[int, str] | None:
    try:
        value = request.get_signed_cookie(COOKIE, default=None, salt=SALT)
    except signing.BadSignature:
        return None
    if not value or ":" not in value:
        return None
    number, _sep, secret = value.partition(":")
    return (int(number), secret) if number.isdigit() and len(number) < 19 else None


def current_guest(request: HttpRequest) -> Guest | None:
    """The guest whose session this request carries, while it lasts (read once a request)."""
    if not hasattr(request, "_accord_guest"):
        held = _cookie(request)
        request._accord_guest = guest_from_session(*held) if held else None
    return request._accord_guest


def start(response: HttpResponse, guest: Guest, secret: str) -> None:
    response.set_signed_cookie(
        COOKIE,
        f"{guest.pk}:{secret}",
        salt=SALT,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def end(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, samesite="Lax")


class GuestOnlyMiddleware:
    """Someone holding a guest's session, and not signed in, gets "not found" for every page
    but the guest's own (an escalation, the list, reports, settings, the API's pages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            COOKIE in request.COOKIES
            and not request.path.startswith(GUEST_MAY_OPEN)
            and not request.user.is_authenticated
            and _cookie(request) is not None
        ):
            raise Http404
        return self.get_response(request)
