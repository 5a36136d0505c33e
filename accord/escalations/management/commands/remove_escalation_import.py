from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.escalations.models import EscalationImport
from accord.escalations.services.importing import remove_log_import


class Command(BaseCommand):
    help = (
        "Remove every escalation one import of an earlier log brought in (its number is on the "
        "business unit's page and in the audit trail), taking back all they counted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, help="The partnership's slug.")
        parser.add_argument("import_id", type=int, help="The import's number.")

    def handle(self, *args, partnership: str, import_id: int, **options):
        batch = EscalationImport.objects.filter(pk=import_id, partnership__slug=partnership).first()
        if batch is None:
            raise CommandError(f"No import {import_id} in the partnership {partnership!r}.")
        try:
            removed = remove_log_import(
                actor=None, batch=batch, actor_label="manage.py remove_escalation_import"
            )
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from refused
        self.stdout.write(f"Removed {removed} escalations brought in by import {batch.pk}.")
