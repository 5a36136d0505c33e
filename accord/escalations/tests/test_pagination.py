"""Long lists are read from whichever end is nearer; the pages must be exactly the slices."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.api.services import api_token_create
from accord.escalations.models import Escalation
from accord.escalations.selectors import rows_between
from accord.testing.auth import sign_in


class Rows:
    """An ordered list that slices and reverses like a queryset."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, s):
        return self.items[s]

    def reverse(self):
        return Rows(self.items[::-1])


@given(st.integers(0, 60), st.integers(0, 70), st.integers(0, 30))
def test_rows_between_is_the_slice(n, start, size):
    items = list(range(n))
    assert rows_between(Rows(items), start, start + size, n) == items[start : start + size]


@pytest.mark.django_db
def test_the_last_page_of_the_list_and_the_api_is_the_tail_of_the_ordered_list(client, world):
    for i in range(8):
        world.raised(summary=f"Number {i}")
    everything = list(
        Escalation.objects.visible_to(world.practitioner_health)
        .order_by("-raised_at", "-id")
        .values_list("reference", flat=True)
    )
    assert len(everything) == 8
    _, token = api_token_create(actor=None, user=world.practitioner_health, expires_days=1)
    body = client.get(
        "/api/v1/escalations", {"page": 3, "page_size": 3}, HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert body["count"] == 8 and [r["reference"] for r in body["results"]] == everything[6:]
    body = client.get(
        "/api/v1/escalations", {"page": 2, "page_size": 3}, HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert [r["reference"] for r in body["results"]] == everything[3:6]
    assert (
        client.get(
            "/api/v1/escalations", {"page": 4, "page_size": 3}, HTTP_AUTHORIZATION=f"Bearer {token}"
        ).json()["results"]
        == []
    )

    sign_in(client, world.practitioner_health)
    page = client.get("/escalations/", {"page": 1}).context["page"]
    assert [e.reference for e in page] == everything  # one page of 25


@pytest.mark.django_db
def test_a_list_longer_than_the_count_limit_is_counted_to_the_limit_and_paged_from_the_front(world):
    from accord.escalations.selectors import EitherEndPaginator

    for i in range(8):
        world.raised(summary=f"Number {i}")
    qs = Escalation.objects.visible_to(world.practitioner_health).order_by("-raised_at", "-id")
    everything = list(qs.values_list("reference", flat=True))

    capped = EitherEndPaginator(qs, 2, count_limit=5)
    assert capped.count == 5 and capped.capped and capped.num_pages == 3
    assert [e.reference for e in capped.page(1)] == everything[0:2]
    assert [e.reference for e in capped.page(3)] == everything[4:5]  # the fifth, not the oldest

    exact = EitherEndPaginator(qs, 2, count_limit=8)
    assert exact.count == 8 and not exact.capped
    assert [e.reference for e in exact.page(4)] == everything[6:8]


@pytest.mark.django_db
def test_the_list_page_says_when_more_escalations_match_than_it_counts(client, world, monkeypatch):
    from accord.escalations import selectors

    for i in range(4):
        world.raised(summary=f"Number {i}")
    sign_in(client, world.practitioner_health)
    assert "4 escalations" in client.get("/escalations/").content.decode()

    monkeypatch.setattr(selectors, "LIST_COUNT_LIMIT", 3)
    # Unfiltered, the exact number is known from the kept count: said, with the pages' limit.
    response = client.get("/escalations/")
    text = response.content.decode()
    assert "4 escalations. These pages show the 3 most recent" in text and "use the filters" in text
    assert len(response.context["page"].object_list) == 3
    # Filtered, it is counted no further than the limit.
    response = client.get("/escalations/", {"status": "open"})
    text = response.content.decode()
    assert "More than 3 escalations" in text and "use the filters" in text
    assert len(response.context["page"].object_list) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [3, 5, 7, 8, 20])
def test_get_page_finds_the_page_and_the_count_together_exactly_as_counting_first_would(world, limit):
    """``get_page`` of a capped list reads the page and the count in one statement; every
    page, the pages past the end and page numbers that are not numbers give what
    Django's counting-first paginator gives."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.escalations.selectors import EitherEndPaginator

    for i in range(7):
        world.raised(summary=f"Number {i}")
    qs = Escalation.objects.visible_to(world.practitioner_health).order_by("-raised_at", "-id")
    for number in [1, 2, 3, 4, 5, 9, 0, -1, "2", "x", None, "", 10**30, "99999999999999999999999"]:
        together = EitherEndPaginator(qs, 2, count_limit=limit)
        with CaptureQueriesContext(connection) as ctx:
            page = together.get_page(number)
        first = EitherEndPaginator(qs, 2, count_limit=limit)
        assert first.count >= 0  # counted first, the way Django's get_page does
        expected = first.get_page(number)
        assert [e.pk for e in page] == [e.pk for e in expected], (limit, number)
        assert (page.number, together.count, together.capped, together.num_pages) == (
            expected.number,
            first.count,
            first.capped,
            first.num_pages,
        ), (limit, number)
        # A page that exists, or no page number or not a number (the first page): its keys
        # and the count, then its rows.
        if str(number) == str(expected.number) or number in ("x", None, ""):
            assert len(ctx.captured_queries) == 2, (limit, number)


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [3, 8, 20])
def test_the_unfiltered_list_found_from_the_kept_table_pages_exactly_as_rule_7_does(world, limit):
    """Unfiltered, a page's escalations are found in the table of who may see which, most
    recent first (ties by the later id first), counted from the kept count: for everyone,
    every page is what testing rule 7 row by row gives."""
    import datetime as dt

    from accord.core import clock
    from accord.escalations.models import Visibility
    from accord.escalations.selectors import EitherEndPaginator, KeptCountPaginator, VisibleMostRecentFirst
    from accord.testing.factories import WORLD_ROLES

    moment = clock.now() - dt.timedelta(days=3)
    for i in range(5):
        world.raised(summary=f"Number {i}", at=moment - dt.timedelta(hours=i % 3))  # ties in time
    world.at_stage_3()
    world.formal()
    world.raised(raiser=world.practitioner_social, with_agency=world.other, at=moment)
    for name in WORLD_ROLES:
        user = getattr(world, name)
        qs = (
            Escalation.objects.visible_to(user)
            .filter(partnership=world.partnership)
            .order_by("-raised_at", "-id")
        )
        for number in [1, 2, 3, 4, 9, 0, "x", None]:
            kept = KeptCountPaginator(
                VisibleMostRecentFirst(qs, user=user, partnership=world.partnership, limit=limit), 2
            )
            counted = EitherEndPaginator(qs, 2, count_limit=limit)
            page, expected = kept.get_page(number), counted.get_page(number)
            assert [e.pk for e in page] == [e.pk for e in expected], (name, number)
            assert (kept.count, kept.capped, kept.num_pages) == (
                counted.count,
                counted.capped,
                counted.num_pages,
            )
            assert kept.total == qs.count()
        # All of them (the API's unfiltered list): any slice, read from the nearer end.
        n = qs.count()
        everything = [e.pk for e in qs]
        for start in range(n + 2):
            for size in (1, 2, 3, 50):
                whole = VisibleMostRecentFirst(qs, user=user, partnership=world.partnership, limit=n, kept=n)
                assert [e.pk for e in whole[start : start + size]] == everything[start : start + size]

    # A pair in the table that rule 7 does not allow is still not shown: the rows are read
    # through rule 7's own query.
    hidden = Escalation.objects.exclude(
        pk__in=Escalation.objects.visible_to(world.practitioner_other).values("pk")
    ).first()
    Visibility.objects.create(
        user=world.practitioner_other, partnership=world.partnership, escalation=hidden, raised_at=clock.now()
    )
    qs = Escalation.objects.visible_to(world.practitioner_other).filter(partnership=world.partnership)
    kept = KeptCountPaginator(
        VisibleMostRecentFirst(qs, user=world.practitioner_other, partnership=world.partnership, limit=limit),
        25,
    )
    assert hidden.pk not in [e.pk for e in kept.get_page(1)]


@pytest.mark.django_db
def test_the_unfiltered_list_page_finds_its_escalations_in_the_kept_table(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):
        world.raised(summary=f"Number {i}")
    sign_in(client, world.manager_health)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/escalations/").context["page"]
    assert len(page) == 3
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert [sql for sql in sqls if 'FROM "escalations_visibility"' in sql and "ORDER BY" in sql]
    assert not [sql for sql in sqls if "ROW_NUMBER()" in sql]  # rule 7 is not walked row by row
