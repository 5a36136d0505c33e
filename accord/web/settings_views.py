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
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.govuk import DateInputField
from accord.partnership.models import Partnership, PublicStatement, Role
from accord.partnership.roles import SETTINGS_ROLES

from .invitations import invite
from .people_import import COLUMNS, MOST_BYTES, ImportFileError, apply_import, plan_import

SESSION_KEY = "accord_people_import"


class PeopleFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Upload the spreadsheet of people"),
        help_text=gettext_lazy("CSV (UTF-8) or Excel (XLSX), up to 5 MB and 5,000 people."),
        error_messages={"required": gettext_lazy("Select a CSV or XLSX file")},
    )


def _require_business_unit(request: HttpRequest):
    if request.partnership is None or not request.roles & SETTINGS_ROLES:
        raise PermissionDenied
    return request.partnership


@require_http_methods(["GET", "POST"])
def people_import(request: HttpRequest) -> HttpResponse:
    """Upload, see every row's problems in plain words (nothing changes), then apply."""
    partnership = _require_business_unit(request)
    form, plan = PeopleFileForm(), None
    if request.method == "POST" and request.POST.get("apply"):
        kept = request.session.get(SESSION_KEY) or {}
        if kept.get("partnership") != partnership.pk or kept.get("hash") != request.POST.get("apply"):
            messages.error(request, _("Upload the file again: the checked file is no longer to hand."))
            return redirect("people_import")
        # Checked again as it is applied: someone may have changed people since the dry run.
        plan = plan_import(partnership, base64.b64decode(kept["content"]), kept["name"])
        try:
            counts = apply_import(actor=request.user, plan=plan)
        except ValidationError:
            pass  # the rows' problems are shown below, as in the dry run
        else:
            if request.POST.get("invite"):
                for person in plan.created:
                    try:
                        invite(actor=request.user, person=person, partnership=partnership)
                    except ValidationError as refused:
                        messages.warning(request, " ".join(refused.messages))
            del request.session[SESSION_KEY]
            messages.success(
                request,
                _("%(create)s people added, %(update)s updated, %(unchanged)s unchanged")
                % {"create": counts["create"], "update": counts["update"], "unchanged": counts["unchanged"]},
            )
            return redirect("people_import")
    elif request.method == "POST":
        form = PeopleFileForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read(MOST_BYTES + 1)
            try:
                plan = plan_import(partnership, content, upload.name)
            except ImportFileError as problem:
                form.add_error("file", str(problem))
            else:
                if plan.ok:
                    request.session[SESSION_KEY] = {
                        "partnership": partnership.pk,
                        "hash": plan.file_hash,
                        "name": upload.name,
                        "content": base64.b64encode(content).decode(),
                    }
    return render(
        request,
        "core/people_import.html",
        {
            "form": form,
            "plan": plan,
            "columns": COLUMNS,
            "role_codes": Role.values,
            "partnership": partnership,
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
            "contact_email",
            "contact_phone",
            "last_tested",
            "last_reviewed",
            "privacy_notice",
            "data_protection_contact",
        ]
        widgets = {
            "compliance": forms.RadioSelect,
            "known_issues": forms.Textarea(attrs={"rows": 8}),
            "privacy_notice": forms.Textarea(attrs={"rows": 14}),
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
    partnership = _require_business_unit(request)
    statement = _statement(partnership)
    form = StatementForm(request.POST or None, instance=statement)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            audit_record(
                actor=request.user,
                verb=Verb.CONFIGURATION_CHANGED,
                target=form.instance,
                partnership_id=partnership.pk,
                payload={"statement": True, "fields": sorted(form.changed_data)},
                request=request,
            )
        messages.success(request, _("The accessibility statement and privacy notice are saved"))
        return redirect("edit_statement")
    return render(request, "core/edit_statement.html", {"form": form, "partnership": partnership})


# --------------------------------------------------------------------------- invitations


class GovukSetPasswordForm(SetPasswordForm):
    """Django's form for choosing a password, in GOV.UK's words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = gettext_lazy("Choose a password")
        self.fields["new_password2"].label = gettext_lazy("Type it again")


@method_decorator(login_not_required, name="dispatch")
class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The invitation's link: choose a password, once. A used, revoked or expired link says so."""

    template_name = "registration/set_password.html"
    form_class = GovukSetPasswordForm
    success_url = "/login/?password_set=1"

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(
            actor=form.user, verb=Verb.PASSWORD_SET, target=form.user, payload={}, request=self.request
        )
        messages.success(self.request, _("Your password is set: sign in with it now"))
        return response
