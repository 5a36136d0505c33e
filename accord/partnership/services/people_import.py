"""People in bulk: a business unit's spreadsheet of practitioners and managers, checked row by
row in plain words (a dry run), then applied in one transaction, audited as one import with
the file's hash. The page, the API (``/imports/people``) and ``manage.py import_people`` all
call these.

The columns, so named or by a usual other name (``COLUMN_NAMES``: "Organisation", "Job
role"): ``name``, ``email``, ``agency`` (the agency's name in the partnership, or as a person
writes it), ``roles`` (by name or code, separated by ``;``) and, if the file has it,
``line_manager_email`` (empty, someone already known, or someone earlier in the file; without
the column, each person's line manager is left as it is). An
agency or role the file names its own way waits for the business unit to confirm the closest
(``ImportPlan.words``), and is then read through the words it confirmed.
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
from accord.core.matching import folded, suggest
from accord.core.spreadsheets import SpreadsheetError, read_table
from accord.partnership.models import Partnership, Role, RoleAssignment, User
from accord.partnership.selectors import partnership_agencies
from accord.partnership.services.ownership import (
    administrator_words,
    people_of,
    person_is_shared,
    shared_person_words,
)
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
# A staff list kept elsewhere names its columns its own way; these are understood too.
COLUMN_NAMES = {
    "name": ("full name", "person"),
    "email": ("email address", "work email", "e-mail"),
    "agency": ("organisation", "organization", "employer"),
    "roles": ("role", "job role", "accord role", "accord roles"),
    "line_manager_email": ("line manager email", "line manager's email", "manager email", "line manager"),
}
# Without this column, each person's line manager is left as it is (none, for someone added).
OPTIONAL_COLUMNS = ("line_manager_email",)
MOST_ROWS = 5000
MOST_BYTES = 5 * 1024 * 1024
EMAIL_MOST = 150  # it is also the sign-in name, which holds 150
NAME_MOST = 150

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"

# Job titles a staff list commonly gives for Accord's roles: offered as the closest, for the
# business unit to confirm, never taken unconfirmed.
COMMON_ROLE_WORDS = {
    "practitioner": (
        "social worker",
        "health visitor",
        "school nurse",
        "nurse",
        "midwife",
        "teacher",
        "police officer",
        "detective constable",
        "probation officer",
        "family support worker",
        "youth worker",
        "gp",
        "paediatrician",
        "support worker",
        "caseworker",
    ),
    "manager": (
        "team manager",
        "team leader",
        "practice manager",
        "designated safeguarding lead",
        "dsl",
        "named nurse",
        "named doctor",
        "safeguarding manager",
        "line manager",
        "deputy manager",
        "sergeant",
        "detective sergeant",
    ),
    "senior_leader": (
        "head of service",
        "service manager",
        "service lead",
        "director",
        "assistant director",
        "head teacher",
        "headteacher",
        "designated nurse",
        "designated doctor",
        "detective inspector",
        "inspector",
        "chief inspector",
        "senior manager",
    ),
}
COMMON_ROLES = {folded(word): role for role, words in COMMON_ROLE_WORDS.items() for word in words}


class ImportFileError(SpreadsheetError):
    """The file as a whole cannot be read (not CSV or XLSX, no header, wrong columns)."""


@dataclass
class PersonRow:
    line: int  # the spreadsheet's own row number (the header is row 1)
    name: str
    email: str
    agency: str
    roles: list[str]
    line_manager_email: str | None  # None: the file has no such column, so it is left as it is
    errors: list[str] = field(default_factory=list)
    action: str = ""  # CREATE, UPDATE or UNCHANGED, once checked
    changes: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    partnership: Partnership
    rows: list[PersonRow]
    file_hash: str
    # The file's agencies and roles named nowhere exactly, each with a close match to confirm.
    words: list[PersonWord] = field(default_factory=list)
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


def read_rows(content: bytes, filename: str) -> list[dict[str, str | None]]:
    """The file's rows as dictionaries of its named columns (``spreadsheets.read_table``)."""
    try:
        head, body = read_table(content, filename, most_bytes=MOST_BYTES)
    except SpreadsheetError as problem:
        raise ImportFileError(str(problem)) from problem
    cells = [head, *body]
    header = [folded(h).replace("_", " ") for h in cells[0]]
    at: dict[str, int] = {}
    for name in COLUMNS:
        ways = [folded(w).replace("_", " ") for w in (name, *COLUMN_NAMES[name])]
        found = [header.index(w) for w in ways if w in header]
        if found:
            at[name] = found[0]
    missing = [c for c in COLUMNS if c not in at and c not in OPTIONAL_COLUMNS]
    if missing:
        raise ImportFileError(
            _("The first row must name the columns %(columns)s; missing: %(missing)s.")
            % {
                "columns": ", ".join(c for c in COLUMNS if c not in OPTIONAL_COLUMNS),
                "missing": ", ".join(missing),
            }
        )
    if len(cells) - 1 > MOST_ROWS:
        raise ImportFileError(_("The file has more than %(n)s people: split it.") % {"n": MOST_ROWS})
    return [
        {name: (row[at[name]] if at[name] < len(row) else "") if name in at else None for name in COLUMNS}
        | {"_line": str(n)}
        for n, row in enumerate(cells[1:], start=2)
    ]


