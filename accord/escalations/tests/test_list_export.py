"""The escalation list downloads as CSV and XLSX: what the list shows, as filtered and within
rule 7, with no child's details, every text cell neutralised, and each download audited."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_the_list_downloads_what_it_shows_and_nothing_of_the_children(client, world, neighbour):
    mine = world.consulted(world.raised())
    theirs = world.raised(
        raiser=world.practitioner_social, with_agency=world.health, with_practitioner_username=""
    )
    hidden = world.raised(
        raiser=world.practitioner_other, with_agency=world.social, with_practitioner_username=""
    )
    neighbour.raised()  # another partnership's, through the shared trust: never here
    sign_in(client, world.manager_health)  # their team's, and what was raised with the trust
    rows = list(
        csv.reader(io.StringIO(b"".join(client.get("/escalations/export.csv").streaming_content).decode()))
    )
    assert rows[0][0] == "reference"
    listed = {r[0] for r in rows[1:]}
    assert listed == {mine.reference, theirs.reference}  # rule 7: not the one between others
    assert hidden.reference not in listed
    text = "\n".join(",".join(r) for r in rows)
    assert "Zebedee" not in text and "ZQ-778812" not in text
    # As filtered: raised by the health trust only.
    filtered = client.get("/escalations/export.csv", {"raised_by_agency": world.health.pk})
    assert {
        r[0] for r in list(csv.reader(io.StringIO(b"".join(filtered.streaming_content).decode())))[1:]
    } == {mine.reference}
    book = load_workbook(io.BytesIO(client.get("/escalations/export.xlsx").content))
    assert {row[0] for row in book["Escalations"].iter_rows(min_row=2, values_only=True)} == listed
    chain_pending_reads()  # the reads recorded so far, into the trail
    exported = AuditEvent.objects.filter(verb=Verb.ESCALATIONS_EXPORTED, actor=world.manager_health)
    assert [e.payload["format"] for e in exported.order_by("id")] == ["csv", "csv", "xlsx"]
    assert all(e.partnership_id == world.partnership.pk for e in exported)
    client.logout()
    sign_in(client, world.executive)  # aggregates only
    assert client.get("/escalations/export.csv").status_code == 403


def test_a_summary_that_would_run_as_a_formula_is_written_as_text(client, world):
    world.raised(summary='=HYPERLINK("http://evil.example/","Click")')
    sign_in(client, world.practitioner_health)
    rows = list(
        csv.reader(io.StringIO(b"".join(client.get("/escalations/export.csv").streaming_content).decode()))
    )
    assert rows[1][-1].startswith("'=HYPERLINK")
    book = load_workbook(io.BytesIO(client.get("/escalations/export.xlsx").content))
    cell = next(book["Escalations"].iter_rows(min_row=2))[-1]
    assert cell.data_type == "s" and cell.value.startswith("'=")
