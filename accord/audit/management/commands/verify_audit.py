from django.core.management.base import BaseCommand, CommandError

from accord.audit.checkpoints import checkpoint_dir, verify_trail


class Command(BaseCommand):
    help = (
        "Check the audit trail: its keyed hash chain from the first entry to the last, and every "
        "checkpoint recorded outside the database (so that entries cut from its end are found)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--chain-only",
            action="store_true",
            help="Check the chain alone where no checkpoint has been recorded yet (it cannot find entries "
            "cut from the end).",
        )

    def handle(self, *args, chain_only: bool, **options):
        report = verify_trail()
        failures = []
        if report.broken is not None:
            broken = report.broken
            failures.append(
                f"The audit trail is broken at entry {broken.pk} ({broken.at:%Y-%m-%d %H:%M:%S}, "
                f"{broken.verb} by {broken.actor_label}): it or an entry before it was changed outside Accord."
            )
        failures.extend(report.problems)
        if not report.checkpoints and not chain_only:
            failures.append(
                f"No checkpoint is recorded in {checkpoint_dir()}, so entries cut from the end of the trail "
                "could not be found: run `manage.py audit_checkpoint` (the worker does, on every sweep), or "
                "pass --chain-only to check the chain alone."
            )
        if failures:
            raise CommandError("\n".join(failures))
        checked = f"{report.entries} {'entry' if report.entries == 1 else 'entries'} checked"
        if report.checkpoints:
            checked += f" against {report.checkpoints} checkpoint{'' if report.checkpoints == 1 else 's'}"
        else:
            checked += " (the chain only: no checkpoint yet)"
        if report.pending_reads:
            checked += (
                f", and {report.pending_reads} read{'' if report.pending_reads == 1 else 's'} waiting to be "
                "chained against their seals"
            )
        self.stdout.write(self.style.SUCCESS(f"The audit trail is intact: {checked}."))
