"""What each verb's audit entry records beside who, when, where and what (its payload): one
schema a verb, so that an entry's payload means the same thing wherever it was written and a
reader of the trail (the auditor's search and export, a subject access request) knows what
to find. A payload that does not fit its verb's schema is a programming error: the test
suite refuses it (``ACCORD_AUDIT_STRICT``); a running deployment still writes the entry (the
trail must not lose an action) and logs the mismatch.

No schema holds a child's name or any account of the difference: references, codes, counts
and the names of the fields that changed, never their values.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .models import Verb

logger = logging.getLogger("accord.audit")


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Nothing(Payload):
    """The entry says all there is (who signed in, out, or was verified)."""


class LoginFailed(Payload):
    username: str | None = None
    sign_in: str | None = None  # an agency's own provider's name
    why: str | None = None


class LockedOut(Payload):
    username: str


class Device(Payload):
    device: str | None = None


class EscalationSeen(Payload):
    reference: str
    api: bool | None = None
    page: str | int | None = None
    part: str | None = None


class Listed(Payload):
    filters: dict[str, Any] | None = None
    page: int | str | None = None
    api: bool | None = None
    n: int | None = None
    references: list[str] | None = None


class Exported(Payload):
    filters: dict[str, Any]
    format: str


class Raised(Payload):
    reference: str
    kind: str
    stage: int
    with_: int | str | list[Any] | None = Field(None, alias="with")  # the agency (or agencies) it is with


class Changed(Payload):
    """Every change to an escalation: its reference and the action's name."""

    reference: str
    action: str


class Discussion(Changed):
    with_manager: bool


class Escalated(Changed):
    to_stage: int
    answered: list[str] = []  # the answers the move gave or corrected (their names)


class PdgAction(Changed):
    pdg_action: str
    facilitator: str | None = None


class FacilitationEnded(Changed):
    facilitators: list[str]


class ResponseCommissioned(Changed):
    actions: int | list[Any]


class ActionCompleted(Changed):
    agreed_action: int


class Party(Changed):
    agency: int | str
    practitioner: str | None = None
    reason: str | None = None


class Reassigned(Changed):
    holder: str
    before: str | None = None
    after: str | None = None
    reason: str | None = None


class Resolved(Changed):
    outcome: str
    settled: bool = False  # recorded by the raiser as already settled, when raised


class DetailsAdded(Changed):
    """Details added after raising, or a party's view: the names of the answers given."""

    answered: list[str] = []


class FollowedUp(Changed):
    held: str


class RaisedAgain(Changed):
    linked: str  # the reference of the escalation raised


class LearningPublished(Payload):
    reference: str
    learning: int


class Printed(Payload):
    reference: str


class DocumentUploaded(Payload):
    content_type: str
    size: int
    reference: str | None = None
    draft: int | None = None


class DocumentDownloaded(Payload):
    reference: str


class SettingsChanged(Payload):
    """The partnership's own settings, or what it publishes: the names of the fields changed."""

    fields: list[str]


class AgencyChanged(Payload):
    """An agency added to the partnership (``shared``: one already in Accord for another) or
    changed: its name and the fields changed."""

    agency: str
    fields: list[str] | None = None
    shared: bool | None = None


class TermChanged(Payload):
    """A term of one of the partnership's taxonomies (``areas``, ``themes``): its code and the
    fields changed."""

    taxonomy: str
    term: str
    fields: list[str] | None = None


class ProtocolChanged(Payload):
    """The protocol changed: the part a settings page changed (none: a whole document), the
    documents before and after (the ladder, its timescales and limits: no one's details) and
    the version the change made or left in force."""

    part: str | None = None
    before: Any = None
    after: Any = None
    version: int | None = None


class NarrativeChanged(Payload):
    year: int
    fields: list[str] | None = None


class MeetingChanged(Payload):
    meeting: str  # the meeting's date
    fields: list[str] | None = None


class MeetingActionsChanged(Payload):
    """The actions a meeting asked for, changed together (the deployment's admin pages)."""

    meeting: str
    added: list[int]
    changed: list[int]
    deleted: int


class EmailDomains(Payload):
    agency: int
    domains: list[str]


class GuestStep(Payload):
    """A step of a guest's part in an escalation: the escalation's reference, the guest's
    number and agency (never their address's mailbox, never a child's details)."""

    reference: str
    guest: int
    agency: int
    why: str | None = None  # a refused code's reason, an ended access's reason
    tries_left: int | None = None
    tier: str | None = None  # the agency's tier a guest was named to act in (its managers, …)


class FileImported(Payload):
    file_sha256: str
    rows: int
    import_: int | None = Field(None, alias="import")  # the import's number
    create: int | None = None
    update: int | None = None
    unchanged: int | None = None


