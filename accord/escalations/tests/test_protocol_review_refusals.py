"""What a review of the protocol refuses, because it would lose the stages' identity or move
open escalations where the protocol does not let them go (docs/protocol.md, "Stages keep
their identity across reviews"). Each refusal changes nothing."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accord.escalations import services
from accord.escalations.models import Escalation
from accord.escalations.protocol import protocol_apply
from accord.partnership.models import ProtocolVersion
from accord.partnership.protocol import document_of, ladder_of, preset

pytestmark = pytest.mark.django_db


def versions(world) -> int:
    return ProtocolVersion.objects.filter(partnership=world.partnership).count()


def test_a_move_named_for_a_stage_the_review_keeps_is_refused(world):
    """Moves are for the open escalations of a removed stage: naming a kept stage (a forged
    form, a mistyped --move) does not carry its escalations up the ladder unseen."""
    e = world.raised()
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][0]["routine_working_days"] += 1
    before = versions(world)
    with pytest.raises(ValidationError, match="only from a stage the review removes"):
        protocol_apply(
            actor=world.admin,
            partnership=world.partnership,
            document=document,
            moves={"practitioners": ladder_of(world.partnership).key_of(4)},
        )
    e.refresh_from_db()
    assert e.stage == 1 and versions(world) == before


def test_another_partnerships_document_keeping_none_of_the_stages_is_refused(world):
    """A document whose keys match none of the ladder's (another partnership's export) would
    remove every stage and fold every escalation's history onto the new first stage."""
    settled = world.at_stage_3()
    services.escalation_withdraw(actor=settled.raised_by, escalation=settled, reason="Settled.")
    document = preset("croydon")
    for n, s in enumerate(document["stages"], start=1):
        s["key"] = f"their-stage-{n}"
    with pytest.raises(ValidationError, match="keeps none of the ladder's stages"):
        protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    settled.refresh_from_db()
    assert settled.highest_stage == 3
    assert ladder_of(world.partnership).stage(3).key == "senior-leaders"


def test_a_new_partnership_without_escalations_may_take_a_ladder_of_its_own(world):
    document = preset("croydon")
    for n, s in enumerate(document["stages"], start=1):
        s["key"] = f"their-stage-{n}"
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    assert ladder_of(world.partnership).stage(1).key == "their-stage-1"


def test_a_review_that_puts_the_kept_stages_in_another_order_is_refused(world):
    e = world.at_stage_3()
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][1]["key"], document["stages"][2]["key"] = "senior-leaders", "line-management"
    with pytest.raises(ValidationError, match="in their order"):
        protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    e.refresh_from_db()
    assert e.stage == 3 and ladder_of(world.partnership).key_of(3) == "senior-leaders"


def test_open_escalations_of_a_removed_informal_stage_are_not_moved_into_a_formal_one(world):
    e = world.at_stage_3()
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"] = [s for s in document["stages"] if s["key"] != "senior-leaders"]
    document["stages"][-1]["number"] = 3
    with pytest.raises(ValidationError, match="not formal: choose a stage"):
        protocol_apply(
            actor=world.admin,
            partnership=world.partnership,
            document=document,
            moves={"senior-leaders": ladder_of(world.partnership).key_of(4)},
        )
    e.refresh_from_db()
    assert e.stage == 3 and e.formal_at is None and ladder_of(world.partnership).top == 4


def test_the_command_line_refuses_a_forged_move_in_plain_words(world, tmp_path):
    world.raised()
    path = tmp_path / "protocol.json"
    path.write_text(__import__("json").dumps(document_of(world.partnership)))
    with pytest.raises(CommandError, match="only from a stage the review removes"):
        call_command(
            "protocol",
            "import",
            "--partnership",
            world.partnership.slug,
            str(path),
            "--move",
            f"practitioners={ladder_of(world.partnership).key_of(2)}",
        )
    assert Escalation.objects.filter(partnership=world.partnership, stage=1).count() == 1


def test_the_notices_of_a_review_name_no_child_and_no_summary(world):
    """Everyone told of a review (sight lost or gained, action, a move) reads the reference,
    never the child's name or the difference's summary, in the email."""
    from accord.escalations.tests.test_protocol_review import open_everywhere
    from accord.notifications.models import Notification
    from accord.notifications.services import render_email

    opened = open_everywhere(world)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"] = [s for s in document["stages"] if s["key"] != "senior-leaders"]
    document["stages"][-1]["number"] = 3
    protocol_apply(
        actor=world.admin,
        partnership=world.partnership,
        document=document,
        moves={"senior-leaders": "line-management"},
    )
    told = list(Notification.objects.filter(key__startswith="protocol:"))
    assert told
    private = [
        text
        for e in opened.values()
        for text in (e.summary, *(c.name for c in e.children.all()))
        if text and len(text) > 3
    ]
    assert private
    for notice in told:
        subject, body = render_email(notice)
        assert not any(text in subject or text in body for text in private), notice.kind


def test_a_change_sent_twice_or_over_anothers_is_refused_under_the_lock(world):
    """The pages say which state of the protocol a change was made on; a change applied since
    (another officer's, or the same one sent twice) is caught under the partnership's lock,
    not only by the page's earlier look."""
    from accord.partnership.models import Partnership

    opened_on = Partnership.objects.get(pk=world.partnership.pk).protocol_version
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][0]["routine_working_days"] += 1
    protocol_apply(
        actor=world.admin, partnership=world.partnership, document=document, expect_version=opened_on
    )
    again = copy.deepcopy(document)
    again["stages"][1]["routine_working_days"] += 1
    with pytest.raises(ValidationError, match="Someone changed the protocol"):
        protocol_apply(
            actor=world.admin, partnership=world.partnership, document=again, expect_version=opened_on
        )
    assert versions(world) == 2
    assert ladder_of(world.partnership).stage(2).routine_working_days == 5
