"""Django's admin, for the deployment's own administrators (superusers).

The business unit keeps its partnership on Accord's own pages (``settings_pages``,
``people_pages``, ``settings_views``, the PDG's meetings in ``reports.meetings`` and its
people's API tokens in ``api.views``); this site is not theirs. Every change is written
to the audit trail.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from accord.api.models import ApiToken
from accord.api.services import api_token_revoke
from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.escalations.protocol import (
    follow_ladder_change,
    ladder_firsts,
    protocol_apply,
    recount_after_ladder_change,
)
from accord.escalations.services import (
    ProposedStage,
    escalations_recompute_due_dates,
    ladder_validate,
)
from accord.partnership.models import (
    Agency,
    AreaOfDisagreement,
    Partnership,
    PartnershipAgency,
    PracticeTheme,
    PriorityTier,
    Role,
    RoleAssignment,
    Stage,
    TimescaleBudget,
    User,
)
from accord.partnership.protocol import document_of
from accord.partnership.selectors import roles_by_partnership
from accord.partnership.services.common import audit_in_trails
from accord.partnership.services.invitations import invite, refusal_words, revoke_invitation
from accord.partnership.services.ownership import agency_partnership_ids, person_partnership_ids
from accord.partnership.services.people import (
    check_email,
    person_deactivate,
    person_details_change,
    person_email_change,
    person_line_manager_set,
    person_move,
    person_reactivate,
    person_roles_set,
)
from accord.partnership.services.settings import reporting_year_refusal
from accord.reports.models import AnnualNarrative, MeetingAction, PdgMeeting


def business_unit_partnership_ids(user) -> list[int]:
    if user.is_superuser:
        return list(Partnership.objects.values_list("pk", flat=True))
    return [pid for pid, roles in roles_by_partnership(user).items() if Role.BUSINESS_UNIT in roles]


class BusinessUnitAdminSite(admin.AdminSite):
    site_header = "Accord: partnership settings"
    site_title = "Accord partnership settings"
    index_title = "Partnership settings"

    def login(self, request: HttpRequest, extra_context=None):
        """One log-in page for Accord: the admin's own is not used."""
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", "/business-unit/admin/"))

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_superuser)


site = BusinessUnitAdminSite(name="admin")


