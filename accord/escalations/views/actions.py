"""The action pages on an escalation: each a form on GET and its service on POST, with the
service's refusals shown as the page's errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound, Refused, RuleViolation, StaleVersion
from accord.core.middleware import pending_post
from accord.partnership.protocol import ladder_of

from .. import forms as f
from .. import selectors, services
from ..models import AgreedAction, Escalation
from ..policies import (
    did_not_hold,
    may_complete_action,
    reopen_too_late,
    reopen_window_open,
)
from ._common import _audit_read, _get, _partnership

logger = logging.getLogger("accord.escalations")

# --------------------------------------------------------------------------- actions


def _action(
    request: HttpRequest,
    pk: int,
    *,
    permission: str,
    form_factory: Callable[..., Any],
    template: str,
    perform: Callable[[Escalation, dict[str, Any], int | None], Any],
    success: str,
    extra: dict[str, Any] | Callable[[Escalation], dict[str, Any]] | None = None,
    initial: Callable[[Escalation], dict[str, Any]] | None = None,
    may: Callable[[Escalation], bool] | None = None,
    refused: str = "",
) -> HttpResponse:
    """An action's page: the form on GET, the service on POST. ``may`` decides who for an
    action on a part of the escalation (an agreed action) rather than the escalation itself."""
    escalation = _get(request, pk)
    if may is not None:
        if not may(escalation):
            raise Refused(refused)
    elif not request.user.has_perm(f"escalations.{permission}", escalation):
        raise Refused(str(services.refusal(request.user, permission, escalation) or ""))
    if request.method == "GET":
        _audit_read(request, escalation, permission)
    status = 200
    stale = False
    if request.method == "POST":
        form = form_factory(escalation, request.POST, request.FILES)
        if form.is_valid():
            version = form.cleaned_data.get("version")
            try:
                perform(escalation, form.cleaned_data, version)
            except ValidationError as e:
                f.add_service_errors(form, e)
                status = 422 if isinstance(e, RuleViolation) else 200
            except StaleVersion:
                stale = True
                status = 409
                escalation = _get(request, pk)
                form = form_factory(
                    escalation,
                    None,
                    None,
                    initial={"version": escalation.version, **(initial(escalation) if initial else {})},
                )
            except NotAllowed:
                raise PermissionDenied from None
            except NotFound:
                raise Http404 from None
            else:
                messages.success(request, success)
                if not Escalation.objects.visible_to(request.user).filter(pk=pk).exists():
                    # The change ended this person's part in it (rule 7): say so, not "not found".
                    messages.info(
                        request, _("You no longer take part in this escalation, so it is not listed for you.")
                    )
                    return redirect("home")
                return redirect("escalations:detail", pk=pk)
    else:
        kept = pending_post(request)
        if kept:
            # Typed before an idle sign-out: shown back, checked, never acted on unasked.
            data = QueryDict(mutable=True)
            for key, values in kept.items():
                data.setlist(key, values)
            form = form_factory(escalation, data, None)
            form.is_valid()
            messages.success(
                request,
                _(
                    "You were signed out, but what you had typed on this page was kept. Check it and save it again."
                ),
            )
        else:
            form = form_factory(
                escalation,
                None,
                None,
                initial={"version": escalation.version, **(initial(escalation) if initial else {})},
            )
    more = extra(escalation) if callable(extra) else extra
    context = {"escalation": escalation, "form": form, "stale": stale, **(more or {})}
    return render(request, template, context, status=status)


def _agreed(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@require_http_methods(["GET", "POST"])
def discuss(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_record_discussion(
            actor=request.user,
            escalation=e,
            held_on=cd["held_on"],
            note=cd["note"],
            with_manager=cd["with_manager"],
            participants=cd["participants"],
            agreed=_agreed(cd["agreed"]),
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="record_discussion",
        form_factory=lambda e, data, files, initial=None: f.DiscussionForm(data, initial=initial),
        template="escalations/actions/discuss.html",
        perform=perform,
        success=_("Discussion recorded"),
    )


@require_http_methods(["GET", "POST"])
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    forms_made: list = []

    def factory(e, data, files, initial=None):
        form = f.EscalateForm(data, initial=initial, escalation=e)
        forms_made.append(form)
        return form

    def perform(e, cd, version):
        services.escalation_escalate(
            actor=request.user,
            escalation=e,
            reason=cd["reason"],
            efforts_to_resolve=cd.get("efforts_to_resolve") or "",
            to_stage=cd["to_stage"],
            skip_reason=cd.get("skip_reason") or "",
            expected_version=version,
            answers={k: cd.get(k) or "" for k in forms_made[-1].asks if k != "efforts_to_resolve"},
        )

    escalation = _get(request, pk)
    return _action(
        request,
        pk,
        permission="escalate",
        form_factory=factory,
        template="escalations/actions/escalate.html",
        perform=perform,
        success=_("Escalated to the next stage"),
        extra={"consulted": services.manager_consulted(escalation)},
        initial=lambda e: {"efforts_to_resolve": services.efforts_from_history(e)},
    )


@require_http_methods(["GET", "POST"])
def add_details(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        answers = {k: cd.get(k) or "" for k in f.ANSWER_FIELDS if k in cd}
        services.escalation_add_details(
            actor=request.user, escalation=e, answers=answers, expected_version=version
        )

    return _action(
        request,
        pk,
        permission="add_details",
        form_factory=lambda e, data, files, initial=None: f.DetailsForm(data, initial=initial, escalation=e),
        template="escalations/actions/add_details.html",
        perform=perform,
        success=_("The details are added"),
    )


@require_http_methods(["GET", "POST"])
def add_view(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_add_view(
            actor=request.user, escalation=e, view=cd["view"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="add_view",
        form_factory=lambda e, data, files, initial=None: f.ViewForm(data, initial=initial),
        template="escalations/actions/add_view.html",
        perform=perform,
        success=_("Your view is added"),
    )


@require_http_methods(["GET", "POST"])
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_pause(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="pause",
        form_factory=lambda e, data, files, initial=None: f.ReasonForm(data, initial=initial),
        template="escalations/actions/pause.html",
        perform=perform,
        success=_("Stage paused: its clock has stopped"),
    )


@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_resume(actor=request.user, escalation=e, expected_version=version)

    return _action(
        request,
        pk,
        permission="resume",
        form_factory=lambda e, data, files, initial=None: f.VersionedForm(data, initial=initial),
        template="escalations/actions/resume.html",
        perform=perform,
        success=_("Stage resumed: its clock is running again"),
    )


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_withdraw(
            actor=request.user,
            escalation=e,
            reason=cd["reason"],
            learning=cd["learning"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="withdraw",
        form_factory=lambda e, data, files, initial=None: f.WithdrawForm(data, initial=initial),
        template="escalations/actions/withdraw.html",
        perform=perform,
        success=_("Escalation withdrawn"),
    )


@require_http_methods(["GET", "POST"])
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    if reopen_too_late(request.user, escalation):  # the page says why, with no form
        _audit_read(request, escalation, "reopen")
        context = {"escalation": escalation, "window_open": False, "form": f.ReasonForm()}
        context["reopen_days"] = escalation.partnership.reopen_within_days
        status = 422 if request.method == "POST" else 200
        return render(request, "escalations/actions/reopen.html", context, status=status)

    def perform(e, cd, version):
        services.escalation_reopen(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="reopen",
        form_factory=lambda e, data, files, initial=None: f.ReasonForm(data, initial=initial),
        template="escalations/actions/reopen.html",
        perform=perform,
        success=_("Escalation reopened"),
        extra=lambda e: {
            "window_open": reopen_window_open(e) or did_not_hold.test(request.user, e),
            "did_not_hold": did_not_hold.test(request.user, e),
            "reopen_days": e.partnership.reopen_within_days,
        },
    )


@require_http_methods(["GET", "POST"])
def raise_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the agreed way forward did not hold: raise the difference again, linked to this
    escalation, starting from a draft filled in from it. Rule 1 is asked first."""
    escalation = _get(request, pk)
    if not request.user.has_perm("escalations.raise_again", escalation):
        raise Refused(str(services.refusal(request.user, "raise_again", escalation) or ""))
    form = f.DangerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["immediate_danger"] == "yes":
            return redirect("escalations:emergency")  # rule 1: nothing is kept
        try:
            draft = services.raise_again_draft(
                actor=request.user, escalation=escalation, immediate_danger=False
            )
        except NotAllowed:
            raise PermissionDenied from None
        return redirect("escalations:check", draft=draft.pk)
    return render(request, "escalations/actions/raise_again.html", {"escalation": escalation, "form": form})


