"""Raising an escalation: its details checked as the protocol asks, its reference, its first stage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.crypto import lookup_hash
from accord.core.errors import ImmediateDanger, NotAllowed, RuleViolation
from accord.partnership.models import (
    AreaOfDisagreement,
    Partnership,
    PracticeTheme,
    Role,
    User,
    language_in_use,
)
from accord.partnership.protocol import StageRule, ladder_of
from accord.partnership.selectors import casework_agencies, casework_people, user_has_role
from accord.partnership.services.versions import protocol_version_now

from .. import tallies, visibility
from ..models import (
    IRU_ORIGINS,
    Child,
    Draft,
    Escalation,
    EscalationCounter,
    EventType,
    FamilyAware,
    Kind,
    Origin,
    Status,
    Urgency,
)
from ..policies import can_raise_in
from ..subjects import (
    AdultAware,
    AdvocateInvolved,
    Subject,
    asks_subject,
    default_subject,
    subjects_for,
    worded,
)
from ._base import _blank, _event, _or_list, today
from .closing import link_from_draft
from .documents import documents_from_draft
from .guests import NamedByEmail, guests_create, resolve_email
from .parties import LARGEST_KEY, PartyDetails, create_other_parties, validate_other_parties
from .timescales import _new_period_due, _open_period


def _next_reference(partnership: Partnership) -> str:
    year = today().year
    counter, _created = EscalationCounter.objects.select_for_update().get_or_create(
        partnership=partnership, year=year
    )
    # The row is locked until this transaction ends: the number read is the one to follow.
    issued = counter.last + 1
    EscalationCounter.objects.filter(pk=counter.pk).update(last=issued)
    return f"{partnership.reference_prefix}-{year}-{issued:05d}"


# --------------------------------------------------------------------------- raising


@dataclass
class ChildDetails:
    name: str
    date_of_birth: dt.date | None = None
    agency_reference: str = ""


@dataclass
class RaiseDetails:
    """Everything a raiser tells Accord (see DOMAIN.md 'The thing being tracked')."""

    kind: str
    with_agency_id: int
    summary: str
    # What the protocol's first stage asks for is required (``Ladder.required_to_raise``);
    # anything else may be given now or added later.
    concern: str = ""
    decision_challenged: str = ""
    evidence: str = ""
    tried_so_far: str = ""
    desired_outcome: str = ""
    # The first area of disagreement (kept for partner systems) and any others.
    area_of_disagreement_code: str = ""
    area_codes: Sequence[str] = ()
    urgency: str = Urgency.ROUTINE
    origin: str = Origin.PRACTITIONER
    with_practitioner_username: str = ""
    # Or named by work email, when they are not in Accord: they answer as a guest (``guests.py``).
    with_practitioner_email: str = ""
    with_people: str = ""
    professional_curiosity: str = ""
    child_voice: str = ""
    family_view: str = ""
    family_aware: str = ""
    theme_codes: Sequence[str] = ()
    children: Sequence[ChildDetails] = field(default_factory=list)
    reflection: str = ""
    start_stage: int = 1
    start_stage_reason: str = ""
    # The agencies beyond the first the difference is with (the network of section 3.2).
    other_parties: Sequence[PartyDetails] = ()
    # Whom it is about (``subjects.py``): empty for the partnership's first (a child, or an
    # adult on an adults board). For an adult at risk: whether they know of the difference,
    # their views and wishes, and whether an advocate is involved.
    subject: str = ""
    adult_aware: str = ""
    adult_views: str = ""
    adult_advocate: str = ""


OLDEST_ADULT_YEARS = 18  # an adult at risk is 18 or over (Care Act 2014)


def subject_of(partnership: Partnership, details: RaiseDetails) -> str:
    return details.subject or default_subject(partnership.safeguards)


def _subject_errors(
    partnership: Partnership, details: RaiseDetails, *, settled: bool
) -> list[tuple[str, str]]:
    """Whom the difference is about, as the partnership allows, and the adult's own answers:
    given only for an adult, and whether they know of it asked when one is raised."""
    subject = subject_of(partnership, details)
    errors: list[tuple[str, str]] = []
    allowed = subjects_for(partnership.safeguards, theme=details.kind == Kind.THEME)
    if subject not in allowed:
        errors.append(
            (
                "subject",
                _("Select whom the difference is about: %(subjects)s")
                % {"subjects": _or_list([str(s.label).lower() for s in allowed])},
            )
        )
    about_adult = subject == Subject.ADULT and details.kind == Kind.CASE
    if not about_adult and (details.adult_aware or details.adult_advocate or not _blank(details.adult_views)):
        errors.append(
            (
                "adult_aware",
                _("Only a difference about an adult records the adult's knowledge of it, views and advocate"),
            )
        )
    if details.adult_aware and details.adult_aware not in AdultAware.values:
        errors.append(("adult_aware", _("Select whether the adult knows of the difference")))
    elif about_adult and not details.adult_aware and not settled:
        errors.append(("adult_aware", _("Select whether the adult knows of the difference")))
    if details.adult_advocate and details.adult_advocate not in AdvocateInvolved.values:
        errors.append(("adult_advocate", _("Select whether an advocate is involved")))
    if len(details.adult_views or "") > 5000:
        errors.append(("adult_views", _("The adult's views and wishes must be 5,000 characters or fewer")))
    for child in details.children if subject == Subject.ADULT else ():
        if child.date_of_birth and child.date_of_birth > _years_ago(OLDEST_ADULT_YEARS):
            errors.append(("children", _("An adult's date of birth must be at least 18 years ago")))
    return errors


OLDEST_CHILD_YEARS = 25  # care leavers are supported to 25


def _years_ago(years: int) -> dt.date:
    """The same day ``years`` ago (the 28th for a 29 February that year did not have)."""
    now = today()
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


# What to say when an answer the protocol asks for is missing (``protocol.ANSWERS``).
MISSING = {
    "summary": _lazy("Enter a short summary of the difference"),
    "concern": _lazy("Enter what worries you for the child"),
    "decision_challenged": _lazy("Enter the decision or situation you are challenging"),
    "evidence": _lazy("Enter the evidence for your concern"),
    "tried_so_far": _lazy("Enter what has been tried so far"),
    "desired_outcome": _lazy("Enter the child-centred outcome you want"),
    "efforts_to_resolve": _lazy("Enter the evidence of efforts to resolve this at the earlier stages"),
    "professional_curiosity": _lazy("Enter what professional curiosity found"),
    "child_voice": _lazy("Enter the child's voice and lived experience"),
    "family_view": _lazy("Enter the family's view"),
    "areas_of_disagreement": _lazy("Select the area of disagreement"),
    "themes": _lazy("Select the practice themes"),
}
TEXT_ANSWERS = (
    "concern",
    "decision_challenged",
    "evidence",
    "tried_so_far",
    "desired_outcome",
    "efforts_to_resolve",
    "professional_curiosity",
    "child_voice",
    "family_view",
)


def area_codes_of(details: RaiseDetails) -> list[str]:
    """The areas given: the first (``area_of_disagreement_code``) and the others, once each."""
    codes = [details.area_of_disagreement_code, *(details.area_codes or ())]
    return list(dict.fromkeys(c for c in codes if c))


class _Found:
    """The errors found so far, by field, in the order found."""

    def __init__(self, errors: dict[str, str] | None) -> None:
        self.errors: dict[str, list[str]] = {name: [str(m)] for name, m in (errors or {}).items()}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _check_basics(
    partnership: Partnership, details: RaiseDetails, settled: bool, found: _Found
) -> Sequence[str]:
    """The kind, priority, origin and summary, and the answers the first stage asks for:
    answers those it asks for."""
    fail = found.fail
    if details.kind not in Kind.values:
        fail(
            "kind",
            _("Select whether this is about a person or family, or a theme")
            if asks_subject(partnership.safeguards)
            else _("Select whether this is about a child or a theme"),
        )
    if details.urgency not in ladder_of(partnership).priority_codes:
        fail("urgency", _("Select how urgent this is"))
    if details.origin not in Origin.values:
        fail("origin", _("Select where the concern came from"))
    if _blank(details.summary):
        fail("summary", str(MISSING["summary"]))
    wanted = () if settled else ladder_of(partnership).required_to_raise(max(details.start_stage, 1))
    for name in wanted:
        if name in TEXT_ANSWERS and _blank(getattr(details, name, "")):
            fail(name, str(MISSING[name]))
    if len(details.summary or "") > 200:
        fail("summary", _("Summary must be 200 characters or fewer"))
    return wanted


def _check_with_agency(actor: User, partnership: Partnership, details: RaiseDetails, found: _Found):
    """The agency the difference is with: one of the partnership's that does casework, not
    the raiser's own."""
    with_agency = (
        casework_agencies(partnership).filter(pk=details.with_agency_id).first()
        if 1 <= details.with_agency_id <= LARGEST_KEY
        else None
    )
    if with_agency is None:
        found.fail("with_agency", _("Select the agency the difference is with"))
    elif with_agency.pk == actor.agency_id:
        found.fail("with_agency", _("Select another agency: Accord is for differences between agencies"))
    return with_agency


