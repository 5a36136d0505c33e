import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from accord.escalations import visibility
from accord.notifications.services import deliver_pending, send_digests, send_due_reminders


class Command(BaseCommand):
    help = "Deliver notifications continuously beside the web server (reminders every few minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=10.0, help="Seconds between outbox passes.")
        parser.add_argument(
            "--reminder-every", type=float, default=300.0, help="Seconds between reminder sweeps."
        )
        parser.add_argument("--once", action="store_true", help="Run one pass and stop.")

    def handle(self, *args, interval: float, reminder_every: float, once: bool, **options):
        stopping = {"now": False}

        def stop(signum, frame):
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        last_sweep = 0.0
        while not stopping["now"]:
            close_old_connections()
            try:
                if time.monotonic() - last_sweep >= reminder_every:
                    send_due_reminders()
                    visibility.fold_all()  # keeps the changes to people's counts few
                    last_sweep = time.monotonic()
                sent = deliver_pending()
                send_digests()
                if sent:
                    self.stdout.write(f"{sent} emails sent")
            except Exception as exc:  # noqa: BLE001 - keep the worker alive; the outbox keeps the work
                self.stderr.write(f"Worker pass failed, will retry: {exc}")
            if once:
                break
            time.sleep(interval)
