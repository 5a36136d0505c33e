from django.core.management.base import BaseCommand, CommandError

from accord.api.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, api_token_create
from accord.partnership.models import User


class Command(BaseCommand):
    help = "Create an API token acting as a user, with that user's permissions, and print it once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--expires-days",
            type=int,
            default=DEFAULT_EXPIRY_DAYS,
            help=f"1 to {MAX_EXPIRY_DAYS} (default {DEFAULT_EXPIRY_DAYS})",
        )
        parser.add_argument(
            "--name", default="", help="What the token is for, e.g. the partner system's name."
        )

    def handle(self, *args, username: str, expires_days: int, name: str, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user called {username!r}.")
        try:
            token, raw = api_token_create(actor=None, user=user, expires_days=expires_days, name=name)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(
            f"Token for {user.username}, expires {token.expires_at:%Y-%m-%d}. It is shown only now:"
        )
        self.stdout.write(raw)
