"""The trail says what happened in plain words and names people: "opened the printable
record", not "printed"; a person's name, not "user 7"; on the auditor's page and in its export."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import audit_record
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_the_search_page_names_people_and_says_what_happened(client, world):
    e = world.raised()
    sign_in(client, world.practitioner_health)
    client.get(f"/escalations/{e.pk}/record/")
    client.get(f"/escalations/{e.pk}/follow-up/")  # refused: a read of a page it has not got
    audit_record(
        actor=world.admin,
        verb=Verb.PERSON_ROLES_CHANGED,
        target=world.practitioner_social,
        partnership_id=world.partnership.pk,
        payload={"person": world.practitioner_social.username, "fields": ["roles"]},
    )
    client.logout()
    sign_in(client, world.auditor)
    text = client.get("/audit/").content.decode()
    assert (
        "Opened the printable record for the agency&#x27;s file" in text
        or "Opened the printable record" in text
    )
    assert "Printed the record" not in text
    health = world.practitioner_health
    assert f"{health.get_full_name()} ({health.username})" in text  # who, by name
    social = world.practitioner_social
    assert f"{social.get_full_name()} ({social.username})" in text  # what it was about, by name
    assert f"user {social.pk}<" not in text and f"user {social.pk} " not in text


def test_an_escalations_pages_are_named_in_words(client, world):
    e = world.raised()
    audit_record(
        actor=world.practitioner_health,
        verb=Verb.ESCALATION_VIEWED,
        target=e,
        partnership_id=world.partnership.pk,
        payload={"reference": e.reference, "page": "raise_again"},
    )
    sign_in(client, world.auditor)
    text = client.get("/audit/", {"verb": Verb.ESCALATION_VIEWED}).content.decode()
    assert "Viewed an escalation: raising it again" in text


def test_the_export_says_it_in_words_too(client, world):
    e = world.raised()
    sign_in(client, world.practitioner_health)
    client.get(f"/escalations/{e.pk}/record/")
    client.logout()
    sign_in(client, world.auditor)
    body = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    printed = next(r for r in rows if r["verb"] == Verb.ESCALATION_PRINTED)
    assert printed["who"].startswith(world.practitioner_health.get_full_name())
    assert printed["what"] == "Opened the printable record for the agency's file"
    assert printed["about"] == e.reference


def test_the_page_costs_the_same_queries_however_many_people_it_names(client, world):
    sign_in(client, world.auditor)

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/audit/").status_code == 200
        return len(ctx)

    for person in (world.practitioner_health, world.manager_health):
        audit_record(
            actor=world.admin,
            verb=Verb.PERSON_DETAILS_CHANGED,
            target=person,
            partnership_id=world.partnership.pk,
            payload={"person": "x", "fields": ["name"]},
        )
    cost()  # so that each page measured chains one read first: the search it recorded
    few = cost()
    for person in (
        world.practitioner_social,
        world.manager_social,
        world.senior_social,
        world.practitioner_other,
    ):
        audit_record(
            actor=person,
            verb=Verb.PERSON_DETAILS_CHANGED,
            target=world.senior_health,
            partnership_id=world.partnership.pk,
            payload={"person": "x", "fields": ["name"]},
        )
    assert cost() == few
    assert AuditEvent.objects.count() > 6


def test_a_change_of_the_protocol_names_the_part_changed(client, world):
    audit_record(
        actor=world.admin,
        verb=Verb.PROTOCOL_CHANGED,
        target=world.partnership,
        partnership_id=world.partnership.pk,
        payload={"part": "formal_body", "version": 2},
    )
    sign_in(client, world.auditor)
    text = client.get("/audit/", {"verb": Verb.PROTOCOL_CHANGED}).content.decode()
    assert "Changed a part of the protocol: formal body" in text


def test_each_verb_says_what_happened_in_its_own_words():
    """The trail names each action apart: every verb has words, and no two read the same."""
    words = [str(label).strip() for label in Verb.labels]
    assert all(words)
    assert len(set(words)) == len(words)
