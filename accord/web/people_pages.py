"""The business unit's pages for its people (found by name, email or agency, added, changed,
given roles and a line manager, invited, moved or deactivated), an agency of the partnership
changed, and its two taxonomies. Each is one caller of the partnership services
(``partnership.services``: ``people``, ``invitations``, ``agencies``, ``taxonomies``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.core.errors import NotAllowed
from accord.partnership.models import (
    Agency,
    AgencyKind,
    Language,
    PartnershipAgency,
    Role,
    RoleAssignment,
    User,
)
from accord.partnership.selectors import partnership_agencies
from accord.partnership.services.agencies import AgencyDetails, agency_shared_elsewhere, agency_update
from accord.partnership.services.invitations import invite, refusal_words, revoke_invitation
from accord.partnership.services.ownership import people_of, person_is_shared, shared_person_words
from accord.partnership.services.people import PersonDetails, person_save
from accord.partnership.services.taxonomies import TAXONOMIES, TermDetails, term_save

from .settings_pages import _page, add_errors, business_unit_partnership

PAGE_SIZE = 50


# --------------------------------------------------------------------------- people


class PeopleFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name or email"), required=False, max_length=150)
    agency = forms.TypedChoiceField(
        label=gettext_lazy("Agency"), coerce=int, required=False, empty_value=None
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Who"),
        required=False,
        choices=[
            ("", gettext_lazy("Everyone")),
            ("active", gettext_lazy("Working in Accord now")),
            ("inactive", gettext_lazy("Deactivated")),
            ("no_role", gettext_lazy("Waiting for a role")),
        ],
    )

    def __init__(self, *args, partnership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", _("Every agency"))] + [
            (a.pk, a.name) for a in partnership_agencies(partnership, active_only=False)
        ]


@require_http_methods(["GET"])
def people(request: HttpRequest) -> HttpResponse:
    """The partnership's people, found by name, email, agency or status, fifty a page."""
    partnership = business_unit_partnership(request)
    form = PeopleFilterForm(request.GET or None, partnership=partnership)
    found = people_of(partnership)
    if form.is_valid():
        data = form.cleaned_data
        for word in (data.get("q") or "").split()[:5]:
            found = found.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(username__icontains=word)
            )
        if data.get("agency"):
            found = found.filter(agency_id=data["agency"])
        if data.get("status") == "active":
            found = found.filter(is_active=True)
        elif data.get("status") == "inactive":
            found = found.filter(is_active=False)
        elif data.get("status") == "no_role":
            found = found.exclude(role_assignments__partnership=partnership)
    found = (
        found.select_related("agency", "line_manager")
        .prefetch_related(
            Prefetch(
                "role_assignments",
                queryset=RoleAssignment.objects.filter(partnership=partnership),
                to_attr="roles_here",
            )
        )
        .order_by("last_name", "first_name", "pk")
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return _page(
        request,
        "people.html",
        {"form": form, "page": page, "query": query.urlencode(), "role_labels": dict(Role.choices)},
    )


class PersonForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        max_length=150,
        help_text=gettext_lazy("Their work email: they sign in with it, and the invitation is sent to it."),
        error_messages={
            "required": gettext_lazy("Enter their email address"),
            "invalid": gettext_lazy("Enter an email address in the correct format, like name@example.org"),
        },
    )
    job_title = forms.CharField(label=gettext_lazy("Job title (optional)"), max_length=200, required=False)
    agency = forms.TypedChoiceField(
        label=gettext_lazy("Agency"),
        coerce=int,
        error_messages={"required": gettext_lazy("Select their agency")},
    )
    line_manager_email = forms.EmailField(
        label=gettext_lazy("Their line manager's email (optional)"),
        max_length=150,
        required=False,
        help_text=gettext_lazy(
            "Someone who works in this partnership. A manager sees what the people they manage "
            "raise from the manager's own agency."
        ),
        error_messages={"invalid": gettext_lazy("Enter the line manager's email, like name@example.org")},
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Their roles in this partnership"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Nobody sees or does anything in Accord without a role."),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Works in Accord now (untick when they leave: their open work is handed on)"),
        required=False,
        initial=True,
    )
    language = forms.ChoiceField(
        label=gettext_lazy("The language Accord writes to them in"),
        choices=[
            ("", gettext_lazy("Not known: both English and Welsh, where the partnership works in Wales")),
            *Language.choices,
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text=gettext_lazy("Their emails and documents. They can change it themselves."),
    )
    invite = forms.BooleanField(
        label=gettext_lazy("Email them an invitation to set their password"), required=False, initial=True
    )

    # What is the person's in every partnership: shown, not asked, for someone shared.
    IDENTITY = (
        "first_name",
        "last_name",
        "email",
        "job_title",
        "agency",
        "line_manager_email",
        "is_active",
        "language",
    )

    def __init__(self, *args, partnership, person: User | None, shared: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.person = person
        choices = [(a.pk, a.name) for a in partnership_agencies(partnership)]
        if person is not None and person.agency_id and person.agency_id not in {pk for pk, _name in choices}:
            # Their agency as it is (inactive, or another partnership's where they also work).
            choices.append((person.agency_id, person.agency.name))
        self.fields["agency"].choices = [("", ""), *choices]
        if person is None:
            del self.fields["is_active"]
        else:
            del self.fields["invite"]
        self.fields["email"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["line_manager_email"].widget.attrs.update({"autocomplete": "off"})
        self.shared = shared
        if shared:
            # Shown as they are, not asked; a value posted anyway goes to the service, which
            # refuses it and records the attempt in every partnership's trail.
            for name in self.IDENTITY:
                self.fields[name].required = False
                self.fields[name].widget = forms.HiddenInput()

    def details(self) -> PersonDetails:
        data = {**self.initial, **self.cleaned_data}
        if self.shared:
            data.update({n: self.initial.get(n) for n in self.IDENTITY if n not in self.data})
        return PersonDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            job_title=data["job_title"],
            agency=Agency.objects.filter(pk=data["agency"]).first(),  # the service checks it is ours
            line_manager_email=data["line_manager_email"],
            roles=list(data["roles"]),
            is_active=data.get("is_active", True),
            language=data.get("language") or "",
        )


def _person_initial(person: User, partnership) -> dict:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "job_title": person.job_title,
        "agency": person.agency_id,
        "line_manager_email": person.line_manager.email if person.line_manager_id else "",
        "roles": list(
            RoleAssignment.objects.filter(user=person, partnership=partnership).values_list("role", flat=True)
        ),
        "is_active": person.is_active,
        "language": person.language,
    }


def _person_of(request: HttpRequest, partnership, pk: int) -> User:
    person = people_of(partnership).filter(pk=pk).select_related("agency", "line_manager").first()
    if person is None:
        raise Http404
    return person


@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A person added, or one of the partnership's people changed (details, agency, line
    manager, roles, leaving)."""
    partnership = business_unit_partnership(request)
    person = _person_of(request, partnership, pk) if pk is not None else None
    initial = _person_initial(person, partnership) if person is not None else {}
    shared = person is not None and person_is_shared(person, partnership) and not request.user.is_superuser
    form = PersonForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        partnership=partnership,
        person=person,
        shared=shared,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = person_save(
                actor=request.user, partnership=partnership, details=form.details(), person=person
            )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            name = saved.person.get_full_name() or saved.person.email
            if saved.created:
                messages.success(request, _("%(name)s is added") % {"name": name})
                if form.cleaned_data.get("invite"):
                    _invite(request, saved.person, partnership)
            elif saved.changed:
                messages.success(request, _("%(name)s's details are saved") % {"name": name})
            if saved.handed_on:
                messages.info(
                    request,
                    _("%(n)s open escalations of theirs were handed on (see each timeline)")
                    % {"n": saved.handed_on},
                )
            return redirect("person_edit", pk=saved.person.pk)
    return _page(
        request,
        "person.html",
        {
            "form": form,
            "person": person,
            "shared": shared,
            "shared_words": shared_person_words(person) if shared else "",
            "title": (person.get_full_name() or person.email) if person else _("Add a person"),
        },
    )


def _invite(request: HttpRequest, person: User, partnership) -> bool:
    try:
        invite(actor=request.user, person=person, partnership=partnership)
    except (ValidationError, NotAllowed) as refused:
        messages.warning(request, refusal_words(refused))
        return False
    messages.success(
        request, _("An invitation to set a password was sent to %(email)s") % {"email": person.email}
    )
    return True


@require_http_methods(["POST"])
def person_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Send an invitation again (the earlier link stops working), or revoke it."""
    partnership = business_unit_partnership(request)
    person = _person_of(request, partnership, pk)
    if request.POST.get("revoke"):
        if person.invited_at is not None:
            try:
                revoke_invitation(actor=request.user, person=person, partnership=partnership)
            except (ValidationError, NotAllowed) as refused:
                messages.warning(request, refusal_words(refused))
            else:
                messages.success(
                    request, _("The invitation sent to %(email)s no longer works") % {"email": person.email}
                )
    elif not person.is_active:
        messages.warning(request, _("Someone deactivated is not sent an invitation"))
    else:
        _invite(request, person, partnership)
    return redirect("person_edit", pk=person.pk)


