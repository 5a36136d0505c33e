"""The partnership as data: partnerships, agencies, people and roles, the stage
ladder and the two taxonomies.  Nothing partnership-specific is hard-coded."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accord.core.crypto import EncryptedTextField


class WorkedBy(models.TextChoices):
    """Who works a stage of the ladder (``accord.partnership.protocol`` says what follows)."""

    PRACTITIONERS = "practitioners", _("Practitioners")
    MANAGERS = "managers", _("Managers and safeguarding leads")
    SENIOR_LEADERS = "senior_leaders", _("Senior leaders")
    FORMAL_BODY = "formal_body", _("The formal body")


class FormalBodyAuthority(models.TextChoices):
    FACILITATES = "facilitates", _("Facilitates: it never records the outcome; the agencies decide")
    DIRECTS_NEXT_STEPS = (
        "directs_next_steps",
        _("Directs next steps: it may record the outcome at a stage it works"),
    )


class Origin(models.TextChoices):
    """Where an escalation came from (the protocol may give an origin its own route: the
    stages it may start at and a cap on the whole dispute)."""

    PRACTITIONER = "practitioner", _("A practitioner's own concern")
    CHILD_OR_FAMILY = "child_or_family", _("A concern voiced by the child or family")
    CONFERENCE = "conference", _("A child protection conference")
    CARE_REVIEW = "care_review", _("A children-in-care review")


class Safeguards(models.TextChoices):
    """Whom a partnership safeguards: a children's partnership, a Safeguarding Adults Board, or
    a joint board for both (its protocol says which; ``docs/decisions/0013``)."""

    CHILDREN = "children", _("Children")
    ADULTS = "adults", _("Adults at risk")
    BOTH = "both", _("Children and adults at risk")


def welsh_in_use() -> bool:
    """Whether the page, email or document being made is in Welsh."""
    return (translation.get_language() or "").split("-")[0] == "cy"


def language_in_use() -> str:
    """The code of the language in use, as a person's is recorded (``Language``)."""
    return Language.WELSH if welsh_in_use() else Language.ENGLISH


def languages_for(person: Any, partnership: Any) -> list[str]:
    """The languages a person is written to in: their own; where it is not known, both,
    Welsh first, where the partnership works in Wales; otherwise English."""
    if getattr(person, "language", ""):
        return [person.language]
    if partnership is not None and partnership.works_in_wales:
        return [Language.WELSH, Language.ENGLISH]
    return [Language.ENGLISH]


def in_language(thing: Any, field: str) -> str:
    """A partnership's own text in the language in use: its Welsh (``<field>_cy``) where
    Welsh is in use and one is given, otherwise the English (or the Welsh, where only it is
    given)."""
    english = getattr(thing, field)
    welsh = getattr(thing, f"{field}_cy", "")
    if welsh_in_use():
        # No Welsh given: the catalogue's, where the English is one of Accord's own defaults
        # (the default priorities, areas and themes), else the English.
        return welsh or (translation.gettext(english) if english else english)
    return english or welsh  # (a text given only in Welsh is shown in Welsh, not hidden)


class Language(models.TextChoices):
    """The languages a person is written to in (Welsh Language Standards: each person is
    asked, and then written to in the language they chose). Not known: both, Welsh first
    where the partnership works in Wales (``languages_for``)."""

    ENGLISH = "en-gb", "English"
    WELSH = "cy", "Cymraeg"


# The two priority tiers every partnership has (it may add more, ``PriorityTier``).
ROUTINE = "routine"
URGENT = "urgent"


