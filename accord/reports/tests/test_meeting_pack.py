"""The PDG's meeting pack: the standing item as a tagged PDF whose figures are the page's,
with the formal escalations before the PDG, the learning recorded at resolution (read where
rule 7 allows, counted for all) and no address in it."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Outcome
from accord.reports.selectors import Period, learning_counts, learning_listed
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
PERIOD = {
    "start-day": 1,
    "start-month": 10,
    "start-year": 2026,
    "end-day": 1,
    "end-month": 12,
    "end-year": 2026,
}


def at(m, d):
    return timezone.make_aware(dt.datetime(2026, m, d, 10))


@pytest.fixture
def meeting(world):
    """Q4 2026: one difference settled at stage 1 with learning, one formal escalation
    resolved by the leaders with learning, one formal escalation still open before the PDG,
    and a conference escalation at stage 2."""
    settled = world.raised(at=at(10, 5))
    with clock.set_to(at(10, 8)):
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=settled,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="Joint visit agreed.",
            child_centred_outcome_achieved="yes",
            learning="Early joint visits settle most differences at stage 1.",
        )
    with clock.set_to(at(11, 2)):
        formal = world.formal()
    with clock.set_to(at(11, 20)):
        services.escalation_resolve(
            actor=world.senior_social,
            escalation=formal,
            outcome=Outcome.DECISION_CHANGED,
            agreed_way_forward="Strategy discussion held.",
            child_centred_outcome_achieved="partly",
            learning="Thresholds document read differently by the two agencies.",
        )
    with clock.set_to(at(11, 23)):
        still_open = world.formal()
    world.from_conference(at=at(11, 24))
    return {"settled": settled, "formal": formal, "open": still_open}


def pdf_of(client, person):
    sign_in(client, person)
    page = client.get("/reports/pdg/", PERIOD)
    response = client.get("/reports/pdg.pdf", PERIOD)
    client.logout()
    assert page.status_code == 200 and response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    return page, reader, text


def test_learning_is_counted_for_all_and_read_only_where_rule_7_allows(world, meeting):
    period = Period(dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    assert learning_counts(world.partnership, period) == (2, {"Neglect": 2})
    # The PDG reads the learning of the escalation that reached it, not of one settled at stage 1.
    assert [r.reference for r in learning_listed(world.partnership, period, world.pdg_member)] == [
        meeting["formal"].reference
    ]
    # A party reads both of their own.
    assert {r.reference for r in learning_listed(world.partnership, period, world.practitioner_health)} == {
        meeting["settled"].reference,
        meeting["formal"].reference,
    }
    assert learning_listed(world.partnership, period, world.executive) == []


def test_the_pack_is_a_tagged_pdf_with_the_pages_figures_and_no_address(client, world, meeting):
    page, reader, text = pdf_of(client, world.pdg_member)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # tagged
    assert str(root["/Lang"]).lower().startswith("en")
    assert "standing item" in str(reader.metadata.title)
    tables = page.context["tables"]
    assert f"{tables['total']} escalations raised in the period" in text
    for title, rows, _kind in tables["sections"]:
        for label, value, _drill in rows:
            assert re.search(rf"{re.escape(str(label))} {value}\b", text), (title, label, value)
    # Before the PDG now: the open formal escalation, with its due date.
    assert meeting["open"].reference in text
    # The learning it may read, and the count of all of it.
    assert "Resolutions in the period that recorded learning for the partnership: 2" in text
    assert "Thresholds document read differently" in text and "Early joint visits" not in text
    # No address: no drill-down links, no escalation links, no form.
    assert "http" not in text and "/escalations/" not in text and "raised_from" not in text
    pdf_links = [
        a for p in reader.pages for a in (p.get("/Annots") or []) if a.get_object().get("/Subtype") == "/Link"
    ]
    assert pdf_links == []
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(
        verb=Verb.REPORT_DOWNLOADED, actor=world.pdg_member, payload__report="pdg.pdf"
    ).exists()


def test_the_executives_pack_counts_the_learning_and_shows_none_of_it(client, world, meeting):
    with clock.set_to(timezone.make_aware(dt.datetime(2027, 4, 15, 10))):  # years that have ended
        _page, _reader, text = pdf_of(client, world.executive)
    assert "fewer than 5" in text  # small counts hidden, as on the page
    assert "recorded learning for the partnership: fewer than 5" in text
    assert "Thresholds document" not in text and meeting["formal"].reference not in text


def test_only_report_readers_get_the_pack(client, world, meeting):
    sign_in(client, world.practitioner_health)
    assert client.get("/reports/pdg.pdf", PERIOD).status_code == 403
