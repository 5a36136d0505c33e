"""Signing in with a username and password."""

from __future__ import annotations

from functools import cache

import django_otp
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.db.models import BooleanField, IntegerField
from django.db.models.expressions import RawSQL

from accord.notifications.models import Notification
from accord.partnership.models import RoleAssignment


class AccordModelBackend(ModelBackend):
    """Django's username-and-password backend, reading the signed-in person with their
    agency in one query: nearly every request shows it or writes it to the audit trail.
    The same query asks whether they have a confirmed two-step device, which every page
    checks for anyone not yet verified (``TwoStepRequiredMiddleware``), and how many of
    their notifications are unread, which every page's navigation shows."""

    def get_user(self, user_id):
        User = get_user_model()
        has_device, unread = _person_extras()  # written from model names only, no input
        try:
            user = (
                User._default_manager.select_related("agency")
                .annotate(
                    _accord_has_device=RawSQL(has_device, [], output_field=BooleanField()),  # noqa: S611
                    _accord_unread=RawSQL(unread, [], output_field=IntegerField()),  # noqa: S611
                )
                .get(pk=user_id)
            )
        except User.DoesNotExist:
            return None
        user._accord_has_device = bool(user._accord_has_device)
        return user if self.user_can_authenticate(user) else None


@cache
def _person_extras() -> tuple[str, str]:
    """The two subqueries, written once: built through the ORM on every request they cost
    more CPU (about a millisecond) than the statements they replace. Tested against
    ``has_device`` and the notifications' own count."""
    q = connection.ops.quote_name
    person = f"{q(get_user_model()._meta.db_table)}.{q('id')}"
    has_device = " OR ".join(
        f"EXISTS (SELECT 1 FROM {q(model._meta.db_table)} d"  # noqa: S608
        f" WHERE d.{q(model._meta.get_field('user').column)} = {person}"
        f" AND d.{q(model._meta.get_field('confirmed').column)})"
        for model in django_otp.device_classes()
    )

    notifications = q(Notification._meta.db_table)
    roles = q(RoleAssignment._meta.db_table)
    n_partnership = q(Notification._meta.get_field("partnership").column)
    r_partnership = q(RoleAssignment._meta.get_field("partnership").column)
    # Only partnerships the person still works in: the count of someone in one partnership
    # (most people) is then that partnership's; for someone in several the page counts the
    # current partnership's on its own (accord.web.context_processors).
    unread = (
        f"SELECT COUNT(*) FROM {notifications} n"  # noqa: S608
        f" WHERE n.{q(Notification._meta.get_field('recipient').column)} = {person}"
        f" AND n.{q(Notification._meta.get_field('read_at').column)} IS NULL"
        f" AND n.{n_partnership} IN (SELECT r.{r_partnership} FROM {roles} r"
        f" WHERE r.{q(RoleAssignment._meta.get_field('user').column)} = {person})"
    )
    return f"({has_device or 'FALSE'})", unread
