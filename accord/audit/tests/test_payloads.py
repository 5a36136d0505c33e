"""Each audit verb's payload has its schema: every verb has one, a payload that does not fit
is refused in the tests (and only logged in a running deployment, the entry still written),
and none of the schemas has a field for a child's name or an account of the difference."""

from __future__ import annotations

import logging

import pytest

from accord.audit.models import AuditEvent, Verb
from accord.audit.payloads import LEGACY, SCHEMAS, PayloadMismatch, check_payload
from accord.audit.services import audit_record, audit_verify
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_every_verb_has_a_schema_but_those_kept_for_old_entries():
    assert set(SCHEMAS) | LEGACY == set(Verb.values)
    assert not set(SCHEMAS) & LEGACY


def test_a_legacy_verb_is_not_written_but_its_old_entries_read_and_verify(client, world, settings, caplog):
    with pytest.raises(PayloadMismatch, match="kept only for entries written before"):
        audit_record(actor=world.admin, verb=Verb.CONFIGURATION_CHANGED, payload={"fields": ["name"]})
    assert not AuditEvent.objects.exists()
    # An entry written before each change had its own verb (here as a running deployment
    # would still write one, logging it): it stays in the chain and reads in words.
    settings.ACCORD_AUDIT_STRICT = False
    with caplog.at_level(logging.ERROR, logger="accord.audit"):
        audit_record(
            actor=world.admin,
            verb=Verb.CONFIGURATION_CHANGED,
            target=world.partnership,
            partnership_id=world.partnership.pk,
            payload={"action": "agency_changed", "agency": "Wessex Housing", "fields": ["name"]},
        )
    assert "kept only for entries written before" in caplog.text
    audit_record(
        actor=world.admin,
        verb=Verb.AGENCY_CHANGED,
        target=world.partnership,
        partnership_id=world.partnership.pk,
        payload={"agency": "Wessex Housing", "fields": ["name"]},
    )
    assert audit_verify() == (True, None)
    sign_in(client, world.auditor)
    text = client.get("/audit/").content.decode()
    assert "Changed the configuration" in text
    assert "Changed an agency" in text


def test_a_payload_that_does_not_fit_is_refused_in_the_tests(world):
    with pytest.raises(PayloadMismatch, match="does not fit"):
        audit_record(actor=world.admin, verb=Verb.RESOLVED, payload={"reference": "X-1", "action": "resolve"})
    with pytest.raises(PayloadMismatch, match="does not fit"):
        audit_record(
            actor=world.admin,
            verb=Verb.ESCALATED,
            payload={"reference": "X-1", "action": "escalate", "to_stage": 2, "child": "Zebedee"},
        )
    assert not AuditEvent.objects.exists()
    audit_record(
        actor=world.admin,
        verb=Verb.ESCALATED,
        payload={"reference": "X-1", "action": "escalate", "to_stage": 2},
    )
    assert AuditEvent.objects.count() == 1


def test_a_running_deployment_writes_the_entry_and_logs_the_mismatch(world, settings, caplog):
    settings.ACCORD_AUDIT_STRICT = False
    with caplog.at_level(logging.ERROR, logger="accord.audit"):
        audit_record(actor=world.admin, verb=Verb.RESOLVED, payload={"reference": "X-1"})
    assert AuditEvent.objects.filter(verb=Verb.RESOLVED).exists()
    assert "does not fit its schema" in caplog.text


def test_no_schema_has_a_field_for_a_childs_details_or_an_account():
    forbidden = {
        "name",
        "date_of_birth",
        "agency_reference",
        "concern",
        "evidence",
        "reflection",
        "summary",
        "note",
    }
    for verb, schema in SCHEMAS.items():
        assert not forbidden & set(schema.model_fields), verb
    check_payload(Verb.LOGIN, {})
