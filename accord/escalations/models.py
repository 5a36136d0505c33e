"""Escalations: one record per professional difference, from raising to resolution.

The current stage, status and due date are denormalised onto the escalation by
the services (``services.py``) so that lists and reports need no joins over the
history; the history itself (stage periods, pauses, events) is the source from
which they are recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accord.core.crypto import EncryptedDateField, EncryptedJSONField, EncryptedTextField
from accord.partnership.models import (
    Agency,
    AreaOfDisagreement,
    Origin,
    Partnership,
    PracticeTheme,
    ProtocolVersion,
)
from accord.partnership.protocol import ladder_of

from .subjects import AdultAware, AdvocateInvolved, Subject


class Kind(models.TextChoices):
    CASE = "case", _("Case: a particular child or sibling group")
    THEME = "theme", _("Theme: a pattern placing children at risk")


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PAUSED = "paused", _("Paused")
    RESOLVED = "resolved", _("Resolved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATUSES = (Status.RESOLVED, Status.WITHDRAWN)
# Named positively in queries: "status IN (open, paused)" can use an index; "NOT IN" cannot.
OPEN_STATUSES = (Status.OPEN, Status.PAUSED)

# The escalation's long free-text accounts (the reflection encrypted): lists never show
# them, and retention blanks them.
ACCOUNT_FIELDS = (
    "decision_challenged",
    "concern",
    "evidence",
    "professional_curiosity",
    "child_voice",
    "family_view",
    "tried_so_far",
    "desired_outcome",
    "reflection",
    "formal_reason",
    "efforts_to_resolve",
    "closing_reason",
    # An adult's own knowledge of the difference, views and advocate (encrypted).
    "adult_aware",
    "adult_views",
    "adult_advocate",
)


class Urgency(models.TextChoices):
    """The two priority tiers every partnership has; its ``PriorityTier`` rows name them
    and any it adds (an escalation's ``urgency`` holds the tier's code)."""

    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent: the child's safety cannot wait a working week")


# (``Origin`` is defined with the partnership's protocol, which gives origins their routes.)

# The origins the Independent Reviewing Unit reports on (and a conference chair raises from).
IRU_ORIGINS = (Origin.CONFERENCE, Origin.CARE_REVIEW)


class FamilyAware(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    NOT_YET = "not_yet", _("Not yet, but they will be told")
    NOT_SAFE = "not_safe", _("No, it would not be safe to tell them")


class Outcome(models.TextChoices):
    AGREED_WAY_FORWARD = "agreed_way_forward", _("Agreed way forward")
    DECISION_UPHELD = "decision_upheld", _("Decision upheld with shared understanding")
    DECISION_CHANGED = "decision_changed", _("Decision changed")
    MULTI_AGENCY_PLAN = "multi_agency_plan", _("A multi-agency plan")
    REFERRED_ON = "referred_on", _("Referred on to another process")


class ChildCentredOutcome(models.TextChoices):
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")


class PdgActionKind(models.TextChoices):
    RESTORATIVE_FACILITATOR = "restorative_facilitator", _("Offer a restorative facilitator")
    MEDIATION = "mediation", _("Offer mediation")
    REFLECTIVE_CIRCLE = "reflective_circle", _("Offer a restorative reflective circle")
    GROUP_CASE_DISCUSSION = "group_case_discussion", _("Offer a group case discussion")
    RESTORATIVE_SUPERVISION = "restorative_supervision", _("Offer restorative supervision")
    NOTE = "note", _("Note the formal body's involvement")


class EscalationQuerySet(models.QuerySet):
    # Rule 7 as a condition on escalations (``policies.VisibleTo``), installed by the
    # policies module as it loads (it reads this module's models, so this one cannot import
    # it); the app loads the policies when it is ready.
    visibility_condition: ClassVar[Callable[..., Any] | None] = None

    def visible_to(self, user) -> EscalationQuerySet:
        """Every escalation ``user`` may see (DOMAIN.md rule 7). The one place it is decided."""
        condition = type(self).visibility_condition
        if condition is None:  # pragma: no cover - the app registry loads the policies first
            raise RuntimeError("accord.escalations.policies is not loaded")
        return self.filter(condition(user, using=self.db))

    def open(self) -> EscalationQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Escalation(models.Model):
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("reference"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    stage = models.PositiveSmallIntegerField(_("stage"), default=1)
    highest_stage = models.PositiveSmallIntegerField(_("highest stage reached"), default=1)
    # The key of the stage the figures count as its highest reached when that stage is no
    # longer on the ladder (a review removed it): ``highest_stage`` is then the number of the
    # stage its history went with (for sight), and the reports keep the removed stage's own
    # row. Empty: the stage numbered ``highest_stage``.
    highest_stage_gone = models.CharField(max_length=30, blank=True, default="")
    formal_at = models.DateTimeField(_("formally escalated"), null=True, blank=True)
    # A priority tier of the partnership's (``PriorityTier.code``: routine, urgent or its own),
    # checked against the partnership's tiers by the services.
    urgency = models.CharField(_("priority"), max_length=30, default=Urgency.ROUTINE)
    origin = models.CharField(
        _("where it came from"), max_length=20, choices=Origin.choices, default=Origin.PRACTITIONER
    )
    # The language it was raised in (the raising page's, or the API's Accept-Language), so
    # that the reports can show Welsh is no slower than English. Empty: not known (raised
    # before Accord recorded it, or brought in from an earlier log).
    raised_language = models.CharField(_("raised in"), max_length=10, blank=True, default="")
    # While it stands resolved: the working days from the day it was raised to the day it was
    # resolved, on the partnership's calendar as it was then (fixed, as a stage's working
    # days taken are: a later change of calendar does not rewrite the past's figures).
    resolved_working_days = models.PositiveIntegerField(
        _("working days to resolution"), null=True, blank=True
    )

    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escalations_raised"
    )
    raising_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    with_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    with_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_received",
    )
    with_people = models.CharField(_("other people the difference is with"), max_length=300, blank=True)

    summary = models.CharField(_("summary"), max_length=200)
    decision_challenged = models.TextField(_("decision or situation being challenged"), blank=True)
    concern = models.TextField(_("the concern"), blank=True)
    evidence = models.TextField(_("the evidence"), blank=True)
    professional_curiosity = models.TextField(_("what professional curiosity found"), blank=True)
    child_voice = models.TextField(_("the child's voice and lived experience"), blank=True)
    family_view = models.TextField(_("the family's view"), blank=True)
    family_aware = models.CharField(
        _("whether the family knows of the challenge"),
        max_length=10,
        choices=FamilyAware.choices,
        blank=True,
    )
    tried_so_far = models.TextField(_("what has been tried so far"), blank=True)
    desired_outcome = models.TextField(_("the child-centred outcome wanted"), blank=True)
    # Whom it is about (``subjects.py``): a child, an adult at risk or a family; a theme, whom
    # the pattern places at risk.
    subject = models.CharField(
        _("whom it is about"), max_length=10, choices=Subject.choices, default=Subject.CHILD
    )
    # For an adult at risk (Making Safeguarding Personal): their own knowledge of the
    # difference, their views and wishes, and whether an advocate is involved. Encrypted at
    # rest as a child's details are, shown only where the children's details are (rule 7), and
    # removed by retention with them.
    adult_aware = EncryptedTextField(
        _("whether the adult knows of the difference"), choices=AdultAware.choices, blank=True
    )
    adult_views = EncryptedTextField(_("the adult's views and wishes"), blank=True)
    adult_advocate = EncryptedTextField(
        _("whether an advocate is involved"), choices=AdvocateInvolved.choices, blank=True
    )
    # What a stage asks for is the protocol's (``Stage.requires``): an answer it has not asked
    # for yet may be blank, and is shown as "not recorded".
    # The first of its areas of disagreement (``areas_of_disagreement``: an escalation may
    # have several, like themes; none where the protocol does not ask and none was given).
    area_of_disagreement = models.ForeignKey(
        AreaOfDisagreement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    areas_of_disagreement = models.ManyToManyField(AreaOfDisagreement, blank=True, related_name="+")
    themes = models.ManyToManyField(PracticeTheme, blank=True, related_name="+")
    reflection = EncryptedTextField(_("private reflection"), blank=True)
    # Who may read the reflection beside the raiser: the raiser's line manager when it was
    # written, not a later one (a raiser who moves agency takes no old reflection to a new
    # manager elsewhere).
    reflection_reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    formal_reason = models.TextField(_("reasons for escalating formally"), blank=True)
    efforts_to_resolve = models.TextField(_("evidence of efforts to resolve"), blank=True)
    closing_reason = models.TextField(_("reason for withdrawal"), blank=True)

    raised_at = models.DateTimeField(_("raised"))
    stage_started_on = models.DateField(_("current stage started"))
    due_date = models.DateField(_("current stage due"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    redacted_at = models.DateTimeField(_("personal data removed under retention"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The version of the partnership's protocol it runs under: the one in force when it was
    # raised, and each later one a review applied while it was open (its timeline says when).
    # Empty for one brought in from an earlier log, which never ran in Accord.
    runs_under = models.ForeignKey(
        ProtocolVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations",
        verbose_name=_("protocol version it runs under"),
    )
    # Brought in from the partnership's earlier log (``EscalationImport``), with that log's
    # own reference: a record of the past, counted in the reports, never worked in Accord.
    imported_in = models.ForeignKey(
        "EscalationImport", on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    imported_reference = models.CharField(_("reference in the earlier log"), max_length=60, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="escalation_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="escalation_status_valid"),
            models.CheckConstraint(condition=~Q(urgency=""), name="escalation_priority_given"),
            models.CheckConstraint(condition=Q(origin__in=Origin.values), name="escalation_origin_valid"),
            models.CheckConstraint(condition=Q(subject__in=Subject.values), name="escalation_subject_valid"),
            models.CheckConstraint(
                condition=Q(stage__gte=1) & Q(highest_stage__gte=models.F("stage")),
                name="escalation_stage_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["partnership", "status", "due_date"]),
            # Lists newest first: their pages and counts are read from the index alone
            # (PostgreSQL), which carries rule 7's columns and the list filters' columns.
            models.Index(
                fields=["partnership", "raised_at", "id"],
                include=[
                    "raising_agency",
                    "with_agency",
                    "raised_by",
                    "with_practitioner",
                    "highest_stage",
                    "status",
                    "stage",
                    "kind",
                    "urgency",
                    "origin",
                    "due_date",
                ],
                name="escalation_raised_visibility",
            ),
            # Lists and counts by status answered from the index alone (PostgreSQL): it
            # carries every column the visibility rule (rule 7) reads, and the key by which
            # a page's rows are found and ordered (raised_at, id).
            models.Index(
                fields=["partnership", "status", "raised_at", "id"],
                include=[
                    "raising_agency",
                    "with_agency",
                    "raised_by",
                    "with_practitioner",
                    "highest_stage",
                    "stage",
                    "formal_at",
                ],
                name="escalation_status_visibility",
            ),
            models.Index(fields=["raising_agency", "status"]),
            models.Index(fields=["with_agency", "status"]),
            # The reports' drill-down by stage reached (the PDG's "reached the PDG" most of
            # all): counted and paged newest first from the index alone.
            models.Index(
                fields=["partnership", "highest_stage", "raised_at", "id"],
                include=["raised_by", "with_practitioner", "formal_at", "raising_agency", "with_agency"],
                name="escalation_reached_visibility",
            ),
            # What is overdue now, by stage (the standing item): the open escalations alone,
            # counted by stage from the index alone, however many have closed.
            models.Index(
                fields=["partnership", "due_date"],
                include=["stage", "id"],
                condition=Q(status="open"),
                name="escalation_overdue_stage",
            ),
            # The formal escalations open now (the standing item's list and its count): a
            # handful, soonest due first, with the columns rule 7 reads.
            models.Index(
                fields=["partnership", "due_date", "id"],
                include=["raising_agency", "with_agency", "raised_by", "with_practitioner", "highest_stage"],
                condition=Q(formal_at__isnull=False, status__in=["open", "paused"]),
                name="escalation_formal_open",
            ),
            # Time to resolution by language (the standing item): what was resolved in a
            # period, read from the index alone.
            models.Index(
                fields=["partnership", "closed_at"],
                include=["raised_at", "raised_language"],
                condition=Q(status="resolved"),
                name="escalation_resolved_closed",
            ),
            # Open escalations in the order "my work" lists them (soonest due first), so a
            # page of 25 is read from the front of the index instead of sorting thousands.
            models.Index(
                fields=["partnership", "due_date", "raised_at"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="escalation_open_due",
            ),
            # An agency's open escalations, raised by it or with it: counted from the index
            # alone (it carries the columns rule 7 reads) and listed soonest due first.
            models.Index(
                fields=["raising_agency", "due_date"],
                include=[
                    "partnership",
                    "with_agency",
                    "raised_by",
                    "with_practitioner",
                    "highest_stage",
                    "stage",
                ],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="escalation_open_raising",
            ),
            models.Index(
                fields=["with_agency", "due_date"],
                include=[
                    "partnership",
                    "raising_agency",
                    "raised_by",
                    "with_practitioner",
                    "highest_stage",
                    "stage",
                ],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="escalation_open_with",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_urgent(self) -> bool:
        return self.urgency == Urgency.URGENT

    def get_urgency_display(self) -> str:
        """The priority tier's label in the escalation's partnership."""
        return ladder_of(self.partnership).priority_label(self.urgency)

    @property
    def is_formal(self) -> bool:
        return self.formal_at is not None

    @property
    def is_past_record(self) -> bool:
        """Brought in closed from the partnership's earlier log: a record of the past, never
        worked in Accord (one brought in still open runs under the protocol, as any other)."""
        return self.imported_in_id is not None and self.runs_under_id is None

    # -- the parties: the raising agency, the agency it is with, and any others --------

    def others(self) -> list[OtherParty]:
        """The agencies beyond the first that the difference is with, each with its named
        practitioner if any, in the order they were added: read once (or from a prefetch)."""
        found = self.__dict__.get("_accord_others")
        if found is None:
            prefetched = getattr(self, "_prefetched_objects_cache", {}).get("other_parties")
            if prefetched is not None:
                found = list(prefetched)
            elif self.pk is None:
                found = []
            else:
                found = list(self.other_parties.select_related("agency", "practitioner"))
            self.__dict__["_accord_others"] = found
        return found

    def forget_others(self) -> None:
        """After a party is added or removed: the next ``others()`` reads them afresh."""
        self.__dict__.pop("_accord_others", None)
        getattr(self, "_prefetched_objects_cache", {}).pop("other_parties", None)

    def receiving_agency_ids(self) -> list[int]:
        """Every agency the difference is with: the first, then the others."""
        return [self.with_agency_id, *(o.agency_id for o in self.others())]

    def receiving_label(self) -> str:
        """Every agency the difference is with, in words: "A", "A and B", "A, B and C"."""
        names = [str(self.with_agency), *(str(o.agency) for o in self.others())]
        if len(names) == 1:
            return names[0]
        return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}

    def party_agency_ids(self) -> list[int]:
        """The raising agency and every agency the difference is with."""
        return [self.raising_agency_id, *self.receiving_agency_ids()]

    def named_practitioner_ids(self) -> set[int]:
        """The practitioners named on the receiving side, in any of its agencies."""
        named = {o.practitioner_id for o in self.others() if o.practitioner_id is not None}
        if self.with_practitioner_id is not None:
            named.add(self.with_practitioner_id)
        return named


class EscalationImport(models.Model):
    """One file of a partnership's earlier log (its "challenge log") brought in at once: what
    was read, by whom, and the file's hash. Its escalations are removed together."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Removed as a batch: its escalations deleted, this row kept as the record that it was.
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            # The same file is brought in once (until that import is removed).
            models.UniqueConstraint(
                fields=["partnership", "file_sha256"],
                condition=Q(removed_at__isnull=True),
                name="escalation_import_once",
            )
        ]

    def __str__(self) -> str:
        return self.filename


