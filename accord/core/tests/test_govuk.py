"""GOV.UK components are rendered once per distinct set of parameters, and never mixed up."""

import datetime as dt

import pytest
from django.utils.safestring import mark_safe

from accord.core import govuk
from accord.core.govuk import render_component


def uncached(name, params):
    return govuk._macro_template(name).render(data=govuk._without_none(params))


def test_a_repeated_component_is_served_from_the_cache_and_is_identical():
    govuk._RENDERED.clear()
    params = {
        "id": "id_agency",
        "name": "agency",
        "label": {"text": "Agency"},
        "items": [{"value": str(i), "text": f"Agency {i}", "selected": i == 7} for i in range(50)],
    }
    first = render_component("select", params)
    assert len(govuk._RENDERED) == 1
    assert render_component("select", dict(params)) == first == uncached("select", params)
    assert len(govuk._RENDERED) == 1


def test_plain_text_is_never_served_the_markup_of_the_same_characters():
    govuk._RENDERED.clear()

    def radios(hint):
        return render_component(
            "radios", {"name": "x", "hint": {"text": hint}, "items": [{"value": "a", "text": "A"}]}
        )

    trusted = radios(mark_safe("<b>Urgent</b>"))
    plain = radios("<b>Urgent</b>")
    assert "<b>Urgent</b>" in trusted
    assert "&lt;b&gt;Urgent&lt;/b&gt;" in plain and "<b>Urgent</b>" not in plain
    assert len(govuk._RENDERED) == 2


def test_what_someone_typed_is_never_kept():
    govuk._RENDERED.clear()
    render_component(
        "textarea", {"name": "concern", "id": "concern", "label": {"text": "Concern"}, "value": "A child"}
    )
    render_component(
        "input", {"name": "summary", "id": "summary", "label": {"text": "Summary"}, "value": "A child"}
    )
    assert govuk._RENDERED == {}


def test_true_and_one_and_other_lookalikes_are_different_keys():
    assert govuk._frozen({"a": True}) != govuk._frozen({"a": 1})
    assert govuk._frozen({"a": 1.0}) != govuk._frozen({"a": 1})
    assert govuk._frozen({"a": ["x"]}) != govuk._frozen({"a": {"x": None}})
    assert govuk._frozen({"a": "x", "b": "y"}) != govuk._frozen({"b": "y", "a": "x"})


def test_parameters_of_other_types_are_rendered_without_the_cache():
    govuk._RENDERED.clear()
    html = render_component(
        "select",
        {
            "name": "d",
            "id": "d",
            "label": {"text": "Due"},
            "items": [{"value": dt.date(2026, 1, 2), "text": "2 Jan"}],
        },
    )
    assert "2026-01-02" in html
    assert govuk._RENDERED == {}


def test_the_cache_is_bounded(monkeypatch):
    govuk._RENDERED.clear()
    monkeypatch.setattr(govuk, "RENDERED_LIMIT", 3)
    for i in range(7):
        render_component("select", {"name": "s", "id": "s", "label": {"text": f"Choice {i}"}, "items": []})
    assert 1 <= len(govuk._RENDERED) <= 3


def test_empty_boxes_are_kept_and_served_identically():
    govuk._RENDERED.clear()
    params = {"name": "q", "id": "q", "label": {"text": "Search"}, "value": ""}
    first = render_component("input", params)
    date = {
        "id": "raised_from",
        "fieldset": {"legend": {"text": "Raised from"}},
        "items": [{"name": "day", "value": ""}, {"name": "month", "value": None}, {"name": "year"}],
    }
    render_component("date-input", date)
    assert len(govuk._RENDERED) == 2
    assert render_component("input", dict(params)) == first == uncached("input", params)


def test_a_typed_date_part_or_any_error_message_is_never_kept():
    govuk._RENDERED.clear()
    render_component(
        "date-input",
        {"id": "d", "items": [{"name": "day", "value": "12"}, {"name": "month", "value": ""}]},
    )
    render_component(
        "input",
        {"name": "q", "id": "q", "label": {"text": "Search"}, "errorMessage": {"text": "Alice is too long"}},
    )
    render_component(
        "select",
        {
            "name": "agency",
            "id": "agency",
            "label": {"text": "Agency"},
            "errorMessage": {"text": "Select a valid choice. Alice is not one of the available choices."},
            "items": [],
        },
    )
    assert govuk._RENDERED == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "url", "params"),
    [
        ("auditor", "/audit/", {"date_to": "9999-12-31"}),
        ("auditor", "/audit/", {"date_from-day": "1", "date_from-month": "1", "date_from-year": "0001"}),
        ("auditor", "/audit/export.csv", {"date_to": "9999-12-31"}),
        ("manager_health", "/escalations/", {"raised_to": "9999-12-31"}),
        ("manager_health", "/escalations/", {"raised_from": "0001-01-01"}),
        ("pdg_chair", "/reports/pdg/", {"end-day": "31", "end-month": "12", "end-year": "9999"}),
    ],
)
def test_a_date_at_the_ends_of_the_calendar_is_refused_not_a_server_error(world, client, who, url, params):
    from accord.testing.auth import sign_in

    sign_in(client, getattr(world, who))
    response = client.get(url, params)
    assert response.status_code == 200
    if response["Content-Type"].startswith("text/html"):
        assert "must be between 1900 and 2099" in response.content.decode()


def test_the_calendar_bounds_are_the_fields_own():
    from django.core.exceptions import ValidationError

    from accord.core.govuk import DateInputField

    field = DateInputField(subject="the date", required=False)
    assert field.clean("2099-12-31") == dt.date(2099, 12, 31)
    with pytest.raises(ValidationError, match="between 1900 and 2099"):
        field.clean("2100-01-01")
    with pytest.raises(ValidationError, match="between 1900 and 2099"):
        field.clean(["1", "1", "1899"])


def test_a_date_fields_missing_date_message_is_said_in_the_language_of_the_request():
    """A form's fields are made as its module loads, in no one's language: the message for a
    date left out must still come in the Welsh of a Welsh page."""
    from django import forms
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from accord.core.govuk import DateInputField

    class HeldOn(forms.Form):
        held_on = DateInputField(subject=gettext_lazy("the date the discussion took place"))

    with translation.override("cy"):
        form = HeldOn({})
        assert form.errors["held_on"] == ["Rhowch y dyddiad y cynhaliwyd y drafodaeth"]
    with translation.override("en-gb"):
        assert HeldOn({}).errors["held_on"] == ["Enter the date the discussion took place"]


def test_a_fields_error_and_the_service_navigation_are_announced_in_welsh():
    from django.utils import translation

    with translation.override("cy"):
        field = render_component(
            "input", {"id": "x", "name": "x", "label": {"text": "X"}, "errorMessage": {"text": "Rhowch X"}}
        )
        navigation = render_component("service-navigation", {"serviceName": "Accord", "navigation": []})
    assert "Gwall:</span> Rhowch X" in field
    assert 'aria-label="Gwybodaeth am y gwasanaeth"' in navigation
    with translation.override("en-gb"):
        english = render_component(
            "input", {"id": "x", "name": "x", "label": {"text": "X"}, "errorMessage": {"text": "Enter X"}}
        )
    assert "Error:</span> Enter X" in english
