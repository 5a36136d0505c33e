from __future__ import annotations

from django.http import HttpRequest

from accord.partnership.models import Partnership

from .navigation import navigation_for


def accord(request: HttpRequest) -> dict:
    partnership = getattr(request, "partnership", None)
    roles = getattr(request, "roles", frozenset())
    emergency_partnership = partnership
    if emergency_partnership is None:
        # Before log-in: a single-partnership deployment shows its own front door.
        only = list(Partnership.objects.all()[:2])
        emergency_partnership = only[0] if len(only) == 1 else None
    unread = 0
    user = getattr(request, "user", None)
    if partnership is not None and user is not None and user.is_authenticated:
        # Counted with the user at the start of the request when they came from the
        # session (accord.core.backends); counted afresh otherwise.
        unread = getattr(user, "_accord_unread", None)
        if unread is None:
            from accord.notifications.models import Notification

            unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    return {
        "unread_notifications": unread,
        "partnership": partnership,
        "emergency_partnership": emergency_partnership,
        "roles": roles,
        "navigation": navigation_for(roles, request.path, unread=unread) if partnership else [],
    }