class OtherParty(models.Model):
    """An agency beyond the first that the difference is with (the network of section 3.2),
    with the practitioner there it is with, if named: otherwise its managers receive it.
    Its practitioners, managers and senior leaders are parties at the stages the ladder
    gives them, as the first agency's are (rule 7)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="other_parties")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_received_as_other",
    )
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "agency"], name="other_party_agency_once")
        ]
        indexes = [
            # Rule 7 read for a person: the escalations with their agency, or naming them.
            models.Index(fields=["agency", "escalation"], name="other_party_agency"),
            models.Index(fields=["practitioner", "escalation"], name="other_party_practitioner"),
        ]

    def __str__(self) -> str:
        return f"{self.agency} ({self.practitioner or '-'})"


# Prefetch an escalation's other parties with their agencies and practitioners (``others()``
# reads it): one query for a whole list or sweep.
OTHER_PARTIES = models.Prefetch(
    "other_parties", queryset=OtherParty.objects.select_related("agency", "practitioner")
)


class Child(models.Model):
    """Minimal identifiers of a child in a case escalation."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="children")
    # Encrypted at rest (accord/core/crypto.py); the keyed hash allows exact lookup by reference.
    name = EncryptedTextField(_("name or initials"))
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    agency_reference = EncryptedTextField(_("agency case reference"), blank=True)
    agency_reference_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = _("children")

    def __str__(self) -> str:
        return self.name


