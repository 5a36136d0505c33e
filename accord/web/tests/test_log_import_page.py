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
    start = client.get(URL)
    assert start.status_code == 200
    # Open rows go to the agencies' managers and leaders: the page says to bring people in first.
    assert 'href="/business-unit/people/import/"' in start.content.decode()
    uploaded = client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", log(world))})
    form = uploaded.context["mapping_form"]
    # Columns named as Accord names its fields are chosen already.
    assert form.initial["reference"] == "Reference" and form.initial["outcome"] == "Outcome"
    assert form.initial["raised_on"] == "Date raised" and form.initial["kind"] == "Kind"
    assert form.initial["closed_on"] == "Date closed"
    # What must be chosen is told from what may be, as the GOV.UK pattern marks it.
    assert form["summary"].label == "Summary (optional)" and form["outcome"].label == "Outcome"

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
    assert "an outcome but no date closed" in html
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


def test_a_saved_mapping_with_no_way_of_writing_dates_is_refused_on_its_field(client, world):
    """The page offers a saved mapping's first way of writing dates as its choice: a mapping
    giving none (or too many to try on every date) is said on its field, never an error page."""
    sign_in(client, world.admin)
    for formats in ([], ["%d/%m/%Y"] * 11):
        refused = client.post(
            URL,
            {
                "step": "upload",
                "file": SimpleUploadedFile("log.csv", log(world)),
                "mapping": SimpleUploadedFile("mapping.json", json.dumps({"date_formats": formats}).encode()),
            },
        )
        assert refused.status_code == 200
        assert "The mapping could not be read: date_formats" in refused.content.decode()


def test_a_file_that_is_not_a_spreadsheet_is_refused_plainly(client, world):
    sign_in(client, world.admin)
    refused = client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.xlsx", b"not a workbook")})
    assert "could not be read as an Excel workbook" in refused.content.decode()
    stale = client.post(URL, {"step": "check", **CHOICES})  # nothing uploaded in this session
    assert stale.status_code == 302


def test_the_logs_own_words_are_mapped_on_the_page_and_open_rows_are_confirmed_first(client, world):
    """No mapping file: each distinct value of a column is listed with a choice beside it, a
    close match chosen already ("Level 2" for stage 2, "Royal Devon"-like short names for the
    agency); a row still open is listed at its stage with its due date, and comes in only once
    that is confirmed."""
    sign_in(client, world.admin)
    short = world.health.name.split()[0]  # "World" of "World Health Trust": one agency only
    content = (
        "Ref,From,To,Opened,Closed,Level,Result,Kind\n"
        f"W-1,{short} Health,{world.social.name},03/02/2025,20/02/2025,Level 2,Resolved - agreed,case\n"
        f"W-2,{world.social.name},{short} Health,10/03/2025,,Level 1,Ongoing,case\n"
    ).encode()
    client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", content)})
    columns = CHOICES | {
        "raising_agency": "From",
        "with_agency": "To",
        "raised_on": "Opened",
        "closed_on": "Closed",
        "stage_reached": "Level",
        "outcome": "Result",
        "reference": "Ref",
    }
    listed = client.post(URL, {"step": "columns", **columns})
    words = listed.context["words_form"]
    chosen = {words[name].label: words[name].initial for name in words.fields}
    assert chosen[f"{short} Health"] == world.health.name  # a close match, to confirm
    stage_2 = world.partnership.stages.get(number=2).key
    assert chosen["Level 2"] == stage_2 and chosen["Level 1"] == world.partnership.stages.get(number=1).key
    # Words a log commonly uses for its outcomes are offered too, for the business unit to confirm.
    assert chosen["Ongoing"] == "open" and chosen["Resolved - agreed"] == "agreed_way_forward"
    assert "What the words in log.csv mean" in listed.content.decode()
    assert not Escalation.objects.exists()

    # The business unit chooses what the two outcomes mean, and checks every row.
    answers = {name: (words[name].initial or "") for name in words.fields}
    by_label = {words[name].label: name for name in words.fields}
    answers[by_label["Resolved - agreed"]] = "agreed_way_forward"
    answers[by_label["Ongoing"]] = "open"
    checked = client.post(URL, {"step": "check", **columns, **answers})
    plan = checked.context["plan"]
    assert plan.ok, [(r.line, r.errors) for r in plan.rows]
    (open_row,) = plan.still_open
    assert open_row.reference == "W-2" and open_row.stage == 1 and open_row.due_date is not None
    assert 'data-testid="still-open"' in checked.content.decode()
    # No column for the day its stage began: it counts from the day raised, so it comes in
    # overdue, and the page says so and how to give the day instead.
    assert open_row.overdue and 'data-testid="overdue-hint"' in checked.content.decode()

    # Not confirmed: nothing is written, and the page says why.
    unconfirmed = client.post(URL, {"step": "apply", **columns, **answers})
    assert (
        unconfirmed.status_code == 200
        and "confirm where each escalation still open" in unconfirmed.content.decode()
    )
    # Said by the box too, as the summary's link leads there.
    html = unconfirmed.content.decode()
    assert 'id="confirm_open-error"' in html and 'aria-describedby="confirm_open-error"' in html
    assert not Escalation.objects.exists()
    done = client.post(URL, {"step": "apply", "confirm_open": "yes", **columns, **answers})
    assert done.status_code == 302
    standing = Escalation.objects.get(imported_reference="W-2")
    assert standing.status == "open" and standing.stage == 1 and standing.due_date == open_row.due_date
    assert standing.stage_periods.get().stage_key == world.partnership.stages.get(number=1).key
    # Its page says how it came, and offers what its stage offers (the raiser's side names
    # nobody: the receiving agency's managers work it at stage 1).
    sign_in(client, world.manager_health)
    page = client.get(f"/escalations/{standing.pk}/").content.decode()
    assert "Brought in still open from the partnership's earlier log" in page
    # In their work list too, by the reference they knew it by as well as Accord's.
    home = client.get("/").content.decode()
    assert standing.reference in home and "Earlier log: W-2" in home
    assert "cannot be reopened" not in page
    closed = Escalation.objects.get(imported_reference="W-1")
    assert closed.raising_agency == world.health and closed.highest_stage == 2
    assert closed.resolutions.get().outcome == "agreed_way_forward"


