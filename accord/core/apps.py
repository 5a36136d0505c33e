from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "accord.core"
    label = "core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 - registers Accord's deployment checks
        from .middleware import renew_on_sign_in

        user_logged_in.connect(renew_on_sign_in, dispatch_uid="accord-session-renewal")

        from .i18n import prune_at_first_request

        prune_at_first_request()