@dataclass
class PersonWord:
    """A value of the file's ``agency`` or ``roles`` column that names no agency or role
    exactly, with the closest one, for the business unit to confirm."""

    kind: str  # "agency" or "role"
    raw: str
    suggested: str | None


@dataclass
class _Choices:
    """The partnership's agencies and Accord's roles, by every way of writing them, and the
    words the business unit confirmed (``words``: kind → the file's word → a name or code)."""

    agencies: dict[str, int]  # name → id
    names: dict[str, dict[str, str]]  # kind → folded way of writing → the agency's name or role's code
    words: dict[str, dict[str, str]]
    unmatched: dict[tuple[str, str], PersonWord] = field(default_factory=dict)

    def find(self, kind: str, raw: str) -> str | None:
        confirmed = {folded(k): v for k, v in self.words.get(kind, {}).items()}
        value = confirmed.get(folded(raw), raw)
        found = self.names[kind].get(folded(value))
        if found is None and (kind, folded(raw)) not in self.unmatched:
            common = COMMON_ROLES.get(folded(raw)) if kind == "role" else None
            self.unmatched[(kind, folded(raw))] = PersonWord(
                kind, raw, common or suggest(raw, self.names[kind])
            )
        return found


def role_names() -> dict[str, str]:
    """Each role by its code, its label and each part of a label of two ("Manager or
    safeguarding lead": "Manager", "Safeguarding lead")."""
    names: dict[str, str] = {}
    for code, label in Role.choices:
        for name in (code, code.replace("_", " "), str(label), *str(label).split(" or ")):
            names.setdefault(folded(name), code)
    return names


def _choices(partnership: Partnership, words: dict[str, dict[str, str]] | None) -> _Choices:
    agencies = dict(partnership_agencies(partnership).values_list("name", "pk"))
    return _Choices(
        agencies=agencies,
        names={"agency": {folded(name): name for name in agencies}, "role": role_names()},
        words=words or {},
    )


def _row(record: dict[str, str], choices: _Choices) -> PersonRow:
    """A row as written, its agency and roles read as the partnership and Accord name them."""
    row = PersonRow(
        line=int(record["_line"]),
        name=" ".join(record["name"].split()),
        email=record["email"].strip().lower(),
        agency=record["agency"].strip(),
        roles=[],
        line_manager_email=(
            None if record["line_manager_email"] is None else record["line_manager_email"].strip().lower()
        ),
    )
    if row.agency:
        found = choices.find("agency", row.agency)
        if found is None:
            row.errors.append(
                _("“%(agency)s” is not an agency of the partnership: confirm which it is")
                % {"agency": row.agency}
            )
        row.agency = found or row.agency
    else:
        row.errors.append(_("Enter the agency's name"))
    written = [w.strip() for w in record["roles"].replace(",", ";").split(";") if w.strip()]
    unknown = [w for w in written if choices.find("role", w) is None]
    if unknown:
        row.errors.append(
            _("Unknown role %(codes)s: confirm which role it is, or use %(valid)s, separated by “;”")
            % {"codes": ", ".join(unknown), "valid": ", ".join(str(label) for label in Role.labels)}
        )
    row.roles = sorted({choices.find("role", w) for w in written} - {None})
    if not written:
        row.errors.append(_("Enter at least one role"))
    return row


@dataclass
class _Known:
    """The people the file names, as Accord knows them (a few queries for the whole file)."""

    by_email: dict[str, list[User]]
    taken_usernames: set[tuple[str, str]]
    roles_now: dict[int, set[str]]
    ours: set[int]
    ours_by_email: set[str]


def _known(partnership: Partnership, rows: list[PersonRow]) -> _Known:
    emails = [r.email for r in rows if r.email]
    # Emails are stored as typed: people are matched by them without case (one query).
    by_email: dict[str, list[User]] = {}
    wanted = {*emails, *[r.line_manager_email for r in rows if r.line_manager_email]}
    for user in (
        User.objects.annotate(lowered=Lower("email"))
        .filter(lowered__in=wanted)
        .select_related("line_manager")
    ):
        by_email.setdefault(user.lowered, []).append(user)
    people = [u for users in by_email.values() for u in users]
    roles_now: dict[int, set[str]] = {}
    for user_id, role in RoleAssignment.objects.filter(partnership=partnership, user__in=people).values_list(
        "user_id", "role"
    ):
        roles_now.setdefault(user_id, set()).add(role)
    return _Known(
        by_email=by_email,
        taken_usernames=set(User.objects.filter(username__in=emails).values_list("username", "email")),
        roles_now=roles_now,
        # Whose details this business unit keeps, as its settings pages say (``people_of``):
        # someone of an agency shared with another partnership who works only there, or whom
        # that one added or kept when their roles ended, is that one's to keep.
        ours=set(people_of(partnership).filter(pk__in=[u.pk for u in people]).values_list("pk", flat=True)),
        # A line manager is someone this partnership keeps (as on the person's page), never
        # anyone else in the deployment.
        ours_by_email=set(
            people_of(partnership)
            .annotate(lowered=Lower("email"))
            .filter(lowered__in=wanted, is_active=True)
            .values_list("lowered", flat=True)
        ),
    )


