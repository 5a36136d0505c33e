"""Every page of Accord as every role, as a party to an escalation and not: the exact answer.

A URL that is not in the matrix fails the test, so a new page cannot ship without
stating who may use it. (The partner API has its own matrix in accord/api/tests.)
"""

import csv
import datetime as dt
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accord.escalations import services
from accord.escalations.models import AgreedAction, Draft, Escalation
from accord.escalations.services import guests
from accord.escalations.services.importing import Mapping, apply_log_import, plan_log_import
from accord.partnership.models import PartnershipAgency
from accord.reports.models import MeetingAction, PdgMeeting
from accord.testing.auth import sign_in
from accord.testing.factories import STAGE_1_PARTIES, WORLD_ROLES

pytestmark = pytest.mark.django_db

ROLES = WORLD_ROLES
PARTIES = STAGE_1_PARTIES
RAISERS = {
    "practitioner_health",
    "manager_health",
    "senior_health",
    "practitioner_social",
    "manager_social",
    "senior_social",
    "practitioner_other",
    "manager_other",
    "chair",
}
CASEWORK = RAISERS | {"pdg_member", "pdg_chair", "facilitator"}
SKIPPED_NAMESPACES = {
    "admin",
    "api",
}  # admin: its index is below; api: accord/api/tests/test_permission_matrix.py


def only(allowed, yes, no):
    return lambda role: yes if role in allowed else no


def party(yes=200):
    """Parties get ``yes``; everyone else 404, exactly as for a record that does not exist."""
    return lambda role: yes if role in PARTIES else 404


def party_action(allowed):
    return lambda role: (200 if role in allowed else 403) if role in PARTIES else 404


