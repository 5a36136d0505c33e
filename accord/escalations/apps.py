from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "accord.escalations"
    label = "escalations"