def _check_person(row: PersonRow, seen: dict[str, int]) -> None:
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


def _check_line_manager(row: PersonRow, known: _Known, seen: dict[str, int]) -> None:
    manager = row.line_manager_email
    if not manager:
        return
    if manager == row.email:
        row.errors.append(_("A person cannot be their own line manager"))
    elif len(known.by_email.get(manager, [])) > 1:
        # (Two accounts whose emails differ only in case: which one is meant is the business
        # unit's to settle before anyone is made their report.)
        row.errors.append(
            _(
                "More than one person in Accord has the line manager's email: the business unit must settle which"
            )
        )
    elif (
        manager not in known.ours_by_email
        and manager != _manager_now(known.by_email.get(row.email, []))  # kept as it is
        and (manager not in seen or seen[manager] >= row.line)
    ):
        row.errors.append(
            _(
                "Line manager %(email)s is not known: name someone who works in this partnership "
                "now, or someone on an earlier row"
            )
            % {"email": manager}
        )


def _check_email_owner(row: PersonRow, known: _Known) -> None:
    people = known.by_email.get(row.email, [])
    if len(people) > 1:
        row.errors.append(
            _("More than one person in Accord has this email: the business unit must settle which")
        )
    if not people and any(u == row.email and e.lower() != row.email for u, e in known.taken_usernames):
        row.errors.append(_("Another person's sign-in name is this email address"))


def _decide(row: PersonRow, known: _Known, partnership: Partnership, choices: _Choices) -> None:
    """Added, updated (and what changes) or unchanged; refused where the person is not this
    business unit's to change (the shared-ownership rule)."""
    people = known.by_email.get(row.email, [])
    if not people:
        row.action = CREATE
        return
    person = people[0]
    if person.is_superuser:
        row.errors.append(administrator_words())  # (as on the person's page: only their peers)
        return
    if person.pk not in known.ours:
        # (Worded as for an address taken anywhere: it names no one and no partnership.)
        row.errors.append(check_email(row.email) or _("That email is already in use in Accord"))
        return
    manager_now = person.line_manager.email.lower() if person.line_manager_id else ""
    identity = []
    if person.get_full_name() != row.name:
        identity.append(_("name"))
    if person.agency_id != choices.agencies[row.agency]:
        identity.append(_("agency"))
    if row.line_manager_email is not None and manager_now != row.line_manager_email:
        identity.append(_("line manager"))
    if identity and person_is_shared(person, partnership):
        # Theirs in every partnership they work in: only their roles here change here.
        row.errors.append(shared_person_words(person))
        return
    changes = identity
    if known.roles_now.get(person.pk, set()) != set(row.roles):
        changes.append(_("roles"))
    row.action, row.changes = (UPDATE, changes) if changes else (UNCHANGED, [])


def plan_import(
    partnership: Partnership, content: bytes, filename: str, words: dict[str, dict[str, str]] | None = None
) -> ImportPlan:
    """Check every row against the partnership and the people already known; change nothing.
    Agencies and roles are read as a person writes them: a name or label named exactly (case
    and punctuation aside) is taken; any other is listed (``ImportPlan.words``) with the
    closest, for the business unit to confirm (``words``: kind → the file's word → an
    agency's name or a role's code), and its rows wait for it."""
    choices = _choices(partnership, words)
    rows = [_row(record, choices) for record in read_rows(content, filename)]
    known = _known(partnership, rows)
    seen: dict[str, int] = {}
    for row in rows:
        _check_person(row, seen)
        _check_line_manager(row, known, seen)
        _check_email_owner(row, known)
        if not row.errors:
            _decide(row, known, partnership, choices)
    return ImportPlan(
        partnership=partnership,
        rows=rows,
        file_hash=hashlib.sha256(content).hexdigest(),
        words=list(choices.unmatched.values()),
    )


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
    agencies = {agency.name: agency for agency in partnership_agencies(partnership)}
    with transaction.atomic():
        by_email: dict[str, User] = {}
        for row in plan.rows:
            first, last = _split_name(row.name)
            agency = agencies[row.agency]
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
            if row.action == UNCHANGED or row.line_manager_email is None:
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