class AgenciesMerged(Payload):
    merged: int
    merged_name: str
    into: int
    into_name: str
    people: int
    escalations: int
    actions: int


class Person(Payload):
    person: str


class PartnershipCreated(Payload):
    """A partnership set up: its short name, the preset it started from (empty: a protocol
    file), its business unit's name and its first officer's sign-in name (if one was named)."""

    slug: str
    preset: str | None = None
    business_unit: str | None = None
    officer: str | None = None


class PersonChanged(Payload):
    """A person's change: who (their sign-in name), the fields or codes it touched."""

    person: str
    fields: list[str] | None = None
    agency: str | None = None  # the agency's name (after a move)
    from_agency: str | None = None
    roles: list[str] | None = None  # role codes in the partnership, after
    before: list[str] | None = None  # role codes, before
    handed_on: int | None = None  # open escalations handed on
    sign_in: str | None = None  # the provider that added them


class SharedChangeRefused(Payload):
    attempted: str  # what was tried (field names, or an action)
    by_partnership: int  # the partnership whose business unit tried it


class SignInProviderChanged(Payload):
    provider: str  # its name
    agency: str
    fields: list[str] | None = None  # never the secret's value
    owner: int | None = None  # the partnership that keeps it; none: the deployment's


class SignedInAdded(Payload):
    sign_in: str
    agency: str


class DemoLoaded(Payload):
    escalations: int | None = None
    users: int | None = None


class TokenCreated(Payload):
    user: str
    expires_days: int | None = None


class TokenRevoked(Payload):
    user: str


class KeysRotated(Payload):
    """How many values of each table, and documents, were re-encrypted."""

    model_config = ConfigDict(extra="allow")  # one count a table the rotation covers
    documents: int


class AuditSearched(Payload):
    filters: dict[str, Any]


class DirectorySearched(Payload):
    text: str
    agency: int | None = None
    found: int


class SubjectAccess(Payload):
    escalations: int | list[Any]


class RetentionApplied(Payload):
    escalations: int
    children: int
    documents: int
    references: list[str] | int


class Report(Payload):
    report: str
    api: bool | None = None
    year: int | None = None
    suppressed: bool | int | list[Any] | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None


class MeetingActionDone(Payload):
    action: int
    meeting: str  # the meeting's date


class AccessRefused(Payload):
    method: str
    path: str
    status: int


