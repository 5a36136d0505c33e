"""The data protection officer's page: everything held about a child, gathered into one
file, within the partnership the auditor is working in (served under ``/audit/``)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accord.audit.views import require_auditor

from .data_protection import subject_access


class SubjectAccessForm(forms.Form):
    agency_reference = forms.CharField(
        label=_("The child's case reference in an agency's records"),
        max_length=100,
        error_messages={"required": _("Enter the case reference")},
    )


def subject_access_request(request: HttpRequest) -> HttpResponse:
    """The data protection officer gathers everything held about a child into one file."""
    require_auditor(request)
    form = SubjectAccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reference = form.cleaned_data["agency_reference"]
        data, count = subject_access(
            actor=request.user, partnership=request.partnership, agency_reference=reference
        )
        if count == 0:
            # Nothing to send: say so on the page rather than hand over an empty file. The
            # search itself is in the audit trail all the same.
            return render(request, "audit/subject_access.html", {"form": form, "none_found": reference})
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="subject-access.zip"'
        return response
    return render(request, "audit/subject_access.html", {"form": form})
