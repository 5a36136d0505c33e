"""Statement budgets: how many SQL statements the busiest pages and API reads may run.

Every statement a request runs is counted: its reads, its audit entries, the session's
and the API token's bookkeeping alike. Each page is asked once before it is measured (a
signed-in person's first request of a session, and a token's first of a minute, write a
little once that later requests do not), and the clock stands still while it is measured,
so that what is counted is what every later request runs. "None run twice" means no
identical statement (the same SQL with the same parameters) twice in one request.

Each budget is held with a small partnership's data and a larger one's (3 and 30
escalations, with parties, documents and discussions), and the count must be the same.
The figures are in docs/performance.md. ``BUDGETS_DUMP=1`` prints each request's statements.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accord.api.services import api_token_create
from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Draft
from accord.escalations.services import PartyDetails
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

SMALL, LARGE = 3, 30


def _grow(world, to: int) -> None:
    """Escalations up to ``to``: every third with another agency brought in, a document
    and a discussion; every fifth at stage 2."""
    from accord.escalations.models import Escalation

    have = Escalation.objects.filter(partnership=world.partnership).count()
    for i in range(have, to):
        others = [PartyDetails(world.other.pk)] if i % 3 == 0 else []
        e = world.at_stage_2(other_parties=others) if i % 5 == 0 else world.raised(other_parties=others)
        if i % 3 == 0:
            services.escalation_add_document(
                actor=world.practitioner_health,
                escalation=e,
                upload=SimpleUploadedFile(f"note-{i}.txt", b"words"),
            )
            services.escalation_record_discussion(
                actor=world.practitioner_health, escalation=e, held_on=clock.today(), note=f"Spoke {i}"
            )


def _measure(request) -> tuple[int, list[str]]:
    """The statements ``request()`` runs, and those run more than once."""
    with CaptureQueriesContext(connection) as ctx:
        request()
    sqls = [q["sql"] for q in ctx.captured_queries]
    if os.environ.get("BUDGETS_DUMP"):
        print("\n".join(f"  SQL{i} {sql[:300]}" for i, sql in enumerate(sqls)))
        print("\n".join(f"  TWICE {sql[:300]}" for sql, n in Counter(sqls).items() if n > 1))
    return len(sqls), [sql for sql, n in Counter(sqls).items() if n > 1]


def _still_clock():
    return time_machine.travel(time.time(), tick=False)


# ------------------------------------------------------------------ pages and API reads

PAGES = {
    # name: (budget, none twice, who, address)
    "escalation page": (15, True, "manager_health", lambda w, e: reverse("escalations:detail", args=[e.pk])),
    "API detail": (15, True, "manager_health", lambda w, e: f"/api/v1/escalations/{e.pk}"),
    "list": (12, False, "manager_health", lambda w, e: reverse("escalations:list")),
    "API list": (12, False, "manager_health", lambda w, e: "/api/v1/escalations"),
    "my work (practitioner)": (14, False, "practitioner_health", lambda w, e: reverse("home")),
    "my work (manager)": (14, False, "manager_health", lambda w, e: reverse("home")),
    "PDG standing item": (25, False, "pdg_chair", lambda w, e: reverse("reports:pdg")),
}


# A read's audit entry takes no lock (one insert, chained later by the worker), so the
# pages and API reads run the same statements on both databases and are held to one count.


@pytest.mark.parametrize("page", PAGES)
def test_a_page_runs_no_more_statements_than_its_budget_however_much_data(client, world, page):
    """The page's statements, everything the request runs, within its budget, none twice
    where the budget says so, and as many with 30 escalations as with 3."""
    budget, once_each, who, address = PAGES[page]
    user = getattr(world, who)
    with _still_clock():
        target = world.at_stage_2(other_parties=[PartyDetails(world.other.pk)])
        services.escalation_add_document(
            actor=world.practitioner_health, escalation=target, upload=SimpleUploadedFile("a.txt", b"a")
        )
        _grow(world, SMALL)
        url = address(world, target)
        if url.startswith("/api/"):
            _, token = api_token_create(actor=None, user=user)
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        else:
            sign_in(client, user)
            headers = {}

        def get():
            response = client.get(url, **headers)
            assert response.status_code == 200, response.content[:500]

        get()
        small, small_twice = _measure(get)
        _grow(world, LARGE)
        for i in range(3):
            services.escalation_add_document(
                actor=world.practitioner_health,
                escalation=target,
                upload=SimpleUploadedFile(f"b{i}.txt", b"b"),
            )
            services.escalation_record_discussion(
                actor=world.manager_health, escalation=target, held_on=clock.today(), note=f"More {i}"
            )
        get()
        large, large_twice = _measure(get)
    print(f"BUDGET {page}: {small} / {large} twice={len(small_twice)}")
    assert large == small, (page, small, large)
    assert small <= budget, (page, small, budget)
    if once_each:
        assert not small_twice and not large_twice, (page, small_twice + large_twice)


# ------------------------------------------------------------------ raising


def _date(prefix, day):
    return {f"{prefix}-day": day.day, f"{prefix}-month": day.month, f"{prefix}-year": day.year}


def _raising_journey(client, world) -> dict[str, int]:
    """Every page of the raising journey, asked and answered, and the POST that raises:
    each request's statements."""
    counts: dict[str, int] = {}

    def run(name, method, url, data=None, expect=(200, 302)):
        def request():
            response = getattr(client, method)(url, data or {})
            assert response.status_code in expect, (name, response.status_code)

        n, _twice = _measure(request)
        counts[name] = n

    run("start", "get", reverse("escalations:start"))
    run("danger (GET)", "get", reverse("escalations:danger"))
    run("danger (POST)", "post", reverse("escalations:danger"), {"immediate_danger": "no"}, expect=(302,))
    draft = Draft.objects.get(owner=world.practitioner_health)
    steps = [
        (
            "with",
            {
                "kind": "case",
                "with_agency": world.social.pk,
                "with_practitioner": world.practitioner_social.username,
            },
        ),
        (
            "children",
            {
                "child_1_name": "Bartholomew Quince",
                **_date("child_1_date_of_birth", dt.date(2018, 7, 1)),
                "child_1_agency_reference": "BQ-1",
            },
        ),
        (
            "difference",
            {
                "summary": "Threshold",
                "concern": "Unmet needs",
                "urgency": "routine",
                "areas": ["levels-of-risk"],
                "themes": ["neglect", "domestic-abuse"],
            },
        ),
        (
            "more",
            {
                "decision_challenged": "Closed",
                "evidence": "Missed appointments",
                "child_voice": "Says hungry",
                "tried_so_far": "Calls",
                "desired_outcome": "Assessment",
                "reflection": "Private thoughts",
                "family_aware": "yes",
            },
        ),
    ]
    for name, data in steps:
        url = reverse("escalations:step", args=[draft.pk, name])
        run(f"{name} (GET)", "get", url)
        run(f"{name} (POST)", "post", url, data, expect=(302,))
    check = reverse("escalations:check", args=[draft.pk])
    run("check (GET)", "get", check)
    run("raise (POST)", "post", check, expect=(302,))
    assert not Draft.objects.filter(pk=draft.pk).exists()  # raised
    return counts


def test_raising_runs_no_more_than_30_statements_a_request_however_much_data(client, world):
    """Each page of the raising journey, and the POST that raises (its audit entry, its
    notices and the tallies it keeps included), within 30 statements, and as many with 30
    escalations in the partnership as with 3."""
    sign_in(client, world.practitioner_health)
    with _still_clock():
        _grow(world, SMALL)
        client.get(reverse("home"))
        small = _raising_journey(client, world)
        _grow(world, LARGE)
        large = _raising_journey(client, world)
    print(f"BUDGET raising: {small} / {large}")
    assert large == small
    # On PostgreSQL raising writes under two locks, a statement each that SQLite does
    # without (the audit chain's, and the shared one of the table of who may see which):
    # they are counted in its 30 there too.
    over = {name: n for name, n in small.items() if n > 30}
    assert not over, over