def test_a_log_with_no_column_for_the_kind_is_asked_for_it_on_that_field_before_its_words(client, world):
    sign_in(client, world.admin)
    client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", log(world))})
    asked = client.post(URL, {"step": "columns", **(CHOICES | {"kind": ""})})
    form = asked.context["mapping_form"]
    assert "every_kind" in form.errors and asked.context["words_form"] is None
    assert 'href="#id_every_kind"' in asked.content.decode()  # the summary links to the field
    told = client.post(URL, {"step": "columns", **(CHOICES | {"kind": "", "every_kind": "case"})})
    assert told.context["mapping_form"].is_valid() and told.context["words_form"] is not None


@pytest.mark.parametrize("name", ["devon", "croydon"])
def test_the_check_says_who_will_work_each_open_row_and_refuses_one_nobody_would(client, world, name):
    """Each row still open is listed with who will work it (role and agency); one that nobody
    would see or work is a problem of its row, naming the agency and the role, and nothing is
    offered to bring in until someone holds it. Once brought in, the page that follows links
    to those still open the business unit may open (rule 7), by reference and stage."""
    from accord.partnership.models import Role
    from accord.partnership.protocol import install_ladder, preset
    from accord.testing.factories import AgencyFactory, UserFactory

    install_ladder(world.partnership, preset(name))
    police = AgencyFactory(name="Testshire Police", partnerships=[world.partnership])
    sign_in(client, world.admin)
    content = log(
        world,
        f"A-3,{world.health.name},{police.name},03/02/2025,,1,,case",
        f"A-4,{world.health.name},{police.name},03/02/2025,,2,,case",
        f"A-5,{world.social.name},{world.health.name},03/02/2025,,1,,case",
    )
    client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", content)})
    checked = client.post(URL, {"step": "check", **CHOICES})
    html = checked.content.decode()
    assert "nothing has been brought in" in html and "Bring in these escalations" not in html
    assert (
        "Nobody at Testshire Police holds the manager or safeguarding lead role: add them first, "
        "then bring the log in" in html
    )
    assert [r.reference for r in checked.context["plan"].refused] == ["A-3"]
    client.post(URL, {"step": "apply", "confirm_open": "yes", **CHOICES})
    assert not Escalation.objects.exists()

    # Someone at the police holds the role now, and is also in the business unit.
    both = UserFactory(
        agency=police,
        roles=[(world.partnership, Role.MANAGER), (world.partnership, Role.BUSINESS_UNIT)],
    )
    sign_in(client, both)
    client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", content)})
    checked = client.post(URL, {"step": "check", **CHOICES})
    html = checked.content.decode()
    assert checked.context["plan"].ok and "Who will work it" in html
    assert "Manager or safeguarding lead, Testshire Police (1 person)" in html
    # Stage 2: the trust's managers hold it with the police's; A-5 at stage 1: the trust's.
    assert f"Manager or safeguarding lead, {world.health.name} (1 person)" in html
    assert "holders-warning" not in html  # nobody missing anywhere

    done = client.post(URL, {"step": "apply", "confirm_open": "yes", **CHOICES})
    batch = EscalationImport.objects.get()
    assert done.status_code == 302 and done.url == f"/business-unit/escalations/import/{batch.pk}/"
    page = client.get(done.url)
    html = page.content.decode()
    assert "5 escalations brought in from log.csv" in html
    mine = Escalation.objects.filter(imported_reference__in=["A-3", "A-4"])
    for e in mine:
        assert f'href="/escalations/{e.pk}/"' in html and e.reference in html
        assert client.get(f"/escalations/{e.pk}/").status_code == 200
    hidden = Escalation.objects.get(imported_reference="A-5")
    assert hidden.reference not in html and f"/escalations/{hidden.pk}/" not in html
    assert "1 more was brought in still open that you may not open yourself" in html
    # The business unit's officer who leads nowhere may open none of them.
    sign_in(client, world.admin)
    html = client.get(done.url).content.decode()
    assert "3 more were brought in still open" in html and 'data-testid="brought-in-open"' not in html
    # Another partnership's, or one removed, is not found.
    assert client.get("/business-unit/escalations/import/999999/").status_code == 404


def test_an_agency_with_nobody_in_the_role_is_said_beside_a_row_others_hold(client, world):
    from accord.testing.factories import AgencyFactory

    police = AgencyFactory(name="Testshire Police", partnerships=[world.partnership])
    sign_in(client, world.admin)
    content = log(world, f"A-3,{world.health.name},{police.name},03/02/2025,,2,,case")
    client.post(URL, {"step": "upload", "file": SimpleUploadedFile("log.csv", content)})
    checked = client.post(URL, {"step": "check", **CHOICES})
    html = checked.content.decode()
    assert checked.context["plan"].ok and 'data-testid="holders-warning"' in html
    assert (
        "Nobody at Testshire Police holds the manager or safeguarding lead role yet: nobody there "
        "will see or work it until someone does" in html
    )
    assert "Bring in these escalations" in html
