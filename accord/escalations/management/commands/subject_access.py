from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accord.escalations.data_protection import subject_access


class Command(BaseCommand):
    help = "Gather everything held about a child (found by an agency's case reference) into one ZIP file."

    def add_arguments(self, parser):
        parser.add_argument("--agency-reference", required=True)
        parser.add_argument(
            "--output", default="", help="Where to write the ZIP (default: subject-access-<reference>.zip)."
        )

    def handle(self, *args, agency_reference: str, output: str, **options):
        if not agency_reference.strip():
            raise CommandError("Give the agency's case reference.")
        data, count = subject_access(actor=None, agency_reference=agency_reference)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in agency_reference.strip())
        path = Path(output or f"subject-access-{safe}.zip")
        path.write_bytes(data)
        self.stdout.write(f"Wrote {path}: {count} escalations.")
