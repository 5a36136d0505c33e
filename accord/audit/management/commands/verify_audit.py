from django.core.management.base import BaseCommand, CommandError

from accord.audit.models import AuditEvent
from accord.audit.services import audit_verify


class Command(BaseCommand):
    help = "Check the audit trail's hash chain from the first entry to the last; name the first broken entry."

    def handle(self, *args, **options):
        ok, broken = audit_verify()
        if not ok:
            raise CommandError(
                f"The audit trail is broken at entry {broken.pk} ({broken.at:%Y-%m-%d %H:%M:%S}, "
                f"{broken.verb} by {broken.actor_label}): it or an entry before it was changed "
                "outside Accord."
            )
        self.stdout.write(
            self.style.SUCCESS(f"The audit trail is intact: {AuditEvent.objects.count()} entries checked.")
        )