class StagePeriod(models.Model):
    """The time an escalation spent at one stage: the source of due dates and timeliness.

    ``stage`` is the stage's number on the ladder now (a review of the protocol renumbers it
    with the ladder); ``stage_key``, ``stage_name`` and ``formal`` are the stage as it was
    when the escalation entered it, and never change: what the escalation passed through."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="stage_periods")
    stage = models.PositiveSmallIntegerField()
    stage_key = models.CharField(max_length=30, blank=True)
    stage_name = models.CharField(max_length=100, blank=True)
    formal = models.BooleanField(default=False)
    started_on = models.DateField()
    working_days = models.PositiveSmallIntegerField()
    due_date = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    skip_reason = models.TextField(blank=True)
    # Set by the services when the period ends, for the timeliness reports.
    working_days_taken = models.PositiveSmallIntegerField(null=True, blank=True)
    on_time = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation"],
                condition=Q(ended_on__isnull=True),
                name="one_open_stage_period",
            )
        ]
        # The timeliness report selects stages finished in a period.
        indexes = [models.Index(fields=["ended_on"])]


class Pause(models.Model):
    stage_period = models.ForeignKey(StagePeriod, on_delete=models.CASCADE, related_name="pauses")
    paused_on = models.DateField()
    resumed_on = models.DateField(null=True, blank=True)
    reason = models.TextField()
    paused_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]


class Discussion(models.Model):
    """A discussion or response recorded by a party at a stage."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="discussions")
    stage = models.PositiveSmallIntegerField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    held_on = models.DateField(_("date of the discussion"))
    with_manager = models.BooleanField(
        _("a consultation with the raiser's own manager or safeguarding lead"), default=False
    )
    participants = models.CharField(_("who took part"), max_length=300, blank=True)
    note = models.TextField(_("what was discussed"))
    agreed = models.BooleanField(_("agreement reached"), null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "id"]


