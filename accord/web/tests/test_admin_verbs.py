"""Django's admin (the deployment's administrators') records each change under its own verb,
in the trail of the partnership it belongs to: a term added, a meeting recorded with the
actions it asked for, the partnership's settings and its ladder changed."""

from __future__ import annotations

import pytest
from django import forms

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import AreaOfDisagreement
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def _posted(form) -> dict:
    """A bound or unbound form's fields as the page would post them, unchanged."""
    data = {}
    for name, field in form.fields.items():
        key, value = form.add_prefix(name), form[name].value()
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = value if isinstance(value, list) else widget.decompress(value)
            for i, part in enumerate(parts):
                if part not in (None, ""):
                    data[f"{key}_{i}"] = part.isoformat() if hasattr(part, "isoformat") else part
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(value, (list, tuple)):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


def _change_page(client, url: str) -> dict:
    context = client.get(url).context
    data = _posted(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        data |= _posted(formset.management_form)
        for form in formset.forms:
            data |= _posted(form)
    return data


@pytest.fixture
def root(client):
    person = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    sign_in(client, person)
    return person


def test_the_admin_records_each_change_under_its_own_verb_in_the_partnerships_trail(client, world, root):
    p = world.partnership
    added = client.post(
        "/business-unit/admin/partnership/areaofdisagreement/add/",
        {"partnership": p.pk, "code": "housing", "label": "Housing", "is_active": "on", "position": "9"},
    )
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else added
    term = AreaOfDisagreement.objects.get(partnership=p, code="housing")
    entry = AuditEvent.objects.get(verb=Verb.TERM_ADDED, target_id=str(term.pk))
    assert entry.partnership_id == p.pk and entry.payload["taxonomy"] == "areas"

    url = "/business-unit/admin/reports/pdgmeeting/add/"
    data = _change_page(client, url) | {"partnership": p.pk, "held_on": "2026-11-02"}
    prefix = next(k.removesuffix("-TOTAL_FORMS") for k in data if k.endswith("-TOTAL_FORMS"))
    data |= {
        f"{prefix}-0-description": "Write to the trust",
        f"{prefix}-0-owner": world.manager_health.pk,
        f"{prefix}-0-due_on": "2026-11-20",
    }
    recorded = client.post(url, data)
    assert recorded.status_code == 302, recorded.context["adminform"].form.errors if recorded.context else ""
    assert AuditEvent.objects.get(verb=Verb.MEETING_RECORDED).partnership_id == p.pk
    asked = AuditEvent.objects.get(verb=Verb.MEETING_ACTIONS_CHANGED)
    assert asked.payload["meeting"] == "2026-11-02" and len(asked.payload["added"]) == 1

    url = f"/business-unit/admin/partnership/partnership/{p.pk}/change/"
    data = _change_page(client, url)
    stage = next(k for k in data if k.endswith("-0-routine_working_days"))  # the first stage
    agencies = next(k for k in data if k.endswith("-TOTAL_FORMS") and "agency" in k).removesuffix(
        "-TOTAL_FORMS"
    )
    data |= {f"{agencies}-0-staff": "1234"}  # the first agency's size in the partnership
    data |= {
        stage: str(int(data[stage]) + 1),
        "front_door_phone": "01234 000000",
        "confirm_moved_due_dates": "on",
    }
    saved = client.post(url, data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else ""
    settings_entry = AuditEvent.objects.get(verb=Verb.PARTNERSHIP_SETTINGS_CHANGED)
    assert settings_entry.partnership_id == p.pk and "front_door_phone" in settings_entry.payload["fields"]
    ladder = AuditEvent.objects.get(verb=Verb.PROTOCOL_CHANGED)
    assert ladder.partnership_id == p.pk and ladder.payload["part"] == "ladder"
    assert ladder.payload["before"] != ladder.payload["after"]
    agency = AuditEvent.objects.get(verb=Verb.AGENCY_CHANGED)
    assert agency.partnership_id == p.pk and agency.payload["fields"] == ["staff"]
    assert not AuditEvent.objects.filter(verb=Verb.CONFIGURATION_CHANGED).exists()
