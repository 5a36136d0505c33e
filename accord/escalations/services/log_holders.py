"""Who will hold the stage of each row of the earlier log still open, once it is brought in.

A row still open comes in at the stage it reached, raised by the person the log names or by
"the earlier log" (no one), naming no practitioner at the agencies it is with; rule 7 then
gives it to the agencies' managers and leaders by its stage, and rule 2 lets those of them
who work the stage act there. Where an agency has nobody in the role its stage needs, nobody
there sees it, works it or is reminded of it; where that is so of every agency of the
difference, nobody at all would, and the row is refused until someone holds it.

Nothing here restates those rules: each row is put to the escalation policies themselves
(``can_view`` and who may escalate from or record the outcome at its stage, as for a live
escalation), as an escalation not yet saved, for each person of its agencies with a role in
the partnership (and the formal body, where it acts at the stage). Whether an agency could
hold the stage at all is asked the same way, of someone with each role there. The people
and their roles are read once for the file; rows of the same shape are answered once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from accord.core import clock
from accord.partnership.models import Partnership, Role, RoleAssignment, User
from accord.partnership.protocol import ladder_of
from accord.partnership.roles import FORMAL_BODY_ROLES, ROLE_TIER, role_label

from ..models import Escalation, OtherParty, Status
from ..policies import AGENCY_TIERS, StageHolding, can_view, stage_holding, user_may

# The roles an agency's people may hold a stage in, lowest first.
AGENCY_ROLES = (Role.PRACTITIONER, Role.MANAGER, Role.SENIOR_LEADER)
# Someone who is no one: the id of the person asked "would someone with this role hold it?"
# (no account has it, so they raise, are named on and line-manage nothing).
_SOMEONE = 0
_NO_ONE = -1  # "the earlier log", standing in as the raiser the log does not name


@dataclass(frozen=True)
class StageHolder:
    """An agency's part in holding the stage: its name, the role they hold it in, how many."""

    agency: str
    role: str
    people: int


@dataclass(frozen=True)
class NobodyThere:
    """An agency of the difference that would hold the stage, but has nobody in the role."""

    agency: str  # or the formal body's name
    role: str  # the role as the partnership names it, lower case
    formal_body: bool = False


@dataclass(frozen=True)
class RowHolding:
    holders: tuple[StageHolder, ...]
    nobody: tuple[NobodyThere, ...]

    @property
    def held(self) -> bool:
        return bool(self.holders)