class PdgAction(models.Model):
    """What the PDG offered or did. Never the case decision (rule 4)."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="pdg_actions")
    action = models.CharField(max_length=30, choices=PdgActionKind.choices)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilitated_escalations",
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    # A facilitator's appointment ends when the PDG ends it or appoints another; their
    # access to the escalation ends with it (rule 7).
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=PdgActionKind.values), name="pdg_action_valid")
        ]

    @property
    def is_current_appointment(self) -> bool:
        return self.facilitator_id is not None and self.ended_at is None


class Resolution(models.Model):
    """How an escalation ended. A reopened escalation keeps its earlier resolutions."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="resolutions")
    outcome = models.CharField(max_length=30, choices=Outcome.choices)
    agreed_way_forward = models.TextField()
    child_centred_outcome_achieved = models.CharField(max_length=10, choices=ChildCentredOutcome.choices)
    learning = models.TextField(blank=True)
    referred_to = models.CharField(max_length=200, blank=True)
    # Recorded by the raiser as already settled in the first conversation, when it was raised
    # (``escalation_record_settled``): counted as raised and resolved at stage 1.
    settled_when_raised = models.BooleanField(default=False)
    stage = models.PositiveSmallIntegerField()
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="outcome_valid")]
        # The outcomes report selects resolutions made in a period; the standing item the
        # latest that recorded learning (a few among every resolution).
        indexes = [
            models.Index(fields=["resolved_at"]),
            models.Index(fields=["resolved_at", "id"], condition=~Q(learning=""), name="resolution_learning"),
        ]

    @property
    def follow_up_or_none(self) -> FollowUp | None:
        """Its follow-up, if the partnership asks for one (a page reads it without a try)."""
        try:
            return self.follow_up
        except FollowUp.DoesNotExist:
            return None


