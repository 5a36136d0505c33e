"""A facilitated stage (Portsmouth's "Re-think"): an appointed facilitator helps the
practitioners, beside them, before line management; the stage is not formal, the formal
body does not see it, and those who lead the stage appoint and end the appointment over the
page and the API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accord.api.tests.test_api import Api
from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Escalation
from accord.escalations.notices import NoticeKind
from accord.notifications.models import Notification
from accord.partnership.protocol import install_ladder, ladder_of, parse_document, preset
from accord.testing.auth import sign_in
from accord.testing.factories import World

pytestmark = pytest.mark.django_db


def sees(person, e) -> bool:
    return Escalation.objects.visible_to(person).filter(pk=e.pk).exists()


def test_portsmouths_rethink_is_facilitated_beside_the_practitioners_and_not_formal(client):
    world = World()
    install_ladder(world.partnership, preset("portsmouth"))
    ladder = ladder_of(world.partnership)
    assert ladder.is_facilitated(2) and not ladder.is_formal(2) and ladder.worked_by(2) == "practitioners"
    e = services.escalation_escalate(
        actor=world.practitioner_health, escalation=world.consulted(world.raised()), reason="Think again."
    )
    assert e.stage == 2 and e.formal_at is None
    assert not sees(world.pdg_member, e) and not sees(world.facilitator, e)

    # A practitioner does not appoint; the receiving agency's manager does, over the page.
    sign_in(client, world.practitioner_health)
    assert client.get(f"/escalations/{e.pk}/appoint-facilitator/").status_code == 403
    sign_in(client, world.manager_social)
    detail = client.get(f"/escalations/{e.pk}/").content.decode()
    assert "Appoint a facilitator for this stage" in detail
    answer = client.post(
        f"/escalations/{e.pk}/appoint-facilitator/",
        {"facilitator": world.facilitator.username, "note": "A Re-think conversation.", "version": e.version},
    )
    assert answer.status_code == 302, answer.content.decode()[:1500]
    e = Escalation.objects.get(pk=e.pk)
    assert sees(world.facilitator, e) and not sees(world.pdg_member, e)
    # Who holds the Re-think now: the named practitioners, and the facilitator beside them.
    holders = (
        Api(client, world.practitioner_health).get(f"/escalations/{e.pk}").json()["current_stage_holders"]
    )
    beside = [g for g in holders["groups"] if g["may"] == ["facilitate"]]
    assert [p["username"] for g in beside for p in g["people"]] == [world.facilitator.username]
    assert Notification.objects.filter(
        recipient=world.facilitator, kind=NoticeKind.FACILITATOR_APPOINTED
    ).exists()
    services.escalation_record_discussion(
        actor=world.facilitator, escalation=e, held_on=clock.today(), note="Both practitioners met with me."
    )

    # Not settled: the practitioner moves it on to line managers by the API; the appointment
    # made at the Re-think is ended by the raising agency's manager, also by the API.
    e = Escalation.objects.get(pk=e.pk)
    answer = Api(client, world.practitioner_health).post(
        f"/escalations/{e.pk}/escalate", {"reason": "Still not agreed."}, headers={"If-Match": str(e.version)}
    )
    assert answer.status_code == 200, answer.content
    e = Escalation.objects.get(pk=e.pk)
    assert e.stage == 3 and e.formal_at is None
    manager = Api(client, world.manager_health)
    again = manager.post(
        f"/escalations/{e.pk}/appoint-facilitator", {"facilitator": world.facilitator.username}
    )
    assert again.status_code == 409  # line managers' stage is not facilitated
    ended = manager.post(f"/escalations/{e.pk}/end-facilitation", {"reason": "The Re-think is over."})
    assert ended.status_code == 200, ended.content
    assert not sees(world.facilitator, e)


def test_the_api_appoints_at_a_facilitated_stage_and_refuses_a_practitioner_and_a_stranger(client):
    world = World()
    install_ladder(world.partnership, preset("portsmouth"))
    e = services.escalation_escalate(
        actor=world.practitioner_social, escalation=world.consulted(world.raised()), reason="Think again."
    )
    refused = Api(client, world.practitioner_health).post(
        f"/escalations/{e.pk}/appoint-facilitator", {"facilitator": world.facilitator.username}
    )
    assert refused.status_code == 403
    stranger = Api(client, world.manager_health).post(
        f"/escalations/{e.pk}/appoint-facilitator", {"facilitator": world.practitioner_other.username}
    )
    assert stranger.status_code in (400, 422) and "facilitator" in stranger.content.decode()
    made = Api(client, world.manager_health).post(
        f"/escalations/{e.pk}/appoint-facilitator", {"facilitator": world.facilitator.username}
    )
    assert made.status_code == 201, made.content
    assert "appoint_facilitator" in made.json()["allowed_actions"]


def test_a_facilitated_stage_is_the_parties_own_never_the_formal_bodys():
    document = preset("devon")
    document["stages"][3]["facilitated"] = True  # the PDG's formal stage
    with pytest.raises(ValidationError) as refused:
        parse_document(document)
    assert "facilitated stage is worked by the parties' own people" in str(refused.value)
    assert parse_document(preset("portsmouth")).stages[1].facilitated
