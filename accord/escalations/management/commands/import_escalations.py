from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.core.spreadsheets import SpreadsheetError
from accord.escalations.services.importing import (
    MappingError,
    apply_log_import,
    plan_log_import,
    read_mapping,
)
from accord.partnership.models import Partnership


class Command(BaseCommand):
    help = (
        "Bring in a partnership's earlier log of escalations from a CSV or XLSX file, its columns "
        "mapped to Accord's fields by a JSON mapping (see the README). Every row is checked first: "
        "if any is refused, nothing is brought in and the exit status is 1. Imported escalations "
        "are closed records, marked as imported; they send no notification and set no reminder."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, help="The partnership's slug.")
        parser.add_argument("file", help="The CSV or XLSX file of the earlier log.")
        parser.add_argument("--mapping", required=True, help="The JSON file mapping its columns.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row; change nothing.")

    def handle(self, *args, partnership: str, file: str, mapping: str, dry_run: bool, **options):
        found = Partnership.objects.filter(slug=partnership).first()
        if found is None:
            raise CommandError(f"No partnership has the slug {partnership!r}.")
        path, mapping_path = Path(file), Path(mapping)
        for p in (path, mapping_path):
            if not p.is_file():
                raise CommandError(f"No file at {p}.")
        try:
            plan = plan_log_import(
                found, path.read_bytes(), path.name, read_mapping(mapping_path.read_bytes())
            )
        except (SpreadsheetError, MappingError) as problem:
            raise CommandError(str(problem)) from problem
        for problem in plan.problems:
            self.stderr.write(problem)
        for row in plan.refused:
            for error in row.errors:
                self.stderr.write(f"Row {row.line}{f' ({row.reference})' if row.reference else ''}: {error}")
        if plan.problems:
            raise CommandError("Nothing was brought in: the file or the mapping has a problem.")
        if plan.refused:
            n = len(plan.refused)
            raise CommandError(
                f"Nothing was brought in: {n} row{' has a' if n == 1 else 's have'} problem{'' if n == 1 else 's'}."
            )
        if dry_run:
            self.stdout.write(f"Dry run: nothing was changed. {len(plan.rows)} rows would be brought in.")
            return
        try:
            batch = apply_log_import(actor=None, plan=plan, actor_label="manage.py import_escalations")
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from refused
        self.stdout.write(f"Brought in {len(plan.rows)} escalations as import {batch.pk}.")
