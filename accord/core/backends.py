"""Signing in with a username and password."""

from __future__ import annotations

import django_otp
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce


class AccordModelBackend(ModelBackend):
    """Django's username-and-password backend, reading the signed-in person with their
    agency in one query: nearly every request shows it or writes it to the audit trail.
    The same query asks whether they have a confirmed two-step device, which every page
    checks for anyone not yet verified (``TwoStepRequiredMiddleware``), and how many of
    their notifications are unread, which every page's navigation shows."""

    def get_user(self, user_id):
        User = get_user_model()
        devices = {
            f"_accord_device_{i}": Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True))
            for i, model in enumerate(django_otp.device_classes())
        }
        try:
            user = (
                User._default_manager.select_related("agency")
                .annotate(**devices, _accord_unread=_unread_count())
                .get(pk=user_id)
            )
        except User.DoesNotExist:
            return None
        user._accord_has_device = any(getattr(user, name) for name in devices)
        return user if self.user_can_authenticate(user) else None


def _unread_count() -> Coalesce:
    from accord.notifications.models import Notification

    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread), 0)
