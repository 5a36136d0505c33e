"""The API's request and response shapes (the OpenAPI contract is generated from these)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import field_validator

from accord.escalations import models, subjects
from accord.partnership import models as partnership_models

# The codes the API takes and gives are the models' own choices, named once there.
Kind = Literal[tuple(models.Kind.values)]
# A priority tier's code: "routine", "urgent" or one the partnership added (GET
# /taxonomies lists the partnership's; another code is refused with 422).
Urgency = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Origin = Literal[tuple(partnership_models.Origin.values)]
FamilyAware = Literal[(*models.FamilyAware.values, "")]  # "": not said
Subject = Literal[(*subjects.Subject.values, "")]  # "": the partnership's first (a child, or an adult)
AdultAware = Literal[(*subjects.AdultAware.values, "")]
AdvocateInvolved = Literal[(*subjects.AdvocateInvolved.values, "")]
Status = Literal[tuple(models.Status.values)]
OutcomeCode = Literal[tuple(models.Outcome.values)]
PdgActionCode = Literal[tuple(models.PdgActionKind.values)]
ChildCentred = Literal[tuple(models.ChildCentredOutcome.values)]
HeldCode = Literal[tuple(models.Held.values)]


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


class InSchema(Schema):
    """Every shape the API reads (bodies and query strings): text may not hold the NUL character, which no database
    text column can store, so it is refused as invalid input rather than failing later."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if _holds_nul(value):
            raise ValueError("must not contain the NUL character")
        return value


Text = Field(..., max_length=20000)
ASKED_BY_THE_STAGE = "Required where the protocol's first stage asks for it (GET /stages: requires)."
OptionalText = Field("", max_length=20000)


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: dict[str, list[str]] | None = None


class ProtocolVersionOut(Schema):
    number: int
    made_at: dt.datetime
    # Who made it, by name; null for no person: the command line, or the ladder as it stood
    # when versions began to be kept (version 1).
    made_by: str | None
    changes: list[str]


class ProtocolVersionWholeOut(ProtocolVersionOut):
    document: dict  # the protocol as applied, as GET /protocol/versions/<number> and export give it


class AgencyOut(Schema):
    id: int
    name: str
    kind: str
    takes_part_in_casework: bool = Field(
        description="Whether a difference may be with it (false: the business unit, the formal body's host, "
        "a facilitators' organisation, as the business unit marks them)"
    )


class PersonOut(Schema):
    username: str
    name: str
    email: str
    agency: int | None
    agency_name: str


class Term(Schema):
    code: str
    label: str


class TaxonomiesOut(Schema):
    areas_of_disagreement: list[Term]
    themes: list[Term]
    priorities: list[Term]
    safeguards: str = Field(..., description="Whom the partnership safeguards: children, adults or both.")
    subjects: list[Term] = Field(..., description="Whom a case raised here may be about (its subject).")


class ChildIn(InSchema):
    name: str = Field(..., min_length=1, max_length=200)
    date_of_birth: dt.date | None = None
    agency_reference: str = Field("", max_length=100)


class ChildOut(Schema):
    name: str
    date_of_birth: dt.date | None
    agency_reference: str


class PartyIn(InSchema):
    agency: int = Field(
        ..., ge=1, le=2**63 - 1, description="One of the partnership's agencies (see /agencies)."
    )
    practitioner: str | None = Field(
        None,
        max_length=150,
        description="A practitioner of that agency, by username; or null: its managers receive it.",
    )


class OtherPartyIn(PartyIn):
    practitioner_email: str | None = Field(
        None,
        max_length=254,
        description=(
            "Or the practitioner's work email, when they are not in Accord: it must be at one of "
            "the agency's work email domains; they answer as a guest through an emailed link and a "
            "one-time code. Someone with an account is named as themselves."
        ),
    )


class PartyOut(Schema):
    agency: int
    agency_name: str
    practitioner: str | None
    side: Literal["raising", "other"]


class AddPartyIn(PartyIn):
    reason: str = Field(..., min_length=1, max_length=20000)