# name -> (how to build its URL from the scene, expected status for a role)
MATRIX = {
    # Taking part without an account: a signed-in person holds no guest's session.
    "guest_home": (lambda s: reverse("guest_home"), lambda r: 401),
    "guest_discuss": (lambda s: reverse("guest_discuss"), lambda r: 401),
    "guest_add_document": (lambda s: reverse("guest_add_document"), lambda r: 401),
    "guest_document": (lambda s: reverse("guest_document", args=[s["doc"]]), lambda r: 401),
    "guest_escalate": (lambda s: reverse("guest_escalate"), lambda r: 401),
    "guest_pause": (lambda s: reverse("guest_pause"), lambda r: 401),
    "guest_resume": (lambda s: reverse("guest_resume"), lambda r: 401),
    "guest_resolve": (lambda s: reverse("guest_resolve"), lambda r: 401),
    "guest_sign_out": (lambda s: reverse("guest_sign_out"), lambda r: 405),
    "guest_link": (lambda s: reverse("guest_link", args=["not-a-token"]), lambda r: 404),
    "guest_code": (lambda s: reverse("guest_code", args=["not-a-token"]), lambda r: 404),
    "guest_name": (lambda s: reverse("guest_name", args=[s["e"]]), party()),
    "guest_remove": (lambda s: reverse("guest_remove", args=[s["e"], s["guest"]]), lambda r: 405),
    # Another agency's manager named by email: the raiser's line manager, or the business unit
    # (who does not see the escalation); the other parties are refused; everyone else, not found.
    "guest_name_leader": (
        lambda s: reverse("guest_name_leader", args=[s["e"]]),
        lambda r: 200 if r in {"manager_health", "admin"} else (403 if r in PARTIES else 404),
    ),
    "agency_email_domains": (
        lambda s: reverse("agency_email_domains", args=[s["agency"]]),
        only({"admin"}, 200, 403),
    ),
    "guests": (lambda s: reverse("guests"), only({"admin"}, 200, 403)),
    "guest_end": (lambda s: reverse("guest_end", args=[s["guest"]]), lambda r: 405),
    "guest_make_person": (
        lambda s: reverse("guest_make_person", args=[s["guest"]]),
        only({"admin"}, 200, 403),
    ),
    "home": (lambda s: reverse("home"), lambda r: 200),
    "login": (lambda s: reverse("login"), lambda r: 302),
    "logout": (lambda s: reverse("logout"), lambda r: 405),
    "switch_partnership": (lambda s: reverse("switch_partnership"), lambda r: 405),
    # (Anyone, signed in or not, a guest too: it sets the language and comes back.)
    "switch_language": (lambda s: reverse("switch_language", args=["cy"]), lambda r: 302),
    "mfa_verify": (lambda s: reverse("mfa_verify"), lambda r: 302),
    "mfa_setup": (lambda s: reverse("mfa_setup"), lambda r: 200),
    "api_tokens": (lambda s: reverse("api_tokens"), lambda r: 200),
    "api_token_revoke": (lambda s: reverse("api_token_revoke", args=[1]), lambda r: 405),
    "stay_signed_in": (lambda s: reverse("stay_signed_in"), lambda r: 405),
    "healthz": (lambda s: reverse("healthz"), lambda r: 200),
    "people_import": (lambda s: reverse("people_import"), only({"admin"}, 200, 403)),
    "edit_statement": (lambda s: reverse("edit_statement"), only({"admin"}, 200, 403)),
    "log_import": (lambda s: reverse("log_import"), only({"admin"}, 200, 403)),
    "agency_merge": (lambda s: reverse("agency_merge"), only({"admin"}, 200, 403)),
    "agencies": (lambda s: reverse("agencies"), only({"admin"}, 200, 403)),
    "settings_home": (lambda s: reverse("settings_home"), only({"admin"}, 200, 403)),
    "settings_partnership": (lambda s: reverse("settings_partnership"), only({"admin"}, 200, 403)),
    "settings_protocol": (lambda s: reverse("settings_protocol"), only({"admin"}, 200, 403)),
    "settings_formal_body": (lambda s: reverse("settings_formal_body"), only({"admin"}, 200, 403)),
    "settings_stage_new": (lambda s: reverse("settings_stage_new"), only({"admin"}, 200, 403)),
    "settings_priority_new": (lambda s: reverse("settings_priority_new"), only({"admin"}, 200, 403)),
    "settings_budget_new": (lambda s: reverse("settings_budget_new"), only({"admin"}, 200, 403)),
    "people": (lambda s: reverse("people"), only({"admin"}, 200, 403)),
    "person_new": (lambda s: reverse("person_new"), only({"admin"}, 200, 403)),
    "taxonomies": (lambda s: reverse("taxonomies"), only({"admin"}, 200, 403)),
    "settings_stage": (lambda s: reverse("settings_stage", args=[1]), only({"admin"}, 200, 403)),
    "settings_protocol_download": (
        lambda s: reverse("settings_protocol_download"),
        only({"admin"}, 200, 403),
    ),
    "settings_protocol_upload": (lambda s: reverse("settings_protocol_upload"), only({"admin"}, 200, 403)),
    "settings_protocol_versions": (
        lambda s: reverse("settings_protocol_versions"),
        only({"admin"}, 200, 403),
    ),
    "settings_protocol_version": (
        lambda s: reverse("settings_protocol_version", args=[1]),
        only({"admin"}, 200, 403),
    ),
    # Only the top stage may be removed; the partnership has no added priority and no budget.
    "settings_stage_remove": (
        lambda s: reverse("settings_stage_remove", args=[s["top_stage"]]),
        only({"admin"}, 200, 403),
    ),
    "settings_priority": (lambda s: reverse("settings_priority", args=["urgent"]), only({"admin"}, 200, 403)),
    "settings_priority_remove": (
        lambda s: reverse("settings_priority_remove", args=["urgent"]),
        only({"admin"}, 404, 403),
    ),
    "settings_budget": (lambda s: reverse("settings_budget", args=[0]), only({"admin"}, 404, 403)),
    "settings_budget_remove": (
        lambda s: reverse("settings_budget_remove", args=[0]),
        only({"admin"}, 404, 403),
    ),
    "person_edit": (lambda s: reverse("person_edit", args=[s["person"]]), only({"admin"}, 200, 403)),
    "person_invite": (lambda s: reverse("person_invite", args=[s["person"]]), lambda r: 405),
    "agency_edit": (lambda s: reverse("agency_edit", args=[s["agency"]]), only({"admin"}, 200, 403)),
    "term_new": (lambda s: reverse("term_new", args=["themes"]), only({"admin"}, 200, 403)),
    "term_edit": (lambda s: reverse("term_edit", args=["areas", s["term"]]), only({"admin"}, 200, 403)),
    # The deployment's administrators' (superusers) alone: no partnership role is one.
    "deployment_home": (lambda s: reverse("deployment_home"), lambda r: 403),
    "deployment_sign_in_new": (lambda s: reverse("deployment_sign_in_new"), lambda r: 403),
    "deployment_share_agency": (lambda s: reverse("deployment_share_agency"), lambda r: 403),
    "deployment_sign_in_provider": (
        lambda s: reverse("deployment_sign_in_provider", args=[999]),
        lambda r: 403,
    ),
    "partnership_new": (lambda s: reverse("partnership_new"), lambda r: 403),
    "sign_in_providers": (lambda s: reverse("sign_in_providers"), only({"admin"}, 200, 403)),
    # No provider in the scene: not found for the business unit, not theirs for anyone else.
    "sign_in_provider_edit": (
        lambda s: reverse("sign_in_provider_edit", args=[1]),
        only({"admin"}, 404, 403),
    ),
    # Starting a sign-in through a provider that does not exist; a callback with nothing.
    "agency_sign_in": (lambda s: reverse("agency_sign_in", args=[1]), lambda r: 404),
    "agency_sign_in_callback": (lambda s: reverse("agency_sign_in_callback"), lambda r: 302),
    "log_import_remove": (
        lambda s: reverse("log_import_remove", args=[s["log_batch"]]),
        only({"admin"}, 200, 403),
    ),
    "log_import_done": (
        lambda s: reverse("log_import_done", args=[s["log_batch"]]),
        only({"admin"}, 200, 403),
    ),
    "accessibility": (lambda s: reverse("accessibility"), lambda r: 200),
    "privacy": (lambda s: reverse("privacy"), lambda r: 200),
    # A link that is not (or no longer) an invitation says so, to anyone.
    "set_password": (lambda s: reverse("set_password", args=["MQ", "not-a-token"]), lambda r: 200),
    "readyz": (lambda s: reverse("readyz"), lambda r: 200),
    "notifications": (lambda s: reverse("notifications"), lambda r: 200),
    "escalations:list": (lambda s: reverse("escalations:list"), only(CASEWORK, 200, 403)),
    "escalations:export_csv": (lambda s: reverse("escalations:export_csv"), only(CASEWORK, 200, 403)),
    "escalations:export_xlsx": (lambda s: reverse("escalations:export_xlsx"), only(CASEWORK, 200, 403)),
    "escalations:start": (lambda s: reverse("escalations:start"), only(RAISERS, 200, 403)),
    "escalations:danger": (lambda s: reverse("escalations:danger"), only(RAISERS, 200, 403)),
    "escalations:emergency": (lambda s: reverse("escalations:emergency"), lambda r: 200),
    "escalations:check": (
        lambda s: reverse("escalations:check", args=[s["draft"]]),
        lambda r: 200 if r == "practitioner_health" else (404 if r in RAISERS else 403),
    ),
    "escalations:step": (
        lambda s: reverse("escalations:step", args=[s["draft"], "with"]),
        lambda r: 200 if r == "practitioner_health" else (404 if r in RAISERS else 403),
    ),
    # Deleting a draft asks first on a page of its own; anyone else's draft is not found.
    "escalations:draft_delete": (
        lambda s: reverse("escalations:draft_delete", args=[s["draft"]]),
        lambda r: 200 if r == "practitioner_health" else 404,
    ),
    # The scene's draft is not one of a settled difference: not found, even for its owner.
    "escalations:settled_with": (
        lambda s: reverse("escalations:settled_with", args=[s["draft"]]),
        lambda r: 404 if r in RAISERS else 403,
    ),
    "escalations:settled_how": (
        lambda s: reverse("escalations:settled_how", args=[s["draft"]]),
        lambda r: 404 if r in RAISERS else 403,
    ),
    "escalations:directory": (
        lambda s: reverse("escalations:directory") + "?q=prac",
        only(RAISERS, 200, 403),
    ),
    "escalations:add_details": (
        lambda s: reverse("escalations:add_details", args=[s["e"]]),
        party_action({"practitioner_health", "manager_health"}),
    ),
    # Only a difference recorded as settled takes the other side's view.
    "escalations:add_view": (lambda s: reverse("escalations:add_view", args=[s["e"]]), party_action(set())),
    "escalations:detail": (lambda s: reverse("escalations:detail", args=[s["e"]]), party()),
    "escalations:raised": (lambda s: reverse("escalations:raised", args=[s["e"]]), party()),
    "escalations:record": (lambda s: reverse("escalations:record", args=[s["e"]]), party()),
    "escalations:document": (lambda s: reverse("escalations:document", args=[s["e"], s["doc"]]), party()),
    "escalations:discuss": (lambda s: reverse("escalations:discuss", args=[s["e"]]), party_action(PARTIES)),
    "escalations:escalate": (lambda s: reverse("escalations:escalate", args=[s["e"]]), party_action(PARTIES)),
    "escalations:add_document": (
        lambda s: reverse("escalations:add_document", args=[s["e"]]),
        party_action(PARTIES),
    ),
    "escalations:pause": (
        lambda s: reverse("escalations:pause", args=[s["e"]]),
        party_action({"manager_health", "manager_social"}),
    ),
    "escalations:resume": (lambda s: reverse("escalations:resume", args=[s["e"]]), party_action(set())),
    "escalations:withdraw": (
        lambda s: reverse("escalations:withdraw", args=[s["e"]]),
        party_action({"practitioner_health", "manager_health"}),
    ),
    "escalations:reopen": (lambda s: reverse("escalations:reopen", args=[s["e"]]), party_action(set())),
    # Only where a party said the agreed way forward did not hold: the scene's is open.
    "escalations:raise_again": (
        lambda s: reverse("escalations:raise_again", args=[s["e"]]),
        party_action(set()),
    ),
    "escalations:reassign": (
        lambda s: reverse("escalations:reassign", args=[s["e"]]),
        party_action({"manager_health", "manager_social"}),
    ),
    "escalations:follow_up": (lambda s: reverse("escalations:follow_up", args=[s["e"]]), party_action(set())),
    "escalations:pdg_action": (
        lambda s: reverse("escalations:pdg_action", args=[s["e"]]),
        party_action(set()),
    ),
    # The agreed action's own page: its owning agency's people (social care's senior leader
    # too, though stage 1 is not theirs to see) and whoever sees the escalation.
    "escalations:agreed_action": (
        lambda s: reverse("escalations:agreed_action", args=[s["action"]]),
        only(PARTIES | {"senior_social"}, 200, 404),
    ),
    # Children's social care owns the agreed action: its people and the parties' managers mark it done.
    "escalations:complete_action": (
        lambda s: reverse("escalations:complete_action", args=[s["e"], s["action"]]),
        party_action({"practitioner_social", "manager_social", "manager_health"}),
    ),
    # Stage 1 of the scene's ladder is not a facilitated stage: nobody appoints there.
    "escalations:appoint_facilitator": (
        lambda s: reverse("escalations:appoint_facilitator", args=[s["e"]]),
        party_action(set()),
    ),
    # At stage 1 nobody is appointed, and the PDG does not see it yet.
    "escalations:end_facilitation": (
        lambda s: reverse("escalations:end_facilitation", args=[s["e"]]),
        party_action(set()),
    ),
    # Any party may bring another agency in while it is open.
    "escalations:add_party": (
        lambda s: reverse("escalations:add_party", args=[s["e"]]),
        party_action(PARTIES),
    ),
    # The scene's escalation is with one agency: there is no other to take out, for anyone.
    "escalations:remove_party": (
        lambda s: reverse("escalations:remove_party", args=[s["e"], s["other_agency"]]),
        lambda r: 404,
    ),
    "escalations:resolve": (
        lambda s: reverse("escalations:resolve", args=[s["e"]]),
        party_action({"manager_health", "manager_social"}),
    ),
    "audit:search": (lambda s: reverse("audit:search"), only({"auditor"}, 200, 403)),
    "audit:export": (lambda s: reverse("audit:export"), only({"auditor"}, 200, 403)),
    "audit:subject_access": (lambda s: reverse("audit:subject_access"), only({"auditor"}, 200, 403)),
    "reports:pdg": (
        lambda s: reverse("reports:pdg"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    "reports:pdg_csv": (
        lambda s: reverse("reports:pdg_csv"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    "reports:pdg_pdf": (
        lambda s: reverse("reports:pdg_pdf"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    # What a PDG meeting asked of the health manager: theirs, their line manager's, the PDG's
    # and the business unit's; not found for anyone else.
    "reports:meeting_action": (
        lambda s: reverse("reports:meeting_action", args=[s["meeting_action"]]),
        lambda r: (
            200 if r in {"manager_health", "senior_health", "pdg_member", "pdg_chair", "admin"} else 404
        ),
    ),
    # Learning in words: the formal body and the business unit (never the executive: it is
    # the annual report's once the chair marks it fit to publish).
    "reports:learning": (
        lambda s: reverse("reports:learning"),
        only({"pdg_member", "pdg_chair", "admin"}, 200, 403),
    ),
    "reports:learning_publish": (lambda s: reverse("reports:learning_publish", args=[1]), lambda r: 405),
    "reports:iru": (
        lambda s: reverse("reports:iru"),
        only({"pdg_member", "pdg_chair", "admin", "executive", "chair"}, 200, 403),
    ),
    "reports:annual": (
        lambda s: reverse("reports:annual"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    "reports:annual_pdf": (
        lambda s: reverse("reports:annual_pdf"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    "reports:annual_csv": (
        lambda s: reverse("reports:annual_csv"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    "reports:annual_xlsx": (
        lambda s: reverse("reports:annual_xlsx"),
        only({"pdg_member", "pdg_chair", "admin", "executive"}, 200, 403),
    ),
    "oidc_authentication_init": (lambda s: reverse("oidc_authentication_init"), lambda r: 302),
    "oidc_authentication_callback": (lambda s: reverse("oidc_authentication_callback"), lambda r: 302),
    "oidc_logout": (lambda s: reverse("oidc_logout"), lambda r: 405),
    # Django's admin is the deployment's administrators' (superusers) alone: to the sign-in.
    "admin:index": (lambda s: reverse("admin:index"), lambda r: 302),
    "partnership_api_tokens": (lambda s: reverse("partnership_api_tokens"), only({"admin"}, 200, 403)),
    "partnership_api_token_revoke": (
        lambda s: reverse("partnership_api_token_revoke", args=[1]),
        lambda r: 405,
    ),
    # The PDG's meetings' record: the business unit's and the PDG chair's.
    "reports:meetings": (lambda s: reverse("reports:meetings"), only({"admin", "pdg_chair"}, 200, 403)),
    "reports:meeting_new": (lambda s: reverse("reports:meeting_new"), only({"admin", "pdg_chair"}, 200, 403)),
    "reports:meeting": (
        lambda s: reverse("reports:meeting", args=[s["meeting"]]),
        only({"admin", "pdg_chair"}, 200, 403),
    ),
}


def all_url_names(patterns=None, namespace=""):
    names = set()
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or ""
            if ns in SKIPPED_NAMESPACES:
                continue
            names |= all_url_names(p.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(p, URLPattern) and p.name:
            names.add(f"{namespace}{p.name}")
    return names


def test_every_url_is_in_the_matrix():
    missing = all_url_names() - set(MATRIX)
    assert not missing, f"add these URLs to the permission matrix: {sorted(missing)}"


def make_scene(world) -> dict:
    e = world.consulted(world.raised())
    doc = services.escalation_add_document(
        actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("a.txt", b"evidence")
    )
    draft = Draft.objects.create(
        owner=world.practitioner_health, partnership=world.partnership, data={"immediate_danger": "no"}
    )
    action = AgreedAction.objects.create(
        escalation=e,
        description="Share the assessment",
        owner_agency=world.social,
        due_date=e.due_date,
        recorded_by=world.manager_social,
    )
    meeting = PdgMeeting.objects.create(partnership=world.partnership, held_on=dt.date(2026, 11, 3))
    asked = MeetingAction.objects.create(
        meeting=meeting,
        description="Brief the team",
        owner=world.manager_health,
        due_on=dt.date(2026, 11, 13),
    )
    log = (
        "Raised by,Raised with,Date raised,Date closed,Stage,Outcome\n"
        f"{world.health.name},{world.social.name},03/02/2025,20/02/2025,2,withdrawn\n"
    ).encode()
    mapping = Mapping(
        columns={
            "raising_agency": "Raised by",
            "with_agency": "Raised with",
            "raised_on": "Date raised",
            "closed_on": "Date closed",
            "stage_reached": "Stage",
            "outcome": "Outcome",
        },
        defaults={"kind": "case"},
    )
    batch = apply_log_import(
        actor=world.admin, plan=plan_log_import(world.partnership, log, "l.csv", mapping)
    )
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    guest = guests.guest_name(
        actor=world.practitioner_health, escalation=e, agency_id=world.social.pk, email="gp@nhs.net"
    )
    return {
        "guest": guest.pk,
        "log_batch": batch.pk,
        "e": e.pk,
        "doc": doc.pk,
        "draft": draft.pk,
        "action": action.pk,
        "meeting_action": asked.pk,
        "meeting": meeting.pk,
        "reference": e.reference,
        "other_agency": world.other.pk,
        "person": world.practitioner_social.pk,
        "agency": world.social.pk,
        "term": world.partnership.areas_of_disagreement.first().pk,
        "top_stage": world.partnership.stages.order_by("-number").first().number,
    }


def names_of(key: str) -> set[str]:
    """The URLs that name the scene's escalation (or its draft): those whose address moves
    when that object does."""
    base = {
        "e": 1,
        "doc": 1,
        "draft": 1,
        "action": 1,
        "other_agency": 1,
        "meeting_action": 1,
        "log_batch": 1,
        "person": 1,
        "agency": 1,
        "term": 1,
        "top_stage": 1,
        "meeting": 1,
        "guest": 1,
    }
    return {name for name, (url, _) in MATRIX.items() if url(base) != url({**base, key: 2})}


@pytest.mark.parametrize("role", ROLES)
def test_url_permission_matrix(client, world, role):
    scene = make_scene(world)
    sign_in(client, getattr(world, role))
    answers = {}
    for name, (url, expected) in MATRIX.items():
        response = client.get(url(scene))
        answers[name] = (response.status_code, expected(role))
    wrong = {name: got for name, got in answers.items() if got[0] != got[1]}
    assert not wrong, f"{role}: (got, expected) {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_url_permission_matrix_from_a_partnership_sharing_an_agency(client, world, neighbour, role):
    """Everyone of a second partnership, the health people among them working for the same
    trust as the escalation's raiser: every escalation page and download is not found,
    another's draft is not theirs, every other page answers as in their own partnership,
    and no page or download shows anything of the first partnership's escalation."""
    scene = make_scene(world)
    # (What one of its meetings asked for is as much the partnership's own as an escalation.)
    # (An agreed action's own page is the escalation's as much, for its owning agency.)
    escalation_pages = names_of("e") | names_of("meeting_action") | names_of("action")
    draft_pages = names_of("draft")
    # The first partnership's import, people, agency and terms: not found by this business unit.
    batch_pages = (
        names_of("log_batch") | names_of("person") | names_of("agency") | names_of("term") | names_of("guest")
    ) - escalation_pages  # (a guest of the escalation: not found as the escalation is)
    meeting_pages = names_of("meeting")  # the first partnership's meeting: not found by its recorders
    person = getattr(neighbour, role)
    sign_in(client, person)
    secrets = [scene["reference"], "Zebedee Quartermaine", "ZQ-778812", world.practitioner_health.username]
    wrong, leaks = {}, {}
    for name, (url, expected) in MATRIX.items():
        response = client.get(url(scene))
        if expected(role) == 405:
            want = 405  # a form's target: posted to below
        elif name in escalation_pages:
            want = 404
        elif name in draft_pages:
            # (Deleting one looks only among one's own drafts: anyone else's is not found.)
            want = 404 if role in RAISERS or name.endswith("draft_delete") else 403
        elif name in batch_pages and expected(role) != 405:  # the other business unit's: not found
            want = 404 if role == "admin" else 403
        elif name in meeting_pages:
            want = 404 if role in {"admin", "pdg_chair"} else 403
        else:
            want = expected(role)
        if response.status_code != want:
            wrong[name] = (response.status_code, want)
        if response.status_code == 200:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", errors="replace")
            shown = [secret for secret in secrets if secret in text]
            if shown:
                leaks[name] = shown
            if name == "reports:pdg_csv":  # the shared trust's escalation is not counted here
                # (the first row with a count: a reader of hidden counts is told the period first)
                rows = list(csv.reader(io.StringIO(text)))[1:]
                assert next(row for row in rows if row[2] != "")[2] == "0", text[:300]
    # Posting to any of them changes nothing: not found, or not theirs.
    before = (Escalation.objects.get(pk=scene["e"]).version, Draft.objects.filter(pk=scene["draft"]).count())
    for name in sorted(escalation_pages | draft_pages):
        response = client.post(MATRIX[name][0](scene), {"reason": "x", "note": "x", "version": 1})
        # Deleting a draft looks only among one's own drafts: anyone else's is not found.
        want = 404 if name in escalation_pages or role in RAISERS or name.endswith("draft_delete") else 403
        if response.status_code != want:
            wrong[f"POST {name}"] = (response.status_code, want)
    for name in sorted(batch_pages):
        response = client.post(MATRIX[name][0](scene))
        if response.status_code != (404 if role == "admin" else 403):
            wrong[f"POST {name}"] = (response.status_code, 404 if role == "admin" else 403)
    assert Escalation.objects.filter(imported_in_id=scene["log_batch"]).exists()  # not removed
    assert (
        Escalation.objects.get(pk=scene["e"]).version,
        Draft.objects.filter(pk=scene["draft"]).count(),
    ) == before
    assert not wrong, f"{role} of the neighbouring partnership: (got, expected) {wrong}"
    assert not leaks, f"{role} of the neighbouring partnership was shown {leaks}"


# What a guest may open beside their own escalation's pages; everything else is "not found".
GUEST_OPENS = {
    "guest_home": 200,
    "guest_discuss": 200,
    "guest_add_document": 200,  # (where no scanner is configured, it says to send them through the raiser)
    "guest_document": 200,  # (the escalation's evidence, as a party reads it)
    "guest_sign_out": 405,
    # (The professional the difference is with holds stage 1 as a named practitioner does: it
    # may leave it, the raiser's manager consulted; the stage's other actions are its leaders'.)
    "guest_escalate": 200,
    "guest_pause": 403,
    "guest_resume": 403,
    "guest_resolve": 403,
    "guest_link": 404,
    "guest_code": 404,
    "login": 200,
    "switch_language": 302,
    "mfa_verify": 302,  # (the sign-in page's second step: back to signing in)
    "healthz": 200,
    "readyz": 200,
    "accessibility": 200,
    "privacy": 200,
}


def guest_session(client, world, e, email="gp.matrix@nhs.net"):
    """A professional named by email on ``e``, signed in through the link and the code, who
    has confirmed they work with the child."""
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    with django_on_commit():
        guests.guest_name(
            actor=world.practitioner_health, escalation=e, agency_id=world.social.pk, email=email
        )
    link = next(m for m in mail.outbox if m.to == [email]).body
    path = link[link.index("/guest/") :].split()[0]
    with django_on_commit():
        assert client.post(path).status_code == 302
    code = mail.outbox[-1].subject.rsplit(" ", 1)[-1]
    assert client.post(path + "code/", {"code": code}).status_code == 302
    assert client.post(reverse("guest_home"), {"answer": "confirm", "name": "Gill Green"}).status_code == 302


def django_on_commit():
    return TestCase.captureOnCommitCallbacks(execute=True)


def test_url_permission_matrix_as_a_guest(client, world):
    """A guest of one escalation: their own pages, the public ones and the sign-in page;
    every other page of Accord, that escalation's own among them, is "not found"."""
    scene = make_scene(world)
    guest_session(client, world, Escalation.objects.get(pk=scene["e"]))
    wrong = {}
    for name, (url, _expected) in MATRIX.items():
        response = client.get(url(scene))
        want = GUEST_OPENS.get(name, 404)
        if response.status_code != want:
            wrong[name] = (response.status_code, want)
    assert not wrong, f"a guest: (got, expected) {wrong}"
    page = client.get(reverse("guest_home")).content.decode()
    assert "Zebedee Quartermaine" in page  # confirmed: the child, as a party sees them
