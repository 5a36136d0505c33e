from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from accord.core.middleware import RENEWED_KEY
from accord.escalations.subjects import default_subject
from accord.notifications.models import Notification
from accord.partnership.models import Partnership
from accord.partnership.selectors import roles_by_partnership

from .mfa import second_step_due
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
    # Someone who has given their password but not yet their second step sees the
    # two-step pages and "Sign out", and nothing of what their roles will open (not even
    # how many notifications wait for them).
    signed_in = user is not None and user.is_authenticated and second_step_due(user) is None
    if not signed_in:
        roles = frozenset()
    if partnership is not None and signed_in:
        # Counted with the user at the start of the request when they came from the
        # session (accord.web.backends); counted afresh otherwise.
        unread = getattr(user, "_accord_unread", None)
        if unread is None or len(roles_by_partnership(user)) > 1:
            unread = Notification.objects.filter(
                recipient=user, partnership=partnership, read_at__isnull=True
            ).count()
    session_left = None
    if signed_in and hasattr(request, "session"):
        # How long until the idle limit signs them out, for the page's warning.
        renewed = request.session.get(RENEWED_KEY) or int(time.time())
        session_left = max(0, renewed + settings.SESSION_COOKIE_AGE - int(time.time()))
    return {
        "session_seconds_left": session_left,
        "session_warn_seconds": settings.SESSION_WARN_SECONDS,
        "unread_notifications": unread,
        "partnership": partnership,
        "emergency_partnership": emergency_partnership,
        # The banner's and footer's words: an adults board's speak of adults.
        "partnership_subject": default_subject(emergency_partnership.safeguards)
        if emergency_partnership is not None
        else "child",
        "roles": roles,
        "signed_in": signed_in,
        "navigation": navigation_for(
            roles, request.path, unread=unread, formal_body=partnership.formal_body_shown
        )
        if partnership and signed_in
        else [],
    }