class Partnership(models.Model):
    """A local safeguarding children partnership hosted in this deployment."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name"), max_length=50, unique=True)
    reference_prefix = models.CharField(
        _("reference prefix"),
        max_length=10,
        unique=True,
        help_text=_("Starts every escalation reference, for example DEV."),
    )
    front_door_phone = models.CharField(_("front door phone number"), max_length=40)
    # Wales's boards work in Welsh and English alike: their own texts (the front door's name,
    # the emergency wording, the formal body, the stages, the priorities, the taxonomies and
    # the statements) are held in both, each Welsh text in a ``…_cy`` field beside the
    # English one (docs/decisions/0014-welsh-texts.md); a person not known to prefer one is
    # written to in both, Welsh first.
    works_in_wales = models.BooleanField(
        _("works in Welsh and English"),
        default=False,
        help_text=_(
            "On for a board in Wales: its own texts are kept in Welsh as well as English, and "
            "people whose language is not known are written to in both, Welsh first."
        ),
    )
    front_door_name = models.CharField(
        # (Marked, so that a board in Wales that has not named its front door in Welsh shows
        # the catalogue's Welsh for the default: ``in_language``.)
        _("front door name"),
        max_length=200,
        default=translation.gettext_noop("children's services front door"),
    )
    front_door_name_cy = models.CharField(_("front door name in Welsh"), max_length=200, blank=True)
    front_door_form_url = models.URLField(
        _("front door's online request for support"),
        blank=True,
        help_text=_(
            "Optional. The address of the front door's online form for a request for support, "
            "offered beside its phone number and 999 when someone is asked about a child's safety."
        ),
    )
    emergency_wording = models.TextField(
        _("emergency wording"),
        blank=True,
        help_text=_(
            "Optional. Added to the notice on every page, which already says to call 999 and the "
            "front door if a child is in immediate danger."
        ),
    )
    emergency_wording_cy = models.TextField(_("emergency wording in Welsh"), blank=True)
    holiday_country = models.CharField(
        _("bank holiday country"), max_length=2, default="GB", help_text=_("ISO country code.")
    )
    holiday_subdivision = models.CharField(
        _("bank holiday subdivision"),
        max_length=10,
        blank=True,
        default="ENG",
        help_text=_("For example ENG (England and Wales share the same bank holidays), SCT, NIR."),
    )
    reporting_year_start_month = models.PositiveSmallIntegerField(
        _("first month of the reporting year"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    reopen_within_days = models.PositiveSmallIntegerField(
        _("reopening allowed within (calendar days of resolution)"), default=20
    )
    retention_days_after_closure = models.PositiveIntegerField(
        _("keep personal data for (days after an escalation closes)"),
        default=6 * 365,
        validators=[MinValueValidator(30)],
    )
    formal_body_name = models.CharField(
        _("name of the formal body"),
        max_length=100,
        default="Practice Development Group",
        help_text=_("Who receives formal escalations: a practice development group, a panel, a chair."),
    )
    formal_body_name_cy = models.CharField(_("name of the formal body in Welsh"), max_length=100, blank=True)
    formal_body_authority = models.CharField(
        _("authority of the formal body"),
        max_length=20,
        choices=FormalBodyAuthority.choices,
        default=FormalBodyAuthority.FACILITATES,
    )
    protocol_source = models.CharField(
        _("the published procedure the ladder follows"), max_length=300, blank=True
    )
    safeguards = models.CharField(
        _("whom the partnership safeguards"),
        max_length=10,
        choices=Safeguards.choices,
        default=Safeguards.CHILDREN,
        help_text=_(
            "Where it safeguards adults at risk, a raiser says whom a difference is about (a child, "
            "an adult or a family), and an adult's own knowledge of it and views are recorded."
        ),
    )
    facilitators_see_children = models.BooleanField(
        _("restorative facilitators see the children's names, dates of birth and references"),
        default=False,
        help_text=_(
            "Off: a facilitator appointed to an escalation sees the difference but not who the "
            "children are (the brief gives those to the parties and the formal body)."
        ),
    )
    suppression_threshold = models.PositiveSmallIntegerField(
        _("smallest count the executive's reports show"),
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        help_text=_(
            "Counts from 1 to one less than this are shown as “fewer than …” in the executive's view "
            "of the standing-item report and in the annual report, so that no child can be identified."
        ),
    )
    overdue_reminder_repeat_working_days = models.PositiveSmallIntegerField(
        _("remind again of an overdue stage every (working days)"),
        default=0,
        validators=[MaxValueValidator(60)],
        help_text=_(
            "0, as the brief and every preset have it: an overdue stage is told once to its "
            "workers and their managers, never twice. A partnership that wants a repeat sets "
            "how many working days apart."
        ),
    )
    follow_up_weeks = models.PositiveSmallIntegerField(
        _("weeks after a resolution to ask whether the agreed way forward held"),
        default=6,
        validators=[MaxValueValidator(52)],
        help_text=_(
            "The parties are asked then whether what was agreed held and what changed for the "
            "child; the standing-item and annual reports count the answers. 0: never ask."
        ),
    )
    guest_idle_days = models.PositiveSmallIntegerField(
        _("a guest's access ends after this many days without use"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "A professional named by email answers as a guest of that one escalation; their access "
            "also ends when it closes or when it is removed."
        ),
    )
    # Bumped by every change to the ladder, its priorities or its budgets: each process
    # keeps the ladder it read under this number (``protocol.ladder_of``), so that a page
    # reads it from the database only after it has changed, on any machine.
    protocol_version = models.PositiveIntegerField(default=1, editable=False)
    agencies = models.ManyToManyField(
        "Agency", through="PartnershipAgency", related_name="partnerships", blank=True
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(formal_body_authority__in=FormalBodyAuthority.values),
                name="partnership_authority_valid",
            ),
            models.CheckConstraint(
                condition=Q(safeguards__in=Safeguards.values), name="partnership_safeguards_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # The partnership's own texts as the page, email or document in hand shows them.
    @property
    def front_door_name_shown(self) -> str:
        return in_language(self, "front_door_name")

    @property
    def emergency_wording_shown(self) -> str:
        return in_language(self, "emergency_wording")

    @property
    def formal_body_shown(self) -> str:
        return in_language(self, "formal_body_name")


class AgencyKind(models.TextChoices):
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", _("Children's social care")
    POLICE = "police", _("Police")
    HEALTH_PROVIDER = "health_provider", _("Health provider")
    HEALTH_COMMISSIONER = "health_commissioner", _("Health commissioner")
    EDUCATION = "education", _("Education")
    PROBATION = "probation", _("Probation")
    HOUSING = "housing", _("Housing")
    VOLUNTARY_SECTOR = "voluntary_sector", _("Voluntary sector")
    CAFCASS = "cafcass", _("Cafcass")
    INDEPENDENT_REVIEWING_UNIT = "independent_reviewing_unit", _("Independent Reviewing Unit")
    PARTNERSHIP_BUSINESS_UNIT = "partnership_business_unit", _("Partnership business unit")
    OTHER = "other", _("Other")


class Agency(models.Model):
    """A partner organisation. An agency may belong to several partnerships."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=AgencyKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    # Merged into another agency (its people, escalations and history moved there): kept,
    # inactive, so that what was written under its name still reads.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged", editable=False
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=AgencyKind.values), name="agency_kind_valid")
        ]

    def __str__(self) -> str:
        return self.name


