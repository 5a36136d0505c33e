"""The year's review on the business unit's pages, as an outsider would try them: a file
checked before someone else changed the protocol, a forged choice of where escalations go,
and another partnership's business unit."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from accord.api.services import api_token_create
from accord.escalations.models import Escalation
from accord.escalations.protocol import protocol_apply
from accord.partnership.models import Partnership, ProtocolVersion, Role, RoleAssignment, Stage
from accord.partnership.protocol import document_of, ladder_of
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
UPLOAD = "/business-unit/settings/protocol/upload/"


def fresh(world) -> Partnership:
    """The partnership as the pages left it (its ladder read afresh)."""
    return Partnership.objects.get(pk=world.partnership.pk)


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
            "move_practitioners": ladder_of(fresh(world)).key_of(3),
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


STAGES = "/business-unit/settings/protocol/stages"


def test_a_stage_inserted_after_the_first_on_the_settings_page_keeps_every_open_escalation(client, world):
    """The year's review from the settings pages, with escalations open at every stage: a stage
    added above the first lists every open escalation it renumbers, saves once ticked, and each
    stands on the stage it stood on, by name, due when it was; last year's figures hold."""
    from accord.escalations.tests.test_protocol_review import figures_by_name, open_everywhere, standing

    opened = open_everywhere(world)
    before, figures = standing(fresh(world)), figures_by_name(fresh(world))
    due = {e.reference: Escalation.objects.get(pk=e.pk).due_date for e in opened.values()}
    sign_in(client, world.admin)
    page = client.get(f"{STAGES}/new/").content.decode()
    assert "Above stage 1, Practitioners" in page
    data = {
        "after": "1",
        "name": "Team conversation",
        "worked_by": "practitioners",
        "routine_working_days": "3",
        "urgent_working_days": "1",
    }
    listed = client.post(f"{STAGES}/new/", data)
    html = listed.content.decode()
    assert listed.status_code == 200 and "Nothing has been saved" in html
    for e in opened.values():
        if e.stage > 1:
            assert e.reference in html
    assert "4: Senior leaders" in html and "Team conversation" in html
    saved = client.post(f"{STAGES}/new/", data | {"confirm_moved_due_dates": "on"})
    assert saved.status_code == 302
    ladder = ladder_of(fresh(world))
    assert (ladder.name_of(2), ladder.key_of(3)) == ("Team conversation", "line-management")
    assert standing(fresh(world)) == before
    assert {e.reference: Escalation.objects.get(pk=e.pk).due_date for e in opened.values()} == due
    assert figures_by_name(fresh(world)) == figures
    assert ProtocolVersion.objects.filter(partnership=world.partnership).count() == 2


def test_a_middle_stage_removed_on_the_settings_page_moves_its_escalations_where_chosen(client, world):
    from accord.escalations.tests.test_protocol_review import figures_by_name, open_everywhere

    opened = open_everywhere(world)
    figures = figures_by_name(fresh(world))
    sign_in(client, world.admin)
    page = client.get(f"{STAGES}/3/remove/").content.decode()
    assert opened["senior-leaders"].reference in page
    assert 'value="line-management"' in page and 'value="formal' not in page  # not formal: not offered
    unchosen = client.post(f"{STAGES}/3/remove/", {})
    assert "Select where the open escalations will stand" in unchosen.content.decode()
    data = {"move_to": "line-management"}
    listed = client.post(f"{STAGES}/3/remove/", data)
    html = listed.content.decode()
    assert (
        "3: Senior leaders" in html
        and "2: Line management" in html
        and escape(world.senior_social.get_full_name()) in html
    )
    assert client.post(f"{STAGES}/3/remove/", data | {"confirm_moved_due_dates": "on"}).status_code == 302
    moved = Escalation.objects.get(pk=opened["senior-leaders"].pk)
    assert moved.stage == 2 and ladder_of(fresh(world)).name_of(2) == "Line management"
    formal = Escalation.objects.get(pk=opened["formal"].pk)
    assert formal.stage == 3 and ladder_of(fresh(world)).is_formal(3)
    assert figures_by_name(fresh(world))["formal"] == figures["formal"]
    forged = client.post(f"{STAGES}/2/remove/", {"move_to": "no-such-stage"})
    assert forged.status_code == 200 and Escalation.objects.get(pk=moved.pk).stage == 2


def test_the_annual_reports_stage_reached_names_each_stage_across_a_review(world):
    """Last year's "stage reached" after a stage was inserted below senior leaders: the same
    count, under the stage's new number and its name, so a reader sees it is the same stage."""
    from accord.core import clock
    from accord.escalations.tests.test_protocol_review import at, with_stage_inserted_after_first
    from accord.reports.annual import annual_tables

    with clock.set_to(at(2025, 6, 2)):
        world.at_stage_3()

    def reached(year=2025):
        with clock.set_to(at(2026, 6, 1)):
            tables = annual_tables(fresh(world), year, full=True)["tables"]
        return {label: n for key, _title, rows in tables if key == "stage" for label, n in rows if n}

    assert reached() == {"Stage 3: Senior leaders": 1}
    protocol_apply(
        actor=world.admin,
        partnership=world.partnership,
        document=with_stage_inserted_after_first(document_of(world.partnership)),
    )
    assert reached() == {"Stage 4: Senior leaders": 1}
