"""Under /api/v1 every error is problem+json, never an HTML page: unknown paths and
methods, oversized bodies and anything else answered outside the API's handlers."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

from accord.audit.services import audit_refusal

PREFIX = "/api/v1"
# An evidence document's upload may be as large as the pages allow, and no more.
DOCUMENTS = re.compile(r"^/api/v1/escalations/\d+/documents$")
FORM_OVERHEAD = 64 * 1024
# A refusal here (a hidden escalation's 404, a report's 403) is audited, as on the pages.
AUDITED = ("/api/v1/escalations", "/api/v1/reports")
PROBLEM = "application/problem+json"
logger = logging.getLogger("accord.api")


def _problem(status: int, detail: str = "") -> JsonResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return JsonResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status=status,
        content_type=PROBLEM,
    )


class ApiProblemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _problem(400, "Content-Length is not a number.")
        limit = settings.API_MAX_BODY_BYTES
        if request.method == "POST" and DOCUMENTS.match(request.path):
            limit = settings.EVIDENCE_MAX_BYTES + FORM_OVERHEAD
        if length > limit:
            # Refused from its declared length, before a byte of it is read.
            return _problem(413, f"The request body must be at most {limit} bytes.")
        response = self.get_response(request)
        if response.status_code in (403, 404) and request.path.startswith(AUDITED):
            audit_refusal(request, response.status_code, prefixes=AUDITED)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(PROBLEM):
            detail = ""
            if response.get("Content-Type", "").startswith("application/json"):
                try:
                    detail = str(json.loads(response.content).get("detail", ""))
                except (ValueError, AttributeError):
                    detail = ""
            if response.status_code == 405:
                detail = detail or "This method is not allowed here."
                problem = _problem(405, detail)
                if response.has_header("Allow"):
                    problem["Allow"] = response["Allow"]
                return problem
            if response.status_code == 404:
                detail = detail or "There is nothing at this address."
            return _problem(response.status_code, detail)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith(PREFIX) and isinstance(
            exception, MultiPartParserError | SuspiciousOperation
        ):
            # A body Django will not read is the client's to mend, as on the pages (the API's
            # handlers answer it first; this is for one read outside them).
            return _problem(400, "The request body could not be read.")
        if request.path.startswith(PREFIX):
            logger.exception("Unhandled error in the API", exc_info=exception)
            return _problem(500, "Something went wrong. Nothing was changed.")
        return None
