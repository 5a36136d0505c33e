from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.core.spreadsheets import SpreadsheetError
from accord.escalations.services.importing import (
    MappingError,
    apply_log_import,
    file_columns,
    guess_mapping,
    plan_log_import,
    read_mapping,
)
from accord.partnership.models import Partnership


class Command(BaseCommand):
    help = (
        "Bring in a partnership's earlier log of escalations from a CSV or XLSX file, its columns "
        "mapped to Accord's fields by a JSON mapping (see the README), or chosen by their names "
        "without one. Every row is checked first: if any is refused, nothing is brought in and the "
        "exit status is 1. Closed rows come in as closed records, marked as imported, sending no "
        "notification; rows still open come in at the stage they reached, with their due dates, "
        "only with --confirm-open once the dry run's list of them (and who will work each) has been "
        "checked, and never one that nobody would see or work."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, help="The partnership's slug.")
        parser.add_argument("file", help="The CSV or XLSX file of the earlier log.")
        parser.add_argument(
            "--mapping",
            help="The JSON file mapping its columns and words (else chosen by the columns' names).",
        )
        parser.add_argument(
            "--confirm-open",
            action="store_true",
            help="Bring in the rows still open, at the stages and due dates the dry run lists.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check every row; change nothing.")

    def handle(
        self,
        *args,
        partnership: str,
        file: str,
        mapping: str | None,
        dry_run: bool,
        confirm_open: bool = False,
        **options,
    ):
        found = Partnership.objects.filter(slug=partnership).first()
        if found is None:
            raise CommandError(f"No partnership has the slug {partnership!r}.")
        path = Path(file)
        for p in (path, Path(mapping or file)):
            if not p.is_file():
                raise CommandError(f"No file at {p}.")
        try:
            content = path.read_bytes()
            chosen = (
                read_mapping(Path(mapping).read_bytes())
                if mapping
                else guess_mapping(file_columns(content, path.name))
            )
            plan = plan_log_import(found, content, path.name, chosen)
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
        for row in plan.still_open:
            named = f"Row {row.line}{f' ({row.reference})' if row.reference else ''}"
            self.stdout.write(
                f"{named}: still open, at stage "
                f"{row.stage} from {row.stage_started_on:%d/%m/%Y}, due {row.due_date:%d/%m/%Y}."
            )
            worked = "; ".join(f"{h.role}, {h.agency} ({h.people})" for h in row.holders)
            self.stdout.write(f"  Worked by: {worked}.")
            for warning in row.warnings:
                self.stdout.write(f"  Warning: {warning}.")
        if dry_run:
            self.stdout.write(f"Dry run: nothing was changed. {len(plan.rows)} rows would be brought in.")
            return
        try:
            batch = apply_log_import(
                actor=None, plan=plan, confirm_open=confirm_open, actor_label="manage.py import_escalations"
            )
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from refused
        self.stdout.write(f"Brought in {len(plan.rows)} escalations as import {batch.pk}.")