class Held(models.TextChoices):
    """Whether the agreed way forward held, asked some weeks after the resolution."""

    HELD = "held", _("Yes, it held")
    PARTLY = "partly", _("Partly")
    NOT_HELD = "not_held", _("No, it did not hold")


class AfterNotHeld(models.TextChoices):
    """What followed an answer that the agreed way forward did not hold."""

    NONE = "none", _("Nothing yet")
    REOPENED = "reopened", _("Reopened")
    RAISED_AGAIN = "raised_again", _("Raised again as a linked escalation")


class FollowUp(models.Model):
    """The question some weeks after a resolution (the partnership's ``follow_up_weeks``):
    did the agreed way forward hold, and what changed for the child? Asked of the parties
    once; answered once, by one of them."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="follow_ups")
    resolution = models.OneToOneField(Resolution, on_delete=models.CASCADE, related_name="follow_up")
    due_on = models.DateField()
    asked_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    held = models.CharField(max_length=10, choices=Held.choices, blank=True)
    # About the child: encrypted at rest, as the reflection is.
    what_changed = EncryptedTextField(_("what changed for the child"), blank=True)
    # Where it did not hold, what a party did about it: reopened the escalation, or raised
    # a linked one (``raised_again``); empty until then.
    followed_by = models.CharField(max_length=12, choices=AfterNotHeld.choices, blank=True)
    followed_at = models.DateTimeField(null=True, blank=True)
    raised_again = models.ForeignKey(
        "Escalation", on_delete=models.SET_NULL, null=True, blank=True, related_name="raised_after"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(held__in=["", *Held.values]), name="follow_up_held_valid"),
            models.CheckConstraint(
                condition=Q(followed_by__in=["", AfterNotHeld.REOPENED, AfterNotHeld.RAISED_AGAIN]),
                name="follow_up_followed_by_valid",
            ),
        ]
        # The reminder sweep finds the ones to ask without reading the rest.
        indexes = [
            models.Index(fields=["due_on"], condition=Q(asked_at__isnull=True), name="follow_up_to_ask")
        ]


class AgreedAction(models.Model):
    """An action agreed at resolution, or commissioned by the PDG for a theme."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="agreed_actions")
    description = models.TextField()
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completion_note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["due_date", "id"]
        # The reminder sweep finds the overdue ones without reading the done ones.
        indexes = [
            models.Index(fields=["due_date"], condition=Q(completed_on__isnull=True), name="action_open_due")
        ]


