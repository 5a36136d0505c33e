"""Recount who may see which escalation (rule 7) into the table that counts read: after a
restore or a bulk load, or to check it (``--check`` reports any difference and changes
nothing)."""

import time

from django.core.management.base import BaseCommand, CommandError

from accord.escalations import visibility


class Command(BaseCommand):
    help = "Recount the table of who may see which escalation, or check it against rule 7."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report differences; change nothing.")
        parser.add_argument(
            "--fold",
            action="store_true",
            help="Only fold everyone's count changes into their counts (what the worker does; for cron).",
        )

    def handle(self, *args, check: bool, fold: bool, **options):
        started = time.monotonic()
        if fold:
            folded = visibility.fold_all()
            if options["verbosity"]:
                self.stdout.write(f"{folded} people's counts folded ({time.monotonic() - started:.1f}s)")
            return
        if check:
            missing, extra, miscounted = visibility.differences()
            self.stdout.write(
                f"{missing} pairs rule 7 allows are missing, {extra} it does not allow are held, "
                f"{miscounted} people's counts are wrong ({time.monotonic() - started:.1f}s)"
            )
            if missing or extra or miscounted:
                raise CommandError("The visibility table differs from rule 7: run rebuild_visibility.")
            return
        written = visibility.rebuild()
        if options["verbosity"]:
            self.stdout.write(
                f"{written} pairs of who may see which escalation ({time.monotonic() - started:.1f}s)"
            )
