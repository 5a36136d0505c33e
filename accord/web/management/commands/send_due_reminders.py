from django.core.management.base import BaseCommand

from accord.audit.services import chain_pending_reads
from accord.core.checks import refuse_to_serve_with_weak_keys
from accord.escalations.notices import send_due_reminders
from accord.notifications.checks import refuse_to_start_without_notify_templates
from accord.notifications.services import deliver_pending, send_digests
from accord.reports.services import chase_meeting_actions


class Command(BaseCommand):
    help = (
        "One pass, for cron: chain the audited reads waiting, write due-tomorrow and overdue "
        "reminders (only in working hours on working days), then deliver the email outbox and any "
        "daily digests. Safe to run in several copies at once."
    )

    def handle(self, *args, **options):
        refuse_to_serve_with_weak_keys()  # (with DEBUG off, as the web server does)
        refuse_to_start_without_notify_templates()
        chained = chain_pending_reads()
        reminders = send_due_reminders() + chase_meeting_actions()
        sent = deliver_pending()
        digests = send_digests()
        self.stdout.write(
            f"{chained} reads chained, {reminders} reminders written, {sent} emails sent, {digests} digests sent."
        )
