"""Signing in with a username and password."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AccordModelBackend(ModelBackend):
    """Django's username-and-password backend, reading the signed-in person with their
    agency in one query: nearly every request shows it or writes it to the audit trail."""

    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related("agency").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