class GuestNameIn(InSchema):
    agency: int = Field(
        ..., ge=1, le=2**63 - 1, description="One of the agencies the difference is with (see /agencies)."
    )
    email: str = Field(
        ...,
        min_length=1,
        max_length=254,
        description="Their work email, at one of that agency's work email domains.",
    )
    acts_as: Literal["professional", "leader"] = Field(
        "professional",
        description=(
            "professional: the agency's professional the difference is with (the parties working "
            "it name them). leader: where it stands at a stage the agencies' managers or senior "
            "leaders work and that agency has nobody in Accord to work it, its manager or senior "
            "leader, who then acts for the agency in that tier on this escalation alone (the "
            "raiser's line manager or the business unit name them)."
        ),
    )


class RemovePartyIn(InSchema):
    reason: str = Field(..., min_length=1, max_length=20000)


class EscalationIn(InSchema):
    kind: Kind
    immediate_danger: bool
    with_agency: int
    with_practitioner: str | None = Field(None, max_length=150)
    with_practitioner_email: str | None = Field(
        None,
        max_length=254,
        description=(
            "Or the practitioner's work email, when they are not in Accord: it must be at one of "
            "with_agency's work email domains; they answer as a guest through an emailed link and a "
            "one-time code. Someone with an account is named as themselves."
        ),
    )
    with_people: str = Field("", max_length=300)
    other_parties: list[OtherPartyIn] = Field(
        default_factory=list,
        max_length=20,
        description="The agencies beyond the first (with_agency) that the difference is with.",
    )
    summary: str = Field(..., max_length=200)
    # Required where the protocol's first stage asks for them (``GET /stages``: ``requires``).
    decision_challenged: str = Field("", max_length=20000, description=ASKED_BY_THE_STAGE)
    concern: str = Field("", max_length=20000, description=ASKED_BY_THE_STAGE)
    evidence: str = Field("", max_length=20000, description=ASKED_BY_THE_STAGE)
    professional_curiosity: str = OptionalText
    child_voice: str = OptionalText
    family_view: str = Field("", max_length=20000, description="A case only: leave empty for a theme.")
    family_aware: FamilyAware = Field("", description="A case only: leave empty for a theme.")
    tried_so_far: str = Field("", max_length=20000, description=ASKED_BY_THE_STAGE)
    desired_outcome: str = Field("", max_length=20000, description=ASKED_BY_THE_STAGE)
    urgency: Urgency
    origin: Origin = "practitioner"
    area_of_disagreement: str = Field(
        "",
        max_length=60,
        description="The first area of disagreement's code (any others: areas_of_disagreement).",
    )
    areas_of_disagreement: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="The areas of disagreement's codes (several may be given).",
    )
    themes: list[str] = Field(default_factory=list, max_length=50)
    children: list[ChildIn] = Field(default_factory=list, max_length=20)
    subject: Subject = Field(
        "",
        description="Whom it is about, as the partnership allows (GET /partnership: safeguards): child, "
        "adult or family; a theme, child or adult. Empty: a child, or an adult where the partnership "
        "safeguards only adults.",
    )
    adult_aware: AdultAware = Field(
        "",
        description="An adult only: whether they know of the difference (required to raise a case about one).",
    )
    adult_views: str = Field("", max_length=5000, description="An adult only: their views and wishes.")
    adult_advocate: AdvocateInvolved = Field(
        "", description="An adult only: whether an advocate is involved."
    )
    reflection: str = OptionalText
    start_stage: int = Field(1, ge=1, le=9)
    start_stage_reason: str = OptionalText
    partnership: str | None = Field(
        None, max_length=50, description="The partnership's short name; needed only if you work in several."
    )


class AgencyRef(Schema):
    id: int
    name: str


class FollowUpOut(Schema):
    due_on: dt.date
    asked_at: dt.datetime | None
    answered_at: dt.datetime | None
    answered_by: str | None
    held: HeldCode | None
    what_changed: str


class ResolutionOut(Schema):
    outcome: str
    agreed_way_forward: str
    child_centred_outcome_achieved: str
    learning: str
    referred_to: str
    stage: int
    resolved_by: str
    resolved_at: dt.datetime
    follow_up: FollowUpOut | None


