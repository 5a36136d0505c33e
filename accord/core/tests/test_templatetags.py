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
