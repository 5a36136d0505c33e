from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "accord.escalations"
    label = "escalations"

    def ready(self) -> None:
        # The policies install rule 7's condition on the escalations' queryset as they load,
        # and the notices register the kinds of notification the escalations send.
        from . import notices, policies, visibility  # noqa: F401

        visibility.connect()
