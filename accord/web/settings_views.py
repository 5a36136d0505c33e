"""The business unit's own pages beside the settings site: people in bulk, and what a public
body publishes (the accessibility statement and the privacy notice, open to anyone)."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.core.errors import NotAllowed
from accord.core.govuk import DateInputField
from accord.escalations.protocol import partnership_create
from accord.escalations.services.agencies import agency_merge, agency_merge_plan
from accord.partnership.models import (
    Agency,
    AgencyKind,
    Partnership,
    PartnershipAgency,
    PublicStatement,
    Role,
    SignInProvider,
)
from accord.partnership.protocol import preset, preset_names
from accord.partnership.selectors import partnership_agencies
from accord.partnership.services.agencies import agency_add
from accord.partnership.services.invitations import invitation_password_set, invite, refusal_words
from accord.partnership.services.people_import import (
    COLUMNS,
    MOST_BYTES,
    ImportFileError,
    apply_import,
    plan_import,
    read_rows,
)
from accord.partnership.services.settings import statement_save
from accord.partnership.services.sign_in import (
    ProviderDetails,
    providers_kept_by,
    providers_seen_by,
    sign_in_provider_confirm,
    sign_in_provider_save,
)

from .settings_pages import add_errors, business_unit_partnership
from .sign_in import awaiting_approval

SESSION_KEY = "accord_people_import"


class PeopleFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Upload the spreadsheet of people"),
        help_text=gettext_lazy("CSV (UTF-8) or Excel (XLSX), up to 5 MB and 5,000 people."),
        error_messages={"required": gettext_lazy("Select a CSV or XLSX file")},
    )


class PeopleWordsForm(forms.Form):
    """The file's agencies and roles that name none exactly, each with a choice beside it (the
    closest chosen already), for the business unit to confirm."""

    def __init__(self, *args, words, agencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.words = words
        options = {
            "agency": [(name, name) for name in agencies],
            "role": [(code, str(label)) for code, label in Role.choices],
        }
        for i, word in enumerate(words):
            self.fields[f"word-{i}"] = forms.ChoiceField(
                label=word.raw,
                help_text=_("An agency as the file writes it")
                if word.kind == "agency"
                else _("A role as the file writes it"),
                choices=[("", _("None of these: correct the file")), *options[word.kind]],
                required=False,
                initial=word.suggested or "",
            )

    def confirmed(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for i, word in enumerate(self.words):
            if self.cleaned_data.get(f"word-{i}"):
                found.setdefault(word.kind, {})[word.raw] = self.cleaned_data[f"word-{i}"]
        return found


def _people_kept(request: HttpRequest, partnership) -> dict:
    kept = request.session.get(SESSION_KEY) or {}
    return kept if kept.get("partnership") == partnership.pk else {}


def _people_apply(request: HttpRequest, partnership, kept: dict, page: dict) -> HttpResponse | None:
    # Checked again as it is applied: someone may have changed people since the dry run.
    plan = page["plan"] = plan_import(
        partnership, base64.b64decode(kept["content"]), kept["name"], kept.get("words", {})
    )
    try:
        counts = apply_import(actor=request.user, plan=plan)
    except ValidationError:
        return None  # the rows' problems are shown, as in the dry run
    except NotAllowed as refused:  # someone changed meanwhile now belongs elsewhere too
        messages.error(request, str(refused))
        return None
    if request.POST.get("invite"):
        for person in plan.created:
            try:
                invite(actor=request.user, person=person, partnership=partnership)
            except (ValidationError, NotAllowed) as refused:
                messages.warning(request, refusal_words(refused))
    del request.session[SESSION_KEY]
    messages.success(
        request,
        _("%(create)s people added, %(update)s updated, %(unchanged)s unchanged")
        % {"create": counts["create"], "update": counts["update"], "unchanged": counts["unchanged"]},
    )
    return redirect("people_import")


def _people_plan(request: HttpRequest, partnership, kept: dict, page: dict, words=None) -> None:
    """The dry run, with the words confirmed so far; the words still to confirm, on a form."""
    kept["words"] = words if words is not None else kept.get("words", {})
    plan = page["plan"] = plan_import(
        partnership, base64.b64decode(kept["content"]), kept["name"], kept["words"]
    )
    kept["hash"] = plan.file_hash
    request.session[SESSION_KEY] = kept
    if plan.words:
        agencies = list(partnership_agencies(partnership).values_list("name", flat=True))
        page["words_form"] = PeopleWordsForm(words=plan.words, agencies=agencies)


@require_http_methods(["GET", "POST"])
def people_import(request: HttpRequest) -> HttpResponse:
    """Upload, confirm what the file's agencies and roles mean where they name none exactly,
    see every row's problems in plain words (nothing changes), then apply."""
    partnership = business_unit_partnership(request)
    page = {"form": PeopleFileForm(), "plan": None, "words_form": None}
    kept = _people_kept(request, partnership)
    if request.method == "POST" and (request.POST.get("apply") or request.POST.get("step") == "words"):
        if not kept or (request.POST.get("apply") and kept.get("hash") != request.POST.get("apply")):
            messages.error(request, _("Upload the file again: the checked file is no longer to hand."))
            return redirect("people_import")
        if request.POST.get("apply"):
            done = _people_apply(request, partnership, kept, page)
            if done is not None:
                return done
        else:
            plan = plan_import(
                partnership, base64.b64decode(kept["content"]), kept["name"], kept.get("words", {})
            )
            agencies = list(partnership_agencies(partnership).values_list("name", flat=True))
            words = PeopleWordsForm(request.POST, words=plan.words, agencies=agencies)
            words.is_valid()
            merged = {kind: dict(table) for kind, table in kept.get("words", {}).items()}
            for kind, table in words.confirmed().items():
                merged.setdefault(kind, {}).update(table)
            _people_plan(request, partnership, kept, page, words=merged)
    elif request.method == "POST":
        form = page["form"] = PeopleFileForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read(MOST_BYTES + 1)
            try:
                read_rows(content, upload.name)
            except ImportFileError as problem:
                form.add_error("file", str(problem))
            else:
                kept = {
                    "partnership": partnership.pk,
                    "name": upload.name,
                    "content": base64.b64encode(content).decode(),
                }
                _people_plan(request, partnership, kept, page, words={})
    return render(
        request,
        "core/people_import.html",
        {**page, "columns": COLUMNS, "role_labels": Role.labels, "partnership": partnership},
    )


