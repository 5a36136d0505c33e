from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

from accord.core import govuk

register = template.Library()


@register.simple_tag
def govuk_field(bound: forms.BoundField, **options: Any) -> SafeString:
    """Render a form field as its GOV.UK Frontend component."""
    return govuk.render_field(bound, **options)


@register.simple_tag
def govuk_error_summary(*forms_: forms.BaseForm) -> SafeString:
    return govuk.error_summary(*forms_)


@register.simple_tag
def govuk_button(text: str, **options: Any) -> SafeString:
    params = {"text": text, **options}
    return govuk.render_component("button", params)


# An escalation's status as a GOV.UK tag: its colour and words.
_STATUS_TAGS = {"open": "blue", "paused": "yellow", "resolved": "green", "withdrawn": "grey"}


@register.simple_tag
def status_tag(escalation: Any) -> SafeString:
    """The escalation's status as a coloured GOV.UK tag (a tag rather than an included
    template: lists draw one a row)."""
    from django.utils.html import format_html

    from accord.escalations.models import Status

    status = escalation.status if escalation.status in _STATUS_TAGS else Status.WITHDRAWN
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong>', _STATUS_TAGS[status], Status(status).label
    )


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key)


@register.simple_tag(takes_context=True)
def service_navigation(context: template.Context) -> SafeString:
    request = context.get("request")
    partnership = context.get("partnership")
    end = ""
    if request is not None and request.user.is_authenticated:
        from django.middleware.csrf import get_token
        from django.urls import reverse
        from django.utils.html import format_html
        from django.utils.translation import gettext

        end = format_html(
            '<li class="govuk-service-navigation__item">'
            '<form method="post" action="{}" class="accord-inline-form">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="govuk-service-navigation__link accord-link-button">{}</button>'
            "</form></li>",
            reverse("logout"),
            get_token(request),
            gettext("Sign out"),
        )
    params = {
        "serviceName": str(partnership) if partnership else None,
        "serviceUrl": "/" if partnership else None,
        "navigation": context.get("navigation") or [],
        "navigationLabel": "Main",
        "slots": {"navigationEnd": end} if end else None,
    }
    return govuk.render_component("service-navigation", params)


@register.simple_tag
def govuk_component(name: str, **params: Any) -> SafeString:
    return govuk.render_component(name, params)
