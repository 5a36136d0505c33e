from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "accord.escalations"
    label = "escalations"

    def ready(self) -> None:
        # The policies install rule 7's condition on the escalations' queryset as they load,
        # and the notices register the kinds of notification the escalations send.
        # Someone leaving or moving agency hands their open escalations on: the partnership's
        # people services call these in the same transaction.
        from accord.partnership.services.people import register_person_handlers

        from . import notices, policies, visibility  # noqa: F401
        from .services.people import person_left, person_moved

        visibility.connect()
        register_person_handlers(left=person_left, moved=person_moved)
