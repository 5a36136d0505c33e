from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accord.escalations.data_protection import subject_access
from accord.partnership.models import Partnership


class Command(BaseCommand):
    help = (
        "Gather everything one partnership holds about a child (found by an agency's case reference) "
        "into one ZIP file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agency-reference", required=True)
        parser.add_argument(
            "--partnership",
            default="",
            help="The partnership's short name (slug). Needed when the deployment hosts more than one.",
        )
        parser.add_argument(
            "--output", default="", help="Where to write the ZIP (default: subject-access-<reference>.zip)."
        )

    def handle(self, *args, agency_reference: str, partnership: str, output: str, **options):
        if not agency_reference.strip():
            raise CommandError("Give the agency's case reference.")
        if partnership:
            found = Partnership.objects.filter(slug=partnership).first()
            if found is None:
                raise CommandError(f"No partnership has the short name {partnership!r}.")
        else:
            hosted = list(Partnership.objects.all()[:2])
            if len(hosted) != 1:
                raise CommandError(
                    "This deployment hosts several partnerships: say which with --partnership SLUG."
                    if hosted
                    else "No partnership is set up yet."
                )
            found = hosted[0]
        data, count = subject_access(actor=None, partnership=found, agency_reference=agency_reference)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in agency_reference.strip())
        path = Path(output or f"subject-access-{safe}.zip")
        path.write_bytes(data)
        self.stdout.write(f"Wrote {path}: {count} escalations from {found.name}.")
