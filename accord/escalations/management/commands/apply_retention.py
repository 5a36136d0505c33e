from django.core.management.base import BaseCommand

from accord.escalations.data_protection import apply_retention


class Command(BaseCommand):
    help = (
        "Remove children's identifiers, free text and documents from escalations closed longer ago "
        "than their partnership's retention period, keeping the facts reports need."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        result = apply_retention(dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} personal data from {len(result.escalations)} escalations "
            f"({result.children} children's identifiers, {result.documents} documents)."
        )
        for reference in result.escalations:
            self.stdout.write(f"  {reference}")
