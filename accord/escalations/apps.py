from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "accord.escalations"
    label = "escalations"

    def ready(self) -> None:
        # The policies install rule 7's condition on the escalations' queryset as they load,
        # and the notices register the kinds of notification the escalations send.
        # Someone leaving or moving agency hands their open escalations on: the partnership's
        # people services call these in the same transaction. A new bank-holiday calendar
        # moves the open stages' due dates with it.
        from accord.partnership.services.people import register_person_handlers
        from accord.partnership.services.settings import register_calendar_handler, register_records_check

        from . import notices, policies, visibility  # noqa: F401
        from .selectors import holds_escalations
        from .services.people import person_left, person_moved
        from .services.timescales import escalations_recompute_due_dates

        visibility.connect()
        register_person_handlers(left=person_left, moved=person_moved)
        register_calendar_handler(escalations_recompute_due_dates)
        # The reporting year's first month is fixed once the partnership holds an escalation.
        register_records_check(holds_escalations)
