from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "accord.escalations"
    label = "escalations"

    def ready(self) -> None:
        from . import visibility

        visibility.connect()
