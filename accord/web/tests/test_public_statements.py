"""What a public body publishes: the accessibility statement, in the form of GOV.UK's sample,
and the privacy notice, open to anyone, linked from every page and kept by the business unit
(audited)."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import PublicStatement
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_anyone_reads_them_and_every_page_links_to_them(client, world):
    for path in ("/accessibility/", "/privacy/"):
        page = client.get(path, {"partnership": world.partnership.slug})
        assert page.status_code == 200, path
    statement = client.get("/accessibility/", {"partnership": world.partnership.slug}).content.decode()
    for heading in (
        "How accessible this service is",
        "Feedback and contact information",
        "Enforcement procedure",
        "Compliance status",
        "Preparation of this accessibility statement",
    ):
        assert heading in statement
    assert "partially compliant" in statement and "has not yet been reviewed" in statement
    login = client.get("/login/").content.decode()
    assert 'href="/accessibility/"' in login and 'href="/privacy/"' in login
    sign_in(client, world.practitioner_health)
    assert 'href="/accessibility/"' in client.get("/").content.decode()


def test_the_business_unit_keeps_them_audited(client, world):
    sign_in(client, world.admin)
    assert client.get("/business-unit/statements/").status_code == 200
    saved = client.post(
        "/business-unit/statements/",
        {
            "compliance": "partial",
            "known_issues": "The settings site's older pages do not yet meet WCAG 2.2 AA: fixed by March 2027.",
            "contact_email": "access@partnership.example",
            "contact_phone": "01392 000000",
            "last_tested-day": "30",
            "last_tested-month": "11",
            "last_tested-year": "2026",
            "last_reviewed-day": "1",
            "last_reviewed-month": "12",
            "last_reviewed-year": "2026",
            "privacy_notice": "The partnership is the controller of the information in Accord.",
            "data_protection_contact": "dpo@partnership.example",
        },
    )
    assert saved.status_code == 302
    statement = PublicStatement.objects.get(partnership=world.partnership)
    assert statement.last_reviewed == dt.date(2026, 12, 1)
    assert AuditEvent.objects.filter(verb=Verb.STATEMENT_CHANGED, actor=world.admin).exists()
    shown = client.get("/accessibility/").content.decode()
    assert (
        "fixed by March 2027" in shown
        and "access@partnership.example" in shown
        and "1 December 2026" in shown
    )
    assert "controller of the information" in client.get("/privacy/").content.decode()
    bad = client.post("/business-unit/statements/", {"compliance": "somewhat", "contact_email": "nope"})
    assert bad.status_code == 200 and "govuk-error-summary" in bad.content.decode()
    client.logout()
    sign_in(client, world.manager_health)
    assert client.get("/business-unit/statements/").status_code == 403
