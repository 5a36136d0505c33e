"""The language of Accord's pages: the switch in every page's header (English | Cymraeg, as
GOV.UK services in Wales have it), and each person's own language applied to every page
they open.

Before anyone signs in, Django's ``LocaleMiddleware`` takes the language from the switch's
cookie, else from the browser's ``Accept-Language`` (the API's problem details too). Once
signed in, a person's own language (``User.language``) is used; the switch saves it for
them (and for a guest, on their guest account), so that their emails and documents follow.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from accord.partnership.services.people import person_language_set

from .guest_session import COOKIE as GUEST_COOKIE
from .guest_session import current_guest


def _from_accord(request: HttpRequest) -> bool:
    """Whether the switch was followed from one of Accord's own pages (or typed): a link on
    another site may show Accord in a language, never save one as someone's own. Browsers
    say where a request came from (``Sec-Fetch-Site``); one that does not is judged by its
    ``Referer``, where it gives one."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    referer = request.headers.get("Referer")
    return not referer or url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def _own_language(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.language
    if GUEST_COOKIE in request.COOKIES:
        guest = current_guest(request)
        if guest is not None:
            return guest.account.language
    return ""


class PersonLanguageMiddleware:
    """A signed-in person's (or a guest's) own language, where they have one, over the
    cookie's and the browser's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = "" if request.path.startswith("/api/") else _own_language(request)
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@login_not_required
@require_GET
def switch_language(request: HttpRequest, code: str) -> HttpResponse:
    """Show Accord in ``code`` from now on (the header's links), and come back to the page."""
    if code not in dict(settings.LANGUAGES):
        raise Http404
    back = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    # (From another site's link: shown in the language, by the cookie, but saved for nobody.)
    saving = _from_accord(request)
    if saving and request.user.is_authenticated:
        person_language_set(actor=request.user, person=request.user, language=code)
    elif saving:
        guest = current_guest(request) if GUEST_COOKIE in request.COOKIES else None
        if guest is not None:
            person_language_set(
                actor=guest.account,
                person=guest.account,
                language=code,
                partnership=guest.escalation.partnership,
            )
    response = HttpResponseRedirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