# An address of someone in Accord who does not work on escalations here (another
# partnership's, or a role that never takes part): not named, nor made a guest.
NOT_HERE = _lazy(
    "That address belongs to someone in Accord who does not work on escalations in this partnership: "
    "name someone who does, or nobody"
)


def _works_here(partnership: Partnership, person: User) -> bool:
    return casework_people(partnership).filter(pk=person.pk).exists()


def _check_with_practitioner(
    partnership: Partnership, details: RaiseDetails, with_agency, found: _Found
) -> tuple[User | None, list[NamedByEmail]]:
    """The practitioner at that agency, named from the list or by email (a guest, where
    they have no account)."""
    with_practitioner = None
    if details.with_practitioner_username:
        # Someone who works on escalations in this partnership (a person of a shared agency
        # who works only in another, or who holds only a role that never takes part, is not
        # named, nor told, here).
        with_practitioner = (
            casework_people(partnership).filter(username=details.with_practitioner_username).first()
        )
        if with_practitioner is None or with_agency is None or with_practitioner.agency_id != with_agency.pk:
            found.fail("with_practitioner", _("Select a practitioner who works for that agency"))
            with_practitioner = None
    guests: list[NamedByEmail] = []
    if details.with_practitioner_email:
        if details.with_practitioner_username:
            found.fail(
                "with_practitioner_email", _("Name the practitioner from the list or by email, not both")
            )
        elif with_agency is not None:
            try:
                named = resolve_email(partnership, with_agency, details.with_practitioner_email)
            except ValueError as e:
                found.fail("with_practitioner_email", str(e))
            else:
                if named.person is not None and not _works_here(partnership, named.person):
                    found.fail("with_practitioner_email", str(NOT_HERE))
                    return None, []
                # Someone with an account is named as themselves, and signs in as usual.
                with_practitioner = named.person
                guests += [] if named.person else [named]
    return with_practitioner, guests


