"""What a request reads once and keeps while it only reads.

Some reads stand behind several parts of one page (where a person stands among the
escalations' other parties, whom they line-manage: rule 7's inputs). Within a request they
are read once and kept here; the first statement that writes anything that could change
them (anything but the request's own bookkeeping: its audit entry, its session, its API
token's count and use) forgets everything kept, so a request that changes something and
then reads again reads afresh. Outside a request (a command, a worker, a test calling a
service) nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")

_kept: ContextVar[dict[Any, Any] | None] = ContextVar("accord_request_memo", default=None)

# Statements that change nothing a kept read depends on.
_READING = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK TO", "SET ", "SHOW ")
_BOOKKEEPING = ('"audit_auditevent"', '"django_session"', '"api_ratecount"', '"api_apitoken"')


def remembered(key: Any, read: Callable[[], T]) -> T:
    """``read()``, once a request for ``key`` while the request has written nothing."""
    kept = _kept.get()
    if kept is None:
        return read()
    if key not in kept:
        kept[key] = read()
    return kept[key]


def _forget_on_write(execute, sql, params, many, context):
    kept = _kept.get()
    if kept:
        head = sql.lstrip(" \t\n(")[:40].upper()  # (a UNION's parts are in brackets on PostgreSQL)
        if not head.startswith(_READING) and not any(table in sql[:200] for table in _BOOKKEEPING):
            kept.clear()
    return execute(sql, params, many, context)


class RequestMemoMiddleware:
    """Keeps ``remembered`` reads for the length of one request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _kept.set({})
        try:
            with connection.execute_wrapper(_forget_on_write):
                return self.get_response(request)
        finally:
            _kept.reset(token)
