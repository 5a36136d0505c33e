"""A load run's mixed workload: practitioners, managers, the PDG and a partner system.

Run by ``bin/load`` against Accord served by gunicorn on PostgreSQL, filled by
``manage.py generate_scale_data``. Each simulated person signs in once, as a person
would, then works through the pages they use, with a short pause between requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import random
import re
import struct
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PASSWORD = "bench-password"
TOTP_SECRET = "BENCHTWOSTEPSECRETKEYFORLOADRUNS"
PDG_USERS = ["bench.pdg", "bench.pdg2", "bench.pdg3", "bench.pdg4"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ESCALATION_LINK = re.compile(r'href="/escalations/(\d+)/"')

# Accord marks its cookies Secure; the load run talks plain HTTP on loopback, standing in
# for the TLS-terminating proxy, so this process sends Secure cookies over HTTP too.
DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238: the six-digit code an authenticator app shows now."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class Person(FastHttpUser):
    """A person using the pages. FastHttpUser (geventhttpclient) costs the load generator
    a fraction of the CPU that python-requests does, which matters when locust shares the
    server's cores. Redirects are not followed, so a page that sends the person to sign
    in again is a failure rather than a quietly served log-in page."""

    abstract = True
    wait_time = between(0.5, 2)
    username = ""

    def _post_form(self, path: str, data: dict, name: str):
        page = self.client.get(path, name=name)
        token = CSRF.search(page.text or "")
        data = {**data, "csrfmiddlewaretoken": token.group(1) if token else ""}
        return self.client.post(
            path,
            data=urlencode(data),
            name=name + " (POST)",
            allow_redirects=False,
            headers={"Referer": self.host + path, "Content-Type": "application/x-www-form-urlencoded"},
        )

    def on_start(self):
        response = self._post_form("/login/", {"username": self.username, "password": PASSWORD}, "/login/")
        if self.username.startswith("bench.pdg"):  # the PDG's roles require two-step verification
            response = self._post_form("/login/verify/", {"code": totp(TOTP_SECRET)}, "/login/verify/")
        if response.status_code != 302 or "/login/" in (response.headers.get("Location") or "/login/"):
            raise RuntimeError(f"{self.username} could not sign in")
        self.escalations: list[str] | None = None  # not yet listed

    def page(self, path: str, name: str):
        """A page that must be the page asked for: a redirect (to sign in) is a failure."""
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location') or ''}")
            return response

    def open_an_escalation(self):
        """One of the escalations they may see, open ones first (listed once a session)."""
        if self.escalations is None:
            for path in ("/escalations/?status=open", "/escalations/"):
                listing = self.page(path, name=path)
                self.escalations = ESCALATION_LINK.findall(listing.text or "")
                if self.escalations:
                    break
        if self.escalations:
            self.page(f"/escalations/{random.choice(self.escalations)}/", name="/escalations/[id]/")


def _people(variable: str, worst_case: str) -> itertools.cycle:
    """The accounts a kind of person signs in as, in turn: the worst case first, then the
    sample ``bin/load`` passes (``generate_scale_data.load_run_people``)."""
    names = [name for name in os.environ.get(variable, "").split(",") if name] or [worst_case]
    return itertools.cycle(names)


class Practitioner(Person):
    weight = 6
    _accounts = _people("ACCORD_LOAD_PRACTITIONERS", "bench.practitioner")

    def on_start(self):
        self.username = next(self._accounts)
        super().on_start()

    @task(4)
    def my_work(self):
        self.page("/", name="my work")

    @task(3)
    def an_escalation(self):
        self.open_an_escalation()

    @task(2)
    def notifications(self):
        self.page("/notifications/", name="/notifications/")

    @task(1)
    def search(self):
        self.page("/escalations/?q=BEN-20", name="/escalations/?q=")


class Manager(Person):
    weight = 3
    _accounts = _people("ACCORD_LOAD_MANAGERS", "bench.manager")

    def on_start(self):
        self.username = next(self._accounts)
        super().on_start()

    @task(3)
    def my_work(self):
        self.page("/", name="my work")

    @task(3)
    def list_filtered(self):
        self.page(
            f"/escalations/?status=open&stage={random.choice([1, 2, 3])}", name="/escalations/?status&stage"
        )

    @task(1)
    def list_deep_page(self):
        self.page(f"/escalations/?page={random.randint(2, 400)}", name="/escalations/?page=N")

    @task(3)
    def an_escalation(self):
        self.open_an_escalation()


class PDG(Person):
    weight = 1
    fixed_count = len(PDG_USERS)  # one simulated person a PDG account
    _next = iter(range(10**6))

    def on_start(self):
        self.username = PDG_USERS[next(self._next) % len(PDG_USERS)]
        super().on_start()

    @task(2)
    def standing_item(self):
        self.page("/reports/pdg/", name="/reports/pdg/")

    @task(2)
    def formal_escalations(self):
        self.page("/escalations/?reached=4", name="/escalations/?reached=4")

    @task(1)
    def an_escalation(self):
        self.open_an_escalation()


class PartnerSystem(FastHttpUser):
    """A partner agency's case system reading and raising through the API."""

    weight = 1
    wait_time = between(0.5, 2)

    def on_start(self):
        self.api = {"Authorization": f"Bearer {os.environ['ACCORD_LOAD_API_TOKEN']}"}

    @task(5)
    def list_escalations(self):
        self.client.get("/api/v1/escalations?status=open", name="GET /api/v1/escalations", headers=self.api)

    @task(1)
    def raise_escalation(self):
        self.client.post(
            "/api/v1/escalations",
            json={
                "kind": "theme",
                "immediate_danger": False,
                "with_agency": int(os.environ["ACCORD_LOAD_WITH_AGENCY"]),
                "summary": "Load run",
                "decision_challenged": "The threshold decision",
                "concern": "Load run",
                "evidence": "Load run",
                "tried_so_far": "Load run",
                "desired_outcome": "Load run",
                "urgency": "routine",
                "area_of_disagreement": "communication",
                "themes": [],
                "children": [],
            },
            name="POST /api/v1/escalations",
            headers=self.api,
        )
