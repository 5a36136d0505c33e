"""schemathesis against the live OpenAPI document: no 5xx, and every response conforms to the schema."""

import json
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.api.services import api_token_create
from accord.api.tests.test_api import raise_body
from accord.escalations.models import Escalation, Guest
from accord.partnership.models import PartnershipAgency

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.once_on_postgresql  # (the stricter database about a value: CI's other half)
def test_the_api_survives_schemathesis(world, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    # Something to find: escalations at several stages that the caller is party to.
    world.raised()
    world.formal()
    _, token = api_token_create(actor=None, user=world.manager_health, expires_days=1)
    # As Django's test client does: keep the test's database connection across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _fuzz(token)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        check()


# Addresses to name someone by: at the agencies' domains and not, well-formed and not.
ADDRESSES = st.one_of(
    st.emails(),
    st.text(max_size=300),
    st.builds(lambda local: f"{local}@nhs.net", st.text(min_size=0, max_size=80)),
    st.sampled_from(
        ["gp@nhs.net", "GP@NHS.NET", "po@justice.gov.uk", "@nhs.net", "a@b", "x@nhs.net.evil.com"]
    ),
    st.none(),
)


def test_naming_someone_by_work_email_never_fails_the_server(
    world, client, django_capture_on_commit_callbacks
):
    """The new fields, with_practitioner_email and other_parties[].practitioner_email, fuzzed on
    a raise that is otherwise valid: never a 5xx, and an escalation is raised only when each
    address is at its agency's domain (or is nobody)."""
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.other).update(
        work_email_domains="justice.gov.uk"
    )
    _, token = api_token_create(actor=None, user=world.practitioner_health, expires_days=1)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    seen = Counter()

    @hypothesis_settings(
        max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(first=ADDRESSES, other=ADDRESSES, named=st.booleans())
    def check(first, other, named):
        body = raise_body(world, with_practitioner=world.practitioner_social.username if named else None)
        body["with_practitioner_email"] = first
        body["other_parties"] = [{"agency": world.other.pk, "practitioner_email": other}]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/escalations", json.dumps(body), content_type="application/json", **auth
            )
        assert response.status_code < 500, response.content[:300]
        seen[response.status_code] += 1
        if response.status_code == 201:
            e = Escalation.objects.get(pk=response.json()["id"])
            for guest in Guest.objects.filter(escalation=e):
                domain = {world.social.pk: "nhs.net", world.other.pk: "justice.gov.uk"}[guest.agency_id]
                assert guest.email.endswith("@" + domain) and guest.email == guest.email.lower()
            if first:
                assert not named
        else:
            assert response.status_code in (400, 422), response.content[:300]

    check()
    assert seen[201] and (seen[400] or seen[422]), seen
