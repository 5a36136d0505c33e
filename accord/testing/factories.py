"""factory_boy factories, one per state, for Accord's tests."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Kind, Urgency
from accord.escalations.subjects import Subject, default_subject
from accord.partnership.defaults import install_defaults
from accord.partnership.models import (
    Agency,
    AgencyKind,
    Partnership,
    PartnershipAgency,
    Role,
    RoleAssignment,
    User,
)

factory.Faker._DEFAULT_LOCALE = "en_GB"


class PartnershipFactory(DjangoModelFactory):
    class Meta:
        model = Partnership
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Partnership {n}")
    slug = factory.Sequence(lambda n: f"partnership-{n}")
    reference_prefix = factory.Sequence(lambda n: f"P{n}")
    front_door_phone = "0300 000 0000"
    front_door_name = "children's services front door"
    emergency_wording = ""

    @factory.post_generation
    def defaults(obj, create, extracted, **kwargs):
        if create:
            install_defaults(obj)


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = AgencyKind.CHILDRENS_SOCIAL_CARE

    @factory.post_generation
    def partnerships(obj, create, extracted, **kwargs):
        for partnership in extracted or []:
            PartnershipAgency.objects.get_or_create(partnership=partnership, agency=obj)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    password = factory.PostGenerationMethodCall("set_password", "test-password-123")

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):
        """roles=[(partnership, role), ...]"""
        obj.save()
        for partnership, role in extracted or []:
            RoleAssignment.objects.get_or_create(user=obj, partnership=partnership, role=role)


def raise_details(
    *, with_agency: Agency, area: str = "levels-of-risk", kind: str = Kind.CASE, **overrides
) -> services.RaiseDetails:
    values = dict(
        kind=kind,
        with_agency_id=with_agency.pk,
        summary="Difference about the threshold",
        decision_challenged="The case was closed after assessment.",
        concern="Needs are not being met.",
        evidence="Missed appointments on 3, 10 and 17 March.",
        tried_so_far="Spoke to the allocated worker twice.",
        desired_outcome="A child and family assessment.",
        area_of_disagreement_code=area,
        urgency=Urgency.ROUTINE,
        theme_codes=["neglect"],
        children=[
            services.ChildDetails(
                name="Zebedee Quartermaine", date_of_birth=dt.date(2019, 5, 4), agency_reference="ZQ-778812"
            )
        ]
        if kind == Kind.CASE
        else [],
    )
    values.update(overrides)
    return services.RaiseDetails(**values)


def about_whom(partnership, overrides: dict) -> dict:
    """On a partnership that safeguards only adults, a case is about an adult at risk (who
    knows of it, and whose views are recorded); elsewhere the details above stand."""
    if (
        default_subject(partnership.safeguards) != Subject.ADULT
        or overrides.get("kind", Kind.CASE) != Kind.CASE
    ):
        return {}
    return {
        "children": [
            services.ChildDetails(
                name="Agatha Quill", date_of_birth=dt.date(1948, 2, 11), agency_reference="AQ-55120"
            )
        ],
        "adult_aware": "yes",
        "adult_views": "She wants to stay in her own home with more support.",
        "adult_advocate": "being_arranged",
    }


# The people of a World, by attribute name, as the permission matrices drive them.
WORLD_ROLES = [
    "practitioner_health",
    "manager_health",
    "senior_health",
    "practitioner_social",
    "manager_social",
    "senior_social",
    "practitioner_other",
    "manager_other",
    "chair",
    "pdg_member",
    "pdg_chair",
    "facilitator",
    "admin",
    "executive",
    "auditor",
]
# Who is a party to an escalation raised by practitioner_health with practitioner_social, at stage 1.
STAGE_1_PARTIES = {"practitioner_health", "manager_health", "practitioner_social", "manager_social"}


class World:
    """A partnership with two agencies, a full set of people in each role, and helpers
    that walk an escalation up the ladder through the services."""

    def __init__(
        self, name: str = "Testshire", prefix: str = "TST", *, shares_health_with: World | None = None
    ) -> None:
        """``shares_health_with``: the health agency is that world's, working in both
        partnerships (as a police force or an NHS trust works with several); this world's
        health people belong to it but hold roles only here."""
        self.partnership = PartnershipFactory(
            name=f"{name} Safeguarding Children Partnership", slug=name.lower(), reference_prefix=prefix
        )
        p = self.partnership
        if shares_health_with is not None:
            self.health = shares_health_with.health
            PartnershipAgency.objects.get_or_create(partnership=p, agency=self.health)
        else:
            self.health = AgencyFactory(
                name=f"{name} Health Trust", kind=AgencyKind.HEALTH_PROVIDER, partnerships=[p]
            )
        self.social = AgencyFactory(
            name=f"{name} Children's Services", kind=AgencyKind.CHILDRENS_SOCIAL_CARE, partnerships=[p]
        )
        self.other = AgencyFactory(name=f"{name} Probation", kind=AgencyKind.PROBATION, partnerships=[p])
        self.iru = AgencyFactory(
            name=f"{name} IRU", kind=AgencyKind.INDEPENDENT_REVIEWING_UNIT, partnerships=[p]
        )
        self.unit = AgencyFactory(
            name=f"{name} Business Unit", kind=AgencyKind.PARTNERSHIP_BUSINESS_UNIT, partnerships=[p]
        )
        u = name.lower()
        self.senior_health = UserFactory(
            username=f"{u}.senior.health", agency=self.health, roles=[(p, Role.SENIOR_LEADER)]
        )
        self.manager_health = UserFactory(
            username=f"{u}.manager.health",
            agency=self.health,
            line_manager=self.senior_health,
            roles=[(p, Role.MANAGER)],
        )
        self.practitioner_health = UserFactory(
            username=f"{u}.practitioner.health",
            agency=self.health,
            line_manager=self.manager_health,
            roles=[(p, Role.PRACTITIONER)],
        )
        self.senior_social = UserFactory(
            username=f"{u}.senior.social", agency=self.social, roles=[(p, Role.SENIOR_LEADER)]
        )
        self.manager_social = UserFactory(
            username=f"{u}.manager.social",
            agency=self.social,
            line_manager=self.senior_social,
            roles=[(p, Role.MANAGER)],
        )
        self.practitioner_social = UserFactory(
            username=f"{u}.practitioner.social",
            agency=self.social,
            line_manager=self.manager_social,
            roles=[(p, Role.PRACTITIONER)],
        )
        self.practitioner_other = UserFactory(
            username=f"{u}.practitioner.other", agency=self.other, roles=[(p, Role.PRACTITIONER)]
        )
        self.manager_other = UserFactory(
            username=f"{u}.manager.other", agency=self.other, roles=[(p, Role.MANAGER)]
        )
        self.chair = UserFactory(username=f"{u}.chair", agency=self.iru, roles=[(p, Role.CONFERENCE_CHAIR)])
        self.pdg_member = UserFactory(
            username=f"{u}.pdg.member", agency=self.unit, roles=[(p, Role.PDG_MEMBER)]
        )
        self.pdg_chair = UserFactory(username=f"{u}.pdg.chair", agency=self.unit, roles=[(p, Role.PDG_CHAIR)])
        self.facilitator = UserFactory(
            username=f"{u}.facilitator", agency=self.unit, roles=[(p, Role.FACILITATOR)]
        )
        self.other_facilitator = UserFactory(
            username=f"{u}.facilitator2", agency=self.unit, roles=[(p, Role.FACILITATOR)]
        )
        self.admin = UserFactory(username=f"{u}.admin", agency=self.unit, roles=[(p, Role.BUSINESS_UNIT)])
        self.executive = UserFactory(username=f"{u}.executive", agency=self.unit, roles=[(p, Role.EXECUTIVE)])
        self.auditor = UserFactory(username=f"{u}.auditor", agency=self.unit, roles=[(p, Role.AUDITOR)])

    # --- escalations in each state -------------------------------------------------

    def raised(self, *, at: dt.datetime | None = None, raiser=None, with_agency=None, **overrides):
        raiser = raiser or self.practitioner_health
        with_agency = with_agency or self.social
        overrides.setdefault(
            "with_practitioner_username",
            self.practitioner_social.username if with_agency == self.social else "",
        )
        details = raise_details(
            with_agency=with_agency, **{**about_whom(self.partnership, overrides), **overrides}
        )
        with clock.set_to(at or clock.now()):
            return services.escalation_raise(
                actor=raiser, partnership=self.partnership, details=details, immediate_danger=False
            )

    def from_conference(self, *, at: dt.datetime | None = None):
        """The conference chair's escalation with health, from a child protection conference,
        starting at stage 2 (the core group had tried)."""
        return self.raised(
            at=at,
            raiser=self.chair,
            with_agency=self.health,
            with_practitioner_username="",
            origin="conference",
            start_stage=2,
            start_stage_reason="core group",
        )

    def consulted(self, escalation, *, at=None):
        with clock.set_to(at or clock.now()):
            services.escalation_record_discussion(
                actor=escalation.raised_by,
                escalation=escalation,
                held_on=clock.today(),
                note="Talked it through with my manager.",
                with_manager=True,
            )
        escalation.refresh_from_db()
        return escalation

    def at_stage_2(self, **kwargs):
        e = self.consulted(self.raised(**kwargs))
        return services.escalation_escalate(
            actor=self.practitioner_health, escalation=e, reason="Not settled between practitioners."
        )

    def at_stage_3(self, **kwargs):
        e = self.at_stage_2(**kwargs)
        return services.escalation_escalate(
            actor=self.manager_health, escalation=e, reason="Managers could not agree."
        )

    def formal(self, **kwargs):
        e = self.at_stage_3(**kwargs)
        return services.escalation_escalate(
            actor=self.senior_health,
            escalation=e,
            reason="Concerns remain.",
            efforts_to_resolve="Practitioners, managers and leaders met.",
        )


# --- the suite's worlds, built once and copied ---------------------------------------


class WorldRows:
    """A World's rows as its building wrote them, and which of them its attributes are:
    copied into a test's database in a few statements instead of built through the
    factories and services (some 300 statements) for each test.

    Building a World writes rows only (no audit entry, nothing kept in a cache that a test
    may not empty), and nothing in them depends on the day except each person's
    ``date_joined``, which a copy sets to the moment it is made, as building would. A copy
    keeps the ids of the rows it was built with: the worlds of one capture never share an
    id, and a copy that meets a row already there (a test that made its own first) is
    undone and the World built instead, so every test gets the same World either way."""

    def __init__(self, world: World, rows: dict[type, list[dict]]) -> None:
        self.rows = rows
        self.attributes = {
            name: (type(value), value.pk)
            for name, value in vars(world).items()
            if hasattr(value, "_meta") and getattr(value, "pk", None) is not None
        }
        self.health_pk = world.health.pk
        self.slug = world.partnership.slug

    @classmethod
    def capture(cls, build) -> tuple[World, WorldRows]:
        """Build a World with ``build()`` and note the rows that it wrote."""
        models = _world_models()
        before = {model: _max_pk(model) for model in models}
        world = build()
        rows = {}
        for model in models:
            written = list(model._base_manager.filter(pk__gt=before[model]).order_by("pk").values())
            if written:
                rows[model] = written
        return world, cls(world, rows)

    def copy(self, *, shares_health_with: World | None = None) -> World | None:
        """The World, copied into the database; None (and nothing written) when a row of
        the copy is already there, or when it would share another health agency than
        ``shares_health_with``'s (whose agency object it then holds, as building does)."""
        from django.db import IntegrityError, transaction
        from django.utils import timezone

        if shares_health_with is not None and shares_health_with.health.pk != self.health_pk:
            return None
        if Partnership.objects.filter(slug=self.slug).exists():
            return None  # the factory would take that one (get_or_create): build instead
        now = timezone.now()
        try:
            with transaction.atomic():
                for model, rows in self.rows.items():
                    instances = []
                    for row in rows:
                        instance = model(**row)
                        if model is User:
                            instance.date_joined = now
                        instances.append(instance)
                    model._base_manager.bulk_create(instances)
        except IntegrityError:
            return None
        by_model: dict[type, set] = {}
        for model, pk in self.attributes.values():
            by_model.setdefault(model, set()).add(pk)
        fetched = {model: model._base_manager.in_bulk(pks) for model, pks in by_model.items()}
        world = World.__new__(World)
        for name, (model, pk) in self.attributes.items():
            setattr(world, name, fetched[model][pk])
        if shares_health_with is not None:
            world.health = shares_health_with.health
        _link(vars(world).values())
        return world


def _world_models() -> list[type]:
    """Every model a World's building writes to, in an order that keeps references pointing
    backwards (their foreign keys are checked at commit on both databases anyway)."""
    from accord.partnership.models import AreaOfDisagreement, PracticeTheme, PriorityTier, Stage

    return [
        Partnership,
        Agency,
        PartnershipAgency,
        Stage,
        PriorityTier,
        AreaOfDisagreement,
        PracticeTheme,
        User,
        RoleAssignment,
    ]


def _max_pk(model) -> int:
    from django.db.models import Max

    return model._base_manager.aggregate(top=Max("pk"))["top"] or 0


def _link(objects) -> None:
    """Point each object's foreign keys at the World's own instances, as the factories left
    them (a person's agency is the World's agency object, their line manager its person)."""
    objects = [o for o in objects if hasattr(o, "_meta")]
    by_key = {(o._meta.concrete_model, o.pk): o for o in objects}
    for o in objects:
        for field in o._meta.concrete_fields:
            if field.is_relation and field.many_to_one:
                target = by_key.get((field.related_model._meta.concrete_model, getattr(o, field.attname)))
                if target is not None:
                    field.set_cached_value(o, target)