class AgreedActionOut(Schema):
    id: int
    description: str
    owner_agency: int
    due_date: dt.date
    completed_on: dt.date | None
    completion_note: str


class AgreedActionView(Schema):
    """An agreed or commissioned action as its owning agency sees it, party or not: never a
    child's details."""

    id: int
    reference: str
    kind: str
    description: str
    owner_agency: int
    due_date: dt.date
    difference: str = Field(description="The difference or theme in a line (never a child's details).")
    themes: list[str]
    completed_on: dt.date | None
    completion_note: str
    may_complete: bool
    sees_escalation: bool


class EscalationSummary(Schema):
    id: int
    reference: str
    partnership: str
    kind: str
    status: str
    stage: int  # its number on the ladder now (a review of the protocol may renumber it)
    stage_name: str
    stage_key: str  # the stage's key, which never changes
    highest_stage: int
    urgency: str
    origin: str
    due_date: dt.date | None
    overdue: bool
    raised_at: dt.datetime
    raising_agency: AgencyRef
    with_agency: AgencyRef
    parties: list[PartyOut] = Field(
        ...,
        description="The raising agency, then every agency the difference is with, and who is named in each.",
    )
    summary: str
    subject: str = Field(..., description="Whom it is about: child, adult or family.")
    version: int


class AdultOut(Schema):
    """An adult at risk's own part in the difference (Making Safeguarding Personal)."""

    knows_of_difference: str
    views_and_wishes: str
    advocate: str


class HolderPersonOut(Schema):
    username: str
    name: str


class HolderGroupOut(Schema):
    agency: str = Field(..., description="The agency, or the formal body where it acts at the stage.")
    role: str
    people: list[HolderPersonOut] | None
    may: list[str] = Field(
        ...,
        description="Of escalate, resolve, pause, resume and reassign; facilitate for the facilitator "
        "appointed at a facilitated stage.",
    )


class StageHoldersOut(Schema):
    stage: int
    name: str
    senior_tiers_too: bool = Field(..., description="More senior colleagues in the same agency may act too.")
    groups: list[HolderGroupOut]


class EscalationOut(EscalationSummary):
    with_practitioner: str | None
    with_people: str
    raised_by: str
    decision_challenged: str
    concern: str
    evidence: str
    professional_curiosity: str
    child_voice: str
    family_view: str
    family_aware: str
    tried_so_far: str
    desired_outcome: str
    area_of_disagreement: str | None = Field(
        description="The first area's code; null where none was given (the protocol did not ask for one) or "
        "for an escalation brought in from an earlier log that did not say."
    )
    areas_of_disagreement: list[str] = Field(description="Every area's code, the first first.")
    themes: list[str]
    children: list[ChildOut]
    adult: AdultOut | None = Field(
        None,
        description="For an escalation about an adult, to those who see its children's details: whether the "
        "adult knows of it, their views and wishes, whether an advocate is involved.",
    )
    reflection: str | None = Field(None, description="Only for the raiser and the raiser's line manager.")
    formal_at: dt.datetime | None
    formal_reason: str
    efforts_to_resolve: str
    closed_at: dt.datetime | None
    allowed_actions: list[str]
    protocol_version: int | None = Field(
        None,
        description="The version of the partnership's protocol it runs under (GET /protocol/versions/<number>); "
        "null for one brought in from an earlier log.",
    )
    imported_reference: str | None = Field(
        None,
        description="For an escalation brought in from the partnership's earlier log: that log's reference.",
    )
    resolution: ResolutionOut | None
    current_stage_holders: StageHoldersOut | None = Field(
        None,
        description="Who holds the current stage now (rule 2), agency by agency, and the stage's actions "
        "each may take; people are listed only where the reader may see names. Null once closed.",
    )
    agreed_actions: list[AgreedActionOut]


class EscalationPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[EscalationSummary]


class EventOut(Schema):
    type: str
    at: dt.datetime
    actor: str
    stage: int
    summary: str


