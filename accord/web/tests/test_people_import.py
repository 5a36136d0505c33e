"""People in bulk from a spreadsheet: every row checked in plain words first, nothing applied
if any row is refused, a known email updated never duplicated, the same file again changing
nothing; the page and ``manage.py import_people`` alike, audited as one import."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import RoleAssignment, User
from accord.partnership.services.people_import import apply_import, plan_import
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

HEADER = "name,email,agency,roles,line_manager_email\n"


def sheet(world, *rows: str) -> bytes:
    return (
        HEADER
        + "".join(row.format(health=world.health.name, social=world.social.name) + "\n" for row in rows)
    ).encode()


def good(world) -> bytes:
    return sheet(
        world,
        "Hana Lead,hana.lead@health.example,{health},manager;senior_leader,",
        # the manager named on an earlier row
        "Ivo Worker,Ivo.Worker@health.example,{health},practitioner,hana.lead@health.example",
        # someone already known, by email (case aside): updated, not duplicated
        f"Sam Social,{world.practitioner_social.email.upper()},{{social}},practitioner;manager,",
    )


def test_a_dry_run_then_apply_then_the_same_file_changes_nothing(world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(good(world))
    before = User.objects.count()
    out = io.StringIO()
    call_command("import_people", "--partnership", world.partnership.slug, str(path), "--dry-run", stdout=out)
    assert "2 to add, 1 to update" in out.getvalue() and User.objects.count() == before
    call_command("import_people", "--partnership", world.partnership.slug, str(path), stdout=out)
    assert User.objects.count() == before + 2
    ivo = User.objects.get(email="ivo.worker@health.example")
    assert ivo.line_manager.email == "hana.lead@health.example" and ivo.agency == world.health
    assert not ivo.has_usable_password()  # nobody types another person's password
    assert set(
        RoleAssignment.objects.filter(
            user=world.practitioner_social, partnership=world.partnership
        ).values_list("role", flat=True)
    ) == {"practitioner", "manager"}
    world.practitioner_social.refresh_from_db()
    assert world.practitioner_social.get_full_name() == "Sam Social"
    entry = AuditEvent.objects.get(verb=Verb.PEOPLE_IMPORTED)
    assert entry.payload["create"] == 2 and len(entry.payload["file_sha256"]) == 64
    again = plan_import(world.partnership, good(world), "people.csv")
    assert again.count("unchanged") == 3 and again.count("create") == again.count("update") == 0


def test_any_refused_row_means_nothing_is_applied_and_a_non_zero_exit(world, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(
        sheet(
            world,
            "Hana Lead,hana.lead@health.example,{health},manager,",
            ",not-an-email,Nowhere Trust,wizard,",
            "Ivo Worker,ivo@health.example,{health},practitioner,later@health.example",
            "Later Person,later@health.example,{health},manager,",
            "Hana Again,hana.lead@health.example,{health},manager,",
        )
    )
    before = User.objects.count()
    err = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        call_command("import_people", "--partnership", world.partnership.slug, str(path), stderr=err)
    assert stopped.value.code == 1 and User.objects.count() == before
    said = err.getvalue()
    assert "Row 3" in said and "Enter the person's name" in said and "correct format" in said
    assert "“Nowhere Trust” is not an agency of" in said and "Unknown role wizard" in said
    assert "Row 4" in said and "earlier row" in said  # a line manager further down the file
    assert "Row 6" in said and "also on row 2" in said
    assert not AuditEvent.objects.filter(verb=Verb.PEOPLE_IMPORTED).exists()


def test_an_xlsx_file_reads_the_same(world):
    book = Workbook()
    for line in good(world).decode().splitlines():
        book.active.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    plan = plan_import(world.partnership, buffer.getvalue(), "people.xlsx")
    assert plan.ok and (plan.count("create"), plan.count("update")) == (2, 1)


def test_a_file_without_the_columns_is_refused_as_a_whole(world):
    from accord.partnership.services.people_import import ImportFileError

    with pytest.raises(ImportFileError, match=r"missing: roles\.$"):
        plan_import(world.partnership, b"name,email,agency\nA,a@example.org,X\n", "people.csv")
    with pytest.raises(ImportFileError, match="UTF-8"):
        plan_import(
            world.partnership,
            HEADER.encode() + "Zoë,z@example.org,X,practitioner,\n".encode("latin-1"),
            "p.csv",
        )


def test_the_business_units_page_checks_then_imports(client, world):
    sign_in(client, world.admin)
    assert client.get("/business-unit/people/import/").status_code == 200
    checked = client.post(
        "/business-unit/people/import/", {"file": SimpleUploadedFile("people.csv", good(world))}
    )
    html = checked.content.decode()
    assert (
        "Import these people" in html and User.objects.filter(email="hana.lead@health.example").count() == 0
    )
    plan_hash = checked.context["plan"].file_hash
    done = client.post("/business-unit/people/import/", {"apply": plan_hash})
    assert done.status_code == 302 and User.objects.filter(email="hana.lead@health.example").count() == 1
    refused = client.post(
        "/business-unit/people/import/",
        {"file": SimpleUploadedFile("people.csv", sheet(world, "X,bad,{health},practitioner,"))},
    )
    assert (
        "nothing has been imported" in refused.content.decode()
        and "Import these people" not in refused.content.decode()
    )
    client.logout()
    sign_in(client, world.manager_health)
    assert client.get("/business-unit/people/import/").status_code == 403


def test_applying_a_plan_with_a_refused_row_is_refused(world):
    from django.core.exceptions import ValidationError

    plan = plan_import(world.partnership, sheet(world, "X,bad,{health},practitioner,"), "p.csv")
    with pytest.raises(ValidationError):
        apply_import(actor=world.admin, plan=plan)


def test_a_person_of_another_partnership_is_not_this_business_units_to_change(world, other_world):
    """Known by email but working only in a neighbouring partnership (their agency not one of
    this partnership's, no role in it): refused, and nothing of theirs changes."""
    theirs = other_world.practitioner_health
    plan = plan_import(
        world.partnership,
        sheet(world, f"Someone Else,{theirs.email},{{health}},practitioner,"),
        "p.csv",
    )
    assert not plan.ok and "another partnership" in plan.refused[0].errors[0]


def test_a_nul_character_and_values_too_long_are_said_plainly(world):
    from accord.partnership.services.people_import import ImportFileError

    with pytest.raises(ImportFileError, match="NUL character"):
        plan_import(world.partnership, HEADER.encode() + b"A\x00B,a@example.org,X,practitioner,\n", "p.csv")
    long_email = "x" * 140 + "@health.example"
    plan = plan_import(
        world.partnership, sheet(world, f"{'N' * 151},{long_email},{{health}},practitioner,"), "p.csv"
    )
    assert not plan.ok
    assert any("150 characters or fewer" in e for e in plan.refused[0].errors)
    assert len([e for e in plan.refused[0].errors if "150 characters" in e]) == 2


def test_roles_given_by_an_import_keep_the_visibility_table_exact(world):
    """An imported PDG member sees the formal escalations at once: the kept table (which the
    API's counts read) agrees with rule 7's query."""
    from accord.escalations import visibility

    world.formal()
    plan = plan_import(
        world.partnership, sheet(world, "Pat Pdg,pat.pdg@health.example,{health},pdg_member,"), "p.csv"
    )
    apply_import(actor=world.admin, plan=plan)
    assert visibility.differences() == (0, 0, 0)
    pat = User.objects.get(email="pat.pdg@health.example")
    assert visibility.count_visible(pat, world.partnership.pk) == 1


def test_someone_of_a_shared_agency_who_works_only_in_the_other_partnership_is_not_changed(
    world, other_world
):
    """A police force in both partnerships: its officer with a role only in the other one is
    that partnership's to keep, as on the settings pages."""
    from accord.partnership.models import PartnershipAgency, Role
    from accord.testing.factories import UserFactory

    PartnershipAgency.objects.create(partnership=other_world.partnership, agency=world.health)
    theirs = UserFactory(
        username="shared.only.there",
        email="shared.only.there@health.example",
        agency=world.health,
        roles=[(other_world.partnership, Role.MANAGER)],
    )
    plan = plan_import(
        world.partnership, sheet(world, f"New Name,{theirs.email},{{health}},practitioner,"), "p.csv"
    )
    assert not plan.ok and "another partnership" in plan.refused[0].errors[0]
    theirs.refresh_from_db()
    assert theirs.get_full_name() != "New Name"


def test_roles_by_name_and_agencies_as_written_are_suggested_then_confirmed(client, world, tmp_path):
    """ "Practitioner" and "Safeguarding lead" are roles by name; a shortened agency's name waits
    for the business unit to confirm the closest agency, on the page, and only then applies."""
    short = " ".join(world.health.name.split()[:2])  # "World Health" of "World Health Trust"
    content = sheet(
        world,
        f"Ana Roles,ana@health.example,{short},Practitioner;Safeguarding lead,",
        "Ben Exact,ben@social.example,{social},practitioner,",
    )
    plan = plan_import(world.partnership, content, "people.csv")
    assert [(w.kind, w.raw, w.suggested) for w in plan.words] == [("agency", short, world.health.name)]
    assert not plan.ok and "confirm which it is" in " ".join(plan.rows[0].errors)
    assert plan.rows[0].roles == ["manager", "practitioner"] and not plan.rows[1].errors
    confirmed = plan_import(world.partnership, content, "people.csv", {"agency": {short: world.health.name}})
    assert confirmed.ok and confirmed.words == []

    # The command suggests the closest, and takes the words confirmed as a file.
    path, words = tmp_path / "people.csv", tmp_path / "words.json"
    path.write_bytes(content)
    words.write_text(json.dumps({"agency": {short: world.health.name}}))
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "import_people", "--partnership", world.partnership.slug, str(path), "--dry-run", stderr=err
        )
    assert f"the closest is {world.health.name!r}" in err.getvalue()
    out = io.StringIO()
    call_command(
        "import_people",
        "--partnership",
        world.partnership.slug,
        str(path),
        "--words",
        str(words),
        "--dry-run",
        stdout=out,
    )
    assert "2 to add" in out.getvalue()

    # The page: the closest is chosen beside the word; nothing changes until it is confirmed.
    sign_in(client, world.admin)
    before = User.objects.count()
    checked = client.post(
        "/business-unit/people/import/", {"file": SimpleUploadedFile("people.csv", content)}
    )
    form = checked.context["words_form"]
    assert form["word-0"].label == short and form["word-0"].initial == world.health.name
    assert "Import these people" not in checked.content.decode() and User.objects.count() == before
    again = client.post("/business-unit/people/import/", {"step": "words", "word-0": world.health.name})
    plan = again.context["plan"]
    assert plan.ok and again.context["words_form"] is None
    done = client.post("/business-unit/people/import/", {"apply": plan.file_hash})
    assert done.status_code == 302
    ana = User.objects.get(email="ana@health.example")
    assert ana.agency == world.health
    assert set(ana.role_assignments.values_list("role", flat=True)) == {"practitioner", "manager"}


