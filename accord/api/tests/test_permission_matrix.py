"""Every API endpoint as every role, against a stage-1 escalation raised by the health
practitioner with the named social care practitioner (consultation recorded)."""

import base64
import json

import pytest
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accord.api.services import api_token_create
from accord.escalations import services
from accord.escalations.models import AgreedAction
from accord.escalations.services import guests
from accord.partnership.models import PartnershipAgency
from accord.testing.factories import STAGE_1_PARTIES, WORLD_ROLES
from accord.web import guest_session

pytestmark = pytest.mark.django_db

ROLES = WORLD_ROLES
PARTIES = STAGE_1_PARTIES


def body_for(endpoint, world):
    today = timezone.localdate().isoformat()
    return {
        "discussions": {"note": "n", "held_on": today},
        "escalate": {"reason": "r"},
        "pdg-actions": {"action": "mediation", "note": "n"},
        "resolve": {
            "outcome": "agreed_way_forward",
            "agreed_way_forward": "w",
            "child_centred_outcome_achieved": "yes",
        },
        "withdraw": {"reason": "r"},
        "pause": {"reason": "Waiting for the strategy discussion"},
        "resume": {},
        "reopen": {"reason": "r"},
        "raise-again": {
            "kind": "case",
            "immediate_danger": False,
            "with_agency": world.social.pk,
            "summary": "s",
            "decision_challenged": "d",
            "concern": "c",
            "evidence": "e",
            "tried_so_far": "t",
            "desired_outcome": "o",
            "urgency": "routine",
            "area_of_disagreement": world.partnership.areas_of_disagreement.first().code,
        },
        "follow-up": {"held": "held", "what_changed": "w"},
        "reassign": {"holder": "raiser", "to": world.practitioner_health.username, "reason": "r"},
        "end-facilitation": {"reason": "r"},
        "appoint-facilitator": {"facilitator": world.facilitator.username},
        "action-done": {"note": "n"},
        "parties": {"agency": world.other.pk, "practitioner": None, "reason": "r"},
        "parties-remove": {"reason": "r"},
        "guests": {"agency": world.social.pk, "email": "gp.matrix@nhs.net"},
        "guests-leader": {"agency": world.social.pk, "email": "head.matrix@nhs.net", "acts_as": "leader"},
    }[endpoint]


PROTOCOL_READERS = {"admin"}


# Who searches the partnership's staff (``GET /people``): those who raise, and so name.
SEARCHERS = {r for r in ROLES if r.split("_")[0] in ("practitioner", "manager", "senior")} | {"chair"}


def expected(role, endpoint):
    if endpoint in ("list", "agencies", "taxonomies"):
        return 200
    if endpoint == "people":
        return 200 if role in SEARCHERS else 403
    if endpoint in ("protocol-versions", "protocol-version", "import-escalations", "import-people"):
        return 200 if role in PROTOCOL_READERS else 403  # the business unit's alone
    if endpoint == "guests-leader" and role == "admin":
        return 400  # the business unit may name one, though not at the practitioners' stage
    if role not in PARTIES:
        return 404
    return {
        "detail": 200,
        "timeline": 200,
        "discussions": 201,
        "escalate": 200,
        "pdg-actions": 403,
        "resolve": 200 if role in {"manager_health", "manager_social"} else 403,
        "withdraw": 200 if role in {"practitioner_health", "manager_health"} else 403,
        "pause": 200 if role in MANAGERS else 403,
        # Not paused, not closed: the managers may, but not now (409); for the rest it is not theirs.
        "resume": 409 if role in MANAGERS else 403,
        "reopen": 409 if role in MANAGERS else 403,
        # Every party's who may raise, once a party said the agreed way forward did not hold.
        "raise-again": 409,
        # Every party's, some weeks after a resolution: open, there is none to answer.
        "follow-up": 409,
        # The raiser's part is the raising agency's leaders' to hand on (here to whoever holds
        # it already: refused as a field); not the other agency's, nor a practitioner's.
        "reassign": 400 if role == "manager_health" else 403,
        # The PDG's, who do not see stage 1; before the formal stages the parties' leaders',
        # but nobody is appointed (409).
        "end-facilitation": 409 if role in MANAGERS else 403,
        # Only at a facilitated stage, which stage 1 here is not: the managers may, not now.
        "appoint-facilitator": 409 if role in MANAGERS else 403,
        # Children's social care owns the action: its people and the parties' managers.
        "action-done": 200 if role in {"practitioner_social", "manager_social", "manager_health"} else 403,
        # Any party may bring another agency in; there is none to take out yet (the first stays).
        "parties": 201,
        "parties-remove": 422,
        # The parties working it name the other agency's professional by work email.
        "guests": 201,
        # Another agency's leader: the raiser's line manager (or the business unit), once the
        # difference reaches a stage its leaders work; stage 1 is the practitioners' (400).
        "guests-leader": 400 if role == "manager_health" else 403,
        "documents": 200,
        "documents-add": 201,
        "document": 200,
    }[endpoint]