class PartnershipAgency(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT)
    takes_part_in_raising = models.BooleanField(
        _("raises and receives escalations"),
        default=True,
        help_text=_(
            "Off for an agency that takes no part in raising them here (the business unit, the formal "
            "body's own members, a facilitators' organisation): the standing-item report then never lists it as "
            "raising or receiving fewer than expected."
        ),
    )
    staff = models.PositiveIntegerField(
        _("how many of its people work with children here (about)"),
        null=True,
        blank=True,
        help_text=_(
            "Optional. Where it is recorded for agencies of the same kind, an agency with no history "
            "of its own is expected to raise and receive in proportion to its size."
        ),
    )

    work_email_domains = models.TextField(
        _("work email domains"),
        blank=True,
        help_text=_(
            "One a line, for example nhs.net. Someone of this agency who is not in Accord may be "
            "named on a difference by an address at one of these, and answer it as a guest."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership", "agency"], name="partnership_agency_unique")
        ]
        verbose_name = _("partner agency")

    def __str__(self) -> str:
        return f"{self.agency} in {self.partnership}"

    def email_domains(self) -> list[str]:
        """The agency's work email domains here, lower case, each once."""
        found = (line.strip().lstrip("@").lower() for line in self.work_email_domains.splitlines())
        return list(dict.fromkeys(d for d in found if d))


class SignInProvider(models.Model):
    """An agency's own single sign-on (its Microsoft Entra tenant, say): an OpenID Connect
    provider the business unit adds, through which that agency's people sign in. A person
    is matched by email among the agency's own; one not yet known may be created with no
    role, for the business unit to approve. The endpoints are read from the issuer's
    discovery document when it is saved (``accord.web.sign_in``)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="sign_in_providers")
    name = models.CharField(
        _("what the sign-in button names"),
        max_length=100,
        help_text=_("For example: Royal Devon staff account"),
    )
    issuer = models.URLField(
        _("issuer"),
        max_length=300,
        help_text=_("The provider's issuer URL, as its discovery document gives it."),
    )
    client_id = models.CharField(_("client ID"), max_length=200)
    client_secret = EncryptedTextField(_("client secret"))
    accepted_issuers = models.TextField(
        _("issuers accepted"),
        blank=True,
        help_text=_(
            "One a line, when sign-ins come from more than the issuer above (a multi-tenant app). Empty: the issuer only."
        ),
    )
    creates_people = models.BooleanField(
        _(
            "someone of the agency not yet in Accord is added on signing in, with no role, for the business unit to approve"
        ),
        default=False,
    )
    is_active = models.BooleanField(_("in use"), default=True)
    # Who keeps it: the business unit of the one partnership that keeps the agency, or (empty)
    # the deployment's administrators, for an agency more than one partnership keeps. It
    # signs in only people whose every partnership trusts it (``partnership.services.sign_in``).
    partnership = models.ForeignKey(
        "Partnership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sign_in_providers",
        help_text=_("The partnership whose business unit keeps it; empty: the deployment's administrators."),
    )
    # Set where a business unit had registered it on an agency another partnership keeps too:
    # it is off until the deployment's administrators confirm it.
    awaiting_confirmation = models.BooleanField(default=False)
    # From the issuer's discovery document.
    authorization_endpoint = models.URLField(max_length=300, blank=True, editable=False)
    token_endpoint = models.URLField(max_length=300, blank=True, editable=False)
    userinfo_endpoint = models.URLField(max_length=300, blank=True, editable=False)
    jwks_uri = models.URLField(max_length=300, blank=True, editable=False)
    signing_algorithm = models.CharField(max_length=10, default="RS256", editable=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "client_id"],
                name="sign_in_provider_unique",
                violation_error_message=_("Accord already has a provider with this issuer and client ID"),
            ),
            models.CheckConstraint(
                condition=Q(
                    signing_algorithm__in=["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256"]
                ),
                name="sign_in_provider_algorithm_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def issuers(self) -> set[str]:
        lines = [line.strip().rstrip("/") for line in self.accepted_issuers.splitlines() if line.strip()]
        return {self.issuer.rstrip("/"), *lines}


class Stage(models.Model):
    """One rung of a partnership's ladder, with its working-day timescales.

    A stage is known by its ``key``, which never changes: its number is its place on the
    ladder now, and a review of the protocol may move it (a stage inserted below it). What
    an escalation passed through is recorded by key, so it keeps its meaning across
    reviews."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(
        _("key"),
        max_length=30,
        help_text=_("How Accord knows the stage across reviews of the protocol; it never changes."),
    )
    number = models.PositiveSmallIntegerField(
        _("stage"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    name = models.CharField(_("name"), max_length=100)
    name_cy = models.CharField(_("name in Welsh"), max_length=100, blank=True)
    worked_by = models.CharField(_("who works it"), max_length=20, choices=WorkedBy.choices)
    routine_working_days = models.PositiveSmallIntegerField(
        _("working days to resolve (routine)"), validators=[MinValueValidator(1)]
    )
    urgent_working_days = models.PositiveSmallIntegerField(
        _("working days to resolve (urgent)"), validators=[MinValueValidator(1)]
    )
    is_formal = models.BooleanField(
        _("formal"),
        default=False,
        help_text=_(
            "Formal stages are the top ones: from the first, the formal body sees the escalation and "
            "the evidence of efforts to resolve is required."
        ),
    )
    conference_chair_may_start = models.BooleanField(
        _("a conference chair or IRO may start here"), default=False
    )
    facilitated = models.BooleanField(
        _("facilitated"),
        default=False,
        help_text=_(
            "A facilitator the parties' managers appoint helps the people who work the stage, beside "
            "them, without the stage being formal (for example a stage where a third person helps "
            "the practitioners think again before it goes to their managers)."
        ),
    )
    # The answers an escalation must have to enter this stage (``protocol.ANSWERS``): what
    # the stage asks for is part of the protocol (rule 3's are added for a formal stage).
    requires = models.JSONField(_("answers required to enter it"), default=list, blank=True)
    # Working days for the partnership's added priority tiers ({"high": 3}); a tier not
    # named here takes the routine timescale at this stage.
    other_working_days = models.JSONField(_("working days for other priorities"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["partnership", "number"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "number"], name="stage_number_unique"),
            models.UniqueConstraint(fields=["partnership", "key"], name="stage_key_unique"),
            models.CheckConstraint(condition=Q(worked_by__in=WorkedBy.values), name="stage_worked_by_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.shown_name}"

    @property
    def shown_name(self) -> str:
        return in_language(self, "name")

    def working_days(self, priority: str) -> int:
        """The stage's timescale for an escalation of this priority tier."""
        if priority == URGENT:
            return self.urgent_working_days
        if priority != ROUTINE and priority in (self.other_working_days or {}):
            return int(self.other_working_days[priority])
        return self.routine_working_days


class ProtocolVersion(models.Model):
    """One version of a partnership's protocol. Every change applied to it (the year's review,
    a stage changed on the settings pages, a document imported) makes the next, kept whole as
    applied, with who made it, when, and what it changed in words. Each escalation records
    the version it runs under (``Escalation.runs_under``)."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="protocol_versions")
    number = models.PositiveIntegerField(_("version"), validators=[MinValueValidator(1)])
    made_at = models.DateTimeField(_("made"))
    # Empty: from the command line, or the protocol as it stood when versions were first kept.
    made_by = models.ForeignKey("User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The protocol as applied, in the shape ``protocol export`` gives it.
    document = models.JSONField(_("the protocol as applied"))
    # What it changed from the version before, a sentence each (no escalation, no person).
    changes = models.JSONField(_("what changed"), default=list, blank=True)

    class Meta:
        ordering = ["partnership", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "number"], name="protocol_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.partnership}: version {self.number}"


class PriorityTier(models.Model):
    """A priority an escalation may be given (``routine`` and ``urgent`` always; a
    partnership may add its own, each with its own timescale at every stage)."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="priorities")
    code = models.SlugField(_("code"), max_length=30)
    label = models.CharField(_("label"), max_length=100)
    label_cy = models.CharField(_("label in Welsh"), max_length=100, blank=True)
    description = models.CharField(_("when to choose it"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["partnership", "position", "code"]
        verbose_name = _("priority")
        verbose_name_plural = _("priorities")
        constraints = [models.UniqueConstraint(fields=["partnership", "code"], name="priority_code_unique")]

    def __str__(self) -> str:
        return in_language(self, "label")


class TimescaleBudget(models.Model):
    """A limit on the working days a run of stages may take in all (West Yorkshire: steps 1
    to 5 within five working days), or, for an origin, on the whole dispute (the IRO
    Handbook: twenty working days). Each stage in the run gets at most what is left."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="budgets")
    first_stage = models.PositiveSmallIntegerField(_("from stage"), validators=[MinValueValidator(1)])
    last_stage = models.PositiveSmallIntegerField(
        _("to stage"), null=True, blank=True, help_text=_("Empty: to the top of the ladder.")
    )
    working_days = models.PositiveSmallIntegerField(
        _("working days in all"), validators=[MinValueValidator(1)]
    )
    origin = models.CharField(
        _("only for escalations from"),
        max_length=20,
        choices=Origin.choices,
        blank=True,
        help_text=_("Empty: for every escalation."),
    )

    class Meta:
        ordering = ["partnership", "first_stage", "origin"]
        constraints = [
            models.CheckConstraint(
                condition=Q(origin="") | Q(origin__in=Origin.values), name="budget_origin_valid"
            ),
            models.CheckConstraint(
                condition=Q(last_stage__isnull=True) | Q(last_stage__gte=models.F("first_stage")),
                name="budget_run_ordered",
            ),
        ]

    def __str__(self) -> str:
        run = f"{self.first_stage}-{self.last_stage or 'top'}"
        return f"{run}: {self.working_days} working days" + (f" ({self.origin})" if self.origin else "")


class TaxonomyTerm(models.Model):
    code = models.SlugField(_("code"), max_length=60)
    label = models.CharField(_("label"), max_length=200)
    label_cy = models.CharField(_("label in Welsh"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        abstract = True
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return in_language(self, "label")


class AreaOfDisagreement(TaxonomyTerm):
    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="areas_of_disagreement"
    )

    class Meta(TaxonomyTerm.Meta):
        verbose_name = _("area of disagreement")
        verbose_name_plural = _("areas of disagreement")
        constraints = [models.UniqueConstraint(fields=["partnership", "code"], name="area_code_unique")]


class PracticeTheme(TaxonomyTerm):
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="practice_themes")

    class Meta(TaxonomyTerm.Meta):
        verbose_name = _("practice theme")
        constraints = [models.UniqueConstraint(fields=["partnership", "code"], name="theme_code_unique")]


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", _("Practitioner")
    MANAGER = "manager", _("Manager or safeguarding lead")
    SENIOR_LEADER = "senior_leader", _("Senior leader")
    CONFERENCE_CHAIR = "conference_chair", _("Conference chair or IRO")
    PDG_MEMBER = "pdg_member", _("Member of the formal body")
    PDG_CHAIR = "pdg_chair", _("Chair of the formal body")
    FACILITATOR = "facilitator", _("Restorative facilitator")
    BUSINESS_UNIT = "business_unit", _("Partnership business unit")
    EXECUTIVE = "executive", _("Partnership Executive Group")
    AUDITOR = "auditor", _("Auditor or data protection officer")


class AccordUserManager(UserManager):
    pass


class User(AbstractUser):
    """A person who uses Accord. Belongs to one agency; roles are per partnership."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="people")
    # The partnership whose business unit added them (or that they first worked in): while
    # they hold no role anywhere, they are that partnership's alone to keep, even in an
    # agency other partnerships keep too (``partnership.services.ownership``). Empty for
    # someone added by signing in, or by the deployment's administrators.
    home_partnership = models.ForeignKey(
        "Partnership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    line_manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("line manager"),
    )

    # Added by signing in through their agency's provider, with no role: the business unit
    # approves them by giving roles.
    added_by_sign_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the last invitation to set a password was sent (none pending: empty).
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True, editable=False)

    email_digest = models.BooleanField(
        _("one daily email instead of an email for each update"), default=False
    )
    # The language they are written to in, emails and documents alike: asked in their own
    # settings, set with an invitation, and saved by the header's language switch. Empty: not
    # known (both languages where the partnership works in Wales).
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, blank=True, default=""
    )

    objects = AccordUserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        # The business unit's people list walks this, a page at a time, instead of sorting
        # every person of the partnership.
        indexes = [models.Index(fields=["last_name", "first_name", "id"], name="user_by_name")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """A user holds a role within a partnership, scoped to the user's agency."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "partnership", "role"], name="role_assignment_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="role_valid"),
        ]
        # Who holds a role in a partnership (the stage owners told of a change).
        indexes = [models.Index(fields=["partnership", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} ({self.partnership})"


class Compliance(models.TextChoices):
    FULL = "full", _("fully compliant")
    PARTIAL = "partial", _("partially compliant")
    NOT = "not", _("not compliant")


class PublicStatement(models.Model):
    """What a public body publishes about Accord for its partnership: the accessibility
    statement (in the form of GOV.UK's sample statement) and the privacy notice, kept by the
    business unit, shown to anyone (signed in or not) and linked from every page's footer."""

    partnership = models.OneToOneField(Partnership, on_delete=models.CASCADE, related_name="statement")
    contact_email = models.EmailField(_("email for accessibility problems and other formats"), blank=True)
    contact_phone = models.CharField(_("telephone for the same"), max_length=40, blank=True)
    compliance = models.CharField(
        _("compliance with WCAG 2.2 AA"),
        max_length=10,
        choices=Compliance.choices,
        default=Compliance.PARTIAL,
    )
    known_issues = models.TextField(
        _("content that is not accessible, and why"),
        blank=True,
        help_text=_("One issue a paragraph: what it is, who it affects, and when it will be fixed."),
    )
    last_tested = models.DateField(_("when Accord was last tested for accessibility"), null=True, blank=True)
    last_reviewed = models.DateField(_("when this statement was last reviewed"), null=True, blank=True)
    known_issues_cy = models.TextField(_("content that is not accessible, in Welsh"), blank=True)
    privacy_notice_cy = models.TextField(_("privacy notice in Welsh"), blank=True)
    privacy_notice = models.TextField(
        _("privacy notice"),
        blank=True,
        help_text=_(
            "Who the controller is, why the partnership processes this information and on what lawful "
            "basis, who it is shared with, how long it is kept, people's rights and how to complain. "
            "One paragraph a blank line."
        ),
    )
    data_protection_contact = models.EmailField(_("data protection officer's email"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(compliance__in=Compliance.values), name="statement_compliance_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partnership}: accessibility statement and privacy notice"

    @property
    def known_issues_shown(self) -> str:
        return in_language(self, "known_issues")

    @property
    def privacy_notice_shown(self) -> str:
        return in_language(self, "privacy_notice")
