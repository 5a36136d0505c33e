"""The business unit's page for the earlier log: upload, the columns chosen (guessed where
the file names them like Accord), every row checked with nothing changed, then brought in;
an import removed from the same page. Only the business unit's, and only its own imports."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.escalations.models import Escalation, EscalationImport
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

URL = "/business-unit/escalations/import/"


def log(world, *extra: str) -> bytes:
    rows = [
        "Reference,Raised by,With,Date raised,Date closed,Stage,Outcome,Kind",
        f"A-1,{world.health.name},{world.social.name},03/02/2025,20/02/2025,2,withdrawn,case",
        f"A-2,{world.social.name},{world.health.name},10/03/2025,02/04/2025,1,Decision changed,theme",
        *extra,
    ]
    return ("\n".join(rows) + "\n").encode()


CHOICES = {
    "raising_agency": "Raised by",
    "with_agency": "With",
    "raised_on": "Date raised",
    "closed_on": "Date closed",
    "stage_reached": "Stage",
    "outcome": "Outcome",
    "kind": "Kind",
    "area": "",
    "themes": "",
    "summary": "",
    "reference": "Reference",
    "date_format": "%d/%m/%Y",
    "every_kind": "",
}


def test_upload_choose_the_columns_check_then_bring_in_and_remove(client, world):
    sign_in(client, world.admin)
    assert client.get(URL).status_code == 200
    uploaded = client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", log(world))})
    form = uploaded.context["mapping_form"]
    # Columns named as Accord names its fields are chosen already.
    assert form.initial["reference"] == "Reference" and form.initial["outcome"] == "Outcome"
    assert form.initial["raised_on"] == "Date raised" and form.initial["kind"] == "Kind"

    checked = client.post(URL, {"step": "check", **CHOICES})
    html = checked.content.decode()
    assert "2 escalations to bring in" in html and "Bring in these escalations" in html
    assert not Escalation.objects.exists()  # checking changed nothing

    done = client.post(URL, {"step": "apply", **CHOICES})
    assert done.status_code == 302
    batch = EscalationImport.objects.get()
    assert batch.escalations.count() == 2 and batch.imported_by == world.admin
    listed = client.get(URL).content.decode()
    assert "log.csv" in listed and f"/business-unit/escalations/import/{batch.pk}/remove/" in listed

    # An imported escalation's page says what it is, and offers nothing to do.
    e = Escalation.objects.get(imported_reference="A-1")
    sign_in(client, world.manager_social)
    page = client.get(f"/escalations/{e.pk}/").content.decode()
    assert "Brought in from the partnership's earlier log" in page and "Not recorded" in page
    assert "/reopen/" not in page

    sign_in(client, world.admin)
    confirm = client.get(f"/business-unit/escalations/import/{batch.pk}/remove/")
    assert "Remove the 2 escalations brought in from log.csv?" in confirm.content.decode()
    assert client.post(f"/business-unit/escalations/import/{batch.pk}/remove/").status_code == 302
    assert not Escalation.objects.exists()
    assert "Removed on" in client.get(URL).content.decode()
    assert client.get(f"/business-unit/escalations/import/{batch.pk}/remove/").status_code == 404


def test_problems_are_shown_row_by_row_and_nothing_is_offered_to_bring_in(client, world):
    sign_in(client, world.admin)
    bad = log(world, f"A-3,{world.health.name},Nowhere Trust,03/02/2025,,1,withdrawn,case")
    client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", bad)})
    checked = client.post(URL, {"step": "check", **CHOICES})
    html = checked.content.decode()
    assert "nothing has been brought in" in html and "“Nowhere Trust” is not an agency of" in html
    assert "a difference still open is raised in Accord" in html
    assert "Bring in these escalations" not in html
    # Posting the apply step anyway brings in nothing.
    client.post(URL, {"step": "apply", **CHOICES})
    assert not Escalation.objects.exists()
    # A required field left unchosen is said on its field.
    missing = client.post(URL, {"step": "check", **(CHOICES | {"outcome": ""})})
    assert "Choose the column that holds outcome" in missing.content.decode()


def test_a_saved_mapping_chooses_the_columns_and_translates_the_logs_words(client, world):
    sign_in(client, world.admin)
    content = b"Ref,From,To,Opened,Closed,Level,Result\nZ-1,NHS,CSC,2025-02-03,2025-02-20,Level 2,Sorted\n"
    mapping = {
        "columns": {
            "reference": "Ref",
            "raising_agency": "From",
            "with_agency": "To",
            "raised_on": "Opened",
            "closed_on": "Closed",
            "stage_reached": "Level",
            "outcome": "Result",
        },
        "values": {
            "agency": {"NHS": world.health.name, "CSC": world.social.name},
            "stage": {"Level 2": "2"},
            "outcome": {"Sorted": "agreed_way_forward"},
        },
        "defaults": {"kind": "case"},
        "date_formats": ["%Y-%m-%d"],
    }
    uploaded = client.post(
        URL,
        {
            "step": "upload",
            "file": SimpleUploadedFile("log.csv", content),
            "mapping": SimpleUploadedFile("mapping.json", json.dumps(mapping).encode()),
        },
    )
    initial = uploaded.context["mapping_form"].initial
    assert initial["stage_reached"] == "Level" and initial["every_kind"] == "case"
    assert initial["date_format"] == "%Y-%m-%d"
    choices = {k: initial.get(k, "") for k in CHOICES}
    assert client.post(URL, {"step": "apply", **choices}).status_code == 302
    e = Escalation.objects.get(imported_reference="Z-1")
    assert e.highest_stage == 2 and e.resolutions.get().outcome == "agreed_way_forward"
    # A mapping that cannot be read is said on its field.
    broken = client.post(
        URL,
        {
            "step": "upload",
            "file": SimpleUploadedFile("log.csv", content),
            "mapping": SimpleUploadedFile("mapping.json", b"{not json"),
        },
    )
    assert "The mapping could not be read" in broken.content.decode()


def test_a_file_that_is_not_a_spreadsheet_is_refused_plainly(client, world):
    sign_in(client, world.admin)
    refused = client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.xlsx", b"not a workbook")})
    assert "could not be read as an Excel workbook" in refused.content.decode()
    stale = client.post(URL, {"step": "check", **CHOICES})  # nothing uploaded in this session
    assert stale.status_code == 302
