"""Accord's JSON API for partner agencies' systems (``/api/v1``).

Every endpoint acts as the token's user and calls the same selectors, policies and services
as the pages: no rule is written twice. Errors are ``application/problem+json`` (RFC 9457).
Laid out by job: ``app`` (the API, authentication, errors), ``common`` (what every endpoint
asks first), ``serialisers``, ``idempotency``, ``endpoints`` (escalations and reference
data), ``report_endpoint``, ``protocol_endpoint`` and ``import_endpoint`` (the business unit's
imports).
"""

from . import endpoints, import_endpoint, protocol_endpoint, report_endpoint
from .app import api

api.add_router("", endpoints.router)
api.add_router("", report_endpoint.router)
api.add_router("", protocol_endpoint.router)
api.add_router("", import_endpoint.router)

__all__ = ["api"]