# --------------------------------------------------------------------------- an agency of the partnership


class AgencyEditForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("The agency's name"),
        max_length=200,
        error_messages={"required": gettext_lazy("Enter the agency's name")},
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("What kind of agency it is"),
        choices=[("", "")] + list(AgencyKind.choices),
        error_messages={"required": gettext_lazy("Select what kind of agency it is")},
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active (untick when it leaves: its escalations keep their history)"),
        required=False,
    )
    takes_part_in_raising = forms.BooleanField(
        label=gettext_lazy("It raises and receives escalations here"), required=False
    )
    staff = forms.IntegerField(
        label=gettext_lazy("How many of its people work with children here (about, optional)"),
        min_value=1,
        max_value=1_000_000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, shared: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].govuk_classes = "govuk-input--width-5"
        if shared:
            for name in ("name", "kind", "is_active"):
                del self.fields[name]


@require_http_methods(["GET", "POST"])
def agency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = business_unit_partnership(request)
    link = (
        PartnershipAgency.objects.filter(partnership=partnership, agency__pk=pk, agency__merged_into=None)
        .select_related("agency")
        .first()
    )
    if link is None:
        raise Http404
    agency = link.agency
    shared = agency_shared_elsewhere(agency, partnership)
    initial = {
        "name": agency.name,
        "kind": agency.kind,
        "is_active": agency.is_active,
        "takes_part_in_raising": link.takes_part_in_raising,
        "staff": link.staff,
    }
    form = AgencyEditForm(request.POST if request.method == "POST" else None, initial=initial, shared=shared)
    if request.method == "POST" and form.is_valid():
        data = {**initial, **form.cleaned_data}
        try:
            agency_update(
                actor=request.user,
                partnership=partnership,
                agency=agency,
                details=AgencyDetails(
                    name=data["name"],
                    kind=data["kind"],
                    is_active=data["is_active"],
                    takes_part_in_raising=data["takes_part_in_raising"],
                    staff=data["staff"],
                ),
            )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(request, _("%(name)s is saved") % {"name": data["name"]})
            return redirect("agencies")
    people_count = agency.people.filter(is_active=True).count()
    return _page(
        request,
        "agency.html",
        {"form": form, "agency": agency, "shared": shared, "people_count": people_count},
    )


