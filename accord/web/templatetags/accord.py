from __future__ import annotations

import json
from typing import Any

from django import forms, template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from accord.core import govuk
from accord.escalations.models import Status
from accord.partnership import roles

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

    status = escalation.status if escalation.status in _STATUS_TAGS else Status.WITHDRAWN
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong>', _STATUS_TAGS[status], Status(status).label
    )


@register.filter
def role_label(role: str, partnership: Any = None) -> str:
    """A role in the partnership's own words (its formal body's name for the PDG's roles)."""
    return roles.role_label(role, getattr(partnership, "formal_body_shown", ""))


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key)


@register.simple_tag(takes_context=True)
def service_navigation(context: template.Context) -> SafeString:
    from django.utils.translation import gettext

    request = context.get("request")
    partnership = context.get("partnership")
    end = ""
    if request is not None and request.user.is_authenticated:
        from django.middleware.csrf import get_token
        from django.urls import reverse
        from django.utils.html import format_html

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
        "navigationLabel": gettext("Main"),
        "slots": {"navigationEnd": end} if end else None,
    }
    return govuk.render_component("service-navigation", params)


@register.simple_tag
def govuk_component(name: str, **params: Any) -> SafeString:
    return govuk.render_component(name, params)


@register.simple_tag(takes_context=True)
def escalation_table(context: template.Context, items: Any, caption: str, empty: str) -> SafeString:
    """A table of escalations (reference, summary, agencies, stage, due date, status), or,
    with none, the caption as a heading and ``empty``. Lists and "my work" draw up to 75
    rows a page, so the rows are written here rather than by a template loop."""
    from django.urls import reverse
    from django.utils.dates import MONTHS_3
    from django.utils.html import format_html, format_html_join
    from django.utils.translation import gettext

    items = list(items)
    if not items:
        return format_html(
            '<h2 class="govuk-heading-m">{}</h2>\n<p class="govuk-body">{}</p>\n', caption, empty
        )
    overdue_ids = context.get("overdue_ids") or ()
    # Every row's link is the same address but for its key: reversed once.
    marker = 987654321
    head, tail = reverse("escalations:detail", args=[marker]).split(str(marker))
    urgent = format_html(' <strong class="govuk-tag govuk-tag--red">{}</strong>', gettext("Urgent"))
    overdue = format_html('<strong class="govuk-tag govuk-tag--red">{}</strong>', gettext("Overdue"))
    earlier_log = gettext("Earlier log:")
    headers = format_html_join(
        "\n      ",
        '<th scope="col" class="govuk-table__header{}">{}</th>',
        (
            ("", gettext("Reference")),
            ("", gettext("Summary")),
            (" govuk-!-width-one-third", gettext("With")),
            ("", gettext("Stage")),
            ("", gettext("Due")),
            ("", gettext("Status")),
        ),
    )

    def receiving_label(e: Any) -> str:
        # Every agency it is with, where the list read them (``attach_others``).
        others = e.__dict__.get("_accord_others") or ()
        return ", ".join([str(e.with_agency), *(str(o.agency) for o in others)])

    def due(e: Any) -> str:
        d = e.due_date
        return f"{d.day} {MONTHS_3[d.month].title()} {d.year}" if d else "–"

    rows = format_html_join(
        "\n  ",
        '<tr class="govuk-table__row">'
        '<td class="govuk-table__cell accord-nowrap"><a class="govuk-link" href="{}">{}</a></td>'
        '<td class="govuk-table__cell">{}{}{}</td>'
        '<td class="govuk-table__cell">{} → {}</td>'
        '<td class="govuk-table__cell">{}</td>'
        '<td class="govuk-table__cell"><span class="accord-nowrap">{}</span> {}</td>'
        '<td class="govuk-table__cell">{}</td>'
        "</tr>",
        (
            (
                f"{head}{e.pk}{tail}",
                e.reference,
                e.summary,
                urgent if e.urgency == "urgent" else "",
                # One brought in from the earlier log: the reference its people knew it by.
                format_html('<br><span class="govuk-body-s">{} {}</span>', earlier_log, e.imported_reference)
                if getattr(e, "imported_reference", "")
                else "",
                e.raising_agency,
                receiving_label(e),
                e.stage,
                due(e),
                overdue if e.pk in overdue_ids else "",
                status_tag(e),
            )
            for e in items
        ),
    )
    # On a narrow screen the table scrolls within its own region (which the keyboard can
    # reach and scroll), so the page itself never scrolls sideways.
    return format_html(
        '<div class="accord-table-scroll" role="region" aria-label="{}" tabindex="0">\n'
        '<table class="govuk-table govuk-!-font-size-16">\n'
        '  <caption class="govuk-table__caption govuk-table__caption--m">{}</caption>\n'
        '  <thead class="govuk-table__head">\n    <tr class="govuk-table__row">\n      {}\n    </tr>\n  </thead>\n'
        '  <tbody class="govuk-table__body">\n  {}\n  </tbody>\n</table>\n</div>\n',
        caption,
        caption,
        headers,
        rows,
    )


@register.simple_tag
def picker_texts() -> SafeString:
    """The pickers' own words (accessible-autocomplete's hint and status messages, read out by
    screen readers) in the language in use, as a form's ``data-picker-texts`` attribute:
    ``{n}``, ``{option}`` and ``{index}`` are filled in by ``pickers.mjs``."""
    texts = {
        "noResults": gettext("No results found"),
        "queryTooShort": gettext("Type in {n} or more characters for results"),
        "noSearchResults": gettext("No search results"),
        "selectedOption": gettext("{option} {index} of {n} is highlighted"),
        "resultOne": gettext("{n} result is available."),
        "resultMany": gettext("{n} results are available."),
        "assistiveHint": gettext(
            "When results are available, use the up and down arrows to review them and Enter to "
            "choose one. On a touch device, explore by touch or with swipe gestures."
        ),
    }
    return format_html(' data-picker-texts="{}"', json.dumps(texts, ensure_ascii=False))
