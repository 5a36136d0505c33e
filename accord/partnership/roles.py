"""The groups of roles Accord's rules speak of, each defined here and nowhere else.

Who sees and works an escalation at each stage is the ladder's (``partnership.protocol``,
read through the escalation policies); these say which roles make up each tier, who may
raise, who does casework and who audits (who reads the reports: ``reports.policies``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import Role, WorkedBy

# The tiers of people who work stages, lowest first, and the roles that belong to each.
TIERS = (WorkedBy.PRACTITIONERS, WorkedBy.MANAGERS, WorkedBy.SENIOR_LEADERS, WorkedBy.FORMAL_BODY)
TIER_ROLES: dict[str, frozenset[str]] = {
    WorkedBy.PRACTITIONERS: frozenset({Role.PRACTITIONER}),
    WorkedBy.MANAGERS: frozenset({Role.MANAGER}),
    WorkedBy.SENIOR_LEADERS: frozenset({Role.SENIOR_LEADER}),
    WorkedBy.FORMAL_BODY: frozenset({Role.PDG_MEMBER, Role.PDG_CHAIR}),
}
# The tier of a role that works stages.
ROLE_TIER = {role: tier for tier, roles in TIER_ROLES.items() for role in roles}

# The agencies' own leaders: those who may record a case's resolution (rule 4).
LEADER_ROLES = TIER_ROLES[WorkedBy.MANAGERS] | TIER_ROLES[WorkedBy.SENIOR_LEADERS]
# The partnership's formal body (the PDG in Devon): it sees formal escalations and offers
# support; it decides only where the protocol gives it that authority.
FORMAL_BODY_ROLES = TIER_ROLES[WorkedBy.FORMAL_BODY]
PDG_ROLES = FORMAL_BODY_ROLES
# Who may raise an escalation.
RAISING_ROLES = frozenset({Role.PRACTITIONER, Role.MANAGER, Role.SENIOR_LEADER, Role.CONFERENCE_CHAIR})
# Who works escalations: the list, the notifications.
CASEWORK_ROLES = RAISING_ROLES | PDG_ROLES | {Role.FACILITATOR}
# (Who reads which report is decided in ``accord.reports.policies``.)
# Who sees the partnership's open escalations counted by stage on their home page.
OVERVIEW_ROLES = frozenset({Role.EXECUTIVE, Role.BUSINESS_UNIT})
# The partnership's settings, and its audit trail.
SETTINGS_ROLES = frozenset({Role.BUSINESS_UNIT})
# Who reads the partnership's protocol as a document, and its versions (the pages and the API).
PROTOCOL_ROLES = SETTINGS_ROLES
# Who keeps the record of the formal body's meetings and what they asked for.
MEETING_RECORD_ROLES = SETTINGS_ROLES | {Role.PDG_CHAIR}
AUDIT_ROLES = frozenset({Role.AUDITOR})


def role_label(role: str, formal_body_name: str = "") -> str:
    """A role as the partnership names it: the formal body's roles after its own formal body
    (the member and chair of Devon's Practice Development Group, of Somerset's panel)."""
    if formal_body_name and role == Role.PDG_MEMBER:
        return _("Member of the %(body)s") % {"body": formal_body_name}
    if formal_body_name and role == Role.PDG_CHAIR:
        return _("Chair of the %(body)s") % {"body": formal_body_name}
    return str(Role(role).label) if role in Role.values else role
