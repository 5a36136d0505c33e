"""Rendering Django forms as GOV.UK Frontend v6 components.

This is Accord's one way to render a form: every field goes through
``render_field``, which builds the GOV.UK Frontend macro's parameters from the
bound field and renders the GOV.UK Frontend macro from ``govuk-frontend-jinja``,
the templates ``govuk-frontend-django`` is built on, with one cached Jinja
environment. Errors, hints, labels and
page headings follow the GOV.UK Design System's patterns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise, lazy
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from accord.core import clock

_MACROS = {
    "input": ("input", "govukInput"),
    "password": ("password-input", "govukPasswordInput"),
    "textarea": ("textarea", "govukTextarea"),
    "character-count": ("character-count", "govukCharacterCount"),
    "select": ("select", "govukSelect"),
    "radios": ("radios", "govukRadios"),
    "checkboxes": ("checkboxes", "govukCheckboxes"),
    "date-input": ("date-input", "govukDateInput"),
    "file-upload": ("file-upload", "govukFileUpload"),
    "error-summary": ("error-summary", "govukErrorSummary"),
    "button": ("button", "govukButton"),
    "warning-text": ("warning-text", "govukWarningText"),
    "tag": ("tag", "govukTag"),
    "service-navigation": ("service-navigation", "govukServiceNavigation"),
    "footer": ("footer", "govukFooter"),
    "skip-link": ("skip-link", "govukSkipLink"),
    "summary-list": ("summary-list", "govukSummaryList"),
    "notification-banner": ("notification-banner", "govukNotificationBanner"),
    "pagination": ("pagination", "govukPagination"),
    "table": ("table", "govukTable"),
    "back-link": ("back-link", "govukBackLink"),
    "panel": ("panel", "govukPanel"),
    "inset-text": ("inset-text", "govukInsetText"),
    "details": ("details", "govukDetails"),
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """One Jinja environment for GOV.UK Frontend's macros, built once (compiling the macros
    on every render would cost tens of milliseconds a field)."""
    return Environment(
        loader=ChoiceLoader([PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]),
        autoescape=select_autoescape(),
        auto_reload=False,
    )


@lru_cache(maxsize=64)
def _macro_template(name: str):
    folder, macro = _MACROS[name]
    source = f"{{%- from 'govuk_frontend_jinja/components/{folder}/macro.html' import {macro} -%}}{{{{ {macro}(data) }}}}"
    return _environment().from_string(source)


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


class _Uncacheable(Exception):
    pass


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _frozen(value: Any, blocked: frozenset[str] = frozenset()) -> Any:
    """A hashable key for a component's parameters that tells apart everything the macro
    does: markup from plain text (escaped or not), ``True`` from ``1``, a list from a dict.
    Raises ``_Uncacheable`` for a value it cannot key, or if any of ``blocked``, at any
    depth, has a non-empty value. (One walk; a select lists every agency.)"""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is dict:
        pairs = []
        for k, v in value.items():
            if k in blocked and v not in (None, "", [], {}):
                raise _Uncacheable
            pairs.append((k, (type(v), v) if type(v) in _PLAIN else _frozen(v, blocked)))
        return (dict, tuple(pairs))
    if kind is list or kind is tuple:
        return (list, tuple((type(v), v) if type(v) in _PLAIN else _frozen(v, blocked) for v in value))
    if hasattr(value, "__html__"):
        return ("html", str(value))
    if isinstance(value, Promise):
        return (str, str(value))  # a lazy translation, in the language active now
    if isinstance(value, dict | list | tuple):
        return _frozen(dict(value) if isinstance(value, dict) else list(value), blocked)
    if isinstance(value, str | int | float | bool):
        return (kind, value)
    raise _Uncacheable


# The same component with the same parameters renders the same HTML: the filter form's
# selects (one with every agency) and empty boxes are drawn on every list page, and a
# Jinja macro costs a millisecond or more. Only components that choose from a fixed list,
# and boxes while nothing is typed in them, are kept; never one holding what someone
# typed, nor an error message (which may repeat it), since the cache outlives the request
# in memory. Bounded; emptied when full.
CACHED_COMPONENTS = frozenset({"select", "radios", "checkboxes"})
CACHED_WHEN_EMPTY = frozenset({"input", "date-input", "textarea", "character-count"})
_RENDERED: dict[tuple, SafeString] = {}
RENDERED_LIMIT = 512


_ERRORS = frozenset({"errorMessage"})
_TYPED = frozenset({"value", "errorMessage"})


def _cache_key(name: str, params: dict[str, Any]) -> tuple | None:
    """The key a component is kept under, or ``None`` if it may not be kept: a component
    that chooses from a list unless it shows an error message, a box only while nothing
    is typed in it and it shows no error."""
    if name in CACHED_COMPONENTS:
        blocked = _ERRORS
    elif name in CACHED_WHEN_EMPTY:
        blocked = _TYPED
    else:
        return None
    try:
        return (name, _frozen(params, blocked))
    except _Uncacheable:
        return None


# The plural categories GOV.UK Frontend's JavaScript asks of a count (``Intl.PluralRules``),
# each with a number gettext puts in the same form: Welsh has six, English two.
_PLURAL_SAMPLES = {
    "cy": (("zero", 0), ("one", 1), ("two", 2), ("few", 3), ("many", 6), ("other", 5)),
    "en": (("one", 1), ("other", 5)),
}


def _counted(words: Callable[[int], str]) -> dict[str, str]:
    samples = _PLURAL_SAMPLES["cy" if (get_language() or "").startswith("cy") else "en"]
    return {category: words(n) for category, n in samples}


def component_texts(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The words a component writes of its own (its buttons, announcements and counts), in
    the language in use: GOV.UK Frontend's defaults are English, so each is given here. (The
    ones Accord always gives, such as the error summary's title, are given where it is drawn.)"""
    if name == "character-count":
        return {
            "textareaDescriptionText": gettext("You can enter up to %{count} characters"),
            "charactersUnderLimitText": _counted(
                lambda n: ngettext(
                    "You have %{count} character remaining", "You have %{count} characters remaining", n
                )
            ),
            "charactersAtLimitText": gettext("You have 0 characters remaining"),
            "charactersOverLimitText": _counted(
                lambda n: ngettext(
                    "You have %{count} character too many", "You have %{count} characters too many", n
                )
            ),
        }
    if name == "password":
        return {
            "showPasswordText": gettext("Show"),
            "hidePasswordText": gettext("Hide"),
            "showPasswordAriaLabelText": gettext("Show password"),
            "hidePasswordAriaLabelText": gettext("Hide password"),
            "passwordShownAnnouncementText": gettext("Your password is visible"),
            "passwordHiddenAnnouncementText": gettext("Your password is hidden"),
        }
    if name == "service-navigation":
        return {
            "menuButtonText": gettext("Menu"),
            "menuButtonLabel": gettext("Show or hide menu"),
            "ariaLabel": gettext("Service information"),
        }
    if name == "error-message":
        return {"visuallyHiddenText": gettext("Error")}
    if name == "back-link":
        return {"text": gettext("Back")}
    if name == "notification-banner":
        return {"titleText": gettext("Success") if params.get("type") == "success" else gettext("Important")}
    return {}


