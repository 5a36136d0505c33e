"""The pages of taking part without an account (issue: a professional named by work email).

For the guest: the emailed link (it shows one button and uses nothing up), the code, their
one escalation (until they confirm it is theirs, without the children's details), their
discussion and, where a virus scanner is configured, their documents. For the parties: naming
someone by email after raising, and the raiser's manager removing a guest's access. For the
business unit: each agency's work email domains, and its guests by agency, each of whom can
be made one of its people with an invitation. Every rule is the services'
(``accord.escalations.services.guests``)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import antivirus
from accord.core.errors import NotAllowed, NotFound, Refused, StaleVersion
from accord.escalations import forms as f
from accord.escalations import services
from accord.escalations.models import Guest, GuestState, Kind
from accord.escalations.policies import sees_children
from accord.escalations.selectors import escalation_get
from accord.escalations.services import guests as g
from accord.partnership.models import PartnershipAgency
from accord.partnership.services.invitations import invite, refusal_words
from accord.partnership.services.people import PersonDetails, person_save

from . import guest_session
from .settings_pages import add_errors, business_unit_partnership

# --------------------------------------------------------------------------- the guest's own pages


def _guest_page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    escalation = context.get("escalation")
    partnership = escalation.partnership if escalation is not None else None
    return render(
        request, f"guests/{template}", {"emergency_partnership": partnership, **context}, status=status
    )


def _link_guest(token: str) -> Guest:
    guest = g.guest_by_link(token)
    if guest is None:
        raise Http404
    return guest


@login_not_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """GET uses nothing up and sends nothing (mail scanners open links): it offers one button.
    POST emails a code."""
    guest = _link_guest(token)
    if g.access_ended(guest):
        return _guest_page(request, "ended.html", {"guest": guest}, status=410)
    person = g.guest_has_account(guest)
    if person is not None:
        return _guest_page(request, "has_account.html", {"guest": guest})
    if request.method == "GET":
        g.guest_link_opened(guest)
        return _guest_page(request, "link.html", {"guest": guest, "escalation": guest.escalation})
    try:
        g.guest_send_code(guest)
    except g.CodeRefused as refused:
        return _guest_page(
            request,
            "link.html",
            {"guest": guest, "escalation": guest.escalation, "refused": str(refused)},
            status=429,
        )
    return redirect("guest_code", token=token)


@login_not_required
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest, token: str) -> HttpResponse:
    guest = _link_guest(token)
    if g.access_ended(guest):
        return _guest_page(request, "ended.html", {"guest": guest}, status=410)
    form = f.GuestCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            secret = g.guest_check_code(guest, form.cleaned_data["code"])
        except g.CodeRefused as refused:
            form.add_error("code", str(refused))
            status = 422
        else:
            response = redirect("guest_home")
            guest_session.start(response, guest, secret)
            return response
    context = {"guest": guest, "escalation": guest.escalation, "form": form, "token": token}
    return _guest_page(request, "code.html", context, status=status)


def _current(request: HttpRequest) -> Guest:
    guest = guest_session.current_guest(request)
    if guest is None:
        raise Refused(_("Your guest session has ended: open the link in your email again."))
    return guest


def _ended(request: HttpRequest) -> HttpResponse:
    response = _guest_page(request, "session_ended.html", {}, status=401)
    guest_session.end(response)
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The guest's one escalation: first the question whether it is theirs, then the
    escalation as a party sees it."""
    guest = guest_session.current_guest(request)
    if guest is None:
        return _ended(request)
    escalation = guest.escalation
    works_with = g.guest_kind_words(escalation)
    if guest.state == GuestState.NAMED:
        form = f.GuestAnswerForm(request.POST or None, works_with=works_with)
        if request.method == "POST" and form.is_valid():
            if form.cleaned_data["answer"] == "decline":
                g.guest_decline(guest=guest)
                response = _guest_page(request, "declined.html", {"escalation": escalation})
                guest_session.end(response)
                return response
            try:
                g.guest_confirm(guest=guest, name=form.cleaned_data["name"])
            except ValidationError as e:
                f.add_service_errors(form, e)
            else:
                messages.success(request, _("Thank you: you can now see the escalation and answer it."))
                return redirect("guest_home")
        return _guest_page(request, "confirm.html", {"guest": guest, "escalation": escalation, "form": form})
    actor = guest.account
    try:
        escalation = g.guest_escalation(guest)
    except NotFound:
        return _ended(request)
    audit_record(
        actor=actor,
        verb=Verb.ESCALATION_VIEWED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference, "page": "guest"},
    )
    stages = services.ladder(escalation.partnership)
    context = {
        "guest": guest,
        "escalation": escalation,
        "current_stage": next((s for s in stages if s.number == escalation.stage), None),
        "next_stage": next((s for s in stages if s.number == escalation.stage + 1), None),
        "children": list(escalation.children.all()) if sees_children(actor, escalation) else [],
        "is_case": escalation.kind == Kind.CASE,
        "discussions": list(escalation.discussions.select_related("recorded_by", "recorded_by__agency")),
        "events": list(escalation.events.select_related("actor", "actor__agency").order_by("-at", "-id")),
        "documents": list(escalation.documents.all()),
        # (Others' entries as guests are marked; their own are theirs.)
        "guest_accounts": g.guest_accounts(escalation) - {actor.pk},
        "themes": list(escalation.themes.all()),
        "may_discuss": actor.has_perm("escalations.record_discussion", escalation),
        # (A guest acting as their agency's manager or senior leader: the stage's actions.)
        "may_escalate": actor.has_perm("escalations.escalate", escalation),
        "may_pause": actor.has_perm("escalations.pause", escalation),
        "may_resume": actor.has_perm("escalations.resume", escalation),
        "may_resolve": actor.has_perm("escalations.resolve", escalation),
        "may_upload": actor.has_perm("escalations.add_document", escalation),
        "scanner": antivirus.enabled(),
    }
    return _guest_page(request, "escalation.html", context)


