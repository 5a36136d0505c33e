from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.web.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo: Devon's partnership (agencies, a user for every role, a living caseload) and a "
        "small second partnership, Torbay, sharing the police and the ICB with it. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "load_demo creates users with a published password. It runs only when DEBUG is on; "
                "use --force if you really mean to load it here."
            )
        result = load_demo()
        audit_record(actor=None, verb=Verb.DEMO_LOADED, payload=result)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo partnerships (Devon and Torbay) ready: {result['users']} demo users (password: {DEMO_PASSWORD}), "
                f"{result['escalations']} new escalations. Two-step verification key for the PDG, "
                f"business unit, executive and auditor demo users: {DEMO_TOTP_SECRET}"
            )
        )
