import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.partnership.models import Partnership
from accord.partnership.services.invitations import invite as send_invitation
from accord.partnership.services.people_import import ImportFileError, apply_import, plan_import


def _read_words(path: str | None) -> dict[str, dict[str, str]]:
    if not path:
        return {}
    try:
        found = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as problem:
        raise CommandError(f"The words file could not be read: {problem}") from problem
    if not isinstance(found, dict) or not all(
        kind in ("agency", "role")
        and isinstance(table, dict)
        and all(isinstance(v, str) for v in table.values())
        for kind, table in found.items()
    ):
        raise CommandError('The words file must look like {"agency": {"…": "…"}, "role": {"…": "…"}}.')
    return found


class Command(BaseCommand):
    help = (
        "Import people from a CSV or XLSX file with the columns name, email, agency, roles "
        "(roles by name or code, separated by ';') and line_manager_email. An agency or role the "
        "file names its own way is matched by --words, a JSON file such as "
        '{"agency": {"Royal Devon": "Royal Devon University Healthcare NHS Foundation Trust"}, '
        '"role": {"Safeguarding lead": "manager"}}; without it, the closest is suggested. '
        "Every row is checked first: if any "
        "is refused, nothing is applied and the exit status is 1. A person already known by "
        "email is updated; the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, help="The partnership's slug.")
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row; change nothing.")
        parser.add_argument("--words", help="A JSON file of the file's own words for agencies and roles.")
        parser.add_argument(
            "--invite",
            action="store_true",
            help="Email each person added an invitation to set their password.",
        )

    def handle(
        self,
        *args,
        partnership: str,
        file: str,
        dry_run: bool,
        invite: bool = False,
        words: str | None = None,
        **options,
    ):
        found = Partnership.objects.filter(slug=partnership).first()
        if found is None:
            raise CommandError(f"No partnership has the slug {partnership!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {file}.")
        try:
            plan = plan_import(found, path.read_bytes(), path.name, _read_words(words))
        except ImportFileError as problem:
            raise CommandError(str(problem)) from problem
        for word in plan.words:
            closest = f"the closest is {word.suggested!r}" if word.suggested else "nothing is close"
            self.stderr.write(f"The {word.kind} {word.raw!r} is named nowhere exactly: {closest}.")
        for row in plan.refused:
            for error in row.errors:
                self.stderr.write(f"Row {row.line} ({row.email or 'no email'}): {error}")
        summary = (
            f"{plan.count('create')} to add, {plan.count('update')} to update, "
            f"{plan.count('unchanged')} unchanged, {len(plan.refused)} refused."
        )
        if plan.refused:
            self.stderr.write(f"Nothing was imported. {summary}")
            raise SystemExit(1)
        if dry_run:
            self.stdout.write(f"Dry run: nothing was changed. {summary}")
            return
        apply_import(actor=None, plan=plan, actor_label="manage.py import_people")
        self.stdout.write(f"Imported. {summary}")
        if invite:
            for person in plan.created:
                try:
                    send_invitation(actor=None, person=person, partnership=found)
                except ValidationError as refused:
                    self.stderr.write(" ".join(refused.messages))
            self.stdout.write(f"Invitations sent to {len(plan.created)} people added.")
