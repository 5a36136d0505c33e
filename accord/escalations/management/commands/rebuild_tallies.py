"""Recount the reports' daily tallies from the records: after a restore, a bulk load, or to
check them (``--check`` reports any difference and changes nothing)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accord.escalations import tallies
from accord.escalations.models import DailyTally
from accord.partnership.models import Partnership


def _snapshot(partnership_id: int) -> dict:
    return {
        (t.day, t.dimension, t.key): t.n
        for t in DailyTally.objects.filter(partnership_id=partnership_id, n__gt=0).iterator(chunk_size=5000)
    }


class Command(BaseCommand):
    help = "Recount the daily tallies the PDG standing item and the annual report read."

    def add_arguments(self, parser):
        parser.add_argument("--partnership", help="A partnership's slug (default: every partnership).")
        parser.add_argument("--check", action="store_true", help="Report differences; change nothing.")

    def handle(self, *args, partnership: str | None, check: bool, **options):
        partnerships = Partnership.objects.all()
        if partnership:
            partnerships = partnerships.filter(slug=partnership)
            if not partnerships.exists():
                raise CommandError(f"No partnership {partnership!r}.")
        differences = 0
        for p in partnerships.order_by("pk"):
            if check:
                kept = _snapshot(p.pk)
                with transaction.atomic():
                    tallies.rebuild(p.pk)
                    counted = _snapshot(p.pk)
                    transaction.set_rollback(True)
                diff = {k for k in kept.keys() | counted.keys() if kept.get(k) != counted.get(k)}
                differences += len(diff)
                self.stdout.write(f"{p.slug}: {len(diff)} tallies differ from a recount")
            else:
                written = tallies.rebuild(p.pk)
                if options["verbosity"]:
                    self.stdout.write(f"{p.slug}: {written} tallies")
        if differences:
            raise CommandError(
                f"{differences} tallies differ from a recount: run rebuild_tallies to correct them."
            )