class DiscussionIn(InSchema):
    note: str = Field(..., max_length=20000)
    held_on: dt.date
    with_manager: bool = False
    participants: str = Field("", max_length=300)
    agreed: bool | None = None


class AnswersIn(InSchema):
    """Answers a stage asks for (``GET /stages``: ``requires``), given or corrected."""

    concern: str | None = Field(None, max_length=20000)
    decision_challenged: str | None = Field(None, max_length=20000)
    tried_so_far: str | None = Field(None, max_length=20000)
    desired_outcome: str | None = Field(None, max_length=20000)
    evidence: str | None = Field(None, max_length=20000)
    efforts_to_resolve: str | None = Field(None, max_length=20000)
    professional_curiosity: str | None = Field(None, max_length=20000)
    child_voice: str | None = Field(None, max_length=20000)
    family_view: str | None = Field(None, max_length=20000)

    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


class EscalateIn(InSchema):
    reason: str = Field(..., max_length=20000)
    efforts_to_resolve: str = OptionalText
    to_stage: int | None = Field(None, ge=1, le=9)
    skip_reason: str = OptionalText
    answers: AnswersIn | None = Field(
        None,
        description="What the stage entered asks for (and any correction); what is known already counts.",
    )


class DetailsIn(InSchema):
    answers: AnswersIn


class ViewIn(InSchema):
    view: str = Field(..., max_length=5000)


class SettledIn(InSchema):
    kind: Kind
    immediate_danger: bool
    with_agency: int
    with_practitioner: str | None = Field(None, max_length=150)
    summary: str = Field(..., max_length=200, description="A line on what it was about.")
    outcome: OutcomeCode
    agreed_way_forward: str = Field(..., max_length=2000, description="How it ended: what was agreed.")
    learning: str = Field("", max_length=5000, description="Any learning for the partnership.")
    subject: Subject = Field("", description="Whom it was about, as for raising one.")
    partnership: str | None = Field(None, max_length=50)


class AnswerOut(Schema):
    name: str
    label: str


class StageOut(Schema):
    number: int
    key: str
    name: str
    worked_by: str
    formal: bool
    routine_working_days: int
    urgent_working_days: int
    requires: list[AnswerOut]


class AppointFacilitatorIn(InSchema):
    facilitator: str = Field(..., max_length=150, description="The facilitator's username.")
    note: str = Field("", max_length=20000)


class PdgActionIn(InSchema):
    action: PdgActionCode
    facilitator: str | None = Field(None, max_length=150)
    note: str = OptionalText


class ActionIn(InSchema):
    description: str = Field(..., min_length=1, max_length=2000)
    owner_agency: int
    due_date: dt.date


class ResolveIn(InSchema):
    outcome: OutcomeCode
    agreed_way_forward: str = Field(..., max_length=20000)
    actions: list[ActionIn] = Field(default_factory=list, max_length=50)
    child_centred_outcome_achieved: bool | ChildCentred
    learning: str = OptionalText
    referred_to: str = Field("", max_length=200)


class DocumentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    description: str
    uploaded_by: str
    uploaded_at: dt.datetime


class ReasonIn(InSchema):
    reason: str = Field(..., max_length=20000)


class ReassignIn(InSchema):
    holder: Literal["raiser"] | int = Field(
        ..., description='"raiser", or the id of an agency the difference is with'
    )
    to: str | None = Field(None, max_length=150, description="the username; null for nobody named")
    reason: str = Field(..., max_length=20000)


class FollowUpIn(InSchema):
    held: HeldCode
    what_changed: str = Field(..., max_length=20000)
    learning: str = Field(
        "", max_length=20000, description="Learning for the partnership; never the child's details."
    )


class WithdrawIn(InSchema):
    reason: str = Field(..., max_length=20000)
    learning: str = Field(
        "", max_length=20000, description="Learning for the partnership; never the child's details."
    )


class OptionalReasonIn(InSchema):
    reason: str = Field("", max_length=20000)


class NoteIn(InSchema):
    note: str = Field("", max_length=20000)