def _name_others_by_email(
    partnership: Partnership, details: RaiseDetails, other_parties: list, found: _Found
) -> list[NamedByEmail]:
    """The other agencies' practitioners named by email: each party's named person (in
    ``other_parties``) and the guests to invite."""
    guests: list[NamedByEmail] = []
    for i, other in enumerate(details.other_parties):
        if not other.practitioner_email:
            continue
        agency = other_parties[i][0]
        if other.practitioner_username:
            found.fail(
                "other_parties",
                _("Name the practitioner at %(agency)s from the list or by email, not both")
                % {"agency": agency.name},
            )
            continue
        try:
            named = resolve_email(partnership, agency, other.practitioner_email)
        except ValueError as e:
            found.fail("other_parties", str(e))
            continue
        if named.person is not None and not _works_here(partnership, named.person):
            found.fail("other_parties", str(NOT_HERE))
            continue
        other_parties[i] = (agency, named.person)
        guests += [] if named.person else [named]
    return guests


def _check_other_parties(
    actor: User, partnership: Partnership, details: RaiseDetails, with_agency, found: _Found
) -> tuple[list, list[NamedByEmail]]:
    """The other agencies the difference is with, and their practitioners."""
    if not details.other_parties:
        return [], []
    try:
        other_parties = validate_other_parties(
            partnership=partnership,
            raising_agency_id=actor.agency_id,
            first_agency_id=with_agency.pk if with_agency else None,
            others=details.other_parties,
        )
    except ValidationError as e:
        for name, messages in e.message_dict.items():
            for message in messages:
                found.fail(name, message)
        return [], []
    return other_parties, _name_others_by_email(partnership, details, other_parties, found)


def _ladder_stage(partnership: Partnership, number: int) -> StageRule:
    """The stage it starts at, from the partnership's ladder as this process keeps it (its
    number, key, name and whether it is formal are all raising writes of it)."""
    found = ladder_of(partnership).stage(number)
    if found is None:
        raise RuleViolation(
            _("Stage %(number)s is not on this partnership's ladder.") % {"number": number}, code="stage"
        )
    return found


_TERM_FIELDS = ("id", "code", "label", "label_cy", "is_active", "position", "partnership_id")