# --------------------------------------------------------------------------- merging two agencies


class MergeForm(forms.Form):
    source = forms.ChoiceField(
        label=gettext_lazy("The agency to merge"),
        help_text=gettext_lazy("Its people, escalations and history move; it is then kept, inactive."),
        error_messages={"required": gettext_lazy("Select the agency to merge")},
    )
    into = forms.ChoiceField(
        label=gettext_lazy("The agency it becomes part of"),
        error_messages={"required": gettext_lazy("Select the agency it becomes part of")},
    )

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "")] + [(str(a.pk), a.name) for a in partnership_agencies(partnership)]
        self.fields["source"].choices = choices
        self.fields["into"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("source") and data.get("source") == data.get("into"):
            self.add_error("into", _("Choose another agency to merge it into"))
        return data


@require_http_methods(["GET", "POST"])
def agency_merge_page(request: HttpRequest) -> HttpResponse:
    """Choose two agencies, see what would move (and anything in the way), then merge."""
    partnership = business_unit_partnership(request)
    form, plan = MergeForm(partnership=partnership), None
    if request.method == "POST":
        form = MergeForm(request.POST, partnership=partnership)
        if form.is_valid():
            agencies = partnership_agencies(partnership).in_bulk(
                [int(form.cleaned_data["source"]), int(form.cleaned_data["into"])]
            )
            source, into = (
                agencies[int(form.cleaned_data["source"])],
                agencies[int(form.cleaned_data["into"])],
            )
            try:
                if request.POST.get("confirm") == "yes":
                    done = agency_merge(actor=request.user, partnership=partnership, source=source, into=into)
                    messages.success(
                        request,
                        _("%(source)s is now part of %(into)s: %(people)s people and %(n)s escalations moved")
                        % {"source": source, "into": into, "people": done.people, "n": done.escalations},
                    )
                    return redirect("home")
                plan = agency_merge_plan(
                    actor=request.user, partnership=partnership, source=source, into=into
                )
            except ValidationError as refused:
                for field, errors in refused.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                plan = None
            except NotAllowed as refused:
                form.add_error("source", str(refused))
    return render(request, "core/agency_merge.html", {"form": form, "plan": plan, "partnership": partnership})


# --------------------------------------------------------------------------- each agency's own sign-in


class SignInProviderForm(forms.Form):
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.none(),
        label=gettext_lazy("The agency whose people sign in through it"),
        error_messages={"required": gettext_lazy("Select the agency")},
    )
    name = forms.CharField(
        label=gettext_lazy("What the sign-in button names"),
        max_length=100,
        help_text=gettext_lazy("For example: Royal Devon staff account"),
        error_messages={"required": gettext_lazy("Enter what the sign-in button names")},
    )
    issuer = forms.URLField(
        label=gettext_lazy("Issuer"),
        max_length=300,
        assume_scheme="https",
        help_text=gettext_lazy("The provider's issuer URL, as its discovery document gives it."),
        error_messages={
            "required": gettext_lazy("Enter the provider's issuer URL"),
            "invalid": gettext_lazy("Enter the issuer as a URL, like https://login.example.org/tenant/v2.0"),
        },
    )
    client_id = forms.CharField(
        label=gettext_lazy("Client ID"),
        max_length=200,
        error_messages={"required": gettext_lazy("Enter the client ID Accord was given")},
    )
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=gettext_lazy("Kept encrypted and never shown again. Leave empty to keep the one saved."),
    )
    accepted_issuers = forms.CharField(
        label=gettext_lazy("Issuers accepted"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One a line, when sign-ins come from more than the issuer above (a multi-tenant app). "
            "Empty: the issuer only."
        ),
    )
    creates_people = forms.BooleanField(
        label=gettext_lazy(
            "Someone of the agency not yet in Accord is added on signing in, with no role, for the "
            "business unit to approve"
        ),
        required=False,
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)

    def __init__(self, *args, agencies, editing: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        if not editing:
            self.fields.pop("is_active")

    def details(self) -> ProviderDetails:
        data = self.cleaned_data
        return ProviderDetails(
            agency=data["agency"],
            name=data["name"],
            issuer=data["issuer"],
            client_id=data["client_id"],
            client_secret=data.get("client_secret") or "",
            accepted_issuers=data.get("accepted_issuers") or "",
            creates_people=data.get("creates_people", False),
            is_active=data.get("is_active", True),
        )


def _provider_initial(provider: SignInProvider) -> dict:
    return {
        "agency": provider.agency_id,
        "name": provider.name,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "accepted_issuers": provider.accepted_issuers,
        "creates_people": provider.creates_people,
        "is_active": provider.is_active,
    }


def _own_agencies(partnership):
    """The agencies whose sign-in this business unit keeps: those no other partnership keeps."""
    shared = PartnershipAgency.objects.exclude(partnership=partnership).values("agency_id")
    return partnership_agencies(partnership).exclude(pk__in=shared)


def _save_provider(request, form: SignInProviderForm, partnership, provider=None) -> SignInProvider | None:
    try:
        return sign_in_provider_save(
            actor=request.user, partnership=partnership, details=form.details(), provider=provider
        )
    except (ValidationError, NotAllowed) as refused:
        add_errors(form, refused)
        return None


@require_http_methods(["GET", "POST"])
def sign_in_providers(request: HttpRequest) -> HttpResponse:
    """The partnership's agencies' own sign-in providers (its own, and the deployment's on
    agencies it shares with other partnerships, shown but not changed here), a new one
    added, and the people who signed in and are waiting for a role."""
    partnership = business_unit_partnership(request)
    form = SignInProviderForm(request.POST or None, agencies=_own_agencies(partnership), editing=False)
    if request.method == "POST" and form.is_valid():
        provider = _save_provider(request, form, partnership)
        if provider is not None:
            messages.success(
                request, _("%(name)s is added: its people can sign in through it") % {"name": provider.name}
            )
            return redirect("sign_in_providers")
    return render(
        request,
        "core/sign_in_providers.html",
        {
            "form": form,
            "providers": providers_seen_by(partnership),
            "waiting": awaiting_approval(partnership),
            "partnership": partnership,
            "callback": request.build_absolute_uri(reverse("agency_sign_in_callback")),
        },
    )


@require_http_methods(["GET", "POST"])
def sign_in_provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the partnership's own providers (another's, or the deployment's, is not found)."""
    partnership = business_unit_partnership(request)
    provider = providers_kept_by(partnership).filter(pk=pk).first()
    if provider is None:
        raise Http404
    form = SignInProviderForm(
        request.POST or None,
        initial=_provider_initial(provider),
        agencies=Agency.objects.filter(
            Q(pk__in=_own_agencies(partnership).values("pk")) | Q(pk=provider.agency_id)
        ).order_by("name"),
        editing=True,
    )
    if request.method == "POST" and form.is_valid() and _save_provider(request, form, partnership, provider):
        messages.success(request, _("%(name)s is saved") % {"name": provider.name})
        return redirect("sign_in_providers")
    return render(
        request,
        "core/sign_in_provider_edit.html",
        {"form": form, "provider": provider, "partnership": partnership, "back": "sign_in_providers"},
    )


# --------------------------------------------------------------------------- the deployment's administrators


def _require_deployment_admin(request: HttpRequest) -> None:
    if not (request.user.is_authenticated and request.user.is_superuser):
        raise PermissionDenied


def _preset_choices() -> list[tuple[str, str]]:
    """Each preset in words: its name, how many stages, where it turns formal, its body."""
    choices = []
    for name in preset_names():
        document = preset(name)
        stages = document["stages"]
        formal_from = min((i + 1 for i, st in enumerate(stages) if st.get("formal")), default=None)
        choices.append(
            (
                name,
                _("%(preset)s (%(name)s): %(n)s stages, formal from stage %(formal)s, with the %(body)s")
                % {
                    "preset": name,
                    "name": document["name"],
                    "n": len(stages),
                    "formal": formal_from,
                    "body": document["formal_body"]["name"],
                },
            )
        )
    return choices


class NewPartnershipForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("The partnership's name"), max_length=200)
    slug = forms.CharField(
        label=gettext_lazy("Short name"),
        max_length=50,
        help_text=gettext_lazy("Lower-case letters, digits and hyphens, as in addresses: for example wessex"),
    )
    prefix = forms.CharField(
        label=gettext_lazy("Reference prefix (optional)"),
        max_length=10,
        required=False,
        help_text=gettext_lazy("Escalations' references begin with it. Empty: from the short name."),
    )
    preset = forms.ChoiceField(label=gettext_lazy("The protocol to start from"), widget=forms.RadioSelect)
    front_door_phone = forms.CharField(
        label=gettext_lazy("The children's services front door number"), max_length=40
    )
    business_unit_name = forms.CharField(
        label=gettext_lazy("The business unit's name (optional)"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Empty: the partnership's name followed by Business Unit."),
    )
    officer_name = forms.CharField(
        label=gettext_lazy("The business unit's first officer: name"), max_length=150
    )
    officer_email = forms.EmailField(
        label=gettext_lazy("Their email address"),
        help_text=gettext_lazy("They are sent an invitation to set their password."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = _preset_choices()
        for field in self.fields.values():
            field.error_messages.setdefault(
                "required", _("Enter %(what)s") % {"what": str(field.label).lower()}
            )
        self.fields["preset"].error_messages["required"] = _("Select the protocol to start from")


@require_http_methods(["GET"])
def deployment_home(request: HttpRequest) -> HttpResponse:
    _require_deployment_admin(request)
    partnerships = Partnership.objects.order_by("name")
    return render(
        request,
        "core/deployment.html",
        {"partnerships": partnerships, "providers": _deployment_providers()},
    )


def _deployment_providers():
    """The sign-in providers the deployment's administrators keep: those of agencies more than
    one partnership keeps, and those waiting for them to confirm."""
    shared = _shared_agencies().values("pk")
    return (
        SignInProvider.objects.filter(
            Q(partnership__isnull=True) | Q(awaiting_confirmation=True) | Q(agency__in=shared)
        )
        .select_related("agency")
        .order_by("-awaiting_confirmation", "name")
    )


def _shared_agencies():
    shared = PartnershipAgency.objects.values("agency_id").annotate(n=Count("partnership_id")).filter(n__gt=1)
    return Agency.objects.filter(pk__in=shared.values("agency_id"), is_active=True).order_by("name")


@require_http_methods(["GET", "POST"])
def deployment_sign_in_provider(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A provider of an agency that more than one partnership keeps, added or changed by the
    deployment's administrators (the only ones who may), or one waiting confirmed."""
    _require_deployment_admin(request)
    provider = get_object_or_404(_deployment_providers(), pk=pk) if pk is not None else None
    if provider is not None and request.method == "POST" and request.POST.get("confirm"):
        sign_in_provider_confirm(actor=request.user, provider=provider)
        messages.success(request, _("%(name)s is confirmed and in use") % {"name": provider.name})
        return redirect("deployment_home")
    agencies = _shared_agencies()
    if provider is not None:
        agencies = Agency.objects.filter(Q(pk__in=agencies.values("pk")) | Q(pk=provider.agency_id))
    form = SignInProviderForm(
        request.POST or None,
        initial=_provider_initial(provider) if provider else None,
        agencies=agencies,
        editing=provider is not None,
    )
    if request.method == "POST" and form.is_valid() and _save_provider(request, form, None, provider):
        messages.success(request, _("%(name)s is saved") % {"name": form.cleaned_data["name"]})
        return redirect("deployment_home")
    return render(
        request,
        "core/sign_in_provider_edit.html",
        {
            "form": form,
            "provider": provider,
            "deployment": True,
            "back": "deployment_home",
            "callback": request.build_absolute_uri(reverse("agency_sign_in_callback")),
        },
    )


@require_http_methods(["GET", "POST"])
def partnership_new(request: HttpRequest) -> HttpResponse:
    """A new partnership from a preset protocol, with its business unit's first officer
    invited: the deployment's administrators' day one for a partnership."""
    _require_deployment_admin(request)
    form = NewPartnershipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = partnership_create(
                actor=request.user,
                name=data["name"],
                slug=data["slug"],
                prefix=data["prefix"],
                document=preset(data["preset"]),
                preset_name=data["preset"],
                front_door_phone=data["front_door_phone"],
                business_unit_name=data["business_unit_name"],
                officer_name=data["officer_name"],
                officer_email=data["officer_email"],
            )
        except ValidationError as refused:
            for field, errors in refused.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            partnership, officer = created.partnership, created.officer
            try:
                invite(actor=request.user, person=officer, partnership=partnership)
            except (ValidationError, NotAllowed) as refused:
                messages.warning(request, refusal_words(refused))
            else:
                messages.success(
                    request,
                    _("%(name)s is set up; %(email)s has been sent an invitation")
                    % {"name": partnership.name, "email": officer.email},
                )
            return redirect("deployment_home")
    return render(request, "core/partnership_new.html", {"form": form})


# --------------------------------------------------------------------------- the partnership's agencies


class AgencyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("The agency's name"),
        max_length=200,
        help_text=gettext_lazy(
            "An agency already in Accord for another partnership (a police force, say) joins this "
            "one only through the deployment's administrators: ask them."
        ),
        error_messages={"required": gettext_lazy("Enter the agency's name")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What kind of agency it is"),
        choices=[("", "")] + list(AgencyKind.choices),
        error_messages={"required": gettext_lazy("Select what kind of agency it is")},
    )
    takes_part_in_raising = forms.BooleanField(
        label=gettext_lazy("It raises and receives escalations here"), required=False, initial=True
    )
    staff = forms.IntegerField(
        label=gettext_lazy("How many of its people work with children here (about, optional)"),
        min_value=1,
        max_value=1_000_000,
        required=False,
    )


@require_http_methods(["GET", "POST"])
def agencies(request: HttpRequest) -> HttpResponse:
    """The partnership's agencies, and one added (new, or one another partnership has)."""
    partnership = business_unit_partnership(request)
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agency, _shared = agency_add(
                actor=request.user,
                partnership=partnership,
                name=data["name"],
                kind=data["kind"],
                takes_part_in_raising=data["takes_part_in_raising"],
                staff=data["staff"],
            )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(
                request, _("%(name)s is one of the partnership's agencies now") % {"name": agency.name}
            )
            return redirect("agencies")
    links = (
        PartnershipAgency.objects.filter(partnership=partnership, agency__is_active=True)
        .select_related("agency")
        .annotate(people=Count("agency__people", filter=Q(agency__people__is_active=True)))
        .order_by("agency__name")
    )
    return render(request, "core/agencies.html", {"form": form, "links": links, "partnership": partnership})


class ShareAgencyForm(forms.Form):
    partnership = forms.ModelChoiceField(
        queryset=Partnership.objects.order_by("name"),
        label=gettext_lazy("The partnership it joins"),
        error_messages={"required": gettext_lazy("Select the partnership")},
    )
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.filter(is_active=True, merged_into=None).order_by("name"),
        label=gettext_lazy("The agency, already in Accord for another partnership"),
        error_messages={"required": gettext_lazy("Select the agency")},
    )
    takes_part_in_raising = forms.BooleanField(
        label=gettext_lazy("It raises and receives escalations there"), required=False, initial=True
    )


@require_http_methods(["GET", "POST"])
def deployment_share_agency(request: HttpRequest) -> HttpResponse:
    """An agency one partnership keeps joins another (a police force covering both): the
    deployment's administrators' alone, since its people and sign-in become both
    partnerships' business (recorded in each one's trail)."""
    _require_deployment_admin(request)
    form = ShareAgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agency, _shared = agency_add(
                actor=request.user,
                partnership=data["partnership"],
                name=data["agency"].name,
                kind=data["agency"].kind,
                takes_part_in_raising=data["takes_part_in_raising"],
            )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(
                request,
                _("%(agency)s is one of %(partnership)s's agencies now")
                % {"agency": agency.name, "partnership": data["partnership"].name},
            )
            return redirect("deployment_home")
    return render(
        request,
        "core/settings/form.html",
        {
            "form": form,
            "title": _("Share an agency with another partnership"),
            "button": _("Add it to the partnership"),
            "back": "deployment_home",
            "partnership": _("This deployment"),
        },
    )


# --------------------------------------------------------------------------- what a public body publishes


class StatementForm(forms.ModelForm):
    last_tested = DateInputField(
        label=gettext_lazy("When Accord was last tested for accessibility"),
        subject=gettext_lazy("the date it was last tested"),
        allow_future=False,
        required=False,
    )
    last_reviewed = DateInputField(
        label=gettext_lazy("When this statement was last reviewed"),
        subject=gettext_lazy("the date it was last reviewed"),
        allow_future=False,
        required=False,
    )

    class Meta:
        model = PublicStatement
        fields = [
            "compliance",
            "known_issues",
            "known_issues_cy",
            "contact_email",
            "contact_phone",
            "last_tested",
            "last_reviewed",
            "privacy_notice",
            "privacy_notice_cy",
            "data_protection_contact",
        ]
        widgets = {
            "compliance": forms.RadioSelect,
            "known_issues": forms.Textarea(attrs={"rows": 8}),
            "known_issues_cy": forms.Textarea(attrs={"rows": 8, "lang": "cy"}),
            "privacy_notice": forms.Textarea(attrs={"rows": 14}),
            "privacy_notice_cy": forms.Textarea(attrs={"rows": 14, "lang": "cy"}),
        }


def _published_for(request: HttpRequest) -> Partnership | None:
    """Whose statement: the partnership someone is working in, or, for a visitor, the one the
    address names (``?partnership=slug``), or the deployment's only or first partnership."""
    if getattr(request, "partnership", None) is not None:
        return request.partnership
    slug = request.GET.get("partnership", "")
    return (
        Partnership.objects.filter(slug=slug).first() if slug else Partnership.objects.order_by("pk").first()
    )


def _statement(partnership: Partnership | None) -> PublicStatement | None:
    if partnership is None:
        return None
    return PublicStatement.objects.filter(partnership=partnership).first() or PublicStatement(
        partnership=partnership
    )


@login_not_required
@require_http_methods(["GET"])
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    partnership = _published_for(request)
    return render(
        request,
        "core/accessibility_statement.html",
        {"statement": _statement(partnership), "partnership": partnership},
    )


@login_not_required
@require_http_methods(["GET"])
def privacy_notice(request: HttpRequest) -> HttpResponse:
    partnership = _published_for(request)
    return render(
        request,
        "core/privacy_notice.html",
        {"statement": _statement(partnership), "partnership": partnership},
    )


@require_http_methods(["GET", "POST"])
def edit_statement(request: HttpRequest) -> HttpResponse:
    """The business unit keeps its accessibility statement and privacy notice; audited."""
    partnership = business_unit_partnership(request)
    statement = _statement(partnership)
    form = StatementForm(request.POST or None, instance=statement)
    if request.method == "POST" and form.is_valid():
        try:
            statement_save(actor=request.user, partnership=partnership, data=form.cleaned_data)
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(request, _("The accessibility statement and privacy notice are saved"))
            return redirect("edit_statement")
    return render(request, "core/edit_statement.html", {"form": form, "partnership": partnership})


# --------------------------------------------------------------------------- invitations


class GovukSetPasswordForm(SetPasswordForm):
    """Django's form for choosing a password, in GOV.UK's words."""

    request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = gettext_lazy("Choose a password")
        self.fields["new_password2"].label = gettext_lazy("Type it again")

    def save(self, commit=True):
        return invitation_password_set(
            person=self.user, password=self.cleaned_data["new_password1"], request=self.request
        )


@method_decorator(login_not_required, name="dispatch")
class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The invitation's link: choose a password, once. A used, revoked or expired link says so."""

    template_name = "registration/set_password.html"
    form_class = GovukSetPasswordForm
    success_url = "/login/?password_set=1"

    def form_valid(self, form):
        form.request = self.request  # (the address the audit entry records)
        response = super().form_valid(form)  # saved by ``invitation_password_set``
        messages.success(self.request, _("Your password is set: sign in with it now"))
        return response
