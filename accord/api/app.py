"""The API's set-up: the NinjaAPI, token authentication with the rate limit, and every
domain error answered as application/problem+json (RFC 9457)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from accord.core.errors import (
    IllegalTransition,
    ImmediateDanger,
    NotAllowed,
    NotFound,
    RuleViolation,
    StaleVersion,
    TooMany,
)
from accord.escalations import services

from . import schemas as s
from .common import named_partnership
from .services import api_rate_count, api_token_authenticate

PROBLEM = "application/problem+json"


def problem(
    status: int, title: str, detail: str = "", errors: dict[str, list[str]] | None = None, **extra: Any
) -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JsonResponse(body, status=status, content_type=PROBLEM)


class RateLimited(Exception):
    pass


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is None:
            return None
        limit = getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)
        if api_rate_count(user.api_token_id) > limit:
            raise RateLimited()
        request.user = user
        return user


class AccordApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Declare every error response as application/problem+json (RFC 9457)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if str(code).startswith(("4", "5")) and content and "application/json" in content:
                        response["content"] = {PROBLEM: content.pop("application/json")}
        return schema


api = AccordApi(
    title="Accord API",
    version="1",
    description=(
        "Raise and follow escalations from a partner agency's own systems. Every request acts as "
        "the token's user, with that user's permissions. Errors are application/problem+json."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

STANDARD_ERRORS = {
    400: s.Problem,
    401: s.Problem,
    403: s.Problem,
    404: s.Problem,
    409: s.Problem,
    413: s.Problem,
    422: s.Problem,
    429: s.Problem,
}


def messages_of(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            k: [str(m) for m in v.messages] if hasattr(v, "messages") else [str(x) for x in v]
            for k, v in error.message_dict.items()
        }
    return {"__all__": [str(m) for m in error.messages]}


def _says_immediate_danger(request: HttpRequest) -> bool:
    """Whether a raise that failed validation says a child may be in immediate danger:
    then the safety answer comes first, whatever else is wrong with it (rule 1)."""
    if request.method != "POST" or not request.path.rstrip("/").endswith("/escalations"):
        return False
    try:
        return json.loads(request.body or b"{}").get("immediate_danger") is True
    except (ValueError, AttributeError, RawPostDataException):
        return False


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    if _says_immediate_danger(request):
        try:
            partnership = named_partnership(request, json.loads(request.body).get("partnership"))
        except (HttpError, ValueError, AttributeError):
            partnership = None
        return _danger(request, ImmediateDanger(services.immediate_danger_guidance(partnership)))
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(loc) or "__all__", []).append(str(e.get("msg", "Invalid value")))
    return problem(400, _("The request is not valid"), _("Check the fields named in errors."), errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = problem(
        401,
        _("Authentication required"),
        _("Send a valid, unexpired API token as 'Authorization: Bearer <token>'."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="accord"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    response = problem(429, _("Too many requests"), _("Slow down and try again in a minute."))
    response["Retry-After"] = "60"
    return response


@api.exception_handler(TooMany)
def _too_many(request, exc: TooMany):
    response = problem(429, _("Too many requests"), str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    from http import HTTPStatus

    return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.message))


@api.exception_handler(NotFound)
def _not_found(request, exc):
    return problem(404, _("Not found"), _("There is no such escalation, or you may not see it."))


@api.exception_handler(IllegalTransition)
def _illegal(request, exc):
    return problem(409, _("Not allowed from the escalation's current state"), str(exc))


@api.exception_handler(NotAllowed)
def _forbidden(request, exc):
    return problem(403, _("Forbidden"), str(exc))


@api.exception_handler(StaleVersion)
def _stale(request, exc):
    return problem(409, _("The escalation has changed"), str(exc))


@api.exception_handler(ImmediateDanger)
def _danger(request, exc):
    return problem(
        422, _("Accord is not for a child in immediate danger"), str(exc), {"immediate_danger": [str(exc)]}
    )


@api.exception_handler(RuleViolation)
def _rule(request, exc: RuleViolation):
    return problem(
        422, _("The protocol does not allow this"), " ".join(exc.messages), messages_of(exc), rule=exc.rule
    )


@api.exception_handler(DjangoValidationError)
def _django_invalid(request, exc: DjangoValidationError):
    return problem(
        400, _("The request is not valid"), _("Check the fields named in errors."), messages_of(exc)
    )


@api.exception_handler(MultiPartParserError)
def _unreadable_multipart(request, exc: MultiPartParserError):
    """A multipart body Django cannot read (no boundary, a broken one): the client's to mend."""
    return problem(
        400,
        _("The request body could not be read"),
        _(
            "Send the file as multipart/form-data with its boundary in the Content-Type, as an HTTP "
            "library does when given a file."
        ),
    )


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc: SuspiciousOperation):
    """Too many fields or files in a form, or a body larger than Django reads: refused, as
    Django refuses them on the pages, never a 500."""
    if isinstance(exc, RequestDataTooBig):
        return problem(413, _("Content Too Large"), _("The request body is larger than Accord reads."))
    return problem(400, _("The request is not valid"), _("The request body is not one Accord reads."))