def _guest_action(request: HttpRequest, form_class, template: str, perform, success: str) -> HttpResponse:
    guest = guest_session.current_guest(request)
    if guest is None:
        return _ended(request)
    actor = guest.account
    try:
        escalation = g.guest_escalation(guest)
    except NotFound:
        return _ended(request)
    form = form_class(request.POST or None, request.FILES or None, initial={"version": escalation.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            perform(actor, escalation, form.cleaned_data)
        except ValidationError as e:
            f.add_service_errors(form, e)
            status = 422
        except StaleVersion:
            form.add_error(
                None, _("Someone changed this escalation while you were writing: check it, then try again.")
            )
            status = 409
        except (NotAllowed, NotFound):
            raise Http404 from None
        else:
            messages.success(request, success)
            return redirect("guest_home")
    return _guest_page(
        request, template, {"guest": guest, "escalation": escalation, "form": form}, status=status
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def discuss(request: HttpRequest) -> HttpResponse:
    def perform(actor, escalation, cd):
        services.escalation_record_discussion(
            actor=actor,
            escalation=escalation,
            held_on=cd["held_on"],
            note=cd["note"],
            participants=cd["participants"],
            agreed={"yes": True, "no": False}.get(cd["agreed"]),
            expected_version=cd.get("version"),
        )

    return _guest_action(request, f.GuestDiscussionForm, "discuss.html", perform, _("Discussion recorded"))


@login_not_required
@require_http_methods(["GET", "POST"])
def add_document(request: HttpRequest) -> HttpResponse:
    guest = guest_session.current_guest(request)
    if guest is not None and not antivirus.enabled():
        # Said on the page, and refused by the policies whatever the client.
        return _guest_page(request, "documents_via_raiser.html", {"escalation": guest.escalation})

    def perform(actor, escalation, cd):
        services.escalation_add_document(
            actor=actor,
            escalation=escalation,
            upload=cd["file"],
            description=cd["description"],
            expected_version=cd.get("version"),
        )

    return _guest_action(request, f.DocumentForm, "add_document.html", perform, _("Document attached"))


@login_not_required
@require_http_methods(["GET"])
def document(request: HttpRequest, document: int) -> HttpResponse:
    """An evidence document of the guest's one escalation, as a party reads it (audited)."""
    guest = guest_session.current_guest(request)
    if guest is None:
        return _ended(request)
    try:
        escalation = g.guest_escalation(guest)
        doc, content = services.escalation_document_read(
            actor=guest.account, escalation=escalation, document_id=document
        )
    except NotFound:
        raise Http404 from None
    response = FileResponse(
        io.BytesIO(content), as_attachment=True, filename=doc.filename, content_type=doc.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# A guest acting for their agency as one of its managers or senior leaders (named so where the
# difference climbed to them and the agency had nobody in Accord): the stage's own actions,
# as the policies allow them, on the same services as everyone's pages.


def _guest_stage_action(
    request: HttpRequest, action: str, form_factory, template: str, perform, success: str, extra=None
) -> HttpResponse:
    guest = guest_session.current_guest(request)
    if guest is None:
        return _ended(request)
    actor = guest.account
    try:
        escalation = g.guest_escalation(guest)
    except NotFound:
        return _ended(request)
    if not actor.has_perm(f"escalations.{action}", escalation):
        raise Refused(str(services.refusal(actor, action, escalation) or ""))
    form = form_factory(escalation, request.POST or None, {"version": escalation.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            perform(actor, escalation, form, form.cleaned_data)
        except ValidationError as e:
            f.add_service_errors(form, e)
            status = 422
        except StaleVersion:
            form.add_error(
                None, _("Someone changed this escalation while you were writing: check it, then try again.")
            )
            status = 409
        except (NotAllowed, NotFound):
            raise Http404 from None
        else:
            messages.success(request, success)
            return redirect("guest_home")
    context = {"guest": guest, "escalation": escalation, "form": form, **(extra or {})}
    return _guest_page(request, template, context, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def escalate(request: HttpRequest) -> HttpResponse:
    def perform(actor, escalation, form, cd):
        services.escalation_escalate(
            actor=actor,
            escalation=escalation,
            reason=cd["reason"],
            efforts_to_resolve=cd.get("efforts_to_resolve") or "",
            to_stage=cd["to_stage"],
            skip_reason=cd.get("skip_reason") or "",
            expected_version=cd.get("version"),
            answers={k: cd.get(k) or "" for k in form.asks if k != "efforts_to_resolve"},
        )

    return _guest_stage_action(
        request,
        "escalate",
        lambda e, data, initial: f.EscalateForm(
            data, initial={**initial, "efforts_to_resolve": services.efforts_from_history(e)}, escalation=e
        ),
        "escalate.html",
        perform,
        _("Escalated to the next stage"),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def pause(request: HttpRequest) -> HttpResponse:
    def perform(actor, escalation, form, cd):
        services.escalation_pause(
            actor=actor, escalation=escalation, reason=cd["reason"], expected_version=cd.get("version")
        )

    return _guest_stage_action(
        request,
        "pause",
        lambda e, data, initial: f.ReasonForm(data, initial=initial),
        "pause.html",
        perform,
        _("Stage paused: its clock has stopped"),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest) -> HttpResponse:
    def perform(actor, escalation, form, cd):
        services.escalation_resume(actor=actor, escalation=escalation, expected_version=cd.get("version"))

    return _guest_stage_action(
        request,
        "resume",
        lambda e, data, initial: f.VersionedForm(data, initial=initial),
        "resume.html",
        perform,
        _("Stage resumed: its clock is running again"),
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest) -> HttpResponse:
    def perform(actor, escalation, form, cd):
        services.escalation_resolve(
            actor=actor,
            escalation=escalation,
            outcome=cd["outcome"],
            agreed_way_forward=cd["agreed_way_forward"],
            child_centred_outcome_achieved=cd["child_centred_outcome_achieved"],
            learning=cd["learning"],
            referred_to=cd["referred_to"],
            actions=f.agreed_actions_from(cd, f.ResolveForm.ACTION_ROWS),
            expected_version=cd.get("version"),
        )

    return _guest_stage_action(
        request,
        "resolve",
        lambda e, data, initial: f.ResolveForm(data, initial=initial, partnership=e.partnership),
        "resolve.html",
        perform,
        _("Resolution recorded"),
    )


@login_not_required
@require_http_methods(["POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    guest = guest_session.current_guest(request)
    if guest is not None:
        g.guest_sign_out(guest)
    response = _guest_page(request, "signed_out.html", {})
    guest_session.end(response)
    return response


# --------------------------------------------------------------------------- the parties' pages


def _party_escalation(request: HttpRequest, pk: int):
    if request.partnership is None:
        raise Http404
    try:
        return escalation_get(user=request.user, pk=pk, partnership=request.partnership)
    except NotFound:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
def name_guest(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the other agency's professional by work email (a corrected address, say)."""
    escalation = _party_escalation(request, pk)
    if not request.user.has_perm("escalations.change_parties", escalation):
        raise Refused(_("Only the parties working this difference name someone on it by email."))
    agencies = [escalation.with_agency, *(o.agency for o in escalation.others())]
    form = f.GuestNameForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and _named(request, form, g.guest_name, escalation):
        return redirect("escalations:detail", pk=pk)
    return render(request, "guests/name.html", {"escalation": escalation, "form": form})


def _named(request: HttpRequest, form, name, escalation) -> bool:
    """Name the address the form gives through the service ``name``; answer whether it was
    (its refusals are put on the form, or refused as the page's)."""
    if not form.is_valid():
        return False
    try:
        name(
            actor=request.user,
            escalation=escalation,
            agency_id=form.cleaned_data["agency"],
            email=form.cleaned_data["email"],
        )
    except ValidationError as e:
        f.add_service_errors(form, e)
        return False
    except NotAllowed as refused:
        raise Refused(str(refused)) from None
    messages.success(request, _("%(email)s has been emailed a link") % {"email": form.cleaned_data["email"]})
    return True


@require_http_methods(["GET", "POST"])
def name_leader_guest(request: HttpRequest, pk: int) -> HttpResponse:
    """The raiser's line manager names another agency's manager (or senior leader) by work
    email, where the difference reached a stage they work and the agency has nobody in Accord
    to work it. Who may, and for which agencies, is the services'."""
    try:
        escalation = g.escalation_for_leader_naming(request.user, pk)
    except NotFound:
        raise Http404 from None
    if not g.may_name_leader(request.user, escalation):
        raise Refused(
            _(
                "Only the raiser's line manager or the business unit names another agency's "
                "manager or senior leader by email."
            )
        )
    agencies = g.agencies_without_leader(escalation)
    tier = g.tier_words(g.leader_tier_wanted(escalation) or "") or _("managers or senior leaders")
    form = f.GuestNameForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and _named(request, form, g.guest_name_leader, escalation):
        if request.user.has_perm("escalations.view", escalation):
            return redirect("escalations:detail", pk=pk)
        return redirect("guests")
    return render(
        request,
        "guests/name_leader.html",
        {
            "escalation": escalation,
            "form": form,
            "agencies": agencies,
            "tier": tier,
            # (The business unit does not see the escalation: it came from its guests page.)
            "sees_it": request.user.has_perm("escalations.view", escalation),
        },
        status=422 if form.errors else 200,
    )


@require_http_methods(["POST"])
def remove_guest(request: HttpRequest, pk: int, guest: int) -> HttpResponse:
    """The raiser's manager ends a guest's access from the escalation's page."""
    escalation = _party_escalation(request, pk)
    found = get_object_or_404(
        Guest.objects.select_related("escalation__raised_by"), pk=guest, escalation=escalation
    )
    try:
        g.guest_remove(actor=request.user, guest=found)
    except NotAllowed as refused:
        raise Refused(str(refused)) from None
    except ValidationError as e:
        messages.info(request, " ".join(e.messages))
    else:
        messages.success(request, _("%(email)s can no longer see this escalation") % {"email": found.email})
    return redirect("escalations:detail", pk=pk)


# --------------------------------------------------------------------------- the business unit's pages


@require_http_methods(["GET", "POST"])
def email_domains(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = business_unit_partnership(request)
    link = get_object_or_404(
        PartnershipAgency.objects.select_related("agency"), partnership=partnership, agency__pk=pk
    )
    form = f.EmailDomainsForm(request.POST or None, initial={"domains": "\n".join(link.email_domains())})
    if request.method == "POST" and form.is_valid():
        try:
            g.agency_email_domains_set(
                actor=request.user,
                partnership=partnership,
                agency=link.agency,
                domains=form.cleaned_data["domains"],
            )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(
                request, _("%(agency)s's work email domains are saved") % {"agency": link.agency}
            )
            return redirect("agency_edit", pk=pk)
    return render(
        request,
        "guests/email_domains.html",
        {"partnership": partnership, "agency": link.agency, "form": form},
    )


@require_http_methods(["GET"])
def guest_list(request: HttpRequest) -> HttpResponse:
    """The partnership's guests, by agency: who named them, on what, and how it stands."""
    partnership = business_unit_partnership(request)
    rows = list(
        Guest.objects.filter(escalation__partnership=partnership)
        .select_related("agency", "account", "named_by", "escalation")
        .order_by("agency__name", "email", "-named_at")
    )
    by_agency: dict[Any, list[Guest]] = {}
    for row in rows:
        by_agency.setdefault(row.agency, []).append(row)
    return render(
        request,
        "guests/list.html",
        {
            "partnership": partnership,
            "by_agency": list(by_agency.items()),
            "openings": g.leader_openings(partnership),
        },
    )


@require_http_methods(["POST"])
def guest_end(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = business_unit_partnership(request)
    guest = get_object_or_404(
        Guest.objects.select_related("escalation__raised_by"), pk=pk, escalation__partnership=partnership
    )
    try:
        g.guest_remove(actor=request.user, guest=guest)
    except (ValidationError, NotAllowed) as refused:
        messages.info(request, refusal_words(refused))
    else:
        messages.success(request, _("%(email)s's access has ended") % {"email": guest.email})
    return redirect("guests")


@require_http_methods(["GET", "POST"])
def guest_make_person(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a guest one of the partnership's people, with an invitation to set a password:
    their account, and so everything they wrote, stays theirs."""
    partnership = business_unit_partnership(request)
    guest = get_object_or_404(
        Guest.objects.select_related("account", "agency"), pk=pk, escalation__partnership=partnership
    )
    account = guest.account
    if account.is_active:
        messages.info(
            request, _("%(email)s is already one of the partnership's people") % {"email": guest.email}
        )
        return redirect("guests")
    initial = {
        "first_name": account.first_name if account.first_name != guest.email else "",
        "last_name": account.last_name,
    }
    form = f.GuestPersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            with transaction.atomic():
                _make_person(request, partnership, guest, cd)
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(
                request,
                _("%(email)s is now one of the partnership's people, and has been invited to set a password")
                % {"email": guest.email},
            )
            return redirect("guests")
    return render(
        request, "guests/make_person.html", {"partnership": partnership, "guest": guest, "form": form}
    )


def _make_person(request: HttpRequest, partnership, guest: Guest, cd: dict[str, Any]) -> None:
    account = guest.account
    person_save(
        actor=request.user,
        partnership=partnership,
        person=account,
        details=PersonDetails(
            first_name=cd["first_name"],
            last_name=cd["last_name"],
            email=guest.email,
            agency=guest.agency,
            job_title=cd["job_title"],
            roles=g.guest_person_roles(guest),
            is_active=True,
        ),
    )
    account.refresh_from_db()
    g.guests_made_person(actor=request.user, account=account, partnership=partnership)
    invite(actor=request.user, person=account, partnership=partnership)
