"""A local stand-in for GOV.UK Notify's API, for the tests: a small threaded HTTP server on
127.0.0.1 that answers the two calls Accord makes (send an email, list messages by reference)
as Notify documents them, checks the JSON Web Token each request is signed with as Notify
does, and records what it receives. A test can make it answer 500, answer too late (having
recorded the message, as a real service whose answer is lost on the way back), or be down.

    with NotifyStandIn(templates={"digest": ["partnership", "count", "updates"]}) as notify:
        settings.ACCORD_NOTIFY_API_KEY = notify.api_key
        settings.ACCORD_NOTIFY_BASE_URL = notify.url
        settings.ACCORD_NOTIFY_TEMPLATES = notify.template_ids
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

# Notify accepts a token issued up to 30 seconds either side of its own clock.
TOKEN_LEEWAY_SECONDS = 30
_PLACEHOLDER = re.compile(r"\(\(([^)?]+)(\?\?[^)]*)?\)\)")


def placeholders(text: str) -> list[str]:
    """The ((placeholders)) of a Notify template's text, as Notify reads them."""
    return sorted({m.group(1).strip() for m in _PLACEHOLDER.finditer(text)})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    """One request as the stand-in saw it."""

    method: str
    path: str
    authorised: bool
    body: dict[str, Any] = field(default_factory=dict)


class NotifyStandIn:
    def __init__(self, *, templates: dict[str, list[str]]):
        """``templates``: each template's name and the personalisation it requires; each is
        given an id, and an email whose personalisation lacks one is refused with a 400, as
        Notify refuses it."""
        self.service_id = str(uuid.uuid4())
        self.secret = str(uuid.uuid4())
        self.api_key = f"accord_test-{self.service_id}-{self.secret}"
        self.template_ids = {name: str(uuid.uuid4()) for name in templates}
        self._required = {self.template_ids[name]: set(fields) for name, fields in templates.items()}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Received] = []
        self.emails: list[dict[str, Any]] = []  # what Notify accepted, in order
        self._lock = threading.Lock()
        self._fail_next = 0
        self._late_next = 0
        self._late_seconds = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ running it

    def start(self) -> NotifyStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stand_in._handle(self, "GET")

            def do_POST(self):
                stand_in._handle(self, "POST")

            def log_message(self, format, *args):  # (quiet in the tests)
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down: nothing listens on its port (a request is refused) until ``start``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> NotifyStandIn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, count: int) -> None:
        """The next ``count`` requests are answered 500, and nothing is recorded."""
        with self._lock:
            self._fail_next = count

    def answer_late(self, count: int, *, seconds: float) -> None:
        """The next ``count`` emails are accepted and recorded, then answered only after
        ``seconds``: longer than the client waits, it never sees that they arrived."""
        with self._lock:
            self._late_next, self._late_seconds = count, seconds

    def require(self, template: str, placeholder: str) -> None:
        """The template asks for one more placeholder: an email without it is refused (400)."""
        with self._lock:
            self._required[self.template_ids[template]].add(placeholder)

    def emails_with(self, reference: str) -> list[dict[str, Any]]:
        return [e for e in self.emails if e["reference"] == reference]

    # ------------------------------------------------------------------ answering

    def _authorised(self, header: str) -> bool:
        """As Notify checks it: a bearer token signed (HS256) with the key's secret, issued by
        the key's service, issued within 30 seconds of now."""
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return False
        try:
            claims = jwt.decode(
                token,
                key=self.secret,
                algorithms=["HS256"],
                options={"require": ["iss", "iat"]},
                leeway=TOKEN_LEEWAY_SECONDS,
            )
        except jwt.PyJWTError:
            return False
        return (
            claims["iss"] == self.service_id and abs(time.time() - int(claims["iat"])) <= TOKEN_LEEWAY_SECONDS
        )

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        authorised = self._authorised(handler.headers.get("Authorization", ""))
        with self._lock:
            self.requests.append(
                Received(method, url.path, authorised, body if isinstance(body, dict) else {})
            )
            failing = self._fail_next > 0
            if failing:
                self._fail_next -= 1
        if failing:
            return self._answer(handler, 500, _errors(500, "Exception", "Internal server error"))
        if not authorised:
            return self._answer(handler, 403, _errors(403, "AuthError", "Invalid token: signature"))
        if method == "POST" and url.path == "/v2/notifications/email":
            return self._send_email(handler, body)
        if method == "GET" and url.path == "/v2/notifications":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            found = [
                e
                for e in reversed(self.emails)
                if e["reference"] == query.get("reference", e["reference"])
                and query.get("template_type", "email") == "email"
            ]
            return self._answer(handler, 200, {"notifications": found, "links": {"current": handler.path}})
        return self._answer(handler, 404, _errors(404, "NotFound", "Not found"))

    def _send_email(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("email_address") or not body.get("template_id"):
            return self._answer(
                handler, 400, _errors(400, "ValidationError", "email_address and template_id")
            )
        required = self._required.get(body["template_id"])
        if required is None:
            return self._answer(handler, 400, _errors(400, "BadRequestError", "Template not found"))
        given = body.get("personalisation") or {}
        missing = sorted(required - set(given))
        if missing:
            message = f"Missing personalisation: {', '.join(missing)}"
            return self._answer(handler, 400, _errors(400, "BadRequestError", message))
        email = {
            "id": str(uuid.uuid4()),
            "reference": body.get("reference"),
            "email_address": body["email_address"],
            "type": "email",
            "status": "created",
            "template": {"id": body["template_id"], "version": 1},
            "personalisation": given,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
        }
        with self._lock:
            self.emails.append(email)
            late = self._late_next > 0
            if late:
                self._late_next -= 1
        if late:
            time.sleep(self._late_seconds)
        answer = {
            "id": email["id"],
            "reference": email["reference"],
            "content": {"subject": "", "body": "", "from_email": "accord@notifications.service.gov.uk"},
            "uri": f"{self.url}/v2/notifications/{email['id']}",
            "template": {
                "id": body["template_id"],
                "version": 1,
                "uri": f"{self.url}/v2/template/{body['template_id']}",
            },
        }
        return self._answer(handler, 201, answer)

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (answer_late)


def _errors(status: int, error: str, message: str) -> dict:
    return {"status_code": status, "errors": [{"error": error, "message": message}]}
