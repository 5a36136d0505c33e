"""The service navigation, by role."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from accord.partnership.models import Role
from accord.partnership.roles import AUDIT_ROLES, CASEWORK_ROLES, RAISING_ROLES, SETTINGS_ROLES
from accord.reports.policies import REPORT_READERS, Report


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    roles: frozenset[str]


def navigation_for(roles: frozenset[str], path: str, unread: int = 0, formal_body: str = "") -> list[dict]:
    """``formal_body``: the partnership's name for it, which names its standing-item report."""
    items = _items(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    visible = [item for item in items if roles & item.roles]
    # The current item is the one whose address is the longest match for the page's.
    matches = [i for i in visible if (path == i.url if i.url == "/" else path.startswith(i.url))]
    current = max(matches, key=lambda i: len(i.url), default=None)
    notifications = items[-1].url
    report = (
        str(_("%(body)s report") % {"body": formal_body}) if formal_body else str(_("Standing item report"))
    )
    return [
        {
            "text": f"{i.label} ({unread})"
            if unread and i.url == notifications
            else (report if i.label is FORMAL_BODY_REPORT else str(i.label)),
            "href": i.url,
            "active": i is current,
        }
        for i in visible
    ]


# The formal body's standing-item report, named after the partnership's own formal body.
FORMAL_BODY_REPORT = _("Standing item report")


@lru_cache(maxsize=16)
def _items(script_prefix: str, urlconf: str) -> tuple[NavItem, ...]:
    """The items with their addresses, reversed once for each address prefix and URL
    configuration Accord is served under (the labels stay lazy, so each page shows them
    in its own language)."""
    return (
        NavItem(_("Home"), reverse("home"), frozenset(Role.values)),
        NavItem(_("Raise an escalation"), reverse("escalations:start"), frozenset(RAISING_ROLES)),
        NavItem(_("Escalations"), reverse("escalations:list"), frozenset(CASEWORK_ROLES)),
        NavItem(_("Partnership settings"), reverse("settings_home"), SETTINGS_ROLES),
        NavItem(_("Audit trail"), reverse("audit:search"), AUDIT_ROLES),
        NavItem(FORMAL_BODY_REPORT, reverse("reports:pdg"), REPORT_READERS[Report.STANDING_ITEM]),
        NavItem(_("IRU report"), reverse("reports:iru"), frozenset({Role.CONFERENCE_CHAIR})),
        NavItem(
            _("Annual report"),
            reverse("reports:annual"),
            REPORT_READERS[Report.ANNUAL],
        ),
        NavItem(_("Notifications"), reverse("notifications"), frozenset(CASEWORK_ROLES)),  # last
    )
