"""The Independent Reviewing Unit's section on its own: the conference chairs see the
escalations that arose in conferences and reviews (small counts hidden as for the
executive), the PDG every figure, and the practitioners nothing; each view audited."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core import clock
from accord.testing.auth import sign_in
from accord.web.navigation import navigation_for

pytestmark = pytest.mark.django_db


def from_conference(world, n):
    for _ in range(n):
        world.from_conference()


def test_the_chair_sees_their_units_section_and_the_pdg_every_figure(client, world):
    from_conference(world, 6)
    world.raised(
        raiser=world.chair,
        with_agency=world.health,
        with_practitioner_username="",
        origin="care_review",
        start_stage=2,
        start_stage_reason="review",
    )
    world.raised()  # a practitioner's own concern: not in the section

    sign_in(client, world.chair)
    with clock.set_to(clock.now() + dt.timedelta(days=366)):  # the chair reads years that have ended
        page = client.get("/reports/iru/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>7</strong> escalations arose" in html
    origins = dict(page.context["sections"][0][1])
    assert origins["A child protection conference"] == "[c]"  # 6, withheld so the 1 cannot be worked out
    assert origins["A children-in-care review"] == "fewer than 5"
    assert "is not necessarily small" in html
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(
        verb=Verb.REPORT_VIEWED, actor=world.chair, payload__report="iru"
    ).exists()
    assert "IRU report" in [item["text"] for item in navigation_for(page.wsgi_request.roles, "/reports/iru/")]
    client.logout()

    sign_in(client, world.pdg_chair)
    full = dict(client.get("/reports/iru/").context["sections"][0][1])
    assert full == {"A child protection conference": 6, "A children-in-care review": 1}
    client.logout()
    sign_in(client, world.practitioner_health)
    assert client.get("/reports/iru/").status_code == 403
