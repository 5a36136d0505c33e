"""The service navigation: the items each role has, the current one, the unread count."""

from django.urls import set_script_prefix

from accord.partnership.models import Role
from accord.web.navigation import navigation_for


def _texts(items):
    return [item["text"] for item in items]


def test_each_role_sees_its_own_items_and_the_current_one_is_marked():
    practitioner = navigation_for(frozenset({Role.PRACTITIONER}), "/escalations/12/")
    assert _texts(practitioner) == ["Home", "Raise an escalation", "Escalations", "Notifications"]
    # The longest matching address is current: an escalation's page is under Escalations,
    # not under Home ("/") or Raise an escalation.
    assert [item["text"] for item in practitioner if item["active"]] == ["Escalations"]
    auditor = navigation_for(frozenset({Role.AUDITOR}), "/")
    assert _texts(auditor) == ["Home", "Audit trail"]
    assert [item["text"] for item in auditor if item["active"]] == ["Home"]
    unit = navigation_for(frozenset({Role.BUSINESS_UNIT}), "/reports/pdg/", formal_body="Escalation panel")
    assert "Partnership settings" in _texts(unit) and "Escalations" not in _texts(unit)
    # The standing item's report is named after the partnership's own formal body.
    assert [item["text"] for item in unit if item["active"]] == ["Escalation panel report"]


def test_the_unread_count_is_shown_on_notifications_only():
    items = navigation_for(frozenset({Role.MANAGER}), "/", unread=3)
    assert "Notifications (3)" in _texts(items)
    assert all("(3)" not in text for text in _texts(items) if not text.startswith("Notifications"))
    assert "Notifications" in _texts(navigation_for(frozenset({Role.MANAGER}), "/", unread=0))


def test_the_addresses_follow_the_prefix_accord_is_served_under():
    try:
        set_script_prefix("/accord/")
        items = navigation_for(frozenset({Role.PRACTITIONER}), "/accord/escalations/")
        assert [item["href"] for item in items][:3] == [
            "/accord/",
            "/accord/escalations/raise/",
            "/accord/escalations/",
        ]
        assert [item["text"] for item in items if item["active"]] == ["Escalations"]
    finally:
        set_script_prefix("/")
    assert navigation_for(frozenset({Role.PRACTITIONER}), "/")[0]["href"] == "/"
