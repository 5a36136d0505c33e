"""The URL permission matrix's stage dimension (rule 2): on every preset, at every stage of
its ladder, each role's answer on the stage's action pages and in the partner API. Only
those who hold a stage act at it: leave it (escalate or skip), record its outcome, pause it,
hand a part on; the formal body only where it directs next steps at a stage it works."""

from __future__ import annotations

import pytest

from accord.api.tests.test_api import Api
from accord.core import clock
from accord.escalations.models import Escalation, Guest, GuestState
from accord.escalations.policies import allowed_actions
from accord.escalations.tests.test_presets import (
    STAGE_ACTION_LEADERS_ONLY,
    expected_viewers,
    may_at_stage,
    walk,
)
from accord.partnership.models import User
from accord.partnership.protocol import install_ladder, ladder_of, preset, preset_names
from accord.testing.auth import sign_in
from accord.testing.factories import WORLD_ROLES, World
from accord.testing.presets import presets_by_shape

pytestmark = pytest.mark.django_db

PAGES = {"escalate": "escalate", "resolve": "resolve", "pause": "pause", "reassign": "reassign"}


@pytest.mark.parametrize("name", presets_by_shape("ladder"))
def test_stage_action_pages_and_api_at_every_stage(client, name):
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    apis = {}
    wrong = {}
    for e in walk(world, ladder):
        viewers = expected_viewers(ladder, e.stage) | (
            {"pdg_member", "pdg_chair"} if ladder.is_formal(e.stage) else set()
        )
        for role in WORLD_ROLES:
            sign_in(client, getattr(world, role))
            if role not in apis:
                apis[role] = Api(client, getattr(world, role))
            detail = apis[role].get(f"/escalations/{e.pk}")
            offered = set(detail.json()["allowed_actions"]) if detail.status_code == 200 else set()
            for action, page in PAGES.items():
                status = client.get(f"/escalations/{e.pk}/{page}/").status_code
                if role not in viewers:
                    want = 404
                else:
                    want = 200 if may_at_stage(ladder, e.stage, role, action) else 403
                if status != want:
                    wrong[(e.stage, role, action, "page")] = (status, want)
                if (action in offered) != (want == 200):
                    wrong[(e.stage, role, action, "api")] = (action in offered, want == 200)
    assert set(STAGE_ACTION_LEADERS_ONLY) == set(PAGES)
    assert not wrong, f"{name}: (got, expected) {wrong}"


SENIOR_PRESETS = [
    n for n in preset_names() if any(s["worked_by"] == "senior_leaders" for s in preset(n)["stages"])
]


def test_every_preset_but_one_has_a_senior_leaders_stage():
    assert set(preset_names()) - set(SENIOR_PRESETS) == {"st-helens"}