def _active_terms(
    partnership: Partnership, area_codes: Sequence[str], theme_codes: Sequence[str]
) -> tuple[list[AreaOfDisagreement], list[PracticeTheme]]:
    """The partnership's active areas of disagreement and practice themes of these codes, in
    one statement (the two tables have the same columns), each in the terms' own order."""
    parts = [
        (model, model.objects.filter(partnership=partnership, code__in=codes, is_active=True))
        for model, codes in ((AreaOfDisagreement, area_codes), (PracticeTheme, theme_codes))
        if codes
    ]
    found: dict[type, list] = {AreaOfDisagreement: [], PracticeTheme: []}
    if parts:
        rows = [
            qs.annotate(part=Value(n), row=Window(RowNumber(), order_by=model._meta.ordering))
            .values_list("part", "row", *_TERM_FIELDS)
            .order_by()
            for n, (model, qs) in enumerate(parts)
        ]
        for n, _row, *values in sorted(rows[0].union(*rows[1:], all=True)):
            model = parts[n][0]
            found[model].append(model.from_db(parts[n][1].db, _TERM_FIELDS, values))
    return found[AreaOfDisagreement], found[PracticeTheme]


def _check_areas_and_themes(
    partnership: Partnership, details: RaiseDetails, wanted: Sequence[str], settled: bool, found: _Found
) -> tuple[list, list]:
    """The areas of disagreement and the practice themes, active ones of the partnership's."""
    area_codes = area_codes_of(details)
    theme_codes = list(dict.fromkeys(details.theme_codes or []))
    found_areas, themes = _active_terms(partnership, area_codes, theme_codes)
    by_code = {a.code: a for a in found_areas}
    areas = [by_code[c] for c in area_codes if c in by_code]
    if len(areas) != len(area_codes):
        found.fail("area_of_disagreement", _("Select areas of disagreement from the list"))
    elif not areas and "areas_of_disagreement" in wanted:
        found.fail("area_of_disagreement", str(MISSING["areas_of_disagreement"]))
    if len(themes) != len(theme_codes):
        found.fail("themes", _("Select practice themes from the list"))
    elif not themes and ("themes" in wanted or (details.kind == Kind.THEME and not settled)):
        # A thematic escalation is about a theme: which one is always asked.
        found.fail("themes", str(MISSING["themes"]))
    return areas, themes


def _check_children(partnership: Partnership, details: RaiseDetails, settled: bool, found: _Found) -> None:
    """A child's escalation names its children (in the past, not too long ago); a thematic
    one is about no one family."""
    subject = subject_of(partnership, details)
    if details.kind == Kind.CASE:
        if not details.children and not settled:
            found.fail("children", worded("Enter the name or initials of at least one child", subject))
        for child in details.children:
            if _blank(child.name):
                found.fail("children", _("Enter the name or initials of each child"))
            if child.date_of_birth and child.date_of_birth > today():
                found.fail("children", _("A child's date of birth must be in the past"))
            elif (
                subject == Subject.CHILD
                and child.date_of_birth
                and child.date_of_birth < _years_ago(OLDEST_CHILD_YEARS)
            ):
                # Children's services can work with care leavers to 25; an older date is a slip.
                found.fail(
                    "children",
                    _("A child's date of birth must be within the last %(n)s years")
                    % {"n": OLDEST_CHILD_YEARS},
                )
    elif details.kind == Kind.THEME:
        if not _blank(details.family_view) or details.family_aware:
            found.fail(
                "family_aware",
                _(
                    "A thematic escalation is not about one family: leave out the family's view "
                    "and whether the family knows"
                ),
            )


def _check_start(actor: User, partnership: Partnership, details: RaiseDetails, found: _Found) -> None:
    """Only a conference chair or IRO raising from a conference or review starts above
    stage 1, at a stage the ladder lets them, saying why."""
    if details.start_stage != 1:
        from_review = details.origin in IRU_ORIGINS
        starts = ladder_of(partnership).conference_chair_starts()
        if not (user_has_role(actor, partnership.pk, Role.CONFERENCE_CHAIR) and from_review):
            found.fail(
                "start_stage",
                _(
                    "Only a conference chair or IRO raising from a conference or review can start above stage 1"
                ),
            )
        elif details.start_stage not in starts:
            found.fail(
                "start_stage",
                _("A conference chair or IRO can start at stage %(stages)s")
                % {"stages": _or_list([1, *starts])},
            )
        elif _blank(details.start_stage_reason):
            found.fail("start_stage_reason", _("Enter why this starts above stage 1"))
    if details.origin in IRU_ORIGINS and not user_has_role(actor, partnership.pk, Role.CONFERENCE_CHAIR):
        found.fail("origin", _("Only a conference chair or IRO can raise from a conference or review"))


