import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from accord.audit.checkpoints import CheckpointError, record_checkpoint
from accord.audit.services import chain_pending_reads
from accord.core.checks import refuse_to_serve_with_weak_keys
from accord.escalations import visibility
from accord.escalations.notices import send_due_reminders
from accord.notifications.checks import refuse_to_start_without_notify_templates
from accord.notifications.services import deliver_pending, send_digests
from accord.reports.services import chase_meeting_actions

logger = logging.getLogger("accord.audit.checkpoint")


class Command(BaseCommand):
    help = (
        "Deliver notifications continuously beside the web server (reminders, recounts and an audit "
        "checkpoint every few minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=10.0, help="Seconds between outbox passes.")
        parser.add_argument(
            "--reminder-every", type=float, default=300.0, help="Seconds between reminder sweeps."
        )
        parser.add_argument("--once", action="store_true", help="Run one pass and stop.")

    def handle(self, *args, interval: float, reminder_every: float, once: bool, **options):
        refuse_to_serve_with_weak_keys()  # (with DEBUG off, as the web server does)
        refuse_to_start_without_notify_templates()
        stopping = {"now": False}

        def stop(signum, frame):
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_sweep: float | None = None  # the first pass sweeps, however soon after boot
        while not stopping["now"]:
            close_old_connections()
            try:
                # The reads recorded since the last pass, into the chain a batch at a time (so
                # readers never wait for its lock, and checkpoints cover them).
                chain_pending_reads()
            except Exception as exc:  # noqa: BLE001 - the reads wait, sealed, for the next pass
                logger.error("Reads not chained, will retry: %s", exc)
                self.stderr.write(f"Reads not chained, will retry: {exc}")
            try:
                if last_sweep is None or time.monotonic() - last_sweep >= reminder_every:
                    send_due_reminders()
                    chase_meeting_actions()
                    visibility.fold_all()  # keeps the changes to people's counts few
                    last_sweep = time.monotonic()
                    try:
                        record_checkpoint()  # the audit trail's newest entry, outside the database
                    except (CheckpointError, OSError) as exc:
                        # Loud, and never in the way of the notifications.
                        logger.error("No audit checkpoint recorded: %s", exc)
                        self.stderr.write(f"No audit checkpoint recorded: {exc}")
                sent = deliver_pending()
                send_digests()
                if sent:
                    self.stdout.write(f"{sent} emails sent")
            except Exception as exc:  # noqa: BLE001 - keep the worker alive; the outbox keeps the work
                self.stderr.write(f"Worker pass failed, will retry: {exc}")
            if once:
                break
            time.sleep(interval)
