"""The business unit's imports through the API, as on its pages: checked first with the file's
own words listed (each with the one it names or the closest), rows still open listed with
their stages and due dates, nothing written until asked and, for open rows, confirmed."""

from __future__ import annotations

import base64
import json

import pytest

from accord.api.services import api_token_create
from accord.audit.models import AuditEvent, Verb
from accord.escalations.models import Escalation
from accord.partnership.models import User

pytestmark = pytest.mark.django_db


def post(client, user, path, body):
    _, token = api_token_create(actor=None, user=user)
    return client.post(
        f"/api/v1{path}",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_the_earlier_log_is_checked_then_brought_in_with_its_open_rows_confirmed(client, world):
    short = " ".join(world.health.name.split()[:2])
    log = (
        "reference,raising_agency,with_agency,raised_on,closed_on,stage_reached,outcome,kind\n"
        f"A-1,{world.health.name},{world.social.name},03/02/2025,20/02/2025,2,decision_changed,case\n"
        f"A-2,{world.social.name},{short},03/02/2025,,Level 2,,case\n"
    )
    body = {"filename": "log.csv", "content_base64": encoded(log)}
    checked = post(client, world.admin, "/imports/escalations", body)
    assert checked.status_code == 200, checked.content
    answer = checked.json()
    assert not answer["ok"] and answer["imported"] is None
    words = {(w["kind"], w["raw"]): w for w in answer["words"]}
    assert (
        words[("agency", short)]["suggested"] == world.health.name
        and words[("agency", short)]["exact"] is None
    )
    stage_2 = world.partnership.stages.get(number=2).key
    assert words[("stage", "Level 2")]["suggested"] == stage_2

    mapping = {
        "columns": {
            name: name
            for name in (
                "reference",
                "raising_agency",
                "with_agency",
                "raised_on",
                "closed_on",
                "stage_reached",
                "outcome",
                "kind",
            )
        },
        "values": {"agency": {short: world.health.name}, "stage": {"Level 2": stage_2}},
    }
    body |= {"mapping": mapping}
    planned = post(client, world.admin, "/imports/escalations", body).json()
    assert planned["ok"], planned
    (still_open,) = [r for r in planned["rows"] if r["still_open"]]
    assert still_open["stage"] == 2 and still_open["stage_key"] == stage_2 and still_open["due_date"]
    unconfirmed = post(client, world.admin, "/imports/escalations", body | {"dry_run": False})
    assert unconfirmed.status_code == 422, unconfirmed.content
    assert "confirm where each" in " ".join(unconfirmed.json()["problems"])
    assert not Escalation.objects.exists()
    done = post(client, world.admin, "/imports/escalations", body | {"dry_run": False, "confirm_open": True})
    assert done.status_code == 201 and done.json()["imported"]
    e = Escalation.objects.get(imported_reference="A-2")
    assert (e.status, e.stage, str(e.due_date)) == ("open", 2, still_open["due_date"])
    # The import's entry, and one on the escalation brought in open, which runs in Accord.
    assert AuditEvent.objects.filter(verb=Verb.ESCALATIONS_IMPORTED).count() == 2
    # Someone else is refused, by the service; a body that is not base64 is said so.
    assert post(client, world.manager_health, "/imports/escalations", body).status_code == 403
    assert (
        post(client, world.admin, "/imports/escalations", body | {"content_base64": "%%%"}).status_code == 400
    )


def test_people_are_checked_their_words_confirmed_then_applied(client, world):
    short = " ".join(world.health.name.split()[:2])
    sheet = (
        f"name,email,agency,roles,line_manager_email\nAna Roles,ana@health.example,{short},Practitioner,\n"
    )
    body = {"filename": "people.csv", "content_base64": encoded(sheet)}
    checked = post(client, world.admin, "/imports/people", body).json()
    assert not checked["ok"] and checked["words"] == [
        {"kind": "agency", "raw": short, "suggested": world.health.name}
    ]
    body |= {"words": {"agency": {short: world.health.name}}, "dry_run": False}
    done = post(client, world.admin, "/imports/people", body)
    assert done.status_code == 201 and done.json()["counts"]["create"] == 1
    assert User.objects.get(email="ana@health.example").agency == world.health


@pytest.mark.parametrize("name", ["devon", "croydon"])
def test_the_dry_run_says_who_will_work_each_open_row_and_one_nobody_would_is_refused(client, world, name):
    """As the page: each row still open with who will work it (role and agency), one that
    nobody would see or work refused with a 422 and its row's problem; once someone holds it,
    brought in, answering those still open the caller may open."""
    from accord.partnership.models import Role
    from accord.partnership.protocol import install_ladder, preset
    from accord.testing.factories import AgencyFactory, UserFactory

    install_ladder(world.partnership, preset(name))
    police = AgencyFactory(name="Testshire Police", partnerships=[world.partnership])
    log = (
        "reference,raising_agency,with_agency,raised_on,closed_on,stage_reached,outcome,kind\n"
        f"H-1,{world.health.name},{police.name},03/02/2025,,1,,case\n"
        f"H-2,{world.health.name},{police.name},03/02/2025,,2,,case\n"
    )
    body = {"filename": "log.csv", "content_base64": encoded(log)}
    checked = post(client, world.admin, "/imports/escalations", body).json()
    rows = {r["reference"]: r for r in checked["rows"]}
    assert not checked["ok"] and rows["H-1"]["holders"] == []
    assert rows["H-1"]["nobody"] == [{"agency": police.name, "role": "manager or safeguarding lead"}]
    assert (
        "Nobody at Testshire Police holds the manager or safeguarding lead role: add them first"
        in " ".join(rows["H-1"]["errors"])
    )
    assert rows["H-2"]["holders"] == [
        {"agency": world.health.name, "role": "Manager or safeguarding lead", "people": 1}
    ]
    assert rows["H-2"]["still_open"] and "nobody there will see or work it" in rows["H-2"]["warnings"][0]
    refused = post(
        client, world.admin, "/imports/escalations", body | {"dry_run": False, "confirm_open": True}
    )
    assert refused.status_code == 422, refused.content
    assert any("add them first" in e for r in refused.json()["rows"] for e in r["errors"])
    assert not Escalation.objects.exists()

    UserFactory(agency=police, roles=[(world.partnership, Role.MANAGER)])
    done = post(client, world.admin, "/imports/escalations", body | {"dry_run": False, "confirm_open": True})
    assert done.status_code == 201, done.content
    # The business unit leads nowhere: rule 7 lets it open none of them.
    assert done.json()["open_escalations"] == []
    assert Escalation.objects.filter(imported_reference__in=["H-1", "H-2"], status="open").count() == 2
