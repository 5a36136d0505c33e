from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.partnership.models import Partnership
from accord.partnership.services.invitations import invite as send_invitation
from accord.web.people_import import ImportFileError, apply_import, plan_import


class Command(BaseCommand):
    help = (
        "Import people from a CSV or XLSX file with the columns name, email, agency, roles "
        "(role codes separated by ';') and line_manager_email. Every row is checked first: if any "
        "is refused, nothing is applied and the exit status is 1. A person already known by "
        "email is updated; the same file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, help="The partnership's slug.")
        parser.add_argument("file", help="The CSV or XLSX file.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row; change nothing.")
        parser.add_argument(
            "--invite",
            action="store_true",
            help="Email each person added an invitation to set their password.",
        )

    def handle(self, *args, partnership: str, file: str, dry_run: bool, invite: bool = False, **options):
        found = Partnership.objects.filter(slug=partnership).first()
        if found is None:
            raise CommandError(f"No partnership has the slug {partnership!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {file}.")
        try:
            plan = plan_import(found, path.read_bytes(), path.name)
        except ImportFileError as problem:
            raise CommandError(str(problem)) from problem
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
