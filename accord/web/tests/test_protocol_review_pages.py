"""The year's review on the business unit's pages, as an outsider would try them: a file
checked before someone else changed the protocol, a forged choice of where escalations go,
and another partnership's business unit."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.api.services import api_token_create
from accord.escalations.models import Escalation
from accord.escalations.protocol import protocol_apply
from accord.partnership.models import ProtocolVersion, Role, RoleAssignment, Stage
from accord.partnership.protocol import document_of, ladder_of
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
UPLOAD = "/business-unit/settings/protocol/upload/"


def upload(client, document: dict):
    return client.post(UPLOAD, {"file": SimpleUploadedFile("p.json", json.dumps(document).encode())})


def test_a_file_checked_before_someone_else_changed_the_protocol_is_not_applied_over_it(client, world):
    world.raised()
    sign_in(client, world.admin)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][0]["routine_working_days"] = 3
    checked = upload(client, document)
    file_hash = checked.context["file_hash"]

    other = UserFactory(username="second.officer", roles=[(world.partnership, Role.BUSINESS_UNIT)])
    meanwhile = copy.deepcopy(document_of(world.partnership))
    meanwhile["stages"][1]["routine_working_days"] = 9
    protocol_apply(actor=other, partnership=world.partnership, document=meanwhile)

    stale = client.post(UPLOAD, {"apply": file_hash, "confirm_moved_due_dates": "on"}, follow=True)
    assert "Someone changed the protocol since you checked this file" in stale.content.decode()
    assert Stage.objects.get(partnership=world.partnership, number=2).routine_working_days == 9
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
    assert ProtocolVersion.objects.filter(partnership=world.partnership).count() == 2


def test_a_forged_choice_moving_a_kept_stages_escalations_is_refused_on_the_page(client, world):
    e = world.raised()
    sign_in(client, world.admin)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][0]["routine_working_days"] = 3
    file_hash = upload(client, document).context["file_hash"]
    forged = client.post(
        UPLOAD,
        {
            "apply": file_hash,
            "confirm_moved_due_dates": "on",
            "move_practitioners": ladder_of(world.partnership).key_of(3),
        },
    )
    assert forged.status_code == 200
    assert "only from a stage the review removes" in forged.content.decode()
    assert Escalation.objects.get(pk=e.pk).stage == 1


def test_another_partnerships_business_unit_sharing_a_person_cannot_review_this_protocol(
    client, world, neighbour
):
    """The neighbour's business unit officer, also a practitioner here (a shared person):
    working in this partnership they may neither see nor change its protocol, nor read its
    versions through the API by naming it."""
    officer = neighbour.admin
    RoleAssignment.objects.create(user=officer, partnership=world.partnership, role=Role.PRACTITIONER)
    sign_in(client, officer)
    client.get(f"/?partnership={world.partnership.slug}")
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][0]["routine_working_days"] = 3
    assert upload(client, document).status_code == 403
    assert client.get("/business-unit/settings/protocol/versions/").status_code == 403
    _token, token = api_token_create(actor=None, user=officer)
    for path in ("/api/v1/protocol/versions", "/api/v1/protocol/versions/1"):
        api = client.get(f"{path}?partnership={world.partnership.slug}", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.status_code == 403, path
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
    # Working in their own partnership, a file checked there is never applied here.
    client.get(f"/?partnership={neighbour.partnership.slug}")
    file_hash = upload(client, document).context["file_hash"]
    client.get(f"/?partnership={world.partnership.slug}")
    assert client.post(UPLOAD, {"apply": file_hash, "confirm_moved_due_dates": "on"}).status_code == 403
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5


def test_using_a_file_that_removes_a_stage_without_choosing_for_its_escalations_asks_again(client, world):
    """Pressing "Use this protocol" before choosing where a removed stage's open escalations
    will stand is a refusal on the page, with the choice offered again (not an error page)."""
    e = world.at_stage_3()
    sign_in(client, world.admin)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"] = [s for s in document["stages"] if s["key"] != "senior-leaders"]
    document["stages"][-1]["number"] = 3
    checked = upload(client, document)
    assert 'name="move_senior-leaders"' in checked.content.decode()
    unchosen = client.post(UPLOAD, {"apply": checked.context["file_hash"], "move_senior-leaders": ""})
    html = unchosen.content.decode()
    assert unchosen.status_code == 200 and "choose the stage they will stand at" in html
    assert 'name="move_senior-leaders"' in html
    assert Escalation.objects.get(pk=e.pk).stage == 3