def escalation_validate_details(
    *,
    actor: User,
    partnership: Partnership,
    details: RaiseDetails,
    settled: bool = False,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Check a raise request against the partnership's data and the protocol (``settled``:
    a difference recorded as already settled, which asks only who it was with and a line
    on it; ``errors``: the caller's own, reported with these).

    Answers the resolved objects; raises ``ValidationError`` with a message per field.
    """
    if details.kind == Kind.THEME and details.children:
        # A rule of the protocol, not a slip in a field: refused as such (422), on its own.
        raise RuleViolation(
            {"children": [_("A thematic escalation is not about an individual child: remove the children")]},
            code="theme_without_children",
        )
    found = _Found(errors)
    wanted = _check_basics(partnership, details, settled, found)
    with_agency = _check_with_agency(actor, partnership, details, found)
    with_practitioner, guests = _check_with_practitioner(partnership, details, with_agency, found)
    other_parties, other_guests = _check_other_parties(actor, partnership, details, with_agency, found)
    areas, themes = _check_areas_and_themes(partnership, details, wanted, settled, found)
    if settled and (details.with_practitioner_email or details.other_parties):
        found.fail(
            "with_practitioner_email",
            _(
                "A settled difference is recorded with one agency, naming its practitioner from the list or nobody"
            ),
        )
    _check_children(partnership, details, settled, found)
    if details.family_aware and details.family_aware not in FamilyAware.values:
        found.fail("family_aware", _("Select whether the family knows of the challenge"))
    for name, message in _subject_errors(partnership, details, settled=settled):
        found.fail(name, message)
    _check_start(actor, partnership, details, found)
    if found.errors:
        raise ValidationError(found.errors)
    return {
        "with_agency": with_agency,
        "with_practitioner": with_practitioner,
        "area": areas[0] if areas else None,
        "areas": areas,
        "themes": themes,
        "other_parties": other_parties,
        "guests": guests + other_guests,
    }


RELATED_ON_RAISE = (
    "partnership",
    "raised_by",
    "raising_agency",
    "with_agency",
    "with_practitioner",
    "area_of_disagreement",
)


def immediate_danger_guidance(partnership: Partnership | None) -> str:
    """What to do instead, for a child who may be in immediate danger (rule 1)."""
    if partnership is None:
        return _(
            "Accord is not for a child in immediate danger. Call 999 now, then your local children's services."
        )
    return _(
        "Accord is not for a child in immediate danger. Call 999 now, then the %(front_door)s on %(phone)s."
    ) % {"front_door": partnership.front_door_name, "phone": partnership.front_door_phone}


def _escalation_written(
    actor: User, partnership: Partnership, details: RaiseDetails, found: dict[str, Any], start
) -> Escalation:
    """The escalation's row, its details checked and its first stage's due date on it."""
    now = clock.now()
    escalation = Escalation(
        partnership=partnership,
        reference=_next_reference(partnership),
        kind=details.kind,
        status=Status.OPEN,
        stage=start.number,
        highest_stage=start.number,
        urgency=details.urgency,
        origin=details.origin,
        raised_language=language_in_use(),
        raised_by=actor,
        raising_agency_id=actor.agency_id,
        with_agency=found["with_agency"],
        with_practitioner=found["with_practitioner"],
        with_people=details.with_people.strip(),
        summary=details.summary.strip(),
        decision_challenged=details.decision_challenged.strip(),
        concern=details.concern.strip(),
        evidence=details.evidence.strip(),
        professional_curiosity=details.professional_curiosity.strip(),
        child_voice=details.child_voice.strip(),
        family_view=details.family_view.strip(),
        family_aware=details.family_aware,
        subject=subject_of(partnership, details),
        adult_aware=details.adult_aware,
        adult_views=details.adult_views.strip(),
        adult_advocate=details.adult_advocate,
        tried_so_far=details.tried_so_far.strip(),
        desired_outcome=details.desired_outcome.strip(),
        area_of_disagreement=found["area"],
        reflection=details.reflection.strip(),
        reflection_reader_id=actor.line_manager_id,
        raised_at=now,
        # A conference chair or IRO starting at a formal stage (where the ladder allows
        # it) escalates formally at once, for the reason they gave for starting there.
        formal_at=now if start.is_formal else None,
        formal_reason=details.start_stage_reason.strip() if start.is_formal else "",
        stage_started_on=today(),
        runs_under=protocol_version_now(partnership),
        # Written with the row rather than after it: a second write of a new
        # escalation costs PostgreSQL every one of its indexes again.
        due_date=_new_period_due(partnership, start, details.urgency, details.origin)[2],
    )
    # Field values are checked here; the related records were just read and the
    # reference just issued, and the database enforces the check constraints, so
    # asking again (about twenty queries) would prove nothing more.
    escalation.full_clean(
        # (The raiser's line manager, who may read the reflection, and the protocol's
        # version are ids just read too, and foreign keys the database enforces.)
        exclude=["themes", *RELATED_ON_RAISE, "reference", "reflection_reader", "runs_under"],
        validate_unique=False,
        validate_constraints=False,
    )
    escalation.save()
    return escalation


def _escalation_linked(
    escalation: Escalation, actor: User, details: RaiseDetails, found: dict[str, Any]
) -> None:
    """What a new escalation is linked to: its themes and areas, the other agencies and their
    guests, the reports' tallies and its children."""
    # A new escalation has no themes or areas yet: written straight into the link tables
    # (``set`` would first ask which it already has, once for each).
    themes = Escalation.themes.through
    themes.objects.bulk_create(
        [
            themes(escalation_id=escalation.pk, practicetheme_id=pk)
            for pk in {t.pk: t for t in found["themes"]}
        ]
    )
    if found["areas"]:
        areas = Escalation.areas_of_disagreement.through
        areas.objects.bulk_create(
            [
                areas(escalation_id=escalation.pk, areaofdisagreement_id=pk)
                for pk in {a.pk: a for a in found["areas"]}
            ]
        )
    if found["other_parties"]:
        create_other_parties(escalation, actor, found["other_parties"])
        visibility.for_escalations([escalation.pk])
    else:
        escalation.__dict__["_accord_others"] = []
    if found["guests"]:
        guests_create(escalation, actor, found["guests"])
    tallies.escalation_raised(escalation, [t.pk for t in found["themes"]], [a.pk for a in found["areas"]])
    tallies.remember(escalation)
    Child.objects.bulk_create(
        [
            Child(
                escalation=escalation,
                name=child.name.strip(),
                date_of_birth=child.date_of_birth,
                agency_reference=child.agency_reference.strip(),
                agency_reference_hash=lookup_hash(child.agency_reference),
            )
            for child in details.children
        ]
    )


def escalation_raise(
    *,
    actor: User,
    partnership: Partnership,
    details: RaiseDetails,
    immediate_danger: bool,
    draft: Draft | None = None,
    settled: bool = False,
    errors: dict[str, str] | None = None,
) -> Escalation:
    """Raise an escalation. Rule 1: if a child may be in immediate danger, store nothing.
    Raised from the actor's ``draft``, the evidence attached to it becomes the escalation's."""
    if immediate_danger:
        raise ImmediateDanger(immediate_danger_guidance(partnership))
    if not can_raise_in(actor, partnership.pk) or actor.agency_id is None:
        raise NotAllowed(_("You cannot raise escalations in this partnership."))
    found = escalation_validate_details(
        actor=actor, partnership=partnership, details=details, settled=settled, errors=errors
    )
    if draft is not None and (draft.owner_id != actor.pk or draft.partnership_id != partnership.pk):
        raise NotAllowed(_("That draft is not yours to raise."))

    with transaction.atomic():
        start = _ladder_stage(partnership, details.start_stage)
        escalation = _escalation_written(actor, partnership, details, found, start)
        _escalation_linked(escalation, actor, details, found)
        period = _open_period(escalation, partnership, start, skip_reason=details.start_stage_reason.strip())
        if period.due_date != escalation.due_date:  # raised as midnight passed
            escalation.due_date = period.due_date
            escalation.save(update_fields=["due_date"])
        if not settled:  # (a settled one's own event follows: ``settled.py``)
            _event(escalation, actor, EventType.RAISED, escalation.summary)
        if draft is not None:
            documents_from_draft(escalation, actor, draft)
            link_from_draft(escalation, actor, draft)
        audit_record(
            actor=actor,
            verb=Verb.ESCALATION_RAISED,
            target=escalation,
            partnership_id=partnership.pk,
            payload={
                "reference": escalation.reference,
                "stage": escalation.stage,
                "kind": escalation.kind,
                "with": escalation.receiving_agency_ids(),
            },
        )
    return escalation
