"""Several short reads in one statement (``read_together``), and what a request keeps while
it only reads (``request_memo``)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accord.core import clock, request_memo
from accord.core.together import read_together
from accord.escalations import services
from accord.escalations.models import FollowUp
from accord.escalations.services import PartyDetails

pytestmark = pytest.mark.django_db


def _querysets(e):
    return [
        e.events.select_related("actor", "actor__agency").order_by("-at", "-id"),
        e.discussions.select_related("recorded_by"),
        e.children.all(),  # encrypted at rest: decrypted as a queryset's are
        e.documents.all(),
        e.themes.all(),
        e.areas_of_disagreement.all(),
        e.pdg_actions.select_related("facilitator", "recorded_by"),  # none: an empty list
        e.resolutions.select_related("resolved_by", "follow_up__answered_by").order_by("-resolved_at"),
        FollowUp.objects.filter(Q(raised_again=e) | Q(escalation=e)).select_related("escalation"),
        e.guests.select_related("agency").order_by("named_at", "id"),
    ]


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_read_together_gives_what_each_queryset_gives_in_one_statement(world):
    e = world.at_stage_2(other_parties=[PartyDetails(world.other.pk)])
    for i in range(3):
        services.escalation_add_document(
            actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile(f"{i}.txt", b"x")
        )
        services.escalation_record_discussion(
            actor=world.manager_health, escalation=e, held_on=clock.today(), note=f"Spoke {i}"
        )
    expected = [list(qs) for qs in _querysets(e)]
    assert all(expected[n] for n in (0, 1, 2, 3, 4)) and not expected[6]

    with CaptureQueriesContext(connection) as ctx:
        found = read_together(*_querysets(e))
        # What was read with them is at hand: no statement to reach it.
        for event in found[0]:
            assert event.actor.username and event.escalation is e
            str(event.actor.agency)
        for discussion in found[1]:
            assert discussion.recorded_by.username
    assert len(ctx.captured_queries) == 1

    assert [[_fields(o) for o in objs] for objs in found] == [[_fields(o) for o in objs] for objs in expected]
    assert [c.name for c in found[2]] == [c.name for c in expected[2]]  # decrypted
    assert [ev.pk for ev in found[0]] == sorted((ev.pk for ev in found[0]), reverse=True)


def test_a_bracketed_select_is_a_read_and_forgets_nothing_kept():
    """A ``UNION`` on PostgreSQL starts with a bracket: it is a read, as any ``SELECT``; a
    write forgets what was kept."""

    def execute(*args):
        return None

    token = request_memo._kept.set({})
    try:
        request_memo.remembered("k", lambda: "kept")
        request_memo._forget_on_write(execute, '(SELECT 1 FROM "t") UNION ALL (SELECT 2)', (), False, {})
        assert request_memo._kept.get() == {"k": "kept"}
        request_memo._forget_on_write(execute, 'UPDATE "t" SET a = 1', (), False, {})
        assert request_memo._kept.get() == {}
    finally:
        request_memo._kept.reset(token)
