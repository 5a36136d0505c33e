from django.apps import AppConfig


class WebConfig(AppConfig):
    """Accord's web shell: the home page, navigation, sign-in and two-step verification,
    the current partnership, and the error pages. It sits above every other app."""

    name = "accord.web"
    label = "web"
