"""Every preset walked up its ladder through the pages and the partner API, as people use
them: the moves alternate between the escalate page and the API; at each stage every role
gets the escalation's page exactly when the ladder lets them see it (404 otherwise, as for
one that does not exist), the API answers the same, the stage's workers find it in "my
work", the page says who works the stage (and names the formal body at a formal stage),
and at the top the API offers "resolve" to exactly those the protocol lets record it. The
PDG figures then count it as having reached the formal stages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.html import escape

from accord.api.tests.test_api import Api
from accord.core import clock
from accord.escalations.models import Escalation
from accord.escalations.policies import AGENCY_TIERS, stage_holding
from accord.escalations.tests.test_presets import MOVER, WORKERS, expected_viewers
from accord.partnership.models import WorkedBy
from accord.partnership.protocol import install_ladder, ladder_of, preset
from accord.reports.selectors import Period, pdg_figures
from accord.testing.auth import sign_in
from accord.testing.factories import WORLD_ROLES, World
from accord.testing.presets import presets_by_shape

pytestmark = pytest.mark.django_db


def page_viewers(client, world, e) -> set[str]:
    seen = set()
    for name in WORLD_ROLES:
        sign_in(client, getattr(world, name))
        status = client.get(f"/escalations/{e.pk}/").status_code
        assert status in (200, 404), (name, status)
        if status == 200:
            seen.add(name)
    return seen


@pytest.mark.parametrize("name", presets_by_shape("ladder", "subject", "wales"))
def test_each_preset_through_the_pages_and_the_api(client, name):
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    sign_in(client, world.practitioner_health)
    start = client.get("/escalations/raise/").content.decode()
    for stage in ladder.stages:  # the raising page shows this partnership's own ladder
        assert stage.name in start, stage.name
    e = world.consulted(world.raised())
    apis = {}

    def api(role):
        if role not in apis:
            apis[role] = Api(client, getattr(world, role))
        return apis[role]

    for step, stage in enumerate(ladder.stages[1:]):
        current = ladder.stage(e.stage)
        mover = MOVER[current.worked_by]
        entering_formal = stage.formal and e.formal_at is None
        body = {
            "reason": f"Not settled at stage {current.number}.",
            "efforts_to_resolve": "Practitioners and managers met twice." if entering_formal else "",
        }
        if step % 2 == 0:
            sign_in(client, getattr(world, mover))
            form = {**body, "to_stage": stage.number, "skip_reason": "", "version": e.version}
            response = client.post(f"/escalations/{e.pk}/escalate/", form)
            assert response.status_code == 302, response.content.decode()[:2000]
        else:
            response = api(mover).post(
                f"/escalations/{e.pk}/escalate", body, headers={"If-Match": str(e.version)}
            )
            assert response.status_code == 200, response.content
        e = Escalation.objects.get(pk=e.pk)
        assert e.stage == stage.number
        expected = expected_viewers(ladder, stage.number)
        assert page_viewers(client, world, e) == expected, stage
        for role in ("pdg_member", "senior_social", "manager_other"):
            status = api(role).get(f"/escalations/{e.pk}").status_code
            assert status == (200 if role in expected else 404), (role, stage)
        workers = WORKERS[stage.worked_by]
        for role in workers:
            sign_in(client, getattr(world, role))
            assert e.reference in client.get("/").content.decode(), (role, stage)  # my work
        sign_in(client, world.practitioner_health)
        detail = client.get(f"/escalations/{e.pk}/").content.decode()
        if stage.formal:
            assert escape(ladder.formal_body_name) in detail
        if stage.worked_by not in (WorkedBy.PRACTITIONERS, WorkedBy.FORMAL_BODY):
            assert f"{WorkedBy(stage.worked_by).label} of each agency work to settle it" in detail

    # At the top: the API offers "resolve" to those the protocol lets record the outcome.
    resolvers = {
        role
        for role in WORLD_ROLES
        if role in expected_viewers(ladder, ladder.top)
        and "resolve" in api(role).get(f"/escalations/{e.pk}").json()["allowed_actions"]
    }
    assert bool({"pdg_member", "pdg_chair"} & resolvers) == ladder.decides_at(ladder.top)
    # Of the agencies' people, those who hold the top stage (rule 2): its tier and those
    # above it (a formal body's stage is held by the tier of the stage below it).
    holding = stage_holding(ladder, ladder.top)
    holders = set().union(*(WORKERS[t] for t in AGENCY_TIERS[AGENCY_TIERS.index(holding.tier) :]))
    assert resolvers - {"pdg_member", "pdg_chair"} == {"manager_health", "manager_social"} & holders | (
        {"senior_health", "senior_social"} & holders & expected_viewers(ladder, ladder.top)
    )
    assert "facilitator" not in resolvers

    today = clock.today()
    figures = pdg_figures(world.partnership, Period(today - dt.timedelta(days=30), today))
    reached_formal = sum(n for stage, n in figures.by_stage_reached.items() if stage >= ladder.formal_from)
    assert figures.total == 1 and reached_formal == 1
