"""The client's address, as far as Accord can trust it, for the audit trail and the
sign-in lock-out alike.

Behind ``ACCORD_TRUSTED_PROXIES`` proxies that each append the address they received a
request from to ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``, a load
balancer's), the client is the entry that many places from the right: whatever the
client itself wrote further left is its own claim and is ignored. With no trusted proxy
(the default) it is the connection's own address. An entry that is not an address, or a
header shorter than the proxies configured (a request that did not come through them),
falls back to the connection's address.

``CurrentClientMiddleware`` keeps the address for the request, so that every entry the
services write to the audit trail records it without being handed the request."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_current: ContextVar[str | None] = ContextVar("accord_client_ip", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "ACCORD_TRUSTED_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def current_client_ip() -> str | None:
    """The address of the request being served (None outside one: a command, the worker)."""
    return _current.get()


class CurrentClientMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