class ScopedAdmin(admin.ModelAdmin):
    """Full access for the business unit, to its own partnerships' records only; with
    ``superusers_only``, for the deployment's administrators alone (the business unit has
    Accord's own page for it)."""

    partnership_path = "partnership"
    superusers_only = True

    def _ids(self, request):
        if self.superusers_only and not request.user.is_superuser:
            return []
        return business_unit_partnership_ids(request.user)

    def has_module_permission(self, request):
        return bool(self._ids(request))

    def has_view_permission(self, request, obj=None):
        return bool(self._ids(request))

    has_add_permission = has_view_permission
    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(**{f"{self.partnership_path}__in": self._ids(request)}).distinct()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Partnership:
            kwargs["queryset"] = Partnership.objects.filter(pk__in=self._ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Each page's own verbs, for a record added, changed and deleted here (``None``: the page
    # offers no such change, or records it through the service it calls), and its payload.
    added_verb: Verb | None = None
    changed_verb: Verb | None = None
    deleted_verb: Verb | None = None

    def audit_payload(self, obj, fields: list[str]) -> dict:
        raise NotImplementedError

    def audit_partnership(self, obj) -> int | None:
        """The partnership whose trail the entry is in (its auditor sees it there)."""
        return getattr(obj, "partnership_id", None)

    def _audit(self, request, verb: Verb | None, obj, fields: list[str]) -> None:
        if verb is not None:
            audit_record(
                actor=request.user,
                verb=verb,
                target=obj,
                partnership_id=self.audit_partnership(obj),
                payload=self.audit_payload(obj, fields),
                request=request,
            )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._audit(request, self.changed_verb if change else self.added_verb, obj, sorted(form.changed_data))

    def delete_model(self, request, obj):
        self._audit(request, self.deleted_verb, obj, [])
        super().delete_model(request, obj)


class ScopedInline(admin.TabularInline):
    """An inline the business unit can use. Its people hold no Django model permissions
    (their role is Accord's, per partnership), so without these an inline is silently left
    off the page. The parent page is already scoped to their partnerships."""

    can_delete_rows = True

    superusers_only = True

    def _allowed(self, request) -> bool:
        if self.superusers_only and not request.user.is_superuser:
            return False
        return bool(business_unit_partnership_ids(request.user))

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self.can_delete_rows and self._allowed(request)


CONFIRM_MOVES = "confirm_moved_due_dates"


class ProtocolFormSet(BaseInlineFormSet):
    """A part of the protocol (its stages, priorities or budgets) as the page would leave
    it, checked by the one service that checks a protocol (``protocol_apply`` as a dry
    run): a ladder Accord can run, nothing stranded, no priority an open escalation has
    removed. The open escalations whose due dates it would move are listed before it is
    saved, and it is saved only once the business unit has ticked that it means to move
    them."""

    part = ""

    def rows(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]

    def proposed(self, document: dict) -> None:
        raise NotImplementedError

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.has_changed():
            return
        document = document_of(self.instance)
        self.proposed(document)
        change = protocol_apply(actor=None, partnership=self.instance, document=document, dry_run=True)
        if change.moved and self.data.get(CONFIRM_MOVES) not in ("on", "true", "1"):
            listed = "; ".join(
                f"{m.reference} (stage {m.stage}): due {_day(m.was)}, would be due {_day(m.becomes)}"
                for m in change.moved
            )
            raise ValidationError(
                f"This change moves the due dates of {len(change.moved)} open escalations: {listed}. "
                "Nothing has been saved. To go on, tick “Save, moving the due dates listed” and save again."
            )


def _day(value) -> str:
    return value.strftime("%-d %B %Y") if value else "none (paused)"


class LadderFormSet(ProtocolFormSet):
    """The ladder: a stage keeps its number (``ladder_validate``) and what it is formal."""

    def clean(self) -> None:
        BaseInlineFormSet.clean(self)
        if any(self.errors):
            return
        stages = [
            ProposedStage(
                number=f.cleaned_data["number"],
                is_formal=bool(f.cleaned_data.get("is_formal")),
                worked_by=f.cleaned_data["worked_by"],
                was_number=f.initial.get("number") if f.instance.pk else None,
                was_formal=bool(f.initial.get("is_formal")) if f.instance.pk else None,
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        ladder_validate(partnership=self.instance, stages=stages)
        super().clean()

    def proposed(self, document: dict) -> None:
        document["stages"] = [
            {
                "number": row["number"],
                "name": row["name"],
                "worked_by": row["worked_by"],
                "formal": bool(row.get("is_formal")),
                "routine_working_days": row["routine_working_days"],
                "urgent_working_days": row["urgent_working_days"],
                "conference_chair_may_start": bool(row.get("conference_chair_may_start")),
                "other_working_days": row.get("other_working_days") or {},
            }
            for row in self.rows()
        ]


class PriorityFormSet(ProtocolFormSet):
    def proposed(self, document: dict) -> None:
        ordered = sorted(self.rows(), key=lambda row: (row.get("position") or 0, row["code"]))
        document["priorities"] = [
            {"code": row["code"], "label": row["label"], "description": row.get("description") or ""}
            for row in ordered
        ]


class BudgetFormSet(ProtocolFormSet):
    def proposed(self, document: dict) -> None:
        document["budgets"] = [
            {
                "first_stage": row["first_stage"],
                "last_stage": row.get("last_stage"),
                "working_days": row["working_days"],
                "origin": row.get("origin") or "",
            }
            for row in self.rows()
        ]


class StageInline(ScopedInline):
    """The ladder: names, owners and timescales can change; a stage is never removed here,
    since escalations stand at it."""

    model = Stage
    formset = LadderFormSet
    extra = 0
    can_delete_rows = False


class PriorityInline(ScopedInline):
    """The priority tiers: routine and urgent always, and any the partnership adds (each
    stage may give an added tier its own timescale; otherwise it takes the routine one)."""

    model = PriorityTier
    formset = PriorityFormSet
    extra = 0


class BudgetInline(ScopedInline):
    """Limits on the working days a run of stages may take in all, or an origin's cap on
    the whole dispute."""

    model = TimescaleBudget
    formset = BudgetFormSet
    extra = 0


class PartnershipForm(forms.ModelForm):
    front_door_form_url = forms.URLField(
        label="Front door's online request for support",
        required=False,
        assume_scheme="https",
        max_length=200,
    )
    confirm_moved_due_dates = forms.BooleanField(
        label="Save, moving the due dates listed",
        required=False,
        help_text="A change to the timescales, priorities or budgets that moves open escalations' due "
        "dates lists them first; tick this and save again to go on.",
    )

    class Meta:
        model = Partnership
        fields = [f.name for f in Partnership._meta.concrete_fields if f.editable and not f.primary_key]

    def clean_reporting_year_start_month(self):
        """Fixed once escalations are recorded, as the settings page says
        (``settings.reporting_year_refusal``)."""
        month = self.cleaned_data["reporting_year_start_month"]
        if self.instance.pk and month != self.instance.reporting_year_start_month:
            refusal = reporting_year_refusal(self.instance)
            if refusal:
                raise forms.ValidationError(refusal)
        return month


class PartnershipAgencyInline(ScopedInline):
    """The partner agencies. An agency that leaves is marked inactive on its own page, so
    its escalations keep their history."""

    model = PartnershipAgency
    extra = 0
    can_delete_rows = False


@admin.register(Partnership, site=site)
class PartnershipAdmin(ScopedAdmin):
    partnership_path = "pk"
    list_display = ["name", "reference_prefix", "front_door_phone"]
    form = PartnershipForm
    inlines = [StageInline, PriorityInline, BudgetInline, PartnershipAgencyInline]
    changed_verb = Verb.PARTNERSHIP_SETTINGS_CHANGED

    def audit_payload(self, obj, fields):
        return {"fields": fields}

    def audit_partnership(self, obj):
        return obj.pk

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_related(self, request, form, formsets, change):
        """A new bank-holiday calendar or ladder moves the open stages' due dates with it,
        and a change to who works a stage recounts who sees the escalations past it: once
        the change is saved (``changeform_view``), a batch at a time, so that nobody
        working an escalation waits for the whole of it."""
        was_first = ladder_firsts(form.instance)
        before = document_of(form.instance)
        super().save_related(request, form, formsets, change)
        timescales = (Stage, PriorityTier, TimescaleBudget)
        stages_changed = any(fs.has_changed() for fs in formsets if fs.model in timescales)
        if stages_changed:
            audit_record(
                actor=request.user,
                verb=Verb.PROTOCOL_CHANGED,
                target=form.instance,
                partnership_id=form.instance.pk,
                payload={"part": "ladder", "before": before, "after": document_of(form.instance)},
                request=request,
            )
        self._audit_agencies(request, form.instance, formsets)
        calendar_changed = bool({"holiday_country", "holiday_subdivision"} & set(form.changed_data))
        partnership = form.instance

        def follow_up() -> None:
            if stages_changed:
                moved = follow_ladder_change(partnership, was_first)
            else:
                recount_after_ladder_change(partnership, was_first)
                moved = escalations_recompute_due_dates(partnership=partnership) if calendar_changed else None
            if moved is not None:
                self.message_user(request, f"Due dates recomputed for {moved} open stages.")

        request._accord_follow_up = follow_up

    def _audit_agencies(self, request, partnership, formsets) -> None:
        """How each agency takes part in the partnership, joined or changed in the inline."""
        for formset in formsets:
            if formset.model is not PartnershipAgency:
                continue
            rows = [(Verb.AGENCY_ADDED, link, None) for link in formset.new_objects]
            rows += [(Verb.AGENCY_CHANGED, link, sorted(fields)) for link, fields in formset.changed_objects]
            for verb, link, fields in rows:
                audit_record(
                    actor=request.user,
                    verb=verb,
                    target=link.agency,
                    partnership_id=partnership.pk,
                    payload={"agency": link.agency.name, "fields": fields},
                    request=request,
                )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        follow_up = getattr(request, "_accord_follow_up", None)
        if follow_up is not None:  # the change is saved (committed, outside a test)
            request._accord_follow_up = None
            follow_up()
        return response


@admin.register(Agency, site=site)
class AgencyAdmin(ScopedAdmin):
    partnership_path = "partnerships"
    list_display = ["name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    added_verb, changed_verb = Verb.AGENCY_ADDED, Verb.AGENCY_CHANGED

    def audit_payload(self, obj, fields):
        return {"agency": obj.name, "fields": fields}

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        """An agency shared with a partnership this business unit does not run (a police
        force covering two areas) is shown, not changed here: its name is theirs too."""
        if obj is None or not super().has_change_permission(request, obj):
            return super().has_change_permission(request, obj)
        ids = set(self._ids(request))
        return set(obj.partnerships.values_list("pk", flat=True)) <= ids

    def save_model(self, request, obj, form, change):
        """A new agency joins the partnership it is added from (the business unit's only
        one, or the one they are working in), so that it is listed and can be chosen."""
        admin.ModelAdmin.save_model(self, request, obj, form, change)
        if not change:
            ids = self._ids(request)
            current = getattr(getattr(request, "partnership", None), "pk", None)
            joined = current if current in ids else (ids[0] if ids else None)
            if joined is not None:
                PartnershipAgency.objects.get_or_create(partnership_id=joined, agency=obj)
        self._audit(request, self.changed_verb if change else self.added_verb, obj, sorted(form.changed_data))

    def _audit(self, request, verb: Verb | None, obj, fields: list[str]) -> None:
        """In the trail of every partnership that keeps the agency: its name, kind and whether
        it is active are each one's."""
        if verb is None:
            return
        for partnership_id in sorted(agency_partnership_ids(obj.pk)) or [None]:
            audit_record(
                actor=request.user,
                verb=verb,
                target=obj,
                partnership_id=partnership_id,
                payload=self.audit_payload(obj, fields),
                request=request,
            )


class TermAdmin(ScopedAdmin):
    list_display = ["label", "code", "is_active", "position"]
    added_verb, changed_verb, deleted_verb = Verb.TERM_ADDED, Verb.TERM_CHANGED, Verb.TERM_DELETED
    taxonomy = ""

    def audit_payload(self, obj, fields):
        return {"taxonomy": self.taxonomy, "term": obj.code, "fields": fields}


@admin.register(AreaOfDisagreement, site=site)
class AreaAdmin(TermAdmin):
    taxonomy = "areas"


@admin.register(PracticeTheme, site=site)
class ThemeAdmin(TermAdmin):
    taxonomy = "themes"


class RoleAssignmentInline(ScopedInline):
    model = RoleAssignment
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Partnership:
            kwargs["queryset"] = Partnership.objects.filter(
                pk__in=business_unit_partnership_ids(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(partnership__in=business_unit_partnership_ids(request.user))
        )


class PersonCreationForm(forms.ModelForm):
    """Adding a person: who they are and which agency they work for, never their password
    (they are sent an invitation to set it, or sign in through their agency). The agency is
    required: it places them in the business unit's partnership (so their page can be found
    again) and scopes their roles."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "job_title", "agency", "line_manager"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].required = True
        self.fields["email"].required = True

    def clean_email(self) -> str:
        """An email is one person's in the whole deployment (the people services' own check)."""
        email = (self.cleaned_data.get("email") or "").strip().lower()
        problem = check_email(email)
        if problem:
            raise ValidationError(problem)
        return email

    def save(self, commit=True):
        person = super().save(commit=False)
        person.set_unusable_password()
        if commit:
            person.save()
        return person


class PartnershipAgencyFilter(admin.SimpleListFilter):
    """The people list filtered by agency: the business unit's own partnerships' agencies
    only, never every agency of the deployment."""

    title = "agency"
    parameter_name = "agency__id__exact"

    def lookups(self, request, model_admin):
        ids = business_unit_partnership_ids(request.user)
        agencies = Agency.objects.filter(partnerships__in=ids).distinct().order_by("name")
        return [(str(a.pk), a.name) for a in agencies]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(agency_id=self.value())
        return queryset


@admin.register(User, site=site)
class UserAdmin(DjangoUserAdmin, ScopedAdmin):
    list_display = ["username", "first_name", "last_name", "agency", "is_active", "invited_at"]
    list_filter = ["is_active", PartnershipAgencyFilter]
    inlines = [RoleAssignmentInline]
    fieldsets = (
        (None, {"fields": ("username",)}),
        ("Person", {"fields": ("first_name", "last_name", "email", "job_title", "agency", "line_manager")}),
        ("Status", {"fields": ("is_active", "invited_at", "last_login", "date_joined")}),
    )
    add_form = PersonCreationForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username",)}),
        ("Person", {"fields": ("first_name", "last_name", "email", "job_title", "agency", "line_manager")}),
    )
    readonly_fields = ["last_login", "date_joined", "invited_at"]
    actions = ["send_invitations", "revoke_invitations"]
    # Chosen by search among the business unit's own people and agencies, not from a list
    # of everyone (tens of thousands, and other partnerships' among them).
    autocomplete_fields = ["agency", "line_manager"]

    def get_queryset(self, request):
        """The people who work in the business unit's partnerships: those with a role in
        one, and those of its agencies with no role anywhere yet (just added). Someone
        whose agency is shared with another partnership, and who works only there, is
        that partnership's to manage."""
        ids = business_unit_partnership_ids(request.user)
        return User.objects.filter(
            Q(role_assignments__partnership__in=ids)
            | (Q(agency__partnerships__in=ids) & ~Q(pk__in=RoleAssignment.objects.values("user_id")))
        ).distinct()

    def has_delete_permission(self, request, obj=None):
        return False  # people are deactivated, never deleted, so the record keeps its history

    # Added: ``PERSON_ADDED`` below; changed: through the people services, but for an
    # account of no partnership's agency (the deployment's own).
    changed_verb = Verb.PERSON_DETAILS_CHANGED

    def audit_payload(self, obj, fields):
        return {"person": obj.username, "fields": fields}

    def user_change_password(self, request, id, form_url=""):
        """Nobody types another person's password, the deployment's administrators included:
        they are sent an invitation to set their own."""
        raise PermissionDenied

    def save_model(self, request, obj, form, change):
        """A person's change goes through the people services, as from every other path: each
        part its own audited action in every partnership's trail, and someone leaving or moving
        agency hands their open work on, in the same transaction. (Adding someone here is the
        deployment's administrators' way to add an account with no role yet.)"""
        if not change:
            keepers = sorted(agency_partnership_ids(obj.agency_id))
            with transaction.atomic():
                obj.home_partnership_id = keepers[0] if len(keepers) == 1 else None
                super().save_model(request, obj, form, change)
                audit_in_trails(
                    actor=request.user,
                    verb=Verb.PERSON_ADDED,
                    target=obj,
                    partnership_ids=keepers,
                    payload={"person": obj.username, "agency": obj.agency.name if obj.agency_id else ""},
                )
                if obj.email and request.partnership is not None:
                    self._invite(request, [obj])
            return
        before = User.objects.select_related("agency").get(pk=obj.pk)
        partnership = (
            Partnership.objects.filter(partnershipagency__agency_id=obj.agency_id).order_by("pk").first()
            if obj.agency_id
            else None
        ) or request.partnership
        handed = 0
        with transaction.atomic():
            if partnership is None:
                super().save_model(request, obj, form, change)
                return
            changed = set(form.changed_data)
            if changed & {"first_name", "last_name", "job_title"}:
                person_details_change(
                    actor=request.user,
                    partnership=partnership,
                    person=before,
                    first_name=obj.first_name,
                    last_name=obj.last_name,
                    job_title=obj.job_title,
                )
            if "email" in changed:
                person_email_change(
                    actor=request.user, partnership=partnership, person=before, email=obj.email
                )
            if "agency" in changed and obj.agency_id:
                handed += person_move(
                    actor=request.user, partnership=partnership, person=before, agency=obj.agency
                )
            if "line_manager" in changed:
                person_line_manager_set(
                    actor=request.user, partnership=partnership, person=before, manager=obj.line_manager
                )
            if "is_active" in changed:
                if obj.is_active:
                    person_reactivate(actor=request.user, partnership=partnership, person=before)
                else:
                    handed += person_deactivate(actor=request.user, partnership=partnership, person=before)
            if "username" in changed:  # the deployment's own: its sign-in name
                User.objects.filter(pk=obj.pk).update(username=obj.username)
                audit_in_trails(
                    actor=request.user,
                    verb=Verb.PERSON_DETAILS_CHANGED,
                    target=obj,
                    partnership_ids=person_partnership_ids(obj),
                    payload={"person": obj.username, "fields": ["username"]},
                )
        if handed:
            messages.info(request, f"{handed} open escalations of theirs were handed on (see each timeline).")

    def _invite(self, request, people) -> None:
        for person in people:
            try:
                invite(actor=request.user, person=person, partnership=request.partnership)
            except (ValidationError, NotAllowed) as refused:
                messages.warning(request, refusal_words(refused))
            else:
                messages.success(request, f"An invitation to set a password was sent to {person.email}.")

    @admin.action(description="Send an invitation to set a password (again: the earlier link stops working)")
    def send_invitations(self, request, queryset):
        self._invite(request, queryset)

    @admin.action(description="Revoke their invitations (the links sent stop working)")
    def revoke_invitations(self, request, queryset):
        for person in queryset.filter(invited_at__isnull=False):
            try:
                revoke_invitation(actor=request.user, person=person, partnership=request.partnership)
            except (ValidationError, NotAllowed) as refused:
                messages.warning(request, refusal_words(refused))
            else:
                messages.success(request, f"The invitation sent to {person.email} no longer works.")

    def save_related(self, request, form, formsets, change):
        """Roles, per partnership, through ``person_roles_set``: audited as on the pages."""
        form.save_m2m()
        person = form.instance
        for formset in formsets:
            # (What the admin's change message reads: the services wrote the roles.)
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if not formset.has_changed():
                continue
            wanted: dict[int, set[str]] = {}
            for row in formset.cleaned_data:
                if row and not row.get("DELETE") and row.get("partnership") and row.get("role"):
                    wanted.setdefault(row["partnership"].pk, set()).add(row["role"])
            touched = {
                row["partnership"].pk for row in formset.cleaned_data if row and row.get("partnership")
            }
            with transaction.atomic():
                for partnership in Partnership.objects.filter(pk__in=touched):
                    person_roles_set(
                        actor=request.user,
                        partnership=partnership,
                        person=person,
                        roles=wanted.get(partnership.pk, set()),
                    )


@admin.register(ApiToken, site=site)
class ApiTokenAdmin(ScopedAdmin):
    """The API tokens of every partnership's people (the business unit has its own page)."""

    partnership_path = "user__role_assignments__partnership"
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # every field is read-only: a token is revoked, never changed

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke_selected(self, request, queryset):
        for token in queryset:
            api_token_revoke(actor=request.user, token=token)


class MeetingActionInline(ScopedInline):
    """What the meeting asked for, of whom and by when: followed up at the next meeting,
    marked done by its owner, and chased while overdue."""

    model = MeetingAction
    extra = 1
    fields = ["description", "owner", "due_on", "done_on", "done_by", "done_note"]
    readonly_fields = ["done_on", "done_by", "done_note"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":  # the people of the business unit's own partnerships
            kwargs["queryset"] = (
                User.objects.filter(
                    is_active=True,
                    role_assignments__partnership__in=business_unit_partnership_ids(request.user),
                )
                .distinct()
                .order_by("first_name", "last_name")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(PdgMeeting, site=site)
class PdgMeetingAdmin(ScopedAdmin):
    list_display = ["held_on", "partnership"]
    inlines = [MeetingActionInline]
    added_verb, changed_verb, deleted_verb = Verb.MEETING_RECORDED, Verb.MEETING_CHANGED, Verb.MEETING_DELETED

    def audit_payload(self, obj, fields):
        return {"meeting": str(obj.held_on), "fields": fields}

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.new_objects or formset.changed_objects or formset.deleted_objects:
            audit_record(
                actor=request.user,
                verb=Verb.MEETING_ACTIONS_CHANGED,
                target=form.instance,
                payload={
                    "meeting": str(form.instance.held_on),
                    "added": [a.pk for a in formset.new_objects],
                    "changed": [a.pk for a, _fields in formset.changed_objects],
                    "deleted": len(formset.deleted_objects),
                },
                request=request,
            )


@admin.register(AnnualNarrative, site=site)
class AnnualNarrativeAdmin(ScopedAdmin):
    list_display = ["year", "partnership", "updated_at"]
    added_verb = changed_verb = Verb.NARRATIVE_CHANGED
    deleted_verb = Verb.NARRATIVE_DELETED

    def audit_payload(self, obj, fields):
        return {"year": obj.year, "fields": fields}