MANAGERS = {"manager_health", "manager_social"}


ENDPOINTS = [
    "list",
    "agencies",
    "taxonomies",
    "people",
    "detail",
    "timeline",
    "discussions",
    "escalate",
    "pdg-actions",
    "resolve",
    "withdraw",
    "pause",
    "resume",
    "reopen",
    "raise-again",
    "follow-up",
    "reassign",
    "end-facilitation",
    "appoint-facilitator",
    "action-done",
    "parties",
    "parties-remove",
    "guests",
    "guests-leader",
    "documents",
    "documents-add",
    "document",
    "protocol-versions",
    "protocol-version",
    "import-escalations",
    "import-people",
]

IMPORTS = {
    "import-escalations": (
        "/api/v1/imports/escalations",
        b"raising_agency,with_agency,raised_on,closed_on,stage_reached,outcome,kind\n",
    ),
    "import-people": ("/api/v1/imports/people", b"name,email,agency,roles,line_manager_email\n"),
}


def call(client, world, escalation, auth, endpoint):
    """One call of the endpoint on the escalation, as the token's holder."""
    base = f"/api/v1/escalations/{escalation.pk}"
    if endpoint in ("list", "agencies", "taxonomies", "protocol-versions", "protocol-version"):
        path = {
            "list": "/api/v1/escalations",
            "agencies": "/api/v1/agencies",
            "taxonomies": "/api/v1/taxonomies",
            "protocol-versions": "/api/v1/protocol/versions",
            "protocol-version": "/api/v1/protocol/versions/1",
        }[endpoint]
        response = client.get(path, **auth)
    elif endpoint == "people":
        # (The first partnership's social care practitioner, by the start of their name.)
        response = client.get("/api/v1/people", {"q": world.practitioner_social.first_name[:4]}, **auth)
    elif endpoint in IMPORTS:
        path, content = IMPORTS[endpoint]
        body = {"filename": "f.csv", "content_base64": base64.b64encode(content).decode()}
        response = client.post(path, json.dumps(body), content_type="application/json", **auth)
    elif endpoint == "detail":
        response = client.get(base, **auth)
    elif endpoint == "timeline":
        response = client.get(base + "/timeline", **auth)
    elif endpoint == "documents":
        response = client.get(base + "/documents", **auth)
    elif endpoint == "document":
        doc = services.escalation_add_document(
            actor=world.practitioner_health,
            escalation=escalation,
            upload=SimpleUploadedFile("a.txt", b"evidence"),
        )
        response = client.get(f"{base}/documents/{doc.pk}", **auth)
    elif endpoint == "action-done":
        action = AgreedAction.objects.create(
            escalation=escalation,
            description="Share the assessment",
            owner_agency=world.social,
            due_date=escalation.due_date,
            recorded_by=world.manager_social,
        )
        response = client.post(
            f"{base}/actions/{action.pk}/done",
            json.dumps(body_for(endpoint, world)),
            content_type="application/json",
            **auth,
        )
    elif endpoint == "parties-remove":
        response = client.post(
            f"{base}/parties/{world.social.pk}/remove",
            json.dumps(body_for(endpoint, world)),
            content_type="application/json",
            **auth,
        )
    elif endpoint in ("guests", "guests-leader"):
        PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
            work_email_domains="nhs.net"
        )
        response = client.post(
            f"{base}/guests", json.dumps(body_for(endpoint, world)), content_type="application/json", **auth
        )
    elif endpoint == "documents-add":
        upload = SimpleUploadedFile("notes.txt", b"what was said", content_type="text/plain")
        response = client.post(f"{base}/documents", {"file": upload, "description": "notes"}, **auth)
    else:
        response = client.post(
            f"{base}/{endpoint}",
            json.dumps(body_for(endpoint, world)),
            content_type="application/json",
            **auth,
        )
    return response


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_api_permission_matrix(client, world, role, endpoint):
    escalation = world.consulted(world.raised())
    _, token = api_token_create(actor=None, user=getattr(world, role))
    response = call(client, world, escalation, {"HTTP_AUTHORIZATION": f"Bearer {token}"}, endpoint)
    if endpoint == "document" and response.status_code == 200:
        assert response.content == b"evidence" and "attachment" in response["Content-Disposition"]
    assert response.status_code == expected(role, endpoint), response.content[:300]
    if endpoint == "list":
        count = response.json()["count"]
        assert count == (1 if role in PARTIES else 0)


