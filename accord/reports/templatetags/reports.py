"""The PDG standing item's long tables, written here rather than by template loops: at
national scale the page shows some 440 counts by breakdown and agency and a matrix of 169
cells, most with a drill-down link, and a template loop was the page's slowest part
(``docs/performance.md``).

Every value is escaped by ``_text`` (what Django's ``conditional_escape`` does, without its
per-call checks for lazy text); the tables' own markup is fixed."""

from __future__ import annotations

import html
from typing import Any

from django import template
from django.conf import settings
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()


def _text(value: Any) -> str:
    """``value`` as HTML: markup kept, anything else escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _count(value: Any) -> str:
    """A count as the page shows it (``localize``, as a template does; a plain integer
    needs nothing more unless numbers are grouped), escaped."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return _text(localize(value))


@register.simple_tag
def report_tables(sections: list, list_url: str) -> SafeString:
    """Each breakdown (stage reached, kind, ... receiving agency, outcomes) as a table of
    counts headed by what they count, two to a grid row; a count links to the escalations behind it where its
    ``drill`` query is given."""
    word = _text(gettext("escalations"))
    url = _text(list_url)
    item = _text(gettext("Item"))

    def head(unit: Any) -> str:
        """The heading row: the count's column says what it counts (``views.UNITS``)."""
        return (
            '<thead class="govuk-table__head"><tr class="govuk-table__row">'
            f'<th scope="col" class="govuk-table__header">{item}</th>'
            f'<th scope="col" class="govuk-table__header govuk-table__header--numeric">{_text(unit or gettext("Count"))}</th>'
            "</tr></thead>"
        )

    none = (
        '<tr class="govuk-table__row"><td class="govuk-table__cell" colspan="2">'
        f"{_text(gettext('None in the period'))}</td></tr>"
    )
    parts = []
    for number, (title, rows, unit) in enumerate(sections, start=1):
        body = []
        for label, value, drill in rows:
            name, count = _text(label), _count(value)
            if drill and value:
                count = (
                    f'<a class="govuk-link" href="{url}?{_text(drill)}">{count}'
                    f'<span class="govuk-visually-hidden"> {word}: {name}</span></a>'
                )
            body.append(
                f'<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">{name}</th>'
                f'<td class="govuk-table__cell govuk-table__cell--numeric">{count}</td></tr>'
            )
        parts.append(
            '<div class="govuk-grid-column-one-half"><table class="govuk-table">'
            f'<caption class="govuk-table__caption govuk-table__caption--s">{_text(title)}</caption>'
            f'{head(unit)}<tbody class="govuk-table__body">{"".join(body) or none}</tbody></table></div>'
        )
        if number % 2 == 0:
            parts.append('</div><div class="govuk-grid-row">')
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped by _text


@register.simple_tag
def agency_matrix(agencies: list, rows: list, list_url: str) -> SafeString:
    """Who raised escalations with whom: a row a raising agency, a column an agency the
    difference was with, each cell shaded by its count and linked to the escalations
    behind it where its ``link`` query is given."""
    url = _text(list_url)
    caption = _text(
        gettext(
            "Rows: the raising agency. Columns: the agency the difference was with. Each cell "
            "counts escalations raised by the row's agency naming the column's agency; an "
            "escalation naming several agencies counts once in each of their columns, so a row "
            "adds up to its agency's involvements, not the escalations it raised. Darker cells "
            "mean more. The agencies most involved are shown; the CSV has every pair."
        )
    )
    columns = "".join(
        f'<th scope="col" class="govuk-table__header govuk-table__header--numeric">{_text(a)}</th>'
        for a in agencies
    )
    described = gettext("raised by %(raiser)s with %(receiver)s")
    body = []
    for raiser, cells in rows:
        row = [
            f'<tr class="govuk-table__row"><th scope="row" class="govuk-table__header">{_text(raiser)}</th>'
        ]
        for receiver, value, heat, link in cells:
            count = _count(value)
            if link:
                hidden = _text(described % {"raiser": raiser, "receiver": receiver})
                count = (
                    f'<a class="govuk-link" href="{url}?{_text(link)}">{count}'
                    f'<span class="govuk-visually-hidden"> {hidden}</span></a>'
                )
            row.append(
                f'<td class="govuk-table__cell govuk-table__cell--numeric accord-heat-{_text(heat)}">{count}</td>'
            )
        row.append("</tr>")
        body.append("".join(row))
    return mark_safe(  # noqa: S308 - every value escaped by _text
        '<table class="govuk-table accord-matrix">'
        f'<caption class="govuk-table__caption govuk-table__caption--s">{caption}</caption>'
        '<thead class="govuk-table__head"><tr class="govuk-table__row">'
        f'<th scope="col" class="govuk-table__header">{_text(gettext("Raised by"))}</th>{columns}</tr></thead>'
        f'<tbody class="govuk-table__body">{"".join(body)}</tbody></table>'
    )
