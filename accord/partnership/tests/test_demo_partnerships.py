"""The two-partnership demo (Devon and Torbay, sharing the police and the ICB): the
permission matrix, notifications, "my work", the audit trail and the PDG figures hold
within each partnership, and nothing of one is seen from the other, including by the two
people who work in both (``practitioner.police`` and ``auditor``)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accord.audit.models import AuditEvent
from accord.core import clock
from accord.escalations.models import Escalation
from accord.notifications.models import Notification
from accord.notifications.services import deliver_pending, send_digests
from accord.partnership.models import Partnership, RoleAssignment, User
from accord.partnership.protocol import ladder_of
from accord.reports.selectors import Period, pdg_figures
from accord.testing.auth import sign_in
from accord.web.demo import DEMO_USERS, TORBAY_ALSO, TORBAY_USERS

pytestmark = pytest.mark.django_db
REFERENCE = re.compile(r"\b(DEV|TOR)-\d{4}-\d{5}\b")


@pytest.fixture
def demo(demo_loaded):
    return {p.slug: p for p in Partnership.objects.all()}


def switch_to(client, partnership):
    response = client.post("/partnership/", {"partnership": partnership.pk, "next": "/"})
    assert response.status_code == 302


def references(html: str) -> set[str]:
    return {m.group(0) for m in REFERENCE.finditer(html)}


def test_torbay_shares_the_police_and_the_icb_and_runs_its_own_ladder(demo):
    devon, torbay = demo["devon"], demo["torbay"]
    shared = set(devon.agencies.values_list("name", flat=True)) & set(
        torbay.agencies.values_list("name", flat=True)
    )
    assert shared >= {"Devon & Cornwall Police", "NHS Devon Integrated Care Board"}
    assert ladder_of(devon).top == 4 and ladder_of(devon).formal_from == 4
    assert ladder_of(torbay).top == 5 and ladder_of(torbay).formal_from == 3
    for username, _role in TORBAY_ALSO:
        held = set(
            RoleAssignment.objects.filter(user__username=username).values_list("partnership__slug", flat=True)
        )
        assert held == {"devon", "torbay"}, username
    refs = list(Escalation.objects.filter(partnership=torbay).values_list("reference", flat=True))
    assert len(refs) == 4 and all(r.startswith("TOR-") for r in refs)
    assert not Escalation.objects.filter(partnership=devon, reference__startswith="TOR-").exists()


@pytest.mark.parametrize("slug", ["devon", "torbay"])
def test_the_permission_matrix_over_the_demo(demo, slug):
    """For every demo person working in the partnership and every escalation of the
    deployment: the queryset filter and the predicate agree, and neither ever reaches an
    escalation of a partnership the person is not working in."""
    partnership = demo[slug]
    escalations = list(Escalation.objects.select_related("partnership"))
    people = User.objects.filter(role_assignments__partnership=partnership).distinct()
    assert people.count() >= 7
    for person in people:
        person = User.objects.get(pk=person.pk)
        held = set(person.role_assignments.values_list("partnership_id", flat=True))
        visible = set(Escalation.objects.visible_to(person).values_list("pk", flat=True))
        for e in escalations:
            assert (e.pk in visible) == person.has_perm("escalations.view", e), (person.username, e.reference)
            if e.partnership_id not in held:
                assert e.pk not in visible, (person.username, e.reference)


def test_the_person_in_both_sees_each_partnership_apart_pages_my_work_and_notifications(client, demo):
    devon, torbay = demo["devon"], demo["torbay"]
    police = User.objects.get(username="practitioner.police")
    sign_in(client, police)
    seen = {}
    for partnership in (devon, torbay):
        switch_to(client, partnership)
        prefix = partnership.reference_prefix
        pages = {
            "my work": client.get("/").content.decode(),
            "list": client.get("/escalations/").content.decode(),
            "notifications": client.get("/notifications/").content.decode(),
        }
        for name, html in pages.items():
            refs = references(html)
            assert refs, (partnership.slug, name)
            assert all(r.startswith(prefix) for r in refs), (partnership.slug, name, refs)
        seen[partnership.slug] = references(pages["list"])
        expected = set(
            Escalation.objects.visible_to(police)
            .filter(partnership=partnership)
            .values_list("reference", flat=True)
        )
        assert seen[partnership.slug] == expected
    # The police practitioner is a party to Torbay's first two escalations only.
    assert len(seen["torbay"]) == 2
    # An escalation of the other partnership is not found from this one.
    switch_to(client, devon)
    theirs = Escalation.objects.filter(partnership=torbay).visible_to(police).first()
    assert client.get(f"/escalations/{theirs.pk}/").status_code == 404


def test_the_unread_count_and_the_list_are_the_current_partnerships_and_an_email_link_switches(client, demo):
    devon, torbay = demo["devon"], demo["torbay"]
    police = User.objects.get(username="practitioner.police")
    unread = {
        p.slug: Notification.objects.filter(recipient=police, partnership=p, read_at__isnull=True).count()
        for p in (devon, torbay)
    }
    assert unread["devon"] and unread["torbay"]
    sign_in(client, police)
    switch_to(client, devon)
    home = client.get("/").content.decode()
    assert f"Notifications ({unread['devon']})" in home
    listed = client.get("/notifications/").content.decode()
    assert "Torbay Safeguarding Children Partnership" in listed  # "n new notifications in Torbay"
    assert f"{unread['torbay']} new notification" in listed
    # Reading Devon's left Torbay's unread.
    assert (
        Notification.objects.filter(recipient=police, partnership=torbay, read_at__isnull=True).count()
        == (unread["torbay"])
    )
    # The email about a Torbay escalation links to it naming Torbay; following it switches.
    mail.outbox.clear()
    Notification.objects.filter(recipient=police).update(email_state="pending")
    deliver_pending(batch=500)
    torbay_mail = [m for m in mail.outbox if "TOR-" in m.subject + m.body]
    assert torbay_mail and all("Partnership: Torbay" in m.body for m in torbay_mail)
    link = re.search(r"http\S+/escalations/(\d+)/\?partnership=torbay", torbay_mail[0].body)
    assert link, torbay_mail[0].body
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    followed = client.get("/" + path)
    assert followed.status_code == 302 and followed["Location"] == f"/escalations/{link.group(1)}/"
    page = client.get(followed["Location"])
    assert page.status_code == 200 and "Torbay Safeguarding Children Partnership" in page.content.decode()
    # A partnership that is not theirs in the link changes nothing.
    client.get("/?partnership=nowhere")
    assert client.session["accord_partnership_id"] == torbay.pk


def test_a_digest_is_one_email_for_each_partnership_naming_it(demo):
    police = User.objects.get(username="practitioner.police")
    Notification.objects.filter(recipient=police).update(email_state="digest")
    mail.outbox.clear()
    with clock.set_to(clock.now().replace(hour=18)):
        assert send_digests() >= 2
    mine = [m for m in mail.outbox if m.to == [police.email]]
    assert len(mine) == 2
    for m in mine:
        refs = references(m.body)
        assert refs
        prefixes = {r[:3] for r in refs}
        assert len(prefixes) == 1
        name = "Torbay" if prefixes == {"TOR"} else "Devon"
        assert name in m.subject and name in m.body


def test_the_auditor_of_both_finds_each_partnerships_trail_apart(client, demo):
    devon, torbay = demo["devon"], demo["torbay"]
    auditor = User.objects.get(username="auditor")
    sign_in(client, auditor)
    for partnership, other in ((devon, torbay), (torbay, devon)):
        switch_to(client, partnership)
        html = client.get("/audit/").content.decode()
        assert all(r.startswith(partnership.reference_prefix) for r in references(html))
        export = b"".join(client.get("/audit/export.csv").streaming_content).decode()
        other_refs = set(Escalation.objects.filter(partnership=other).values_list("reference", flat=True))
        assert not (references(export) & other_refs)
        assert AuditEvent.objects.filter(partnership_id=other.pk).exists()


def test_each_partnerships_formal_body_sees_only_its_own_formal_escalations(demo):
    panel = User.objects.get(username="torbay.panel")  # Torbay's, at the same ICB as Devon's PDG
    pdg = User.objects.get(username="pdg.member")
    theirs = set(Escalation.objects.visible_to(panel).values_list("partnership__slug", "stage"))
    assert theirs == {("torbay", 3)}  # Torbay's ladder is formal from stage 3
    ours = Escalation.objects.visible_to(pdg)
    assert ours.exists() and set(ours.values_list("partnership__slug", flat=True)) == {"devon"}
    assert all(stage >= 4 for stage in ours.values_list("highest_stage", flat=True))


def test_the_pdg_figures_count_each_partnerships_own(demo):
    devon, torbay = demo["devon"], demo["torbay"]
    year = Period(clock.today().replace(month=1, day=1), clock.today())
    wide = Period(year.start.replace(year=year.start.year - 2), clock.today())
    for partnership in (devon, torbay):
        figures = pdg_figures(partnership, wide)
        raised = Escalation.objects.filter(
            partnership=partnership, raised_at__date__gte=wide.start, raised_at__date__lte=wide.end
        ).count()
        assert figures.total == raised
        agencies = set(partnership.agencies.values_list("name", flat=True))
        assert set(figures.by_raising_agency) <= agencies
    assert pdg_figures(torbay, wide).total == 4


def test_every_demo_user_is_listed_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    for username, *_ in DEMO_USERS + TORBAY_USERS:
        assert f"`{username}`" in readme, username


def test_devons_safety_question_offers_its_front_doors_phone_and_online_form(client, demo):
    from accord.web.demo import DEVON_REQUEST_FOR_SUPPORT

    sign_in(client, User.objects.get(username="practitioner.health"))
    page = client.get("/escalations/raise/danger/").content.decode()
    assert "0345 155 1071" in page and "999" in page
    assert f'href="{DEVON_REQUEST_FOR_SUPPORT}"' in page