@pytest.mark.parametrize("name", presets_by_shape("ladder", among=SENIOR_PRESETS))
def test_a_manager_cannot_leave_or_settle_a_senior_leaders_stage_and_a_senior_leader_can(client, name):
    """Over the page and the API, a manager of a party's agency is refused escalating out of
    the senior leaders' stage and recording its outcome, told who holds it in the
    partnership's own name for the stage; a senior leader of the same agency does both."""
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    e = next(e for e in walk(world, ladder) if ladder.stage(e.stage).worked_by == "senior_leaders")
    stage = ladder.stage(e.stage)
    said = (
        f"Stage {stage.number} ({stage.name}) is held by the senior leaders of the agencies in the difference"
    )
    escalate = {
        "reason": "Managers want it higher.",
        "efforts_to_resolve": "Met twice.",
        "to_stage": e.stage + 1,
    }
    resolve = {
        "outcome": "agreed_way_forward",
        "agreed_way_forward": "A joint visit.",
        "child_centred_outcome_achieved": "yes",
    }
    for manager in (world.manager_health, world.manager_social):
        sign_in(client, manager)
        for page, form in (("escalate", escalate), ("resolve", resolve)):
            answer = client.post(
                f"/escalations/{e.pk}/{page}/", {**form, "skip_reason": "", "version": e.version}
            )
            assert answer.status_code == 403 and said in answer.content.decode(), (page, answer.status_code)
        api = Api(client, manager)
        for path, body in (("escalate", escalate), ("resolve", resolve)):
            answer = api.post(f"/escalations/{e.pk}/{path}", body)
            assert answer.status_code == 403 and said in answer.json()["detail"], answer.content
    fresh = type(e).objects.get(pk=e.pk)
    assert (fresh.stage, fresh.status, fresh.version) == (e.stage, "open", e.version)

    # The senior leader escalates over the page; the other agency's records the outcome by the API.
    sign_in(client, world.senior_health)
    answer = client.post(
        f"/escalations/{e.pk}/escalate/", {**escalate, "skip_reason": "", "version": e.version}
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    e = type(e).objects.get(pk=e.pk)
    assert e.stage == stage.number + 1
    if ladder.stage(e.stage).worked_by == "senior_leaders":  # still theirs (Croydon, West Yorkshire)
        answer = Api(client, world.manager_social).post(f"/escalations/{e.pk}/resolve", resolve)
        assert answer.status_code == 403
    answer = Api(client, world.senior_social).post(f"/escalations/{e.pk}/resolve", resolve)
    assert answer.status_code == 200, answer.content
    assert type(e).objects.get(pk=e.pk).status == "resolved"


LEADER_GUESTS = {"managers": "manager_social", "senior_leaders": "senior_social"}
NEVER_A_GUESTS = (
    "reassign",
    "change_parties",
    "appoint_facilitator",
    "end_facilitation",
    "pdg_act",
    "withdraw",
)


@pytest.mark.parametrize("name", presets_by_shape("ladder"))
def test_a_guest_acting_as_an_agencys_leader_holds_the_stages_that_leader_holds(name):
    """On every preset, from the first stage their tier works (where they can first be named)
    to the top: a confirmed guest acting as social care's manager (or senior leader) may leave,
    settle and pause a stage exactly where social care's own manager (or senior leader) may,
    sees it throughout, and never reassigns, changes the parties, appoints or ends a
    facilitator, withdraws it, or acts as the formal body."""
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    accounts = {}
    wrong = {}
    for e in walk(world, ladder):
        for tier in LEADER_GUESTS:
            first = ladder.sees_from(tier)
            if tier not in accounts and first is not None and e.stage >= first:
                account = User.objects.create(
                    username=f"guest-{tier}", email=f"{tier}@nhs.net", agency=world.social, is_active=False
                )
                Guest.objects.create(
                    escalation=e,
                    agency=world.social,
                    email=account.email,
                    account=account,
                    named_by=world.manager_health,
                    named_at=clock.now(),
                    link_hash=f"matrix-{tier}",
                    state=GuestState.CONFIRMED,
                    tier=tier,
                )
                accounts[tier] = account
        fresh = Escalation.objects.get(pk=e.pk)
        for tier, account in accounts.items():
            like = LEADER_GUESTS[tier]
            got = allowed_actions(User.objects.get(pk=account.pk), fresh)
            if "record_discussion" not in got:
                wrong[(e.stage, tier, "record_discussion")] = (False, True)
            for action in ("escalate", "resolve", "pause"):
                want = may_at_stage(ladder, e.stage, like, action)
                if (action in got) != want:
                    wrong[(e.stage, tier, action)] = (action in got, want)
            for action in NEVER_A_GUESTS:
                if action in got:
                    wrong[(e.stage, tier, action)] = (True, False)
    assert accounts.keys() == {t for t in LEADER_GUESTS if ladder.sees_from(t) is not None}, (
        "a tier no stage works names nobody"
    )
    assert not wrong, f"{name}: (got, expected) {wrong}"