def test_a_staff_list_with_its_own_column_names_and_no_line_managers_is_read(client, world):
    # "Organisation" and "Job role" are the agency and roles; with no line manager column,
    # each person's line manager is left as it is, never cleared.
    manager = world.practitioner_social.line_manager
    assert manager is not None
    content = (
        "Name,Email,Job role,Organisation\n"
        f"Ada New,ada.new@health.example,Practitioner,{world.health.name}\n"
        f"{world.practitioner_social.get_full_name()},{world.practitioner_social.email},"
        f"Practitioner; Safeguarding lead,{world.social.name}\n"
    ).encode()
    plan = plan_import(world.partnership, content, "staff.csv")
    assert plan.ok, [(r.line, r.errors) for r in plan.rows]
    assert [r.action for r in plan.rows] == ["create", "update"]
    assert plan.rows[1].changes == ["roles"]  # not "line manager"
    apply_import(actor=world.admin, plan=plan)
    world.practitioner_social.refresh_from_db()
    assert world.practitioner_social.line_manager == manager
    added = User.objects.get(email="ada.new@health.example")
    assert added.agency == world.health and added.line_manager is None

    # The page shows what each person will be: their agency and roles in words.
    sign_in(client, world.admin)
    again = content.replace(b"Ada New", b"Ada Newer")
    checked = client.post("/business-unit/people/import/", {"file": SimpleUploadedFile("staff.csv", again)})
    html = checked.content.decode()
    assert world.health.name in html and "Manager or safeguarding lead" in html