class LearningFrom(models.TextChoices):
    """Which outcome the learning was written with."""

    RESOLUTION = "resolution", _("Resolution")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    FOLLOW_UP = "follow_up", _("Follow-up")


class Learning(models.Model):
    """Learning for the partnership, in words, written by whoever recorded an outcome at any
    stage. It never names the escalation's children (refused as written), so the formal body
    reads all of it, grouped by theme and area, whatever the stage the difference ended at;
    it reaches the annual report only once the formal body's chair marks it fit to publish."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="learning_notes")
    stage = models.PositiveSmallIntegerField()
    recorded_with = models.CharField(max_length=12, choices=LearningFrom.choices)
    text = models.TextField(_("learning for the partnership"))
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-written_at", "-id"]
        indexes = [models.Index(fields=["partnership", "written_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded_with__in=LearningFrom.values), name="learning_recorded_with_valid"
            )
        ]


class EventType(models.TextChoices):
    RAISED = "raised", _("Escalation raised")
    DISCUSSION = "discussion", _("Discussion recorded")
    ESCALATED = "escalated", _("Moved to the next stage")
    FORMALLY_ESCALATED = "formally_escalated", _("Formally escalated")
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")
    PDG_ACTION = "pdg_action", _("Offer or action of the formal body recorded")
    FACILITATOR_APPOINTED = "facilitator_appointed", _("Restorative facilitator appointed")
    FACILITATOR_ENDED = "facilitator_ended", _("Restorative facilitator's appointment ended")
    ACTION_COMPLETED = "action_completed", _("Agreed action done")
    DOCUMENT_ADDED = "document_added", _("Evidence document attached")
    PARTY_ADDED = "party_added", _("Agency added to the difference")
    PARTY_REMOVED = "party_removed", _("Agency removed from the difference")
    REASSIGNED = "reassigned", _("Raiser or named practitioner reassigned")
    RESOLVED = "resolved", _("Resolved")
    FOLLOWED_UP = "followed_up", _("Followed up: did the agreed way forward hold?")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REOPENED = "reopened", _("Reopened")
    RAISED_AGAIN = "raised_again", _("Raised again as a linked escalation")
    IMPORTED = "imported", _("Brought in from the partnership's earlier log")
    PROTOCOL_REVIEWED = "protocol_reviewed", _("Runs under a new version of the protocol")
    SETTLED = "settled", _("Recorded as already settled between the practitioners")
    VIEW_ADDED = "view_added", _("A party's view added")
    DETAILS_ADDED = "details_added", _("Details added")


class Event(models.Model):
    """The escalation's timeline: what happened, who did it, at which stage."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, choices=EventType.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    stage = models.PositiveSmallIntegerField()
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["escalation", "at"])]


