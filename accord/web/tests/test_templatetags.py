from types import SimpleNamespace

import pytest
from django.template import Context, Template

from accord.escalations.models import Status


@pytest.mark.parametrize(
    ("status", "colour", "label"),
    [
        (Status.OPEN, "blue", "Open"),
        (Status.PAUSED, "yellow", "Paused"),
        (Status.RESOLVED, "green", "Resolved"),
        (Status.WITHDRAWN, "grey", "Withdrawn"),
    ],
)
def test_status_tag_gives_each_status_its_colour_and_words(status, colour, label):
    html = Template("{% load accord %}{% status_tag e %}").render(
        Context({"e": SimpleNamespace(status=status)})
    )
    assert html == f'<strong class="govuk-tag govuk-tag--{colour}">{label}</strong>'


def _row(pk, **overrides):
    import datetime as dt

    values = {
        "pk": pk,
        "reference": f"TST-{pk}",
        "summary": "Threshold <not> agreed",
        "urgency": "routine",
        "raising_agency": "Health & Care",
        "with_agency": "Children's Services",
        "stage": 2,
        "due_date": dt.date(2026, 3, 9),
        "status": Status.OPEN,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def test_the_escalation_table_links_each_row_and_escapes_what_people_wrote():
    from django.urls import reverse

    rows = [_row(7), _row(12, urgency="urgent", due_date=None, status=Status.PAUSED)]
    html = Template("{% load accord %}{% escalation_table items caption empty %}").render(
        Context({"items": rows, "caption": "Yours", "empty": "None", "overdue_ids": {7}})
    )
    assert html.count('<tr class="govuk-table__row">') == 3  # the header and two rows
    assert f'<a class="govuk-link" href="{reverse("escalations:detail", args=[7])}">TST-7</a>' in html
    assert f'href="{reverse("escalations:detail", args=[12])}">TST-12</a>' in html
    assert "Threshold &lt;not&gt; agreed" in html and "<not>" not in html
    assert "Health &amp; Care → Children&#x27;s Services" in html
    assert "9 Mar 2026" in html and "–" in html  # a due date, and none
    # A reference and a date are never broken across lines; the agencies' names get the room.
    assert '<td class="govuk-table__cell accord-nowrap"><a class="govuk-link"' in html
    assert '<span class="accord-nowrap">9 Mar 2026</span>' in html
    assert '<th scope="col" class="govuk-table__header govuk-!-width-one-third">With</th>' in html
    # On a phone the table scrolls in its own region, which the keyboard can reach.
    assert html.startswith('<div class="accord-table-scroll" role="region" aria-label="Yours" tabindex="0">')
    first, second = html.split("TST-12")
    assert "Overdue" in first and "Overdue" not in second  # only the overdue row
    assert "Urgent" in second and "Urgent" not in first
    assert "govuk-tag--yellow" in second and "<caption" in html and "Yours" in html


def test_the_escalation_table_with_no_rows_says_so_under_its_caption():
    html = Template("{% load accord %}{% escalation_table items caption empty %}").render(
        Context({"items": [], "caption": "Raised by you", "empty": "You have raised none."})
    )
    assert "<table" not in html
    assert '<h2 class="govuk-heading-m">Raised by you</h2>' in html and "You have raised none." in html