SCHEMAS: dict[str, type[Payload]] = {
    Verb.LOGIN: Nothing,
    Verb.LOGOUT: Nothing,
    Verb.PASSWORD_SET: Nothing,
    Verb.DRAFT_SAVED: Nothing,
    Verb.MFA_ENROLLED: Nothing,
    Verb.MFA_FAILED: Nothing,
    Verb.MFA_VERIFIED: Device,
    Verb.LOGIN_FAILED: LoginFailed,
    Verb.LOCKED_OUT: LockedOut,
    Verb.ESCALATION_VIEWED: EscalationSeen,
    Verb.ESCALATION_LISTED: Listed,
    Verb.ESCALATIONS_EXPORTED: Exported,
    Verb.ESCALATION_RAISED: Raised,
    Verb.ESCALATION_CHANGED: DetailsAdded,
    Verb.DISCUSSION_RECORDED: Discussion,
    Verb.ESCALATED: Escalated,
    Verb.PAUSED: Changed,
    Verb.RESUMED: Changed,
    Verb.PDG_ACTION: PdgAction,
    Verb.FACILITATION_ENDED: FacilitationEnded,
    Verb.RESPONSE_COMMISSIONED: ResponseCommissioned,
    Verb.ACTION_COMPLETED: ActionCompleted,
    Verb.PARTY_ADDED: Party,
    Verb.PARTY_REMOVED: Party,
    Verb.REASSIGNED: Reassigned,
    Verb.RESOLVED: Resolved,
    Verb.FOLLOWED_UP: FollowedUp,
    Verb.WITHDRAWN: Changed,
    Verb.REOPENED: Changed,
    Verb.RAISED_AGAIN: RaisedAgain,
    Verb.LEARNING_PUBLISHED: LearningPublished,
    Verb.ESCALATION_PRINTED: Printed,
    Verb.DOCUMENT_UPLOADED: DocumentUploaded,
    Verb.DOCUMENT_DOWNLOADED: DocumentDownloaded,
    Verb.PARTNERSHIP_SETTINGS_CHANGED: SettingsChanged,
    Verb.STATEMENT_CHANGED: SettingsChanged,
    Verb.AGENCY_ADDED: AgencyChanged,
    Verb.AGENCY_CHANGED: AgencyChanged,
    Verb.TERM_ADDED: TermChanged,
    Verb.TERM_CHANGED: TermChanged,
    Verb.TERM_DELETED: TermChanged,
    Verb.PROTOCOL_CHANGED: ProtocolChanged,
    Verb.PROTOCOL_LOADED: ProtocolChanged,
    Verb.NARRATIVE_CHANGED: NarrativeChanged,
    Verb.NARRATIVE_DELETED: NarrativeChanged,
    Verb.MEETING_RECORDED: MeetingChanged,
    Verb.MEETING_CHANGED: MeetingChanged,
    Verb.MEETING_DELETED: MeetingChanged,
    Verb.MEETING_ACTION_ADDED: MeetingActionDone,
    Verb.MEETING_ACTIONS_CHANGED: MeetingActionsChanged,
    Verb.PARTNERSHIP_CREATED: PartnershipCreated,
    Verb.PEOPLE_IMPORTED: FileImported,
    Verb.AGENCIES_MERGED: AgenciesMerged,
    Verb.ESCALATIONS_IMPORTED: FileImported,
    Verb.ESCALATION_IMPORT_REMOVED: FileImported,
    Verb.INVITATION_SENT: Person,
    Verb.INVITATION_REVOKED: Person,
    Verb.SIGNED_IN_ADDED: SignedInAdded,
    Verb.PERSON_ADDED: PersonChanged,
    Verb.PERSON_DETAILS_CHANGED: PersonChanged,
    Verb.PERSON_EMAIL_CHANGED: PersonChanged,
    Verb.PERSON_MOVED: PersonChanged,
    Verb.PERSON_LINE_MANAGER_CHANGED: PersonChanged,
    Verb.PERSON_ROLES_CHANGED: PersonChanged,
    Verb.PERSON_DEACTIVATED: PersonChanged,
    Verb.PERSON_REACTIVATED: PersonChanged,
    Verb.SHARED_CHANGE_REFUSED: SharedChangeRefused,
    Verb.SIGN_IN_PROVIDER_ADDED: SignInProviderChanged,
    Verb.SIGN_IN_PROVIDER_CHANGED: SignInProviderChanged,
    Verb.SIGN_IN_PROVIDER_CONFIRMED: SignInProviderChanged,
    Verb.DEMO_LOADED: DemoLoaded,
    Verb.API_TOKEN_CREATED: TokenCreated,
    Verb.API_TOKEN_REVOKED: TokenRevoked,
    Verb.KEYS_ROTATED: KeysRotated,
    Verb.AUDIT_SEARCHED: AuditSearched,
    Verb.DIRECTORY_SEARCHED: DirectorySearched,
    Verb.AUDIT_EXPORTED: AuditSearched,
    Verb.SUBJECT_ACCESS: SubjectAccess,
    Verb.RETENTION_APPLIED: RetentionApplied,
    Verb.REPORT_VIEWED: Report,
    Verb.REPORT_DOWNLOADED: Report,
    Verb.MEETING_ACTION_DONE: MeetingActionDone,
    Verb.ACCESS_REFUSED: AccessRefused,
    Verb.AGENCY_EMAIL_DOMAINS_CHANGED: EmailDomains,
    Verb.GUEST_NAMED: GuestStep,
    Verb.GUEST_LINK_OPENED: GuestStep,
    Verb.GUEST_CODE_SENT: GuestStep,
    Verb.GUEST_CODE_REFUSED: GuestStep,
    Verb.GUEST_SIGNED_IN: GuestStep,
    Verb.GUEST_CONFIRMED: GuestStep,
    Verb.GUEST_DECLINED: GuestStep,
    Verb.GUEST_ACCESS_ENDED: GuestStep,
    Verb.GUEST_MADE_PERSON: GuestStep,
}


# Verbs kept only so that the entries written with them still read and verify: nothing
# writes them now, and a write with one is refused like a payload that does not fit.
LEGACY: frozenset[str] = frozenset({Verb.CONFIGURATION_CHANGED})


class PayloadMismatch(ValueError):
    """A payload that does not fit its verb's schema (a programming error)."""


def check_payload(verb: str, payload: dict[str, Any]) -> None:
    """Refuse (under ``ACCORD_AUDIT_STRICT``, as in the tests) or log a payload that does not
    fit its verb's schema."""
    schema = SCHEMAS.get(verb)
    problem = None
    if verb in LEGACY:
        problem = f"the verb {verb!r} is kept only for entries written before each change had its own"
    elif schema is None:
        problem = f"no payload schema for the verb {verb!r}"
    else:
        try:
            schema.model_validate(payload)
        except ValidationError as exc:
            problem = f"the payload of {verb!r} does not fit its schema: {exc.errors()[:3]}"
    if problem is None:
        return
    if getattr(settings, "ACCORD_AUDIT_STRICT", False):
        raise PayloadMismatch(problem)
    logger.error("audit: %s", problem)
