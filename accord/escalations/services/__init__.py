"""Every change to an escalation, as one service per transition of the ladder.

Each service takes ``actor=`` explicitly, checks permission and the protocol's rules,
locks the escalation row, changes it, stamps who and when, appends the timeline event and
the audit entry in the same transaction, and bumps the escalation's version. Pages, the API
and commands all call these; nothing else writes an escalation. By family:

- ``raising``: raising an escalation, and checking its details;
- ``discussions``: recording discussions (and the manager's consultation);
- ``moves``: escalating, pausing and resuming;
- ``timescales``: the stages' clocks, and following a change of ladder or calendar;
- ``pdg``: the formal body's offers, a facilitator's appointment and the themes' responses;
- ``closing``: resolution with agreed actions (and marking them done), withdrawal, reopening,
  and the follow-up some weeks later (did the agreed way forward hold?);
- ``follow_through``: raising a difference again, linked to the escalation whose agreed
  way forward did not hold and pre-filled from it;
- ``documents``: evidence documents;
- ``people``: the raiser or a named practitioner reassigned, and a leaver's work handed on;
- ``parties``: the agencies a difference is with, checked on raising, added and taken out;
- ``directory``: the partnership's staff a difference may name, searched (rate limited, audited);
- ``importing``: a partnership's earlier log brought in (closed escalations of the past),
  and removed as a batch;
- ``_base``: the steps they share (refusals, the row lock, the version, timeline and audit).
"""

from accord.partnership.protocol import ProposedStage, StageRule

from ._base import ACTION_VERBS, refusal, today
from .closing import (
    ActionDetails,
    agreed_action_complete,
    due_follow_up,
    escalation_follow_up,
    escalation_raised_again,
    escalation_reopen,
    escalation_resolve,
    escalation_withdraw,
)
from .directory import DIRECTORY_PER_MINUTE, directory_lookup
from .discussions import efforts_from_history, escalation_record_discussion, manager_consulted
from .documents import (
    MOST_DRAFT_DOCUMENTS,
    checked_upload,
    draft_add_document,
    draft_discard,
    draft_remove_document,
    escalation_add_document,
    escalation_document_read,
)
from .follow_through import escalation_raise_again, raise_again_draft
from .moves import escalation_escalate, escalation_pause, escalation_resume
from .parties import (
    MOST_OTHER_PARTIES,
    PartyDetails,
    escalation_add_party,
    escalation_remove_party,
    practitioner_in,
    validate_other_parties,
)
from .pdg import (
    escalation_commission_response,
    escalation_end_facilitation,
    escalation_facilitator_appoint,
    escalation_pdg_action,
)
from .people import RAISER, escalation_reassign, person_left, person_moved
from .raising import (
    MISSING,
    TEXT_ANSWERS,
    ChildDetails,
    RaiseDetails,
    escalation_raise,
    escalation_validate_details,
    immediate_danger_guidance,
)
from .settled import (
    SettledDetails,
    escalation_add_details,
    escalation_add_view,
    escalation_record_settled,
)
from .timescales import (
    RECOMPUTE_BATCH,
    OpenPeriodUnder,
    escalations_recompute_due_dates,
    ladder,
    ladder_validate,
    open_periods_under,
    period_allowance,
    period_due_date,
)

__all__ = [
    "ACTION_VERBS",
    "DIRECTORY_PER_MINUTE",
    "MISSING",
    "MOST_DRAFT_DOCUMENTS",
    "MOST_OTHER_PARTIES",
    "RAISER",
    "RECOMPUTE_BATCH",
    "TEXT_ANSWERS",
    "ActionDetails",
    "ChildDetails",
    "OpenPeriodUnder",
    "PartyDetails",
    "ProposedStage",
    "RaiseDetails",
    "SettledDetails",
    "StageRule",
    "agreed_action_complete",
    "checked_upload",
    "directory_lookup",
    "draft_add_document",
    "draft_discard",
    "draft_remove_document",
    "due_follow_up",
    "efforts_from_history",
    "escalation_add_details",
    "escalation_add_document",
    "escalation_add_party",
    "escalation_add_view",
    "escalation_commission_response",
    "escalation_document_read",
    "escalation_end_facilitation",
    "escalation_escalate",
    "escalation_facilitator_appoint",
    "escalation_follow_up",
    "escalation_pause",
    "escalation_pdg_action",
    "escalation_raise",
    "escalation_raise_again",
    "escalation_raised_again",
    "escalation_reassign",
    "escalation_record_discussion",
    "escalation_record_settled",
    "escalation_remove_party",
    "escalation_reopen",
    "escalation_resolve",
    "escalation_resume",
    "escalation_validate_details",
    "escalation_withdraw",
    "escalations_recompute_due_dates",
    "immediate_danger_guidance",
    "ladder",
    "ladder_validate",
    "manager_consulted",
    "open_periods_under",
    "period_allowance",
    "period_due_date",
    "person_left",
    "person_moved",
    "practitioner_in",
    "raise_again_draft",
    "refusal",
    "today",
    "validate_other_parties",
]