class Document(models.Model):
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to="evidence/%Y/%m/", help_text="Encrypted at rest.")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class Draft(models.Model):
    """A partly completed 'raise an escalation' journey, saved so nothing typed is lost."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    data = EncryptedJSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]


class DraftDocument(models.Model):
    """An evidence document attached while raising, kept with the draft (encrypted, as an
    escalation's are) until the escalation is raised: then it becomes one of its documents."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(upload_to="drafts/%Y/%m/", help_text="Encrypted at rest.")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]


class EscalationCounter(models.Model):
    """The last reference number issued per partnership and year."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partnership", "year"], name="counter_unique")]


class Visibility(models.Model):
    """Who may see which escalation (DOMAIN.md rule 7), one row for each pair, so that how
    many someone may see is counted from one index instead of by testing rule 7 on every
    escalation of the partnership.

    Counts read it, and the unfiltered list finds which escalations make up a page from it
    (most recent first, by the escalation's ``raised_at`` kept here); the rows shown are
    still read through rule 7's own query (``visibility_filter``). ``visibility.py`` keeps
    it with every change that moves what someone sees (a change of people once committed), and
    ``rebuild_visibility --check`` compares it with rule 7."""

    pk = models.CompositePrimaryKey("user_id", "partnership_id", "escalation_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="+")
    raised_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "visibility"
        # Someone's escalations, most recent first: a page of the unfiltered list.
        indexes = [
            models.Index(
                fields=["user", "partnership", "-raised_at", "-escalation"], name="visibility_recent"
            )
        ]


class VisibilityCount(models.Model):
    """How many escalations of a partnership someone may see, as last folded together from
    ``VisibilityChange`` (``visibility.count_visible`` adds the changes since)."""

    pk = models.CompositePrimaryKey("user_id", "partnership_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    n = models.IntegerField(default=0)


class VisibilityChange(models.Model):
    """A change to how many escalations someone may see, written in the transaction that
    changed ``Visibility``: only ever inserted, so concurrent changes never wait on each
    other; folded into ``VisibilityCount`` when a person's changes pile up."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+", db_index=False)
    delta = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["user", "partnership"], name="visibility_change_person")]


