"""Every page and email speaks the partnership's own words: on each preset whose formal body
is not Devon's, no page any role opens and no email Accord sends says "PDG" or "Practice
Development Group", nor "line management" where the ladder has no stage of that name."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accord.escalations import services
from accord.escalations.notices import send_due_reminders
from accord.escalations.tests.test_presets import walk
from accord.notifications.services import deliver_pending
from accord.partnership.protocol import install_ladder, ladder_of, preset, preset_names
from accord.testing.auth import sign_in
from accord.testing.factories import World
from accord.testing.presets import presets_by_shape
from tests.test_url_permission_matrix import MATRIX, make_scene

# What a page says does not hang on the database: CI walks them once, on SQLite (decision 16).
pytestmark = [pytest.mark.django_db, pytest.mark.once_on_sqlite]
# Not read as text here: a PDF's or a workbook's words are compressed inside it. (The PDFs
# are made from the bodies of the report pages walked here, reports/_pdg_body.html and
# reports/_annual_body.html, so a word in them is found on the page.)
BINARY = {"reports:pdg_pdf", "reports:annual_pdf", "reports:annual_xlsx", "escalations:export_xlsx"}

DEVON = "Practice Development Group"
OTHERS = [n for n in preset_names() if preset(n)["formal_body"]["name"] != DEVON]
# Walked: one of the others for each subject, with and without a facilitated stage, in Wales and
# in England (a word hard-coded in a page is found by any of them; these add their own pages).
WALKED = presets_by_shape("subject", "facilitated", "wales", among=OTHERS)
ROLES = (
    "practitioner_health",
    "manager_health",
    "senior_social",
    "chair",
    "pdg_member",
    "pdg_chair",
    "facilitator",
    "admin",
    "executive",
)


def devon_words(ladder) -> re.Pattern:
    words = [r"\bPDG\b", re.escape(DEVON)]
    if not any("line management" in s.name.lower() for s in ladder.stages):
        words.append(r"\b[Ll]ine management\b")
    return re.compile("|".join(words))


def test_the_other_presets_name_their_own_formal_body():
    assert len(OTHERS) == len(preset_names()) - 1


@pytest.mark.parametrize("name", WALKED)
def test_every_page_and_email_on_the_preset_speaks_its_own_words(client, name, settings):
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    found = devon_words(ladder)
    scene = make_scene(world)
    *_, top = walk(world, ladder)
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=top,
        action="restorative_facilitator",
        note="Appointed.",
        facilitator_username=world.facilitator.username,
    )
    pages = {name: url for name, (url, _expected) in MATRIX.items() if name not in BINARY}
    said = {}
    for role in ROLES:
        sign_in(client, getattr(world, role))
        urls = [url(scene) for url in pages.values()] + [
            f"/escalations/{top.pk}/",
            f"/escalations/{top.pk}/record/",
            f"/escalations/{top.pk}/pdg-actions/",
            f"/escalations/{top.pk}/resolve/",
            f"/escalations/?reached={ladder.formal_from}",
        ]
        for url in urls:
            response = client.get(url)
            if response.status_code not in (200, 403, 422) or response.streaming:
                continue
            text = response.content.decode("utf-8", errors="replace")
            hit = found.search(text)
            if hit:
                said[(role, url)] = text[max(0, hit.start() - 80) : hit.end() + 80]
    send_due_reminders()
    deliver_pending()
    assert mail.outbox, "the walk told people by email"
    for message in mail.outbox:
        for text in (message.subject, message.body):
            hit = found.search(text)
            if hit:
                said[("email", message.subject)] = text[max(0, hit.start() - 80) : hit.end() + 80]
    assert not said, "\n\n".join(f"{where}: {text}" for where, text in said.items())
