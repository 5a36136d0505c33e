"""People in bulk: a business unit's spreadsheet of practitioners and managers, checked row by
row in plain words (a dry run), then applied in one transaction, audited as one import with
the file's hash. The page and ``manage.py import_people`` both call these.

The columns, named exactly so: ``name``, ``email``, ``agency`` (the agency's name in the
partnership), ``roles`` (role codes separated by ``;``, as the API names them) and
``line_manager_email`` (empty, someone already known, or someone earlier in the file).
A person already known by email is updated, never duplicated; the same file again changes
nothing. Nobody's password is set here: a new person signs in through single sign-on or is
sent an invitation to set their own (``invitations``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.spreadsheets import SpreadsheetError, read_table
from accord.partnership.models import Partnership, Role, RoleAssignment, User
from accord.partnership.selectors import partnership_agencies
from accord.partnership.services.ownership import people_of, person_is_shared, shared_person_words
from accord.partnership.services.people import (
    PersonDetails,
    check_email,
    person_add,
    person_details_change,
    person_line_manager_set,
    person_move,
    person_roles_set,
)

COLUMNS = ("name", "email", "agency", "roles", "line_manager_email")
MOST_ROWS = 5000
MOST_BYTES = 5 * 1024 * 1024
EMAIL_MOST = 150  # it is also the sign-in name, which holds 150
NAME_MOST = 150

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


class ImportFileError(SpreadsheetError):
    """The file as a whole cannot be read (not CSV or XLSX, no header, wrong columns)."""


@dataclass
class PersonRow:
    line: int  # the spreadsheet's own row number (the header is row 1)
    name: str
    email: str
    agency: str
    roles: list[str]
    line_manager_email: str
    errors: list[str] = field(default_factory=list)
    action: str = ""  # CREATE, UPDATE or UNCHANGED, once checked
    changes: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    partnership: Partnership
    rows: list[PersonRow]
    file_hash: str
    created: list[User] = field(default_factory=list)  # once applied: the people added

    @property
    def refused(self) -> list[PersonRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.refused

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if not r.errors and r.action == action)

    @property
    def count_create(self) -> int:
        return self.count(CREATE)

    @property
    def count_update(self) -> int:
        return self.count(UPDATE)

    @property
    def count_unchanged(self) -> int:
        return self.count(UNCHANGED)


def read_rows(content: bytes, filename: str) -> list[dict[str, str]]:
    """The file's rows as dictionaries of its named columns (``spreadsheets.read_table``)."""
    try:
        head, body = read_table(content, filename, most_bytes=MOST_BYTES)
    except SpreadsheetError as problem:
        raise ImportFileError(str(problem)) from problem
    cells = [head, *body]
    header = [h.strip().lower() for h in cells[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportFileError(
            _("The first row must name the columns %(columns)s; missing: %(missing)s.")
            % {"columns": ", ".join(COLUMNS), "missing": ", ".join(missing)}
        )
    if len(cells) - 1 > MOST_ROWS:
        raise ImportFileError(_("The file has more than %(n)s people: split it.") % {"n": MOST_ROWS})
    at = {name: header.index(name) for name in COLUMNS}
    return [
        {name: (row[i] if i < len(row) else "") for name, i in at.items()} | {"_line": str(n)}
        for n, row in enumerate(cells[1:], start=2)
    ]


def plan_import(partnership: Partnership, content: bytes, filename: str) -> ImportPlan:
    """Check every row against the partnership and the people already known; change nothing."""
    records = read_rows(content, filename)
    agencies = {
        name.casefold(): pk for pk, name in partnership_agencies(partnership).values_list("pk", "name")
    }
    codes = set(Role.values)
    rows = [
        PersonRow(
            line=int(r["_line"]),
            name=" ".join(r["name"].split()),
            email=r["email"].strip().lower(),
            agency=r["agency"].strip(),
            roles=sorted({code.strip() for code in r["roles"].split(";") if code.strip()}),
            line_manager_email=r["line_manager_email"].strip().lower(),
        )
        for r in records
    ]
    emails = [r.email for r in rows if r.email]
    # Emails are stored as typed: people are matched by them without case (one query).
    known: dict[str, list[User]] = {}
    wanted = {*emails, *[r.line_manager_email for r in rows if r.line_manager_email]}
    for user in (
        User.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=wanted)
        .select_related("line_manager")
    ):
        known.setdefault(user.lowered, []).append(user)
    taken_usernames = set(User.objects.filter(username__in=emails).values_list("username", "email"))
    roles_now: dict[int, set[str]] = {}
    for user_id, role in RoleAssignment.objects.filter(
        partnership=partnership, user__in=[u for users in known.values() for u in users]
    ).values_list("user_id", "role"):
        roles_now.setdefault(user_id, set()).add(role)
    # Whose details this business unit keeps (as its settings pages say): those with a role in
    # the partnership, and those of its agencies with no role anywhere yet. Someone of an
    # agency shared with another partnership who works only there is that one's to keep.
    with_roles_anywhere = set(
        RoleAssignment.objects.filter(user__in=[u for users in known.values() for u in users]).values_list(
            "user_id", flat=True
        )
    )
    # A line manager is someone this partnership keeps (as on the person's page), never
    # anyone else in the deployment.
    ours_by_email = set(
        people_of(partnership)
        .annotate(lowered=Lower("email"))
        .filter(lowered__in=wanted, is_active=True)
        .values_list("lowered", flat=True)
    )
    seen: dict[str, int] = {}
    for row in rows:
        if not row.name:
            row.errors.append(_("Enter the person's name"))
        elif len(row.name) > NAME_MOST:
            row.errors.append(_("The name must be %(n)s characters or fewer") % {"n": NAME_MOST})
        if len(row.email) > EMAIL_MOST:
            row.errors.append(_("The email address must be %(n)s characters or fewer") % {"n": EMAIL_MOST})
        try:
            validate_email(row.email)
        except ValidationError:
            row.errors.append(_("Enter an email address in the correct format, like name@example.org"))
        if row.email in seen:
            row.errors.append(
                _("This email is also on row %(line)s: a person appears once") % {"line": seen[row.email]}
            )
        elif row.email:
            seen[row.email] = row.line
        if row.agency.casefold() not in agencies:
            row.errors.append(
                _("“%(agency)s” is not an agency of %(partnership)s")
                % {"agency": row.agency, "partnership": partnership}
                if row.agency
                else _("Enter the agency's name")
            )
        unknown = [code for code in row.roles if code not in codes]
        if unknown:
            row.errors.append(
                _("Unknown role %(codes)s: use %(valid)s, separated by “;”")
                % {"codes": ", ".join(unknown), "valid": ", ".join(Role.values)}
            )
        if not row.roles:
            row.errors.append(_("Enter at least one role"))
        manager = row.line_manager_email
        if manager:
            if manager == row.email:
                row.errors.append(_("A person cannot be their own line manager"))
            elif (
                manager not in ours_by_email
                and manager != _manager_now(known.get(row.email, []))  # kept as it is
                and (manager not in seen or seen[manager] >= row.line)
            ):
                row.errors.append(
                    _(
                        "Line manager %(email)s is not known: name someone who works in this partnership "
                        "now, or someone on an earlier row"
                    )
                    % {"email": manager}
                )
        people = known.get(row.email, [])
        if len(people) > 1:
            row.errors.append(
                _("More than one person in Accord has this email: the business unit must settle which")
            )
        if not people and any(u == row.email and e.lower() != row.email for u, e in taken_usernames):
            row.errors.append(_("Another person's sign-in name is this email address"))
        if row.errors:
            continue
        if not people:
            row.action = CREATE
            continue
        person = people[0]
        ours = person.pk in roles_now or (
            person.agency_id in agencies.values() and person.pk not in with_roles_anywhere
        )
        if not ours:
            # (Worded as for an address taken anywhere: it names no one and no partnership.)
            row.errors.append(check_email(row.email) or _("That email is already in use in Accord"))
            continue
        agency_id = agencies[row.agency.casefold()]
        manager_now = person.line_manager.email.lower() if person.line_manager_id else ""
        changes = []
        identity = []
        if person.get_full_name() != row.name:
            identity.append(_("name"))
        if person.agency_id != agency_id:
            identity.append(_("agency"))
        if manager_now != manager:
            identity.append(_("line manager"))
        if identity and person_is_shared(person, partnership):
            # Theirs in every partnership they work in: only their roles here change here.
            row.errors.append(shared_person_words(person))
            continue
        changes = identity
        if roles_now.get(person.pk, set()) != set(row.roles):
            changes.append(_("roles"))
        row.action, row.changes = (UPDATE, changes) if changes else (UNCHANGED, [])
    return ImportPlan(partnership=partnership, rows=rows, file_hash=hashlib.sha256(content).hexdigest())


def _manager_now(people: list[User]) -> str:
    person = people[0] if len(people) == 1 else None
    return person.line_manager.email.lower() if person is not None and person.line_manager_id else ""


def _split_name(name: str) -> tuple[str, str]:
    first, _sep, last = name.rpartition(" ")
    return (first, last) if first else (name, "")


def apply_import(*, actor: User | None, plan: ImportPlan, actor_label: str | None = None) -> dict[str, int]:
    """Apply a plan with no refused row, all at once: nothing is applied if any row is refused.
    Each person is written by the people services (``accord.partnership.services.people``),
    as on the settings pages, with the same refusals and the same audit entries."""
    if not plan.ok:
        raise ValidationError(_("Nothing was imported: correct the rows with problems and try again."))
    partnership = plan.partnership
    agencies = {agency.name.casefold(): agency for agency in partnership_agencies(partnership)}
    with transaction.atomic():
        by_email: dict[str, User] = {}
        for row in plan.rows:
            first, last = _split_name(row.name)
            agency = agencies[row.agency.casefold()]
            if row.action == CREATE:
                person = person_add(
                    actor=actor,
                    partnership=partnership,
                    details=PersonDetails(
                        first_name=first, last_name=last, email=row.email, agency=agency, roles=row.roles
                    ),
                )
                plan.created.append(person)
            else:
                person = User.objects.annotate(lowered=Lower("email")).get(lowered=row.email)
                if row.action == UPDATE:
                    if person.get_full_name() != row.name:  # ("Jan van Dyke" as kept stays so)
                        person_details_change(
                            actor=actor,
                            partnership=partnership,
                            person=person,
                            first_name=first,
                            last_name=last,
                            job_title=person.job_title,
                        )
                    person_move(actor=actor, partnership=partnership, person=person, agency=agency)
                    person_roles_set(
                        actor=actor, partnership=partnership, person=person, roles=set(row.roles)
                    )
            by_email[row.email] = person
        for row in plan.rows:  # line managers once everyone exists (one may be later in the file)
            if row.action == UNCHANGED:
                continue
            person = by_email[row.email]
            manager = (
                by_email.get(row.line_manager_email)
                or User.objects.annotate(lowered=Lower("email")).get(lowered=row.line_manager_email)
                if row.line_manager_email
                else None
            )
            person_line_manager_set(actor=actor, partnership=partnership, person=person, manager=manager)
        counts = {action: plan.count(action) for action in (CREATE, UPDATE, UNCHANGED)}
        audit_record(
            actor=actor,
            verb=Verb.PEOPLE_IMPORTED,
            partnership_id=partnership.pk,
            payload={"file_sha256": plan.file_hash, "rows": len(plan.rows), **counts},
            actor_label=actor_label,
        )
    return counts