@dataclass(frozen=True)
class _Shape:
    raising_agency_id: int
    with_agency_id: int
    other_agency_ids: tuple[int, ...]
    stage: int
    raised_by_id: int | None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class LogHolders:
    """The partnership's people, read once, asked who would hold each open row's stage."""

    def __init__(self, partnership: Partnership, agency_names: dict[int, str]) -> None:
        self.partnership = partnership
        self.ladder = ladder_of(partnership)
        self.agency_names = agency_names
        roles: dict[int, set[str]] = {}
        for user_id, role in RoleAssignment.objects.filter(
            partnership=partnership, user__is_active=True
        ).values_list("user_id", "role"):
            roles.setdefault(user_id, set()).add(role)
        self.people: dict[int, User] = {}
        for person in User.objects.filter(pk__in=list(roles)).order_by("pk"):
            self._as_in(person, frozenset(roles[person.pk]))
            self.people[person.pk] = person
        self.by_agency: dict[int, list[User]] = {}
        self.formal_body: list[User] = []
        for person in self.people.values():
            if person.agency_id is not None:
                self.by_agency.setdefault(person.agency_id, []).append(person)
            if roles[person.pk] & FORMAL_BODY_ROLES:
                self.formal_body.append(person)
        self._answered: dict[_Shape, RowHolding] = {}

    def _as_in(self, person: User, roles: frozenset[str]) -> User:
        """The person's roles in this partnership, as the policies read them (no query)."""
        person._accord_roles = {self.partnership.pk: roles}
        person._accord_partnerships = {self.partnership.pk: self.partnership}
        return person

    def of(
        self,
        *,
        raising_agency_id: int,
        with_agency_id: int,
        other_agency_ids: list[int],
        stage: int,
        raised_by_id: int | None,
    ) -> RowHolding:
        shape = _Shape(raising_agency_id, with_agency_id, tuple(other_agency_ids), stage, raised_by_id)
        if shape not in self._answered:
            self._answered[shape] = self._holding(shape)
        return self._answered[shape]

    def _prospect(self, shape: _Shape) -> Escalation:
        """The escalation the row will be, unsaved: open at its stage, formal if that stage
        is, raised by the person the log names (or no one), naming no practitioner."""
        escalation = Escalation(
            partnership=self.partnership,
            status=Status.OPEN,
            stage=shape.stage,
            highest_stage=shape.stage,
            raising_agency_id=shape.raising_agency_id,
            with_agency_id=shape.with_agency_id,
            formal_at=clock.now() if self.ladder.is_formal(shape.stage) else None,
        )
        # Its raiser: the person the log names, else "the earlier log", an account that cannot
        # sign in and has no line manager (``importing.earlier_log_person``; not read here, as
        # a dry run writes nothing).
        escalation.raised_by = (
            self.people[shape.raised_by_id]
            if shape.raised_by_id is not None
            else User(pk=_NO_ONE, is_active=False)
        )
        escalation.__dict__["_accord_others"] = [OtherParty(agency_id=pk) for pk in shape.other_agency_ids]
        escalation.__dict__["_accord_pdg_actions"] = []  # no facilitator appointed
        return escalation

    @staticmethod
    def holds(person: User, escalation: Escalation) -> bool:
        """Sees it (rule 7) and works its stage (rule 2): may escalate from it or record its
        outcome, as the escalation's page would offer."""
        return can_view.test(person, escalation) and (
            user_may("escalate", person, escalation) or user_may("resolve", person, escalation)
        )

    def _holding(self, shape: _Shape) -> RowHolding:
        escalation = self._prospect(shape)
        holding = stage_holding(self.ladder, shape.stage)
        agencies = list(
            dict.fromkeys([shape.raising_agency_id, shape.with_agency_id, *shape.other_agency_ids])
        )
        counted: dict[tuple[str, str], int] = {}
        held_at: set[int | None] = set()
        candidates = [p for pk in agencies for p in self.by_agency.get(pk, [])]
        if holding.formal_body_acts:
            candidates += [p for p in self.formal_body if p not in candidates]
        for person in candidates:
            if not self.holds(person, escalation):
                continue
            where, role, of_agency = self._place(person, holding)
            counted[(where, role)] = counted.get((where, role), 0) + 1
            held_at.add(person.agency_id if of_agency else None)
        nobody = [
            NobodyThere(self.agency_names.get(pk, ""), _lower_first(str(Role(role).label)))
            for pk in agencies
            if pk not in held_at and (role := self._role_needed(escalation, pk)) is not None
        ]
        if holding.formal_body_acts and None not in held_at and self._formal_body_would(escalation):
            shown = self.ladder.formal_body_shown
            nobody.append(
                NobodyThere(shown, _lower_first(role_label(Role.PDG_MEMBER, shown)), formal_body=True)
            )
        return RowHolding(
            holders=tuple(StageHolder(where, role, n) for (where, role), n in counted.items()),
            nobody=tuple(nobody),
        )

    def _place(self, person: User, holding: StageHolding) -> tuple[str, str, bool]:
        """Where and in what role someone holds the stage: the lowest of their agency's
        roles the stage admits, else the formal body's."""
        roles = person._accord_roles[self.partnership.pk]
        admitted = sorted(
            (AGENCY_TIERS.index(ROLE_TIER[r]), r)
            for r in roles
            if ROLE_TIER.get(r) in AGENCY_TIERS and holding.admits(frozenset({r}))
        )
        if admitted:
            return self.agency_names.get(person.agency_id, ""), str(Role(admitted[0][1]).label), True
        body = roles & FORMAL_BODY_ROLES
        if holding.formal_body_acts and body:
            shown = self.ladder.formal_body_shown
            return shown, role_label(sorted(body)[0], shown), False
        # (A conference chair carrying their own dispute.)
        return (
            self.agency_names.get(person.agency_id, ""),
            role_label(sorted(roles)[0], self.ladder.formal_body_shown),
            True,
        )

    def _someone(self, agency_id: int | None, role: str) -> User:
        person = User(pk=_SOMEONE, agency_id=agency_id, is_active=True)
        return self._as_in(person, frozenset({role}))

    def _role_needed(self, escalation: Escalation, agency_id: int) -> str | None:
        """The first of an agency's roles in which someone would hold the stage (None: the
        stage does not come to that agency, as stage 1 does not to the raising agency's
        managers where nobody there raised it)."""
        return next(
            (role for role in AGENCY_ROLES if self.holds(self._someone(agency_id, role), escalation)),
            None,
        )

    def _formal_body_would(self, escalation: Escalation) -> bool:
        return self.holds(self._someone(None, Role.PDG_MEMBER), escalation)


def nobody_said(nobody: tuple[NobodyThere, ...] | list[NobodyThere]) -> str:
    """ "nobody at A or B holds the manager or safeguarding lead role", for each role the
    stage needs (and "the formal body has no members", where it acts there)."""
    by_role: dict[str, list[str]] = {}
    said = []
    for gap in nobody:
        if gap.formal_body:
            said.append(_("the %(body)s has no members") % {"body": gap.agency})
        else:
            by_role.setdefault(gap.role, []).append(gap.agency)
    return "; ".join(
        [
            _("nobody at %(agencies)s holds the %(role)s role")
            % {"agencies": either_of(agencies), "role": role}
            for role, agencies in by_role.items()
        ]
        + said
    )


def either_of(names: list[str]) -> str:
    """ "A", "A or B", "A, B or C"."""
    if len(names) == 1:
        return names[0]
    return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}