@pytest.mark.parametrize("role", ROLES)
def test_api_permission_matrix_from_a_partnership_sharing_an_agency(client, world, neighbour, role):
    """Every API call by everyone of a second partnership (its health people work for the
    same trust as the raiser): the first partnership's escalation is not found by any call,
    is in no list, and nothing of it changes; their own partnership's lists still answer."""
    escalation = world.consulted(world.raised())
    _, token = api_token_create(actor=None, user=getattr(neighbour, role))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    answers = {}
    for endpoint in ENDPOINTS:
        response = call(client, world, escalation, auth, endpoint)
        answers[endpoint] = response.status_code
        if endpoint == "list":
            assert response.json()["count"] == 0
        if endpoint == "agencies":
            names = {a["name"] for a in response.json()}
            assert world.health.name in names and world.social.name not in names
        text = response.content.decode("utf-8", errors="replace")
        assert escalation.reference not in text and "Zebedee" not in text, endpoint
        assert world.practitioner_social.username not in text, endpoint
    own = {"list": 200, "agencies": 200, "taxonomies": 200, "people": expected(role, "people")}
    for endpoint in ("protocol-versions", "protocol-version", *IMPORTS):
        own[endpoint] = expected(role, endpoint)  # their own partnership's protocol, or refused
    assert answers == {endpoint: own.get(endpoint, 404) for endpoint in ENDPOINTS}
    report = client.get("/api/v1/reports/pdg", **auth)
    assert report.status_code == (200 if role in {"pdg_member", "pdg_chair", "admin", "executive"} else 403)
    assert escalation.reference not in report.content.decode()
    person = getattr(neighbour, role)
    fresh = type(escalation).objects.get(pk=escalation.pk)
    assert (fresh.status, fresh.stage) == (escalation.status, escalation.stage)
    assert not fresh.events.filter(actor=person).exists()
    assert not fresh.documents.filter(uploaded_by=person).exists()


def test_api_permission_matrix_as_a_guest(client, world, django_capture_on_commit_callbacks):
    """A professional named by email, confirmed as a guest of this very escalation: the API is
    not theirs at all. Their guest session is no credential here, and their guest account (no
    role, never active) holds no token that works, even one made for it at the command line."""
    escalation = world.consulted(world.raised())
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    with django_capture_on_commit_callbacks(execute=True):
        guest = guests.guest_name(
            actor=world.practitioner_health,
            escalation=escalation,
            agency_id=world.social.pk,
            email="gp@nhs.net",
        )
        guests.guest_send_code(guest)
    code = mail.outbox[-1].subject.rsplit(" ", 1)[-1]
    secret = guests.guest_check_code(guest, code)
    guests.guest_confirm(guest=guest, name="Gill Green")
    client.cookies[guest_session.COOKIE] = signing.get_cookie_signer(
        salt=guest_session.COOKIE + guest_session.SALT
    ).sign(f"{guest.pk}:{secret}")
    assert client.get("/guest/").status_code == 200  # the session is good for the guest's own page
    _, token = api_token_create(actor=None, user=guest.account)
    for auth in ({}, {"HTTP_AUTHORIZATION": f"Bearer {token}"}):
        answers = {
            endpoint: call(client, world, escalation, auth, endpoint).status_code for endpoint in ENDPOINTS
        }
        assert answers == dict.fromkeys(ENDPOINTS, 401), answers
    assert escalation.discussions.count() == 1  # (the raiser's consultation alone)
