"""Pages where a user manages their own API tokens, and the business unit those of its people."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accord.core.errors import NotAllowed, Refused
from accord.partnership.services.common import business_unit_refusal, is_business_unit

from .models import ApiToken
from .services import (
    DEFAULT_EXPIRY_DAYS,
    MAX_EXPIRY_DAYS,
    api_token_create,
    api_token_revoke,
    tokens_kept_by,
    tokens_of_shared_people,
)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("What is the token for?"),
        help_text=gettext_lazy("For example, the name of your agency's case-management system."),
        max_length=100,
        error_messages={"required": gettext_lazy("Enter what the token is for")},
    )
    expires_days = forms.TypedChoiceField(
        label=gettext_lazy("Expires after"),
        coerce=int,
        choices=[
            (30, gettext_lazy("30 days")),
            (DEFAULT_EXPIRY_DAYS, gettext_lazy("90 days")),
            (MAX_EXPIRY_DAYS, gettext_lazy("A year")),
        ],
        initial=DEFAULT_EXPIRY_DAYS,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Select when the token expires")},
    )


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = api_token_create(
            actor=request.user,
            user=request.user,
            expires_days=form.cleaned_data["expires_days"],
            name=form.cleaned_data["name"],
        )
        form = TokenForm()
    mine = ApiToken.objects.filter(user=request.user)
    return render(request, "api/tokens.html", {"form": form, "tokens": mine, "new_token": new_token})


@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = ApiToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token revoked"))
    return redirect("api_tokens")


def _business_unit_partnership(request: HttpRequest):
    """(The settings pages' check, ``web.settings_pages.business_unit_partnership``, here
    beneath them: one definition of who and one refusal, from the partnership services.)"""
    if request.partnership is None or not is_business_unit(request.roles):
        raise Refused(business_unit_refusal())
    return request.partnership


def _partnership_tokens(partnership):
    return tokens_kept_by(partnership).select_related("user", "user__agency")


@require_http_methods(["GET"])
def partnership_tokens(request: HttpRequest) -> HttpResponse:
    """The API tokens of the partnership's own people (those in use first), each revocable;
    how many its people who also work elsewhere hold is said, not listed."""
    partnership = _business_unit_partnership(request)
    found = _partnership_tokens(partnership).order_by(F("revoked_at").asc(nulls_first=True), "-created_at")
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    shared = tokens_of_shared_people(partnership).filter(revoked_at__isnull=True).count()
    return render(
        request, "api/partnership_tokens.html", {"page": page, "partnership": partnership, "shared": shared}
    )


@require_POST
def partnership_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _business_unit_partnership(request)
    token = _partnership_tokens(partnership).filter(pk=pk).first()
    if token is None:
        raise Http404
    try:
        api_token_revoke(actor=request.user, token=token)
    except NotAllowed as refused:
        raise Refused(str(refused)) from refused
    messages.success(request, _("The token %(prefix)s… is revoked") % {"prefix": token.prefix})
    return redirect("partnership_api_tokens")
