"""Measure server time and queries for Accord's main pages and endpoints on the current
database (fill it first with ``generate_scale_data``). Requests run in-process through
Django's full middleware stack, warm, with the median and 95th percentile printed."""

from __future__ import annotations

import datetime as dt
import gc
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.api.services import api_token_create
from accord.escalations.models import Escalation
from accord.escalations.selectors import LIST_COUNT_LIMIT, EitherEndPaginator
from accord.partnership.models import Partnership, Role, RoleAssignment, User
from accord.testing.auth import sign_in


class Command(BaseCommand):
    help = "Benchmark pages and API endpoints against the benchmark partnership (see generate_scale_data)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=30)
        parser.add_argument("--skip-pdf", action="store_true")
        parser.add_argument("--only", default="", help="Time only the pages whose name contains this.")

    def handle(self, *args, requests: int, skip_pdf: bool, only: str, **options):
        partnership = Partnership.objects.filter(slug="benchmark").first()
        if partnership is None:
            raise CommandError("Run generate_scale_data first.")
        size = Escalation.objects.filter(partnership=partnership).count()
        manager = User.objects.get(username="bench.manager")
        pdg = User.objects.get(username="bench.pdg")
        practitioner = User.objects.get(username="bench.practitioner")
        long_timeline = (
            Escalation.objects.visible_to(manager)
            .filter(partnership=partnership)
            .annotate(n=Count("events"))
            .order_by("-n")
            .values_list("pk", flat=True)
            .first()
        )
        # The list's last page, as its pager offers it (counted up to the list's limit).
        last_page = EitherEndPaginator(
            Escalation.objects.visible_to(manager).filter(partnership=partnership).order_by("-raised_at"),
            25,
            count_limit=LIST_COUNT_LIMIT,
        ).num_pages
        _, token = api_token_create(actor=None, user=manager, expires_days=1)
        api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        today = timezone.localdate()
        year_ago = today - dt.timedelta(days=365)
        ten_years = today - dt.timedelta(days=3650)

        def client_for(user):
            c = Client(SERVER_NAME="localhost")
            sign_in(c, user)
            return c

        anonymous = Client(SERVER_NAME="localhost")
        as_manager, as_pdg, as_practitioner = client_for(manager), client_for(pdg), client_for(practitioner)
        # The business unit, for its settings pages over the partnership's generated people.
        unit, _ = User.objects.get_or_create(username="bench.unit", defaults={"agency": manager.agency})
        RoleAssignment.objects.get_or_create(user=unit, partnership=partnership, role=Role.BUSINESS_UNIT)
        as_unit = client_for(unit)
        people = User.objects.filter(role_assignments__partnership=partnership).distinct().count()
        raise_body = {
            "kind": "theme",
            "immediate_danger": False,
            "with_agency": Escalation.objects.filter(partnership=partnership)
            .values_list("with_agency_id", flat=True)
            .first(),
            "summary": "Benchmark",
            "decision_challenged": "x",
            "concern": "x",
            "evidence": "x",
            "tried_so_far": "x",
            "desired_outcome": "x",
            "urgency": "routine",
            "area_of_disagreement": "communication",
            # (a thematic escalation names its practice themes)
            "themes": list(partnership.practice_themes.order_by("pk").values_list("code", flat=True)[:1]),
            "children": [],
        }
        _, p_token = api_token_create(actor=None, user=practitioner, expires_days=1)

        def d(date):
            return {"start-day": date.day, "start-month": date.month, "start-year": date.year}

        cases = [
            ("log-in page", lambda: anonymous.get("/login/")),
            ("my work (busy manager)", lambda: as_manager.get("/")),
            (
                "escalation list, filtered",
                lambda: as_manager.get("/escalations/", {"status": "open", "stage": 1}),
            ),
            ("escalation list, last page", lambda: as_manager.get("/escalations/", {"page": last_page})),
            (
                "escalation list, search",
                lambda: as_practitioner.get("/escalations/", {"q": "difference", "status": "open"}),
            ),
            ("PDG drill-down (reached the PDG)", lambda: as_pdg.get("/escalations/", {"reached": 4})),
            ("escalation page, long timeline", lambda: as_manager.get(f"/escalations/{long_timeline}/")),
            (
                "raise an escalation (API POST)",
                lambda: as_practitioner.post(
                    "/api/v1/escalations",
                    raise_body,
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {p_token}",
                ),
            ),
            ("PDG standing item, 1 year", lambda: as_pdg.get("/reports/pdg/", d(year_ago))),
            ("PDG standing item, 10 years", lambda: as_pdg.get("/reports/pdg/", d(ten_years))),
            ("GET /api/v1/escalations", lambda: as_manager.get("/api/v1/escalations", **api)),
            (f"people, first page ({people} people)", lambda: as_unit.get("/business-unit/people/")),
            (
                "people, found by name and agency",
                lambda: as_unit.get("/business-unit/people/", {"q": "smith", "agency": manager.agency_id}),
            ),
            (
                "people, last page",
                lambda: as_unit.get("/business-unit/people/", {"page": max(1, -(-people // 50))}),
            ),
            ("the protocol's settings page", lambda: as_unit.get("/business-unit/settings/protocol/")),
        ]
        if not skip_pdf:
            cases.append(("annual report PDF", lambda: as_pdg.get("/reports/annual.pdf")))
        cases = [(name, call) for name, call in cases if only.lower() in name.lower()]
        gc.freeze()  # as config/wsgi.py does once the application is loaded
        self.stdout.write(f"Database: {connection.vendor}; {size} escalations; {requests} warm requests each")
        self.stdout.write(f"{'page or endpoint':36} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for name, call in cases:
            n = 5 if "PDF" in name else requests
            response = call()  # warm up
            if response.status_code >= 400:
                raise CommandError(f"{name}: {response.status_code}")
            timings, queries = [], 0
            for _ in range(n):
                with CaptureQueriesContext(connection) as ctx:
                    start = time.perf_counter()
                    response = call()
                    timings.append((time.perf_counter() - start) * 1000)
                queries = len(ctx.captured_queries)
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            self.stdout.write(f"{name:36} {statistics.median(timings):10.1f} {p95:8.1f} {queries:8d}")