# --------------------------------------------------------------------------- taxonomies

TAXONOMY_NAMES = {
    "areas": (gettext_lazy("Areas of disagreement"), gettext_lazy("area of disagreement")),
    "themes": (gettext_lazy("Practice themes"), gettext_lazy("practice theme")),
}


@require_http_methods(["GET"])
def taxonomies(request: HttpRequest) -> HttpResponse:
    partnership = business_unit_partnership(request)
    lists = []
    for key, model in TAXONOMIES.items():
        terms = model.objects.filter(partnership=partnership).order_by("position", "label")
        lists.append({"key": key, "title": TAXONOMY_NAMES[key][0], "terms": terms})
    return _page(request, "taxonomies.html", {"lists": lists})


class TermForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Label"),
        max_length=200,
        error_messages={"required": gettext_lazy("Enter the label")},
    )
    label_cy = forms.CharField(
        label=gettext_lazy("Label in Welsh (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"lang": "cy"}),
        help_text=gettext_lazy("For a partnership that works in Wales: shown on the pages in Welsh."),
    )
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=60,
        help_text=gettext_lazy(
            "Lower-case letters, digits, - or _: how the API and reports name it. It never changes."
        ),
        error_messages={"required": gettext_lazy("Enter the code")},
    )
    position = forms.IntegerField(
        label=gettext_lazy("Position in the list (0 first)"),
        min_value=0,
        max_value=1000,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": gettext_lazy("Enter the position, 0 for first")},
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Offered when raising (untick to retire it: escalations keep it)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, editing: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].govuk_classes = "govuk-input--width-4"
        if editing:
            del self.fields["code"]


@require_http_methods(["GET", "POST"])
def term_edit(request: HttpRequest, taxonomy: str, pk: int | None = None) -> HttpResponse:
    partnership = business_unit_partnership(request)
    model = TAXONOMIES.get(taxonomy)
    if model is None:
        raise Http404
    term = None
    if pk is not None:
        term = model.objects.filter(partnership=partnership, pk=pk).first()
        if term is None:
            raise Http404
    initial = (
        {
            "label": term.label,
            "label_cy": term.label_cy,
            "position": term.position,
            "is_active": term.is_active,
        }
        if term
        else {}
    )
    form = TermForm(
        request.POST if request.method == "POST" else None, initial=initial, editing=term is not None
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = term_save(
                actor=request.user,
                partnership=partnership,
                taxonomy=taxonomy,
                term=term,
                details=TermDetails(
                    label=data["label"],
                    label_cy=data.get("label_cy", ""),
                    code=data.get("code", ""),
                    is_active=data["is_active"],
                    position=data["position"],
                ),
            )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(request, _("“%(label)s” is saved") % {"label": saved.label})
            return redirect("taxonomies")
    name = TAXONOMY_NAMES[taxonomy][1]
    return _page(
        request,
        "form.html",
        {
            "form": form,
            "title": (_("Change the %(what)s “%(label)s”") % {"what": name, "label": term.label})
            if term
            else _("Add an %(what)s") % {"what": name}
            if taxonomy == "areas"
            else _("Add a %(what)s") % {"what": name},
            "button": _("Save"),
            "back": "taxonomies",
        },
    )
