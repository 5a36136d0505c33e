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