@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Some weeks after the resolution: did the agreed way forward hold, what changed?"""

    def perform(e, cd, version):
        services.escalation_follow_up(
            actor=request.user,
            escalation=e,
            held=cd["held"],
            what_changed=cd["what_changed"],
            learning=cd["learning"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="follow_up",
        form_factory=lambda e, data, files, initial=None: f.FollowUpForm(data, initial=initial),
        template="escalations/actions/follow_up.html",
        perform=perform,
        success=_("Thank you: what happened since is recorded"),
        extra=lambda e: {"resolution": e.resolutions.order_by("-resolved_at").first()},
    )


@require_http_methods(["GET", "POST"])
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the raiser's or a named practitioner's part to someone else in the same agency."""

    def perform(e, cd, version):
        services.escalation_reassign(
            actor=request.user,
            escalation=e,
            holder=cd["holder"],
            to_username=cd["to"],
            reason=cd["reason"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="reassign",
        form_factory=lambda e, data, files, initial=None: f.ReassignForm(data, escalation=e, initial=initial),
        template="escalations/actions/reassign.html",
        perform=perform,
        success=_("Reassigned: whoever holds it now has been told"),
        extra={"submit_label": _("Reassign")},
    )


@require_http_methods(["GET", "POST"])
def pdg_action(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_pdg_action(
            actor=request.user,
            escalation=e,
            action=cd["action"],
            note=cd["note"],
            facilitator_username=cd["facilitator"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="pdg_act",
        form_factory=lambda e, data, files, initial=None: f.PdgActionForm(
            data, initial=initial, partnership=e.partnership
        ),
        template="escalations/actions/pdg_action.html",
        perform=perform,
        success=_("Recorded"),
        extra=lambda e: {"formal_body_decides": ladder_of(e.partnership).decides_at(e.stage)},
    )


@require_http_methods(["GET", "POST"])
def appoint_facilitator(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_facilitator_appoint(
            actor=request.user,
            escalation=e,
            facilitator_username=cd["facilitator"],
            note=cd["note"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="appoint_facilitator",
        form_factory=lambda e, data, files, initial=None: f.AppointFacilitatorForm(
            data, initial=initial, partnership=e.partnership
        ),
        template="escalations/actions/appoint_facilitator.html",
        perform=perform,
        success=_("Facilitator appointed: they can now see this escalation and take part in its discussions"),
    )


@require_http_methods(["GET", "POST"])
def end_facilitation(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_end_facilitation(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="end_facilitation",
        form_factory=lambda e, data, files, initial=None: f.EndFacilitationForm(data, initial=initial),
        template="escalations/actions/end_facilitation.html",
        perform=perform,
        success=_("Appointment ended: the facilitator no longer sees this escalation"),
        extra=lambda e: {
            "submit_label": _("End the appointment"),
            "appointments": list(
                e.pdg_actions.filter(facilitator__isnull=False, ended_at__isnull=True).select_related(
                    "facilitator"
                )
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def add_party(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_add_party(
            actor=request.user,
            escalation=e,
            agency_id=cd["agency"],
            practitioner_username=cd["practitioner"],
            reason=cd["reason"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="change_parties",
        form_factory=lambda e, data, files, initial=None: f.AddPartyForm(data, escalation=e, initial=initial),
        template="escalations/actions/add_party.html",
        perform=perform,
        success=_("Agency brought in: whoever receives it there has been told"),
        extra={"submit_label": _("Bring the agency in")},
    )


@require_http_methods(["GET", "POST"])
def remove_party(request: HttpRequest, pk: int, agency: int) -> HttpResponse:
    def party(e: Escalation):
        found = next((o for o in e.others() if o.agency_id == agency), None)
        if found is None:
            raise Http404
        return found

    def perform(e, cd, version):
        services.escalation_remove_party(
            actor=request.user, escalation=e, agency_id=agency, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="change_parties",
        form_factory=lambda e, data, files, initial=None: f.RemovePartyForm(data, initial=initial),
        template="escalations/actions/remove_party.html",
        perform=perform,
        success=_("Agency taken out of the difference"),
        extra=lambda e: {"party": party(e), "submit_label": _("Take the agency out")},
    )


@require_http_methods(["GET", "POST"])
def complete_action(request: HttpRequest, pk: int, action: int) -> HttpResponse:
    def agreed(e: Escalation) -> AgreedAction:
        found = e.agreed_actions.select_related("owner_agency", "completed_by").filter(pk=action).first()
        if found is None:
            raise Http404
        found.escalation = e
        return found

    def perform(e, cd, version):
        services.agreed_action_complete(
            actor=request.user, escalation=e, action_id=action, note=cd["note"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="complete_action",
        may=lambda e: may_complete_action(request.user, agreed(e)),
        refused=str(
            _("An agreed action is marked done by its agency, or by the parties' managers and leaders.")
        ),
        form_factory=lambda e, data, files, initial=None: f.CompleteActionForm(data, initial=initial),
        template="escalations/actions/complete_action.html",
        perform=perform,
        success=_("Action marked done"),
        extra=lambda e: {"action": agreed(e), "submit_label": _("Mark as done")},
    )


@require_http_methods(["GET", "POST"])
def agreed_action(request: HttpRequest, action: int) -> HttpResponse:
    """An agreed or commissioned action's own page, for the agency that owns it whether or
    not it is a party (and whoever sees the escalation): what was asked, by when, the
    difference or theme in a line, never a child's details; marked done here with a note."""
    try:
        found = selectors.agreed_action_get(user=request.user, pk=action, partnership=_partnership(request))
    except NotFound:
        raise Http404 from None
    e = found.action.escalation
    form = f.CompleteActionForm(request.POST if request.method == "POST" else None)
    if request.method == "GET":
        _audit_read(request, e, "agreed_action")
    if request.method == "POST" and form.is_valid():
        try:
            services.agreed_action_complete(
                actor=request.user, escalation=e, action_id=action, note=form.cleaned_data["note"]
            )
        except (IllegalTransition, NotAllowed) as refused:
            form.add_error(None, str(refused))
        except NotFound:
            raise Http404 from None
        else:
            messages.success(request, _("Action marked done"))
            return redirect("escalations:agreed_action", action=action)
    return render(
        request,
        "escalations/agreed_action.html",
        {"found": found, "action": found.action, "form": form, "today": clock.today()},
    )


def _actions_from(cd: dict[str, Any], rows: int) -> list[services.ActionDetails]:
    return f.agreed_actions_from(cd, rows)


@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_resolve(
            actor=request.user,
            escalation=e,
            outcome=cd["outcome"],
            agreed_way_forward=cd["agreed_way_forward"],
            child_centred_outcome_achieved=cd["child_centred_outcome_achieved"],
            learning=cd["learning"],
            referred_to=cd["referred_to"],
            actions=_actions_from(cd, f.ResolveForm.ACTION_ROWS),
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="resolve",
        form_factory=lambda e, data, files, initial=None: f.ResolveForm(
            data, initial=initial, partnership=e.partnership
        ),
        template="escalations/actions/resolve.html",
        perform=perform,
        success=_("Resolution recorded"),
    )


@require_http_methods(["GET", "POST"])
def add_document(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_add_document(
            actor=request.user,
            escalation=e,
            upload=cd["file"],
            description=cd["description"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="add_document",
        form_factory=lambda e, data, files, initial=None: f.DocumentForm(data, files, initial=initial),
        template="escalations/actions/add_document.html",
        perform=perform,
        success=_("Document attached"),
    )
