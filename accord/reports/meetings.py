"""The record of the formal body's meetings, kept by the business unit and the PDG's chair:
each meeting (what it discussed, decided and asked for) and the actions it asked of people,
which reach their owners' home pages and are chased while overdue."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.core import clock
from accord.core.errors import NotAllowed, NotFound, Refused
from accord.core.govuk import DateInputField

from .models import PdgMeeting
from .policies import may_record_meetings
from .services import meeting_action_add, meeting_save


def _partnership(request: HttpRequest):
    if request.partnership is None or not may_record_meetings(request.user, request.partnership.pk):
        raise Refused(_("The business unit or the formal body's chair keeps the record of its meetings."))
    return request.partnership


def _add_errors(form: forms.Form, refused: ValidationError | NotAllowed) -> None:
    if isinstance(refused, NotAllowed):
        form.add_error(None, str(refused))
        return
    for name, errors in refused.message_dict.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


class MeetingForm(forms.Form):
    held_on = DateInputField(
        label=gettext_lazy("When the meeting was held"),
        subject=gettext_lazy("the date of the meeting"),
        allow_future=False,
    )
    discussed = forms.CharField(
        label=gettext_lazy("What the meeting discussed (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("The formal body's own record: no child's details here."),
    )
    decided = forms.CharField(
        label=gettext_lazy("What it decided (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    asked_for = forms.CharField(
        label=gettext_lazy("What it asked for, in words (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Shown with the next standing item. Add each action with its owner and date below, so it is "
            "followed up and chased."
        ),
    )


class ActionForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("What the meeting asked for"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Enter what the meeting asked for")},
    )
    owner_email = forms.EmailField(
        label=gettext_lazy("The email of the person it was asked of"),
        max_length=150,
        error_messages={
            "required": gettext_lazy("Enter the email of the person it was asked of"),
            "invalid": gettext_lazy("Enter an email address in the correct format, like name@example.org"),
        },
    )
    due_on = DateInputField(label=gettext_lazy("By when"), subject=gettext_lazy("the date it is due"))


@require_http_methods(["GET"])
def meetings(request: HttpRequest) -> HttpResponse:
    partnership = _partnership(request)
    found = (
        PdgMeeting.objects.filter(partnership=partnership)
        .annotate(
            asked=Count("actions"),
            open=Count("actions", filter=Q(actions__done_on__isnull=True)),
            overdue=Count(
                "actions", filter=Q(actions__done_on__isnull=True, actions__due_on__lt=clock.today())
            ),
        )
        .order_by("-held_on")
    )
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    return render(request, "reports/meetings.html", {"page": page, "partnership": partnership})


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A meeting recorded, or its record changed; the actions it asked for, one added."""
    partnership = _partnership(request)
    meeting = None
    if pk is not None:
        meeting = PdgMeeting.objects.filter(pk=pk, partnership=partnership).first()
        if meeting is None:
            raise Http404
    initial = (
        {
            "held_on": meeting.held_on,
            "discussed": meeting.discussed,
            "decided": meeting.decided,
            "asked_for": meeting.asked_for,
        }
        if meeting
        else {}
    )
    posted = request.POST if request.method == "POST" else None
    adding = posted is not None and posted.get("form") == "action"
    form = MeetingForm(None if adding else posted, initial=initial)
    action_form = ActionForm(posted if adding else None, prefix="action") if meeting else None
    if posted is not None and not adding and form.is_valid():
        try:
            saved = meeting_save(
                actor=request.user, partnership=partnership, meeting=meeting, **form.cleaned_data
            )
        except (ValidationError, NotAllowed) as refused:
            _add_errors(form, refused)
        else:
            messages.success(request, _("The meeting's record is saved"))
            return redirect("reports:meeting", pk=saved.pk)
    if adding and action_form is not None and action_form.is_valid():
        try:
            meeting_action_add(actor=request.user, meeting=meeting, **action_form.cleaned_data)
        except (ValidationError, NotAllowed, NotFound) as refused:
            _add_errors(action_form, refused)
        else:
            messages.success(request, _("The action is added: its owner sees it on their home page"))
            return redirect("reports:meeting", pk=meeting.pk)
    actions = meeting.actions.select_related("owner", "done_by") if meeting else []
    return render(
        request,
        "reports/meeting.html",
        {
            "form": form,
            "action_form": action_form,
            "meeting": meeting,
            "actions": actions,
            "partnership": partnership,
            "today": clock.today(),
        },
    )
