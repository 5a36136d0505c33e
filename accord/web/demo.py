"""The demo partnership: Devon's agencies, a user for every role, and a living caseload.

Loaded by ``manage.py load_demo``. Idempotent: running it again changes nothing
that is already there. The caseload is created through the same domain services
the pages use, with Accord's clock set to the dates the history happened on.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.core import clock
from accord.escalations import services as s
from accord.escalations.models import Escalation, FollowUp, Kind, Origin, Outcome, PdgActionKind, Urgency
from accord.partnership.defaults import DEVON_AGENCIES, install_defaults
from accord.partnership.models import Agency, Partnership, PartnershipAgency, Role, RoleAssignment, User
from accord.partnership.protocol import install_ladder, preset
from accord.reports.models import MeetingAction, PdgMeeting
from accord.reports.services import meeting_action_done

DEMO_PASSWORD = "accord-demo-password"
# Demo users whose role needs two-step verification share this authenticator key (base32).
DEMO_TOTP_SECRET = "ACCORDDEMOTWOSTEPSECRETKEYABCDEF"

SOCIAL = "Devon County Council Children's Services"
POLICE = "Devon & Cornwall Police"
ICB = "NHS Devon Integrated Care Board"
HEALTH = "Royal Devon University Healthcare NHS Foundation Trust"
SCHOOL = "Devon Education and Learning (schools)"
PROBATION = "The Probation Service (South West)"
IRU = "Devon Independent Reviewing Unit"
VOLUNTARY = "Young Devon"
GP = "Devon GP practices (primary care)"
BUSINESS_UNIT = "Devon Safeguarding Children Partnership Business Unit"

# username, first name, last name, agency, roles, line manager, job title
DEMO_USERS = [
    (
        "senior.health",
        "Helen",
        "Marsh",
        HEALTH,
        [Role.SENIOR_LEADER],
        None,
        "Director of Nursing and Safeguarding",
    ),
    (
        "manager.health",
        "Priya",
        "Shah",
        HEALTH,
        [Role.MANAGER],
        "senior.health",
        "Named Nurse for Safeguarding Children",
    ),
    (
        "practitioner.health",
        "Hannah",
        "Ellis",
        HEALTH,
        [Role.PRACTITIONER],
        "manager.health",
        "Health Visitor",
    ),
    (
        "senior.social",
        "Simon",
        "Clarke",
        SOCIAL,
        [Role.SENIOR_LEADER],
        None,
        "Head of Service, Children's Social Care",
    ),
    (
        "manager.social",
        "Maria",
        "Lopez",
        SOCIAL,
        [Role.MANAGER],
        "senior.social",
        "Team Manager, Children's Social Care",
    ),
    ("practitioner.social", "Sam", "Okafor", SOCIAL, [Role.PRACTITIONER], "manager.social", "Social Worker"),
    (
        "practitioner.police",
        "Paul",
        "Trent",
        POLICE,
        [Role.PRACTITIONER],
        None,
        "Detective Constable, Public Protection",
    ),
    (
        "practitioner.school",
        "Sarah",
        "Bright",
        SCHOOL,
        [Role.PRACTITIONER],
        None,
        "Designated Safeguarding Lead",
    ),
    ("practitioner.probation", "Peter", "Rowe", PROBATION, [Role.PRACTITIONER], None, "Probation Officer"),
    ("chair.iru", "Clare", "Hughes", IRU, [Role.CONFERENCE_CHAIR], None, "Child Protection Conference Chair"),
    ("pdg.member", "Dev", "Patel", ICB, [Role.PDG_MEMBER], None, "Designated Nurse, Safeguarding Children"),
    ("pdg.chair", "Grace", "Whitfield", ICB, [Role.PDG_CHAIR], None, "Chair, Practice Development Group"),
    (
        "facilitator",
        "Faye",
        "Morgan",
        VOLUNTARY,
        [Role.FACILITATOR],
        None,
        "Restorative Practice Facilitator",
    ),
    ("admin", "Adam", "Baker", BUSINESS_UNIT, [Role.BUSINESS_UNIT], None, "Partnership Business Manager"),
    (
        "executive",
        "Eleanor",
        "Vance",
        BUSINESS_UNIT,
        [Role.EXECUTIVE],
        None,
        "Partnership Executive Group member",
    ),
    ("auditor", "Aisha", "Khan", BUSINESS_UNIT, [Role.AUDITOR], None, "Data Protection Officer"),
]


# Devon's front door takes a request for support online as well as by phone, as the
# protocol's own page offers beside 999.
DEVON_REQUEST_FOR_SUPPORT = (
    "https://www.dcfp.org.uk/keeping-children-safe/multi-agency-safeguarding-hub-in-devon/"
)


def load_partnership() -> Partnership:
    partnership, _ = Partnership.objects.get_or_create(
        slug="devon",
        defaults={
            "name": "Devon Safeguarding Children Partnership",
            "reference_prefix": "DEV",
            "front_door_phone": "0345 155 1071",
            "front_door_name": "Devon children's services front door",
            "front_door_form_url": DEVON_REQUEST_FOR_SUPPORT,
            "emergency_wording": "",
        },
    )
    if not partnership.front_door_form_url:  # (a demo loaded before it was offered)
        partnership.front_door_form_url = DEVON_REQUEST_FOR_SUPPORT
        partnership.save(update_fields=["front_door_form_url"])
    install_defaults(partnership)
    for name, kind in DEVON_AGENCIES:
        agency, _ = Agency.objects.get_or_create(name=name, defaults={"kind": kind})
        # The facilitators' charity, the formal body's host and the business unit take no part
        # in casework: they are not offered as parties, and the PDG report leaves them out.
        link, _ = PartnershipAgency.objects.get_or_create(
            partnership=partnership,
            agency=agency,
            defaults={"takes_part_in_raising": name not in (VOLUNTARY, ICB, BUSINESS_UNIT)},
        )
        if not link.work_email_domains and name in DEMO_EMAIL_DOMAINS:
            link.work_email_domains = "\n".join(DEMO_EMAIL_DOMAINS[name])
            link.save(update_fields=["work_email_domains"])
    return partnership


# Each agency's work email domains: someone there who is not in Accord (a GP, a school's
# safeguarding lead) can be named on a difference by an address at one of them.
DEMO_EMAIL_DOMAINS = {
    SOCIAL: ["devon.gov.uk"],
    POLICE: ["devonandcornwall.pnn.police.uk"],
    GP: ["nhs.net"],
    HEALTH: ["royaldevon.nhs.uk"],
    SCHOOL: ["devon.sch.uk"],
    PROBATION: ["justice.gov.uk"],
}


def load_users(partnership: Partnership) -> dict[str, User]:
    return _load_people(partnership, DEMO_USERS)


def _load_people(partnership: Partnership, people) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, first, last, agency_name, roles, manager, title in people:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_password(DEMO_PASSWORD)
        user.first_name, user.last_name, user.job_title = first, last, title
        user.email = f"{username}@demo.accord.invalid"
        user.agency = Agency.objects.get(name=agency_name)
        user.line_manager = users.get(manager) if manager else None
        user.save()
        for role in roles:
            RoleAssignment.objects.get_or_create(user=user, partnership=partnership, role=role)
        if set(roles) & set(settings.MFA_REQUIRED_ROLES):
            _give_demo_device(user)
        users[username] = user
    return users


def _give_demo_device(user: User) -> None:
    import base64

    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    TOTPDevice.objects.update_or_create(
        user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
    )


def demo_totp_code() -> str:
    """The current code for the demo key, as an authenticator app would show it."""
    import base64

    return f"{TOTP(base64.b32decode(DEMO_TOTP_SECRET)).token():06d}"


def _at(days_ago: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


# What each demo escalation says. A case is about one child and their family; a theme is a
# pattern across children, so it has no one family to ask about.
CASE_ACCOUNT = {
    "decision_challenged": "The decision to close the case after the single assessment, with no follow-up plan.",
    "concern": "Repeated missed health appointments and poor home conditions suggest the child's needs are not being met.",
    "evidence": "Three missed appointments since the summer; observed home conditions on two visits; nursery attendance at 62%.",
    "professional_curiosity": "Asked about the new adult in the household; the account given did not match what neighbours described.",
    "child_voice": "The child said they are often hungry at the weekend and that they 'look after' their younger sibling.",
    "family_view": "The parent feels the family is managing and does not want more services.",
    "family_aware": "yes",
    "tried_so_far": "Discussed with the allocated worker twice and shared the chronology.",
    "desired_outcome": "A strategy discussion and a child and family assessment that includes the new adult.",
}
THEME_ACCOUNT = {
    "decision_challenged": "Referrals about young people drawn into exploitation are assessed one at a time and closed; none has gone to a strategy discussion.",
    "concern": "Several schools see older young people and adults drawing pupils into going missing and carrying drugs, and each referral is treated as a single-agency matter.",
    "evidence": "Eleven referrals from four schools since September; six of the young people went missing at least once afterwards.",
    "professional_curiosity": "Compared the referrals across schools: the same adults and the same two addresses recur.",
    "child_voice": "Young people told staff they feel safer with the older group than at home, and that nothing happens when they report it.",
    "family_view": "",
    "family_aware": "",
    "tried_so_far": "Raised with the locality team and at two head teachers' forums; each referral was discussed on its own.",
    "desired_outcome": "A multi-agency review of the referrals and a contextual safeguarding response to the places and adults involved.",
}


def load_caseload(partnership: Partnership, users: dict[str, User]) -> int:
    """Escalations at every stage, some overdue, an urgent one, a thematic one, one from a
    conference, a paused one, and a year of resolved history. Only if none exist yet."""

    if Escalation.objects.filter(partnership=partnership).exists():
        return 0
    agency = {a.name: a for a in Agency.objects.all()}
    u = users
    rng = random.Random(2026)

    def raise_(
        actor,
        with_agency,
        summary,
        *,
        days_ago,
        kind=Kind.CASE,
        with_practitioner="",
        urgency=Urgency.ROUTINE,
        origin=Origin.PRACTITIONER,
        start_stage=1,
        area="levels-of-risk",
        themes=("neglect",),
        children=None,
    ):
        account = THEME_ACCOUNT if kind == Kind.THEME else CASE_ACCOUNT
        details = s.RaiseDetails(
            kind=kind,
            with_agency_id=agency[with_agency].pk,
            with_practitioner_username=with_practitioner,
            summary=summary,
            **account,
            urgency=urgency,
            origin=origin,
            area_of_disagreement_code=area,
            theme_codes=list(themes),
            children=children
            if children is not None
            else (
                []
                if kind == Kind.THEME
                else [
                    s.ChildDetails(
                        name=rng.choice(["A.B.", "J.T.", "L.M.", "R.K.", "S.W."]),
                        date_of_birth=dt.date(2018, rng.randint(1, 12), rng.randint(1, 28)),
                        agency_reference=f"RD-{rng.randint(10000, 99999)}",
                    )
                ]
            ),
            reflection="I notice this family reminds me of a previous case; I have talked this through in supervision.",
            start_stage=start_stage,
            start_stage_reason="Raised at the review conference after the core group could not agree."
            if start_stage > 1
            else "",
        )
        with clock.set_to(_at(days_ago)):
            return s.escalation_raise(
                actor=actor, partnership=partnership, details=details, immediate_danger=False
            )

    def discuss(actor, e, days_ago, note, with_manager=False, agreed=None):
        with clock.set_to(_at(days_ago, 14)):
            s.escalation_record_discussion(
                actor=actor,
                escalation=e,
                held_on=clock.today(),
                note=note,
                with_manager=with_manager,
                agreed=agreed,
            )

    def escalate(actor, e, days_ago, reason, efforts=""):
        with clock.set_to(_at(days_ago, 16)):
            return s.escalation_escalate(actor=actor, escalation=e, reason=reason, efforts_to_resolve=efforts)

    def resolve(actor, e, days_ago, outcome, achieved="yes"):
        with clock.set_to(_at(days_ago, 15)):
            s.escalation_resolve(
                actor=actor,
                escalation=e,
                outcome=outcome,
                agreed_way_forward="Agreed a joint home visit and a review of the plan at the next core group.",
                child_centred_outcome_achieved=achieved,
                learning="Earlier contact between managers would have settled this sooner.",
                referred_to="Strategy discussion" if outcome == Outcome.REFERRED_ON else "",
                actions=[
                    s.ActionDetails(
                        description="Joint home visit",
                        owner_agency_id=e.with_agency_id,
                        due_date=clock.today() + dt.timedelta(days=10),
                    )
                ],
            )

    count = 0
    # 1. Stage 1, just raised.
    raise_(
        u["practitioner.health"],
        SOCIAL,
        "Closure after assessment despite missed health appointments",
        days_ago=1,
        with_practitioner="practitioner.social",
    )
    count += 1
    # 2. Stage 2, overdue.
    e = raise_(
        u["practitioner.health"],
        SOCIAL,
        "Threshold for a child and family assessment not agreed",
        days_ago=25,
        with_practitioner="practitioner.social",
        area="levels-of-risk",
    )
    discuss(
        u["practitioner.health"],
        e,
        24,
        "Talked it through with the social worker; no agreement on the threshold.",
        agreed=False,
    )
    discuss(
        u["practitioner.health"],
        e,
        23,
        "Consulted my named nurse, who agrees this should go to line management.",
        with_manager=True,
    )
    escalate(u["manager.health"], e, 22, "Practitioners could not agree on the threshold.")
    count += 1
    # 3. Stage 3.
    e = raise_(
        u["practitioner.social"],
        HEALTH,
        "Health provision for a child with complex needs",
        days_ago=12,
        with_practitioner="practitioner.health",
        area="provision-of-services",
        themes=("children-with-disabilities",),
    )
    discuss(
        u["practitioner.social"],
        e,
        11,
        "Discussed with my team manager; agreed to escalate.",
        with_manager=True,
    )
    escalate(u["practitioner.social"], e, 11, "No agreement on who provides the therapy input.")
    discuss(
        u["manager.social"], e, 8, "Managers met; still no agreement on funding responsibility.", agreed=False
    )
    escalate(u["manager.social"], e, 7, "Managers could not agree on responsibility for the service.")
    count += 1
    # 4. Formal, with a facilitator appointed.
    e = raise_(
        u["practitioner.health"],
        SOCIAL,
        "Step-down to early help while concerns about neglect continue",
        days_ago=40,
        with_practitioner="practitioner.social",
        area="step-up-down-closure",
    )
    discuss(u["practitioner.health"], e, 39, "Consulted my named nurse.", with_manager=True)
    escalate(u["practitioner.health"], e, 38, "No agreement between practitioners on the step-down.")
    discuss(
        u["manager.health"],
        e,
        33,
        "Managers discussed; the decision to step down was maintained.",
        agreed=False,
    )
    escalate(u["manager.health"], e, 32, "Managers could not agree.")
    discuss(u["senior.health"], e, 20, "Senior leaders met; no agreement.", agreed=False)
    e = escalate(
        u["senior.health"],
        e,
        18,
        "Concerns for the child remain unresolved after senior leaders met.",
        efforts=s.efforts_from_history(e),
    )
    with clock.set_to(_at(12)):
        s.escalation_pdg_action(
            actor=u["pdg.chair"],
            escalation=e,
            action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator_username="facilitator",
            note="A restorative meeting of both agencies' leaders is offered.",
        )
    count += 1
    # 5. Urgent, overdue at stage 1.
    raise_(
        u["practitioner.police"],
        SOCIAL,
        "No strategy discussion after a disclosure",
        days_ago=6,
        urgency=Urgency.URGENT,
        area="progressing-plans",
        themes=("sexual-abuse",),
    )
    count += 1
    # 6. Thematic, at the PDG.
    e = raise_(
        u["practitioner.school"],
        SOCIAL,
        "Pattern: exploitation concerns not reaching strategy discussions",
        days_ago=30,
        kind=Kind.THEME,
        area="communication",
        themes=("exploitation", "adolescent-risk"),
    )
    discuss(
        u["practitioner.school"],
        e,
        29,
        "Discussed with the head teacher as my safeguarding lead.",
        with_manager=True,
    )
    escalate(u["practitioner.school"], e, 29, "Several schools see the same pattern.")
    escalate(u["manager.social"], e, 27, "Needs leaders across agencies.")
    e = escalate(
        u["senior.social"],
        e,
        20,
        "A multi-agency response is needed.",
        efforts="Raised with the locality team and at two headteacher forums.",
    )
    with clock.set_to(_at(10)):
        s.escalation_commission_response(
            actor=u["pdg.chair"],
            escalation=e,
            note="A task-and-finish group on contextual safeguarding.",
            actions=[
                s.ActionDetails(
                    description="Audit 20 exploitation referrals",
                    owner_agency_id=agency[SOCIAL].pk,
                    due_date=clock.today() + dt.timedelta(days=40),
                ),
                s.ActionDetails(
                    description="Briefing for designated safeguarding leads",
                    owner_agency_id=agency[SCHOOL].pk,
                    due_date=clock.today() + dt.timedelta(days=30),
                ),
            ],
        )
    count += 1
    # 7. From a conference, starting at stage 2.
    raise_(
        u["chair.iru"],
        HEALTH,
        "Core group cannot agree who leads on the health plan",
        days_ago=3,
        origin=Origin.CONFERENCE,
        start_stage=2,
        area="roles-and-responsibilities",
    )
    count += 1
    # 8. Paused at stage 2.
    e = raise_(
        u["practitioner.social"],
        HEALTH,
        "Information sharing about a parent's mental health",
        days_ago=15,
        area="communication",
        themes=("parental-mental-health",),
    )
    discuss(u["practitioner.social"], e, 14, "Consulted my manager.", with_manager=True)
    escalate(u["practitioner.social"], e, 14, "No agreement on sharing the information.")
    with clock.set_to(_at(9)):
        s.escalation_pause(
            actor=u["manager.social"],
            escalation=e,
            reason="Waiting for the child protection conference on the 3rd.",
        )
    count += 1

    # A year of settled history.
    outcomes = list(Outcome.values)
    pairs = [
        ("practitioner.health", SOCIAL, "manager.health"),
        ("practitioner.social", HEALTH, "manager.social"),
        ("practitioner.police", SOCIAL, None),
        ("practitioner.school", SOCIAL, None),
    ]
    areas = [
        "levels-of-risk",
        "roles-and-responsibilities",
        "communication",
        "provision-of-services",
        "progressing-plans",
        "step-up-down-closure",
    ]
    for i in range(24):
        raiser, with_agency, manager = pairs[i % len(pairs)]
        start = 360 - i * 14
        e = raise_(
            u[raiser],
            with_agency,
            f"Settled difference {i + 1}: {areas[i % len(areas)].replace('-', ' ')}",
            days_ago=start,
            area=areas[i % len(areas)],
            themes=(rng.choice(["neglect", "domestic-abuse", "exploitation", "parental-mental-health"]),),
        )
        if i % 6 == 5:
            with clock.set_to(_at(start - 2)):
                s.escalation_withdraw(
                    actor=u[raiser],
                    escalation=e,
                    reason="The family moved out of the area; the receiving authority has been told.",
                )
            count += 1
            continue
        discuss(
            u[raiser],
            e,
            start - 1,
            "Talked it through with the other practitioner.",
            agreed=(manager is None),
        )
        resolver = (
            u[manager] if manager else (u["manager.social"] if with_agency == SOCIAL else u["manager.health"])
        )
        if manager and i % 3 == 0:
            discuss(u[raiser], e, start - 2, "Consulted my manager.", with_manager=True)
            escalate(u[manager], e, start - 3, "Not settled between practitioners.")
            resolve(
                resolver,
                e,
                start - rng.randint(5, 12),
                outcomes[i % len(outcomes)],
                achieved=rng.choice(["yes", "yes", "partly", "no"]),
            )
        else:
            resolve(resolver, e, start - rng.randint(2, 6), outcomes[i % len(outcomes)])
        count += 1
    # Some weeks on, the raisers said whether the agreed way forward held.
    answers = ["held", "held", "partly", "not_held"]
    due = FollowUp.objects.filter(
        escalation__partnership=partnership, due_on__lte=clock.today(), answered_at__isnull=True
    ).select_related("escalation__raised_by")
    for n, follow_up in enumerate(due.order_by("due_on")[:12]):
        with clock.set_to(timezone.make_aware(dt.datetime.combine(follow_up.due_on, dt.time(11, 0)))):
            s.escalation_follow_up(
                actor=follow_up.escalation.raised_by,
                escalation=follow_up.escalation,
                held=answers[n % len(answers)],
                what_changed="The plan agreed at resolution is being followed; the child is seen weekly.",
            )
    # The PDG's last meeting, with what it asked for: one done, one overdue.
    meeting = PdgMeeting.objects.create(
        partnership=partnership,
        held_on=timezone.localdate() - dt.timedelta(days=30),
        discussed="The standing item; the exploitation theme; timeliness at stage 2.",
        decided="Ask the health trusts to brief their practitioners on the escalation protocol.",
        asked_for="A briefing for practitioners, and a note on stage 2 delays, by the next meeting.",
    )
    MeetingAction.objects.create(
        meeting=meeting,
        description="Brief health practitioners on the escalation protocol.",
        owner=u["manager.health"],
        due_on=timezone.localdate() - dt.timedelta(days=5),
    )
    note = MeetingAction.objects.create(
        meeting=meeting,
        description="A note on the delays at stage 2 for the next meeting.",
        owner=u["manager.social"],
        due_on=timezone.localdate() - dt.timedelta(days=10),
    )
    with clock.set_to(_at(12)):
        meeting_action_done(actor=u["manager.social"], action_id=note.pk, note="Circulated to the PDG.")
    return count


# ------------------------------------------------------------------ a second partnership
#
# Torbay: a small second partnership in the same deployment, on a five-stage ladder (the
# top three formal), sharing Devon & Cornwall Police and the ICB with Devon. Devon's police
# practitioner and its auditor also hold roles in it, so that the separation of the two can
# be seen: everything a person sees is of the partnership they are working in.

TORBAY_SOCIAL = "Torbay Council Children's Services"
TORBAY_HEALTH = "Torbay and South Devon NHS Foundation Trust"
TORBAY_UNIT = "Torbay Safeguarding Children Partnership Business Unit"
TORBAY_PRESET = "croydon"
TORBAY_AGENCIES = [
    (TORBAY_SOCIAL, "childrens_social_care"),
    (TORBAY_HEALTH, "health_provider"),
    (TORBAY_UNIT, "partnership_business_unit"),
]
TORBAY_SHARED = [POLICE, ICB]
# username, first name, last name, agency, roles, line manager, job title
TORBAY_USERS = [
    (
        "torbay.senior",
        "Tom",
        "Penrose",
        TORBAY_SOCIAL,
        [Role.SENIOR_LEADER],
        None,
        "Head of Children's Social Care",
    ),
    ("torbay.manager", "Tessa", "Rowe", TORBAY_SOCIAL, [Role.MANAGER], "torbay.senior", "Team Manager"),
    ("torbay.social", "Toby", "Hart", TORBAY_SOCIAL, [Role.PRACTITIONER], "torbay.manager", "Social Worker"),
    ("torbay.health", "Tara", "Nkemelu", TORBAY_HEALTH, [Role.PRACTITIONER], None, "School Nurse"),
    ("torbay.panel", "Theo", "Barnes", ICB, [Role.PDG_MEMBER], None, "Designated Doctor, Torbay"),
    ("torbay.admin", "Tina", "Lowe", TORBAY_UNIT, [Role.BUSINESS_UNIT], None, "Partnership Business Manager"),
]
# Devon's demo users who also work in Torbay, with their role there.
TORBAY_ALSO = [("practitioner.police", Role.PRACTITIONER), ("auditor", Role.AUDITOR)]


def load_torbay() -> Partnership:

    partnership, created = Partnership.objects.get_or_create(
        slug="torbay",
        defaults={
            "name": "Torbay Safeguarding Children Partnership",
            "reference_prefix": "TOR",
            "front_door_phone": "01803 208100",
            "front_door_name": "Torbay children's services front door",
        },
    )
    if created:  # the business unit may have changed its ladder since: leave it
        install_defaults(partnership)
        install_ladder(partnership, preset(TORBAY_PRESET))
    for name, kind in TORBAY_AGENCIES:
        agency, _ = Agency.objects.get_or_create(name=name, defaults={"kind": kind})
        PartnershipAgency.objects.get_or_create(partnership=partnership, agency=agency)
    for name in TORBAY_SHARED:
        PartnershipAgency.objects.get_or_create(partnership=partnership, agency=Agency.objects.get(name=name))
    return partnership


def load_torbay_users(partnership: Partnership) -> dict[str, User]:
    users = _load_people(partnership, TORBAY_USERS)
    for username, role in TORBAY_ALSO:
        user = User.objects.get(username=username)
        RoleAssignment.objects.get_or_create(user=user, partnership=partnership, role=role)
        users[username] = user
    return users


def load_torbay_caseload(partnership: Partnership, users: dict[str, User]) -> int:
    """Four escalations of Torbay's own: one the police raised (stage 1), one raised with
    the police (stage 2), one formal (stage 3, heads of service) and one settled."""

    if Escalation.objects.filter(partnership=partnership).exists():
        return 0
    agency = {a.name: a for a in Agency.objects.filter(name__in=[TORBAY_SOCIAL, TORBAY_HEALTH, POLICE])}
    u = users

    def raise_(actor, with_agency, summary, days_ago, with_practitioner="", child="T.R."):
        details = s.RaiseDetails(
            kind="case",
            with_agency_id=agency[with_agency].pk,
            with_practitioner_username=with_practitioner,
            summary=summary,
            **CASE_ACCOUNT,
            urgency="routine",
            area_of_disagreement_code="levels-of-risk",
            theme_codes=["neglect"],
            children=[
                s.ChildDetails(
                    name=child, date_of_birth=dt.date(2017, 6, 14), agency_reference=f"TB-{days_ago:05d}"
                )
            ],
        )
        with clock.set_to(_at(days_ago)):
            return s.escalation_raise(
                actor=actor, partnership=partnership, details=details, immediate_danger=False
            )

    def consult(actor, e, days_ago):
        with clock.set_to(_at(days_ago, 14)):
            s.escalation_record_discussion(
                actor=actor,
                escalation=e,
                held_on=clock.today(),
                note="Talked it through with my manager.",
                with_manager=True,
            )
        e.refresh_from_db()
        return e

    def escalate(actor, e, days_ago, reason, efforts=""):
        with clock.set_to(_at(days_ago, 16)):
            return s.escalation_escalate(actor=actor, escalation=e, reason=reason, efforts_to_resolve=efforts)

    raise_(
        u["practitioner.police"],
        TORBAY_SOCIAL,
        "Torbay: no strategy discussion after a police referral",
        days_ago=2,
        with_practitioner="torbay.social",
        child="K.L.",
    )
    e = raise_(
        u["torbay.social"],
        POLICE,
        "Torbay: police information not shared before the conference",
        days_ago=12,
        with_practitioner="practitioner.police",
        child="M.N.",
    )
    escalate(u["torbay.social"], consult(u["torbay.social"], e, 10), 9, "Not settled between practitioners.")
    e = raise_(
        u["torbay.health"],
        TORBAY_SOCIAL,
        "Torbay: threshold for a child and family assessment",
        days_ago=25,
        child="P.Q.",
    )
    e = escalate(
        u["torbay.health"], consult(u["torbay.health"], e, 24), 23, "Not settled between practitioners."
    )
    escalate(
        u["torbay.manager"],
        e,
        16,
        "Managers could not agree.",
        efforts="The practitioners met twice and the managers spoke on 3 and 5 of the month.",
    )
    e = raise_(
        u["torbay.social"], TORBAY_HEALTH, "Torbay: missed health assessments", days_ago=60, child="R.S."
    )
    with clock.set_to(_at(57, 15)):
        s.escalation_resolve(
            actor=u["torbay.manager"],
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="The school nurse books the assessments with the foster carer.",
            child_centred_outcome_achieved="yes",
        )
    return 4


@transaction.atomic
def load_demo() -> dict[str, int]:
    partnership = load_partnership()
    users = load_users(partnership)
    created = load_caseload(partnership, users)
    torbay = load_torbay()
    torbay_users = load_torbay_users(torbay)
    created += load_torbay_caseload(torbay, torbay_users)
    return {"users": len(users) + len(TORBAY_USERS), "escalations": created}
