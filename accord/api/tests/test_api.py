"""The partner API: the ladder journey, errors as problem+json, tokens, idempotency and versions."""

import datetime as dt
import json
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from accord.api.models import ApiToken
from accord.api.services import api_token_create, api_token_revoke
from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.escalations.models import Child, Escalation

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


class Api:
    def __init__(self, client, user):
        self.client = client
        self.user = user
        _, self.token = api_token_create(actor=None, user=user)

    def _headers(self, extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        for k, v in (extra or {}).items():
            headers["HTTP_" + k.upper().replace("-", "_")] = v
        return headers

    def get(self, path, headers=None, **params):
        return self.client.get(f"/api/v1{path}", params, **self._headers(headers))

    def post(self, path, body, headers=None):
        return self.client.post(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", **self._headers(headers)
        )


def raise_body(world, **overrides):
    body = {
        "kind": "case",
        "immediate_danger": False,
        "with_agency": world.social.pk,
        "with_practitioner": world.practitioner_social.username,
        "summary": "Threshold not agreed",
        "decision_challenged": "Closed after assessment",
        "concern": "Needs unmet",
        "evidence": "Missed appointments",
        "professional_curiosity": "",
        "child_voice": "Says hungry",
        "tried_so_far": "Calls",
        "desired_outcome": "Assessment",
        "urgency": "routine",
        "area_of_disagreement": "levels-of-risk",
        "themes": ["neglect"],
        "children": [
            {"name": "Peregrine Ashdown-Vale", "date_of_birth": "2019-03-04", "agency_reference": "PA-1"}
        ],
        "reflection": "My private thoughts",
    }
    body.update(overrides)
    return body


def test_the_whole_ladder_through_the_api(client, world):
    health, social = Api(client, world.practitioner_health), Api(client, world.practitioner_social)
    created = health.post("/escalations", raise_body(world))
    assert created.status_code == 201, created.content
    e = created.json()
    assert (e["stage"], e["status"], e["version"]) == (1, "open", 1)
    assert e["reference"].startswith("TST-") and e["due_date"]
    assert e["reflection"] == "My private thoughts"
    eid = e["id"]

    assert social.get(f"/escalations/{eid}").json()["reflection"] is None
    today = timezone.localdate().isoformat()
    r = social.post(
        f"/escalations/{eid}/discussions", {"note": "Talked", "held_on": today, "with_manager": False}
    )
    assert r.status_code == 201
    r = health.post(f"/escalations/{eid}/escalate", {"reason": "stuck", "efforts_to_resolve": ""})
    assert r.status_code == 422 and r["Content-Type"] == PROBLEM and r.json()["rule"] == "consult_first"
    health.post(
        f"/escalations/{eid}/discussions",
        {"note": "Consulted my manager", "held_on": today, "with_manager": True},
    )
    r = health.post(f"/escalations/{eid}/escalate", {"reason": "stuck", "efforts_to_resolve": ""})
    assert r.status_code == 200 and r.json()["stage"] == 2

    r = Api(client, world.manager_health).post(
        f"/escalations/{eid}/escalate", {"reason": "managers disagree"}
    )
    assert r.json()["stage"] == 3
    senior = Api(client, world.senior_health)
    r = senior.post(f"/escalations/{eid}/escalate", {"reason": "still stuck", "efforts_to_resolve": "  "})
    assert r.status_code == 422 and "efforts_to_resolve" in r.json()["errors"]
    r = senior.post(
        f"/escalations/{eid}/escalate", {"reason": "still stuck", "efforts_to_resolve": "We met three times."}
    )
    assert r.json()["stage"] == 4 and r.json()["formal_at"]

    pdg = Api(client, world.pdg_chair)
    r = pdg.post(
        f"/escalations/{eid}/pdg-actions",
        {"action": "restorative_facilitator", "facilitator": world.facilitator.username, "note": "Offered"},
    )
    assert r.status_code == 201
    r = pdg.post(
        f"/escalations/{eid}/resolve",
        {
            "outcome": "decision_changed",
            "agreed_way_forward": "x",
            "actions": [],
            "child_centred_outcome_achieved": True,
        },
    )
    assert r.status_code == 403 and r["Content-Type"] == PROBLEM  # rule 4
    assert Api(client, world.facilitator).get(f"/escalations/{eid}").status_code == 200

    r = Api(client, world.senior_social).post(
        f"/escalations/{eid}/resolve",
        {
            "outcome": "decision_changed",
            "agreed_way_forward": "Reassess",
            "child_centred_outcome_achieved": True,
            "actions": [
                {
                    "description": "Reopen assessment",
                    "owner_agency": world.social.pk,
                    "due_date": "2027-01-15",
                }
            ],
        },
    )
    assert r.status_code == 200, r.content
    done = r.json()
    assert done["status"] == "resolved" and done["resolution"]["outcome"] == "decision_changed"
    assert done["agreed_actions"][0]["description"] == "Reopen assessment"

    timeline = health.get(f"/escalations/{eid}/timeline").json()
    assert [ev["type"] for ev in timeline][:1] == ["raised"] and timeline[-1]["type"] == "resolved"
    assert all({"type", "at", "actor", "stage"} <= set(ev) for ev in timeline)


def test_immediate_danger_is_refused_with_the_guidance(client, world):
    r = Api(client, world.practitioner_health).post("/escalations", raise_body(world, immediate_danger=True))
    assert r.status_code == 422 and r["Content-Type"] == PROBLEM
    assert "999" in r.json()["detail"] and world.partnership.front_door_phone in r.json()["detail"]
    assert Escalation.objects.count() == 0 and Child.objects.count() == 0


def test_the_safety_answer_comes_first_whatever_else_is_wrong(client, world):
    """A raise that says a child may be in immediate danger gets the 999 guidance, even when
    its other fields are missing or wrong, and nothing is stored."""
    api = Api(client, world.practitioner_health)
    for body in ({"immediate_danger": True}, {"immediate_danger": True, "kind": "nonsense", "summary": 7}):
        r = api.post("/escalations", body)
        assert r.status_code == 422, r.content
        assert "999" in r.json()["detail"] and world.partnership.front_door_phone in r.json()["detail"]
    # Without it, an incomplete raise is answered with its fields.
    assert api.post("/escalations", {"immediate_danger": False}).status_code == 400
    assert Escalation.objects.count() == 0


def test_children_are_required_for_a_case_and_forbidden_for_a_theme(client, world):
    api = Api(client, world.practitioner_health)
    assert api.post("/escalations", raise_body(world, children=[])).status_code == 400
    assert api.post("/escalations", raise_body(world, kind="theme")).status_code == 422
    assert api.post("/escalations", raise_body(world, kind="theme", children=[])).status_code == 201


def test_hidden_and_missing_are_both_404(client, world):
    e = world.raised()
    api = Api(client, world.practitioner_other)
    for path in (f"/escalations/{e.pk}", f"/escalations/{e.pk}/timeline", "/escalations/987654"):
        r = api.get(path)
        assert r.status_code == 404 and r["Content-Type"] == PROBLEM
    r = api.post(f"/escalations/{e.pk}/withdraw", {"reason": "x"})
    assert r.status_code == 404


def test_an_illegal_transition_is_409_and_a_forbidden_action_is_403(client, world):
    e = world.raised()
    health = Api(client, world.practitioner_health)
    assert health.post(f"/escalations/{e.pk}/withdraw", {"reason": "done"}).status_code == 200
    r = health.post(f"/escalations/{e.pk}/withdraw", {"reason": "again"})
    assert r.status_code == 409
    r = Api(client, world.practitioner_social).post(
        f"/escalations/{e.pk}/resolve",
        {"outcome": "decision_upheld", "agreed_way_forward": "x", "child_centred_outcome_achieved": "yes"},
    )
    assert r.status_code in (403, 409)


def test_if_match_refuses_a_stale_write(client, world):
    e = world.raised()
    api = Api(client, world.practitioner_health)
    today = timezone.localdate().isoformat()
    r = api.post(
        f"/escalations/{e.pk}/discussions", {"note": "one", "held_on": today}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 201 and r["ETag"] == '"2"'
    r = api.post(
        f"/escalations/{e.pk}/discussions", {"note": "two", "held_on": today}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 409 and r["Content-Type"] == PROBLEM
    assert e.discussions.count() == 1
    assert (
        api.post(
            f"/escalations/{e.pk}/discussions",
            {"note": "x", "held_on": today},
            headers={"If-Match": "banana"},
        ).status_code
        == 400
    )


def test_an_idempotency_key_never_raises_twice(client, world):
    api = Api(client, world.practitioner_health)
    body = raise_body(world)
    first = api.post("/escalations", body, headers={"Idempotency-Key": "abc-123"})
    again = api.post("/escalations", body, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Escalation.objects.count() == 1
    other = api.post(
        "/escalations", raise_body(world, summary="Different"), headers={"Idempotency-Key": "abc-123"}
    )
    assert other.status_code == 422
    assert api.post("/escalations", body, headers={"Idempotency-Key": "xyz"}).status_code == 201
    assert Escalation.objects.count() == 2


def test_list_filters_and_pagination(client, world):
    world.raised()
    world.raised(urgency="urgent")
    world.formal()
    api = Api(client, world.practitioner_health)
    everything = api.get("/escalations").json()
    assert everything["count"] == 3
    assert api.get("/escalations", stage=4).json()["count"] == 1
    assert api.get("/escalations", kind="theme").json()["count"] == 0
    assert api.get("/escalations", status="open", page_size=1, page=2).json()["results"][0]["reference"]
    assert api.get("/escalations", overdue="true").json()["count"] == 0
    assert api.get("/escalations", stage="x").status_code == 400
    assert Api(client, world.practitioner_other).get("/escalations").json()["count"] == 0


def test_agencies_and_taxonomies(client, world):
    api = Api(client, world.practitioner_health)
    names = {a["name"] for a in api.get("/agencies").json()}
    assert world.social.name in names and world.health.name in names
    tax = api.get("/taxonomies").json()
    assert {"code": "neglect", "label": "Neglect"} in tax["themes"]
    assert any(a["code"] == "levels-of-risk" for a in tax["areas_of_disagreement"])


def test_errors_are_problem_json_never_html(client, world):
    api = Api(client, world.practitioner_health)
    for response in (
        client.get("/api/v1/escalations"),  # no token
        client.get("/api/v1/escalations", HTTP_AUTHORIZATION="Bearer acc_wrong"),
        api.get("/no-such-thing"),
        api.client.delete("/api/v1/escalations", **api._headers({})),
        client.post("/api/v1/escalations", "{not json", content_type="application/json", **api._headers({})),
        client.post(
            "/api/v1/escalations",
            "x" * (2 * 1024 * 1024),
            content_type="application/json",
            **api._headers({}),
        ),
        api.post("/escalations", {"kind": "spaceship"}),
        api.post("/escalations", [1, 2, 3]),
    ):
        assert response.status_code in (400, 401, 404, 405, 413, 422), response.status_code
        assert response["Content-Type"] == PROBLEM, (response.status_code, response.content[:200])
        assert json.loads(response.content)["status"] == response.status_code
    assert client.get("/api/v1/escalations").status_code == 401


def test_tokens_are_hashed_expire_and_can_be_revoked(client, world, capsys):
    call_command("create_api_token", world.practitioner_health.username, "--expires-days", "1")
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=world.practitioner_health)
    assert raw.startswith("acc_") and raw not in token.token_hash and len(token.token_hash) == 64
    ok = client.get("/api/v1/escalations", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok.status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/v1/escalations", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + dt.timedelta(days=1))
    api_token_revoke(actor=world.admin, token=token)
    assert client.get("/api/v1/escalations", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert AuditEvent.objects.filter(verb=Verb.API_TOKEN_REVOKED).exists()


def test_rate_limiting_answers_429(client, world, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    api = Api(client, world.practitioner_health)
    codes = [api.get("/agencies").status_code for _ in range(2)]
    cache.clear()  # another worker, with nothing of this one's memory: the count is shared
    codes += [api.get("/agencies").status_code for _ in range(3)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    from accord.api.models import RateCount

    assert RateCount.objects.get().count == 5  # counted in the database, once a request
    # A minute later the token starts a new count, and its past minutes are cleared away.
    import time_machine

    with time_machine.travel(time.time() + 61, tick=False):
        assert api.get("/agencies").status_code == 200
    assert list(RateCount.objects.values_list("count", flat=True)) == [1]


def test_the_openapi_document_and_docs(client, world):
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    paths = doc.json()["paths"]
    for path in (
        "/api/v1/agencies",
        "/api/v1/taxonomies",
        "/api/v1/escalations",
        "/api/v1/escalations/{escalation_id}",
        "/api/v1/escalations/{escalation_id}/timeline",
        "/api/v1/escalations/{escalation_id}/discussions",
        "/api/v1/escalations/{escalation_id}/escalate",
        "/api/v1/escalations/{escalation_id}/pdg-actions",
        "/api/v1/escalations/{escalation_id}/resolve",
        "/api/v1/escalations/{escalation_id}/withdraw",
    ):
        assert path in paths, path
    assert client.get("/api/v1/docs").status_code == 200


def test_a_user_lists_creates_and_revokes_their_own_tokens(client, world):
    client.login(username=world.practitioner_health.username, password="test-password-123")
    page = client.post("/account/api-tokens/", {"name": "Case system", "expires_days": 30})
    html = page.content.decode()
    assert "Your new token" in html
    token = ApiToken.objects.get(user=world.practitioner_health)
    assert token.prefix in html and token.name == "Case system"
    other = ApiToken.objects.create(
        user=world.practitioner_social, prefix="acc_x", token_hash="f" * 64, expires_at=timezone.now()
    )
    assert client.post(f"/account/api-tokens/{other.pk}/revoke/").status_code == 404
    assert client.post(f"/account/api-tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        client.post("/account/api-tokens/", {"name": ""})
        .content.decode()
        .count("Enter what the token is for")
        >= 1
    )


def test_the_list_makes_the_same_number_of_queries_whatever_the_data(client, world):
    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = Api(client, world.manager_health)
    world.at_stage_2()
    # Within one minute of the rate limit's count (a token's first request in a minute also
    # clears its past minutes: one query more, once a minute).
    clock_stopped = time_machine.travel(time.time(), tick=False)
    clock_stopped.start()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/escalations").status_code == 200
        return len(ctx.captured_queries)

    count()  # the token's use is recorded at most every five minutes: not on the next call
    small = count()
    for _ in range(6):
        world.at_stage_2()
        world.raised(
            raiser=world.practitioner_social, with_agency=world.health, with_practitioner_username=""
        )
    assert count() == small
    clock_stopped.stop()


@pytest.mark.parametrize(
    "overrides",
    [
        {"area_of_disagreement": "levels\x00of-risk"},
        {"summary": "Threshold\x00not agreed"},
        {"themes": ["neglect", "neg\x00lect"]},
        {"children": [{"name": "Pere\x00grine", "date_of_birth": "2019-03-04"}]},
        {"with_practitioner": "\x00"},
    ],
)
def test_text_holding_the_nul_character_is_refused_as_bad_input(client, world, overrides):
    """No database text column can store NUL: the API says which field is wrong instead
    of failing (a 500) when the text reaches the database."""
    r = Api(client, world.practitioner_health).post("/escalations", raise_body(world, **overrides))
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM
    assert "NUL" in json.dumps(r.json()["errors"])
    assert Escalation.objects.count() == 0


def test_a_query_string_holding_the_nul_character_is_refused(client, world):
    r = Api(client, world.manager_health).get("/escalations", partnership="test\x00shire")
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM


def test_pause_resume_reopen_and_documents_through_the_api_with_the_pages_refusals(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accord.core import clock

    e = world.at_stage_2()
    manager = Api(client, world.manager_health)
    practitioner = Api(client, world.practitioner_health)
    assert practitioner.post(f"/escalations/{e.pk}/pause", {"reason": "x"}).status_code == 403
    assert manager.post(f"/escalations/{e.pk}/pause", {"reason": " "}).status_code in (400, 422)
    paused = manager.post(f"/escalations/{e.pk}/pause", {"reason": "Waiting for the conference"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert "resume" in paused.json()["allowed_actions"] and "pause" not in paused.json()["allowed_actions"]
    assert manager.post(f"/escalations/{e.pk}/pause", {"reason": "again"}).status_code == 409
    resumed = manager.post(f"/escalations/{e.pk}/resume", {})
    assert resumed.status_code == 200 and resumed.json()["status"] == "open" and resumed.json()["due_date"]

    # Documents: listed, attached (refused with a reason when not a permitted type) and read, audited.
    upload = SimpleUploadedFile("page.html", b"<html><script>x</script></html>", content_type="text/html")
    refused = client.post(
        f"/api/v1/escalations/{e.pk}/documents",
        {"file": upload},
        HTTP_AUTHORIZATION=f"Bearer {practitioner.token}",
    )
    assert refused.status_code in (400, 422) and "file" in refused.json()["errors"]
    added = client.post(
        f"/api/v1/escalations/{e.pk}/documents",
        {"file": SimpleUploadedFile("chronology.txt", b"3 March: missed visit"), "description": "Chronology"},
        HTTP_AUTHORIZATION=f"Bearer {practitioner.token}",
    )
    assert added.status_code == 201, added.content
    listed = practitioner.get(f"/escalations/{e.pk}/documents").json()
    assert [(d["filename"], d["description"]) for d in listed] == [("chronology.txt", "Chronology")]
    read = manager.get(f"/escalations/{e.pk}/documents/{listed[0]['id']}")
    assert read.status_code == 200 and read.content == b"3 March: missed visit"
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.DOCUMENT_DOWNLOADED, actor=world.manager_health).exists()
    assert Api(client, world.practitioner_other).get(f"/escalations/{e.pk}/documents").status_code == 404
    assert manager.get(f"/escalations/{e.pk}/documents/999999").status_code == 404

    # Reopen: within the window, then not after it (422, naming the rule), as on the page.
    resolved = manager.post(
        f"/escalations/{e.pk}/resolve",
        {
            "outcome": "decision_upheld",
            "agreed_way_forward": "Joint visit",
            "child_centred_outcome_achieved": "yes",
        },
    )
    assert resolved.status_code == 200
    assert manager.post(f"/escalations/{e.pk}/reopen", {"reason": "It came back"}).status_code == 200
    manager.post(
        f"/escalations/{e.pk}/resolve",
        {
            "outcome": "decision_upheld",
            "agreed_way_forward": "Joint visit",
            "child_centred_outcome_achieved": "yes",
        },
    )
    with clock.set_to(clock.now() + dt.timedelta(days=60)):
        late = manager.post(f"/escalations/{e.pk}/reopen", {"reason": "Again"})
    assert late.status_code == 422 and "reopened" in late.content.decode()


def test_an_idempotency_key_on_a_document_upload_attaches_it_once(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accord.escalations.models import Document

    e = world.raised()
    api = Api(client, world.practitioner_health)

    def upload(content):
        return client.post(
            f"/api/v1/escalations/{e.pk}/documents",
            {"file": SimpleUploadedFile("notes.txt", content), "description": "Notes"},
            HTTP_AUTHORIZATION=f"Bearer {api.token}",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    assert upload(b"what was said").status_code == 201
    assert upload(b"what was said").status_code == 201  # answered again, not attached again
    assert Document.objects.filter(escalation=e).count() == 1
    assert upload(b"something else").status_code == 422  # the same key for another file
    assert Document.objects.filter(escalation=e).count() == 1


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary= ",
    ],
    ids=["no-boundary", "empty-boundary", "blank-boundary"],
)
def test_a_multipart_body_django_cannot_read_is_a_400_problem_not_a_500(client, world, content_type):
    e = world.raised()
    api = Api(client, world.practitioner_health)
    r = client.generic(
        "POST",
        f"/api/v1/escalations/{e.pk}/documents",
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--x--\r\n',
        content_type=content_type,
        **api._headers(None),
    )
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM
    assert "boundary" in r.json()["detail"]
    assert not e.documents.exists()


def test_a_form_of_more_files_than_django_reads_is_a_400_problem_not_a_500(client, world, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    e = world.raised()
    api = Api(client, world.practitioner_health)
    files = {f"file{n}": SimpleUploadedFile(f"{n}.txt", b"x") for n in range(4)}
    r = client.post(f"/api/v1/escalations/{e.pk}/documents", files, **api._headers(None))
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM
    assert not e.documents.exists()


def test_a_read_by_id_honours_the_partnership_named_as_the_pages_do(client, world, neighbour):
    """Someone working in two partnerships names the one they work in (``?partnership=``): the
    other's escalation is not found there, whatever its id, as on the pages, and the refusal
    is audited; naming none finds it in whichever of theirs it is in."""
    from accord.partnership.models import Role, RoleAssignment

    shared = world.practitioner_health
    RoleAssignment.objects.create(user=shared, partnership=neighbour.partnership, role=Role.PRACTITIONER)
    here, there = world.raised(), neighbour.raised(raiser=shared)
    api = Api(client, shared)
    ours, theirs = world.partnership.slug, neighbour.partnership.slug
    for path in ("", "/timeline", "/documents"):
        assert api.get(f"/escalations/{here.pk}{path}", partnership=ours).status_code == 200
        assert api.get(f"/escalations/{there.pk}{path}", partnership=theirs).status_code == 200
        assert api.get(f"/escalations/{here.pk}{path}").status_code == 200
        refused = AuditEvent.objects.filter(verb=Verb.ACCESS_REFUSED).count()
        wrong = api.get(f"/escalations/{here.pk}{path}", partnership=theirs)
        assert wrong.status_code == 404 and wrong["Content-Type"] == PROBLEM
        assert AuditEvent.objects.filter(verb=Verb.ACCESS_REFUSED).count() == refused + 1
        assert api.get(f"/escalations/{there.pk}{path}", partnership=ours).status_code == 404
        assert api.get(f"/escalations/{here.pk}{path}", partnership="nowhere").status_code == 404
    today = timezone.localdate().isoformat()
    body = {"note": "Talked", "held_on": today, "with_manager": False}
    version = Escalation.objects.get(pk=here.pk).version
    acted = api.post(f"/escalations/{here.pk}/discussions?partnership={theirs}", body)
    assert acted.status_code == 404 and Escalation.objects.get(pk=here.pk).version == version
    # Someone of one partnership only is not found what they may not see, named or not.
    assert Api(client, neighbour.practitioner_social).get(f"/escalations/{here.pk}").status_code == 404
    assert (
        Api(client, neighbour.practitioner_social)
        .get(f"/escalations/{here.pk}", partnership=ours)
        .status_code
        == 404
    )


@pytest.mark.parametrize("key", ["a\x00b", "tab\there", "\x7f", "x" * 201, ""])
def test_an_idempotency_key_with_a_control_character_is_refused_before_it_is_stored(client, world, key):
    """A NUL in the key reached the database, which PostgreSQL refuses: a 500 there."""
    from accord.api.models import IdempotencyRecord

    before = Escalation.objects.count()
    r = Api(client, world.practitioner_health).post(
        "/escalations", raise_body(world), headers={"Idempotency-Key": key}
    )
    assert r.status_code == 400 and r["Content-Type"] == PROBLEM
    assert "Idempotency-Key" in r.json()["detail"]
    assert Escalation.objects.count() == before and not IdempotencyRecord.objects.exists()