def test_words_to_confirm_are_not_told_to_be_corrected_in_the_spreadsheet(client, world):
    sign_in(client, world.admin)
    content = sheet(world, "Ada New,ada.new@health.example,Health,Practitioner,")
    checked = client.post("/business-unit/people/import/", {"file": SimpleUploadedFile("p.csv", content)})
    html = checked.content.decode()
    assert checked.context["words_form"] is not None
    assert "Confirm the agencies and roles above and check again" in html
    assert "Correct them in the spreadsheet and upload it again" not in html


def test_a_job_title_is_offered_as_the_role_it_usually_is_and_waits_to_be_confirmed(world):
    content = sheet(
        world,
        "Ada New,ada.new@health.example,{health},Social worker,",
        "Bo New,bo.new@health.example,{health},Head of Service,",
        "Cy New,cy.new@health.example,{health},DSL,",
    )
    plan = plan_import(world.partnership, content, "p.csv")
    offered = {w.raw: w.suggested for w in plan.words if w.kind == "role"}
    assert offered == {"Social worker": "practitioner", "Head of Service": "senior_leader", "DSL": "manager"}
    assert not plan.ok  # nothing is taken until confirmed
    confirmed = plan_import(world.partnership, content, "p.csv", {"role": offered})
    assert confirmed.ok and [r.roles for r in confirmed.rows] == [
        ["practitioner"],
        ["senior_leader"],
        ["manager"],
    ]


def test_a_line_manager_whose_email_two_accounts_share_is_refused_in_words(world):
    # Two accounts whose emails differ only in case: naming that address as a line manager is
    # a row to settle, never a failure when the import is applied.
    from accord.testing.factories import UserFactory

    for email in ("Twin.Lead@health.example", "twin.lead@health.example"):
        UserFactory(email=email, agency=world.health)
    plan = plan_import(
        world.partnership,
        sheet(world, "Ivo Worker,ivo.worker@health.example,{health},practitioner,twin.lead@health.example"),
        "p.csv",
    )
    assert not plan.ok
    assert "line manager's email" in plan.refused[0].errors[0]
