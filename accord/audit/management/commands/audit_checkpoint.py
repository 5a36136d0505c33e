from django.core.management.base import BaseCommand, CommandError

from accord.audit.checkpoints import CheckpointError, checkpoint_dir, record_checkpoint
from accord.audit.services import chain_pending_reads


class Command(BaseCommand):
    help = (
        "Record the audit trail's newest entry and its hash outside the database (a file in "
        "ACCORD_AUDIT_CHECKPOINT_DIR and the log), after chaining the reads recorded since the worker's "
        "last pass and checking the chain since the last checkpoint."
    )

    def handle(self, *args, **options):
        try:
            chain_pending_reads()
            point = record_checkpoint()
        except CheckpointError as exc:
            raise CommandError(f"No checkpoint recorded. {exc}") from exc
        except OSError as exc:
            raise CommandError(
                f"No checkpoint recorded: {checkpoint_dir()} cannot be written ({exc})."
            ) from exc
        if point is None:
            self.stdout.write("The audit trail is empty: there is nothing to record yet.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint recorded: entry {point.entry} ({point.entry_hash[:12]}…) in {checkpoint_dir()}."
            )
        )