class DailyTally(models.Model):
    """How many escalations there were on one day, by one dimension: the pre-aggregated figures
    the PDG standing item and the annual report read instead of scanning every escalation.

    A read model of the escalations, kept exact by their services in the same transaction
    as each change (see ``accord.escalations.tallies``), and rebuildable from the records at any time
    (``manage.py rebuild_tallies``). Escalations count on the day they were raised;
    outcomes on the day of the resolution; stage timeliness on the day the stage ended.
    """

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    dimension = models.CharField(max_length=20)
    key = models.CharField(max_length=40)
    n = models.IntegerField(default=0)

    class Meta:
        db_table = "reports_dailytally"  # where it was first made; the reports read it
        constraints = [
            # Its index also finds chosen keys (agency pairs) without reading the others.
            models.UniqueConstraint(
                fields=["partnership", "dimension", "key", "day"], name="daily_tally_unique"
            )
        ]
        # A period's sums of some dimensions answered from the index alone (PostgreSQL).
        indexes = [
            models.Index(
                fields=["partnership", "dimension", "day"], include=["key", "n"], name="daily_tally_covering"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.key}: {self.n}"


class GuestState(models.TextChoices):
    NAMED = "named", _("Named: not yet confirmed")
    CONFIRMED = "confirmed", _("Confirmed they work with the child or theme")
    DECLINED = "declined", _("Said this is not for them")
    ENDED = "ended", _("Access ended")


class GuestEnd(models.TextChoices):
    """Why a guest's access ended."""

    CLOSED = "closed", _("The escalation closed")
    REMOVED = "removed", _("Removed by the raiser's manager or the business unit")
    IDLE = "idle", _("Not used for the partnership's period")
    MADE_PERSON = "made_person", _("Became one of the partnership's people")


# The tiers a guest may act in for their agency, in words.
GUEST_TIERS = {"managers": _("managers"), "senior_leaders": _("senior leaders")}


class Guest(models.Model):
    """A professional of the other agency, not in Accord, named on a difference by work email:
    they answer it through an emailed link and a one-time code, as a guest of that escalation
    alone (``services/guests.py``; docs/decisions/0008-guests.md).

    ``account`` is the guest's own account, with no password, no role and no sign-in (it is
    never active): it is who their discussions and the audit trail name, so that what they
    wrote stays theirs if the business unit later makes them one of its people. The link,
    the code and the guest's session are kept only as hashes."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="guests")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    email = models.EmailField(_("work email"), max_length=150)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="guest_places"
    )
    named_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    named_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=GuestState.choices, default=GuestState.NAMED)
    link_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_tries = models.PositiveSmallIntegerField(default=0)
    # Codes sent in the current hour (rate limit): the hour's start and how many.
    codes_since = models.DateTimeField(null=True, blank=True)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    session_hash = models.CharField(max_length=64, blank=True)
    session_seen_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(max_length=12, choices=GuestEnd.choices, blank=True)
    # Blank: the professional the difference is with. Else the tier they act for their agency
    # in (its managers, its senior leaders), named by the raiser's manager or the business unit
    # where the difference climbed to a stage that tier works and the agency has nobody in
    # Accord to work it.
    tier = models.CharField(_("acts as"), max_length=16, blank=True)

    class Meta:
        ordering = ["named_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=GuestState.values), name="guest_state_valid"),
            models.CheckConstraint(
                condition=Q(end_reason="") | Q(end_reason__in=GuestEnd.values), name="guest_end_valid"
            ),
            models.CheckConstraint(condition=Q(tier__in=["", *GUEST_TIERS]), name="guest_tier_valid"),
            # One live place for an address on an escalation.
            models.UniqueConstraint(
                fields=["escalation", "email"],
                condition=Q(state__in=["named", "confirmed"]),
                name="guest_once_per_escalation",
            ),
        ]
        indexes = [models.Index(fields=["account", "escalation"], name="guest_account")]

    def __str__(self) -> str:
        return f"{self.email} ({self.escalation_id})"

    @property
    def is_live(self) -> bool:
        return self.state in (GuestState.NAMED, GuestState.CONFIRMED)

    @property
    def tier_words(self) -> str:
        """The tier a guest acts in for their agency, in words ("" for the professional)."""
        return str(GUEST_TIERS.get(self.tier, ""))
