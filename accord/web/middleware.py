"""The web shell's request concern: the partnership the signed-in person is working in."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from accord.partnership.selectors import PARTNERSHIP_PARAMETER, partnership_of, roles_by_partnership

SESSION_KEY = "accord_partnership_id"


class CurrentPartnershipMiddleware:
    """Sets ``request.partnership``: the partnership the user is working in now.

    A user with roles in several partnerships chooses one; everything they see
    is then scoped to it, so nothing of one partnership shows in another. A page's
    address naming one of their partnerships (``?partnership=torbay``, as the links in
    Accord's emails do) switches them to it and drops the name from the address; a name
    that is not one of theirs changes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.partnership = None
        request.roles = frozenset()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            by_partnership = roles_by_partnership(user)
            named = request.GET.get(PARTNERSHIP_PARAMETER) if request.method == "GET" else None
            if named is not None and not request.path.startswith("/api/"):
                return self._switch_by_link(request, user, by_partnership, named)
            chosen = request.session.get(SESSION_KEY)
            if chosen not in by_partnership:
                chosen = min(by_partnership) if by_partnership else None
            if chosen is not None:
                request.partnership = partnership_of(user, chosen)
                request.roles = by_partnership.get(chosen, frozenset())
        return self.get_response(request)

    @staticmethod
    def _switch_by_link(request: HttpRequest, user, by_partnership, named: str) -> HttpResponse:
        for pid in by_partnership:
            found = partnership_of(user, pid)
            if found is not None and found.slug == named:
                request.session[SESSION_KEY] = pid
                break
        rest = request.GET.copy()
        del rest[PARTNERSHIP_PARAMETER]
        query = rest.urlencode()
        return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))
