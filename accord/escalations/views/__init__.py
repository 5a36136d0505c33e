"""The escalation pages, by family: ``raising`` (the wizard), ``pages`` (the list, an
escalation's page, its record and documents), ``actions`` (each action's page), and the
steps they share (``_common``)."""

from .actions import (
    add_document,
    add_party,
    agreed_action,
    appoint_facilitator,
    complete_action,
    discuss,
    end_facilitation,
    escalate,
    follow_up,
    pause,
    pdg_action,
    raise_again,
    reassign,
    remove_party,
    reopen,
    resolve,
    resume,
    withdraw,
)
from .pages import detail, document_download, escalation_list_export, escalation_list_view, record
from .raising import check, danger, draft_delete, emergency, raised, start, step

__all__ = [
    "add_document",
    "add_party",
    "agreed_action",
    "appoint_facilitator",
    "check",
    "complete_action",
    "danger",
    "detail",
    "discuss",
    "document_download",
    "draft_delete",
    "emergency",
    "end_facilitation",
    "escalate",
    "escalation_list_export",
    "escalation_list_view",
    "follow_up",
    "pause",
    "pdg_action",
    "raise_again",
    "raised",
    "reassign",
    "record",
    "remove_party",
    "reopen",
    "resolve",
    "resume",
    "start",
    "step",
    "withdraw",
]
