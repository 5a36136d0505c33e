"""Two-step verification: a TOTP authenticator app, with one-time recovery codes.

Required for the roles in ``settings.MFA_REQUIRED_ROLES`` (the PDG, the business unit,
auditors and the executive) and available to everyone. A signed-in user who has a
device, or needs one, reaches nothing but these pages until verified.
"""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import Callable

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.partnership.selectors import roles_by_partnership

OPEN_PATHS = ("/login/", "/logout/", "/healthz", "/readyz", "/static/", "/api/", "/oidc/", "/sign-in/")
RECOVERY_CODES = 10


def mfa_required(user) -> bool:
    if user.is_superuser:  # the deployment's administrators set up partnerships
        return True
    required = set(settings.MFA_REQUIRED_ROLES)
    return any(roles & required for roles in roles_by_partnership(user).values())


def has_device(user) -> bool:
    """Whether ``user`` has a confirmed two-step device of any kind (as
    ``django_otp.user_has_device``), asked in one statement rather than one a kind of
    device: it is asked on every page for everyone not yet verified."""
    if not getattr(user, "is_authenticated", False):
        return False
    found = [
        model.objects.devices_for_user(user, confirmed=True).values("pk")
        for model in django_otp.device_classes()
    ]
    if not found:
        return False
    first, *rest = found
    return (first.union(*rest, all=True) if rest else first).exists()


def second_step_due(user) -> str | None:
    """What a signed-in ``user`` must do before reaching anything but the two-step pages:
    ``"verify"`` (they have a device and have not used it this session), ``"setup"``
    (their roles require a device and they have none), or ``None``."""
    if user is None or not user.is_authenticated:
        return None
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or is_verified():
        return None
    # Read with the user at the start of this request when they came from the session
    # (accord.web.backends); asked afresh otherwise.
    found = getattr(user, "_accord_has_device", None)
    if found if found is not None else has_device(user):
        return "verify"
    if mfa_required(user):
        return "setup"
    return None


class TwoStepRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(OPEN_PATHS) and not request.path.startswith(("/account/two-step/",)):
            due = second_step_due(getattr(request, "user", None))
            if due == "verify":
                return redirect(f"{reverse('mfa_verify')}?next={request.get_full_path()}")
            if due == "setup":
                return redirect("mfa_setup")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Security code"),
        help_text=gettext_lazy(
            "The 6-digit code from your authenticator app, or one of your recovery codes."
        ),
        max_length=20,
        error_messages={"required": gettext_lazy("Enter the security code")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/"
    return target


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect(_safe_next(request))
    if not has_device(request.user):
        return redirect("mfa_setup")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].replace(" ", "")
        device = django_otp.match_token(request.user, code)
        if device is not None:
            django_otp.login(request, device)
            audit_record(
                actor=request.user,
                verb=Verb.MFA_VERIFIED,
                payload={"device": device.__class__.__name__},
                request=request,
            )
            return redirect(_safe_next(request))
        audit_record(actor=request.user, verb=Verb.MFA_FAILED, request=request)
        form.add_error("code", _("The security code is not right, or has expired. Enter the current code"))
    return render(request, "registration/mfa_verify.html", {"form": form, "next": _safe_next(request)})


def _qr_svg(uri: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if has_device(user) and not user.is_verified():
        return redirect("mfa_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST if request.method == "POST" else None)
    recovery: list[str] = []
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user, confirmed=True).delete()
                device.confirmed = True
                device.save()
                StaticDevice.objects.filter(user=user).delete()
                static = StaticDevice.objects.create(user=user, name="Recovery codes")
                recovery = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
                StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in recovery])
                audit_record(actor=user, verb=Verb.MFA_ENROLLED, request=request)
            django_otp.login(request, device)
            messages.success(request, _("Two-step verification is set up"))
            return render(request, "registration/mfa_recovery_codes.html", {"codes": recovery})
        form.add_error("code", _("The security code is not right. Enter the code your app shows now"))
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            # In groups of four, as authenticator apps show and accept it, and so that it
            # wraps on a narrow screen rather than running off it.
            "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - an SVG we generate from our own URI
            "required": mfa_required(user),
        },
    )
