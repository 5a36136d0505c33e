"""The shell: log-in, the home page for each role, health check and error pages."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accord.audit.describe import described
from accord.audit.models import Verb
from accord.audit.selectors import recent_entries
from accord.audit.services import audit_record, audit_refusal, chain_pending_reads
from accord.core import clock
from accord.core.errors import Refused
from accord.core.middleware import RENEWED_KEY
from accord.escalations.models import CLOSED_STATUSES, OPEN_STATUSES, Escalation
from accord.escalations.selectors import agreed_actions_owned, drafts_of, is_overdue, my_work
from accord.partnership.roles import (
    AUDIT_ROLES,
    CASEWORK_ROLES,
    LEADER_ROLES,
    OVERVIEW_ROLES,
    RAISING_ROLES,
    SETTINGS_ROLES,
)
from accord.partnership.selectors import partnerships_for, roles_by_partnership
from accord.reports.models import MeetingAction

from .forms import LoginForm
from .middleware import SESSION_KEY
from .sign_in import providers_for_sign_in


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        from django.conf import settings

        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.OIDC_ENABLED
        context["oidc_provider"] = getattr(settings, "OIDC_PROVIDER_NAME", "")
        context["agency_providers"] = list(providers_for_sign_in().order_by("name"))
        return context


def home(request: HttpRequest) -> HttpResponse:
    partnership = request.partnership
    roles = request.roles
    context: dict = {
        "roles": roles,
        # What the page offers, from the role groups (partnership/roles.py), never from role names.
        "can_raise": bool(roles & RAISING_ROLES),
        "leads_agency": bool(roles & LEADER_ROLES),
        "manages_settings": bool(roles & SETTINGS_ROLES),
    }
    if partnership is None:
        if request.user.is_superuser:  # the deployment's administrators: its partnerships
            return redirect("deployment_home")
        return render(request, "core/no_partnership.html", status=403)
    if roles & CASEWORK_ROLES:
        work = my_work(user=request.user, partnership=partnership)
        context["work"] = work
        if roles & RAISING_ROLES:
            context["drafts"] = drafts_of(user=request.user, partnership=partnership)
        shown = [*work.awaiting, *work.raised_by_me, *work.agency]
        context["overdue_ids"] = {e.pk for e in shown if is_overdue(e)}
        # "My work" shows escalations' references and summaries: a read, audited as the list is.
        audit_record(
            actor=request.user,
            verb=Verb.ESCALATION_LISTED,
            partnership_id=partnership.pk,
            payload={"page": "my work", "references": sorted({e.reference for e in shown})[:200]},
            request=request,
        )
    # What a PDG meeting asked of this person and is not yet done (one query; most have none).
    context["meeting_actions"] = list(
        MeetingAction.objects.filter(
            owner=request.user, meeting__partnership=partnership, done_on__isnull=True
        ).select_related("meeting")[:20]
    )
    if roles & LEADER_ROLES:
        # What is asked of their agency (agreed at a resolution or commissioned for a theme),
        # party or not: each action's own page, never the escalation's details.
        context["agency_actions"] = list(
            agreed_actions_owned(user=request.user, partnership=partnership)[:20]
        )
    context["today"] = clock.today()
    if roles & OVERVIEW_ROLES:
        # Aggregates only: counts by stage and status, never an escalation's details.
        open_by_stage = (
            Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES)
            .values("stage")
            .annotate(n=Count("id"))
            .order_by("stage")
        )
        context["open_by_stage"] = list(open_by_stage)
        context["closed_total"] = Escalation.objects.filter(
            partnership=partnership, status__in=CLOSED_STATUSES
        ).count()
    if roles & AUDIT_ROLES:
        chain_pending_reads()  # the reads made so far, in their place among the changes
        context["recent_audit"] = described(recent_entries(user=request.user, partnership_id=partnership.pk))
    # The partnership switcher, for someone who works in more than one.
    several = len(roles_by_partnership(request.user)) > 1
    context["partnerships"] = list(partnerships_for(request.user)) if several else [partnership]
    return render(request, "core/home.html", context)


@require_POST
def switch_partnership(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("partnership")
    allowed = {str(p.pk) for p in partnerships_for(request.user)}
    if wanted in allowed:
        request.session[SESSION_KEY] = int(wanted)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """Whether this node should be sent requests (a load balancer's readiness check): the
    database answers and every migration this code needs has been applied. ``/healthz`` is
    the liveness check (the process and its database)."""
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001 - any database failure means not ready
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    if pending:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "migrations": len(pending)}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok", "migrations": 0})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Only a refusal written for the person is shown; any other 403's text stays internal.
    reason = str(exception) if isinstance(exception, Refused) else ""
    audit_refusal(request, 403)
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    audit_refusal(request, 404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the request context: whatever failed may fail again.
    from django.template import loader

    template = loader.get_template("500.html")
    return HttpResponse(template.render({}), status=500)


@require_POST
def stay_signed_in(request: HttpRequest) -> HttpResponse:
    """Restart the idle limit now (the page's "you will be signed out soon" warning). The
    page asks without leaving itself and is told how long it now has; without JavaScript
    the warning never shows, but the form still works and returns to the page."""
    request.session[RENEWED_KEY] = int(time.time())  # modified: saved with a new expiry
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"seconds_left": settings.SESSION_COOKIE_AGE})
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