def render_component(name: str, params: dict[str, Any]) -> SafeString:
    """Render a GOV.UK Frontend component from its macro (as govuk-frontend-django does),
    with the component's own words in the language in use where the caller gave none."""
    texts = component_texts(name, params)
    if texts:
        params = {**texts, **{k: v for k, v in params.items() if v is not None}}
    # A field's error message (a component inside the field's) is read out after "Error",
    # which GOV.UK Frontend says in English unless told.
    error = params.get("errorMessage")
    if isinstance(error, dict) and not error.get("visuallyHiddenText"):
        params = {**params, "errorMessage": {**error, **component_texts("error-message", error)}}
    key = _cache_key(name, params)
    if key is not None and (html := _RENDERED.get(key)) is not None:
        return html
    html = mark_safe(_macro_template(name).render(data=_without_none(params)))  # noqa: S308 - the macro escapes
    if key is not None:
        if len(_RENDERED) >= RENDERED_LIMIT:
            _RENDERED.clear()
        _RENDERED[key] = html
    return html


class DateInputWidget(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes."""

    parts = ("day", "month", "year")

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__([forms.TextInput(), forms.TextInput(), forms.TextInput()], attrs)

    def decompress(self, value: Any) -> list:
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        if isinstance(value, str) and value:
            try:
                parsed = dt.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
            return [parsed.day, parsed.month, parsed.year]
        return [None, None, None]

    def value_from_datadict(self, data, files, name):
        if name in data and all(f"{name}-{part}" not in data for part in self.parts):
            return data.get(name)  # one ISO date, as a link from elsewhere gives it
        return [data.get(f"{name}-{part}", "") for part in self.parts]

    def value_omitted_from_data(self, data, files, name):
        return name not in data and all(f"{name}-{part}" not in data for part in self.parts)


def _enter(subject: Any) -> str:
    return gettext("Enter %(subject)s") % {"subject": subject}


_enter_lazy = lazy(_enter, str)


class DateInputField(forms.Field):
    """A date entered in the GOV.UK day / month / year pattern, with GOV.UK error messages."""

    widget = DateInputWidget

    def __init__(self, *, subject: str, allow_future: bool = True, **kwargs: Any) -> None:
        self.subject = subject
        self.allow_future = allow_future
        # (Lazy: a form's fields are made once, as its module loads, and the message is said
        # in each request's language.)
        kwargs.setdefault("error_messages", {"required": _enter_lazy(subject)})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):  # an ISO date in a link (YYYY-MM-DD)
            if not value.strip():
                return None
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(
                    _("%(subject)s must be a real date") % {"subject": self.subject.capitalize()},
                    code="invalid",
                ) from None
        if not value or all(not str(v).strip() for v in value):
            return None
        day, month, year = (str(v).strip() for v in value)
        missing = [label for label, v in ((_("day"), day), (_("month"), month), (_("year"), year)) if not v]
        if missing:
            raise ValidationError(
                _("%(subject)s must include a %(part)s")
                % {"subject": self.subject.capitalize(), "part": missing[0]},
                code="incomplete",
            )
        try:
            parsed = dt.date(int(year), int(month), int(day))
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(
                _("%(subject)s must be a real date") % {"subject": self.subject.capitalize()},
                code="invalid",
            ) from None
        if len(year) != 4:
            raise ValidationError(_("Year must include 4 numbers"), code="invalid_year")
        return parsed

    # Dates Accord can do arithmetic on: a search "to 31 December 9999" would otherwise
    # overflow the day after it. No date Accord asks for lies outside these years.
    EARLIEST_YEAR = 1900
    LATEST_YEAR = 2099

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not self.EARLIEST_YEAR <= value.year <= self.LATEST_YEAR:
            raise ValidationError(
                _("%(subject)s must be between %(earliest)s and %(latest)s")
                % {
                    "subject": self.subject.capitalize(),
                    "earliest": self.EARLIEST_YEAR,
                    "latest": self.LATEST_YEAR,
                },
                code="out_of_range",
            )
        if value and not self.allow_future and value > clock.today():
            raise ValidationError(
                _("%(subject)s must be today or in the past") % {"subject": self.subject.capitalize()},
                code="future",
            )


def _field_id(bound: forms.BoundField) -> str:
    return bound.auto_id or f"id_{bound.html_name}"


def _error(bound: forms.BoundField) -> dict | None:
    if bound.errors:
        return {"text": " ".join(str(e) for e in bound.errors)}
    return None


def _hint(bound: forms.BoundField, hint: str | None = None) -> dict | None:
    text = hint if hint is not None else bound.help_text
    return {"text": str(text)} if text else None


def _choices(bound: forms.BoundField) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in bound.field.choices]


def _selected(bound: forms.BoundField) -> set[str]:
    value = bound.value()
    if value is None:
        return set()
    if isinstance(value, (list, tuple)):
        return {str(v) for v in value}
    return {str(value)}


@dataclass
class _Field:
    """What every GOV.UK component of one bound field is built from."""

    bound: forms.BoundField
    widget: forms.Widget
    field_id: str
    label_text: str
    label: dict[str, Any]
    legend: dict[str, Any]
    common: dict[str, Any]
    attrs: dict[str, Any]
    classes: str | None
    heading: bool
    inline: bool
    extra: dict[str, Any]


def _date_input(f: _Field) -> SafeString:
    bound = f.bound
    values = f.widget.decompress(bound.value()) if not isinstance(bound.value(), list) else bound.value()
    err = bool(bound.errors)
    items = [
        {
            "name": part,
            "label": str({"day": _("Day"), "month": _("Month"), "year": _("Year")}[part]),
            "value": "" if value is None else str(value),
            "classes": f"govuk-input--width-{width}" + (" govuk-input--error" if err else ""),
        }
        for part, value, width in zip(DateInputWidget.parts, values, (2, 2, 4), strict=True)
    ]
    params = {
        "id": f.field_id,
        "namePrefix": bound.html_name,
        "items": items,
        "fieldset": {"legend": f.legend},
        **f.common,
    }
    return render_component("date-input", params)


def _radios(f: _Field) -> SafeString:
    selected = _selected(f.bound)
    items = [{"value": v, "text": t, "checked": v in selected} for v, t in _choices(f.bound) if v != ""]
    params = {
        "name": f.bound.html_name,
        "idPrefix": f.field_id,
        "items": items,
        "fieldset": {"legend": f.legend},
        "classes": (f.classes or "") + (" govuk-radios--inline" if f.inline else ""),
        **f.common,
    }
    return render_component("radios", params)


def _checkboxes(f: _Field) -> SafeString:
    selected = _selected(f.bound)
    items = [{"value": v, "text": t, "checked": v in selected} for v, t in _choices(f.bound)]
    params = {
        "name": f.bound.html_name,
        "idPrefix": f.field_id,
        "items": items,
        "fieldset": {"legend": f.legend},
        "classes": f.classes,
        **f.common,
    }
    return render_component("checkboxes", params)


def _checkbox(f: _Field) -> SafeString:
    params = {
        "name": f.bound.html_name,
        "idPrefix": f.field_id,
        "items": [{"value": "on", "text": f.label_text, "checked": bool(f.bound.value())}],
        "classes": "govuk-checkboxes--small" if not f.heading else None,
        **f.common,
    }
    return render_component("checkboxes", params)


def _select(f: _Field) -> SafeString:
    selected = _selected(f.bound)
    # A field may give its options attributes (``option_attributes``: value -> attributes),
    # and its select some of its own (the widget's attributes).
    per_option = getattr(f.bound.field, "option_attributes", None) or {}
    items = [
        {"value": v, "text": t, "selected": v in selected, "attributes": per_option.get(v)}
        for v, t in _choices(f.bound)
    ]
    params = {
        "id": f.field_id,
        "name": f.bound.html_name,
        "label": f.label,
        "items": items,
        "classes": f.classes,
        "attributes": f.attrs or None,
        **f.common,
    }
    return render_component("select", params)


def _file_upload(f: _Field) -> SafeString:
    params = {
        "id": f.field_id,
        "name": f.bound.html_name,
        "label": f.label,
        "classes": f.classes,
        "attributes": f.attrs or None,
        **f.common,
    }
    return render_component("file-upload", params)


def _textarea(f: _Field) -> SafeString:
    value = f.bound.value()
    params = {
        "id": f.field_id,
        "name": f.bound.html_name,
        "label": f.label,
        "value": "" if value is None else str(value),
        "rows": f.extra.get("rows", f.widget.attrs.get("rows", 5)),
        "classes": f.classes,
        "attributes": {k: v for k, v in f.attrs.items() if k not in {"rows", "cols", "maxlength"}} or None,
        **f.common,
    }
    max_length = getattr(f.bound.field, "max_length", None)
    if max_length:
        params["maxlength"] = max_length
        return render_component("character-count", params)
    return render_component("textarea", params)


def _input(f: _Field) -> SafeString:
    value = f.bound.value()
    input_type = getattr(f.widget, "input_type", "text")
    params = {
        "id": f.field_id,
        "name": f.bound.html_name,
        "label": f.label,
        "type": input_type if input_type != "password" else None,
        "value": "" if value is None or input_type == "password" else str(value),
        "classes": f.classes,
        "autocomplete": f.extra.get("autocomplete") or f.widget.attrs.get("autocomplete"),
        "spellcheck": False if input_type in {"email", "password"} else None,
        "attributes": {k: v for k, v in f.attrs.items() if k not in {"autocomplete", "maxlength"}} or None,
        **f.common,
    }
    if input_type == "password":
        return render_component("password", params)
    return render_component("input", params)


def _component(widget: forms.Widget):
    """The GOV.UK component a widget is rendered as. (CheckboxSelectMultiple is a kind of
    RadioSelect in Django: several answers are checkboxes, so it is asked first.)"""
    for kind, render in (
        (DateInputWidget, _date_input),
        (forms.CheckboxSelectMultiple, _checkboxes),
        (forms.RadioSelect, _radios),
        (forms.CheckboxInput, _checkbox),
        (forms.Select, _select),
        (forms.FileInput, _file_upload),
        (forms.Textarea, _textarea),
    ):
        if isinstance(widget, kind):
            return render
    return _input


def render_field(
    bound: forms.BoundField,
    *,
    heading: bool = False,
    label_class: str | None = None,
    classes: str | None = None,
    hint: str | None = None,
    inline: bool = False,
    **extra: Any,
) -> SafeString:
    """Render one bound field as its GOV.UK component (a field may name its own width,
    ``govuk_classes``, for example ``govuk-input--width-3`` for a number of days)."""
    widget = bound.field.widget
    field_id = _field_id(bound)
    label_text = str(bound.label)
    attrs = {k: v for k, v in widget.attrs.items() if k not in {"class", "id"}}
    if bound.field.required and not isinstance(widget, (forms.CheckboxInput,)):
        attrs.pop("required", None)
    field = _Field(
        bound=bound,
        widget=widget,
        field_id=field_id,
        label_text=label_text,
        label={
            "text": label_text,
            "for": field_id,
            "isPageHeading": heading or None,
            "classes": "govuk-label--l" if heading else label_class,
        },
        legend={
            "text": label_text,
            "isPageHeading": heading or None,
            "classes": "govuk-fieldset__legend--l"
            if heading
            else (label_class or "govuk-fieldset__legend--s"),
        },
        common={"errorMessage": _error(bound), "hint": _hint(bound, hint)},
        attrs=attrs,
        classes=classes or getattr(bound.field, "govuk_classes", None),
        heading=heading,
        inline=inline,
        extra=extra,
    )
    return _component(widget)(field)


def error_summary(*forms_: forms.BaseForm | None) -> SafeString:
    """The GOV.UK error summary for one or more forms; empty when there are no errors."""
    errors: list[dict[str, str]] = []
    for form in forms_:
        if form is None or not form.is_bound or not form.errors:
            continue
        for message in form.non_field_errors():
            errors.append({"text": str(message)})
        for name, field in form.fields.items():
            bound = form[name]
            if not bound.errors:
                continue
            target = _field_id(bound)
            if isinstance(field.widget, DateInputWidget):
                target = f"{target}-day"
            elif isinstance(field.widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                target = target
            for message in bound.errors:
                errors.append({"text": str(message), "href": f"#{target}"})
    if not errors:
        return SafeString("")
    return render_component("error-summary", {"titleText": str(_("There is a problem")), "errorList": errors})
