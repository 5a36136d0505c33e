from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "accord.reports"
    label = "reports"

    def ready(self) -> None:
        # Registers the kind of notification a PDG meeting's overdue action sends.
        from . import services  # noqa: F401
