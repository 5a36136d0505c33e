"""Learning for the partnership, in words: the formal body reads it grouped by practice theme
and area of disagreement, from every stage (it never names a child: refused as written); its
chair marks what is fit to publish in the annual report."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.escalations.services.learning import learning_publish, may_publish_learning

from .policies import Report
from .selectors import learning_by_theme
from .views import period_from, require_reading

PERIOD_FIELDS = {f"{part}-{unit}" for part in ("start", "end") for unit in ("day", "month", "year")}


def _require(request: HttpRequest):
    """The formal body and the business unit read the learning."""
    require_reading(request, Report.LEARNING)
    return request.partnership


def learning(request: HttpRequest) -> HttpResponse:
    partnership = _require(request)
    period, form = period_from(request, partnership, full=require_reading(request, Report.LEARNING).full)
    groups = learning_by_theme(partnership, period, request.user)
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=partnership.pk,
        payload={"report": "learning", "from": str(period.start), "to": str(period.end)},
        request=request,
    )
    return render(
        request,
        "reports/learning.html",
        {
            "form": form,
            "period": period,
            "groups": groups,
            "may_publish": may_publish_learning(request.user, partnership.pk),
            "query": urlencode({k: v for k, v in request.GET.items()}),
        },
    )


@require_POST
def learning_fit_to_publish(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = _require(request)
    try:
        learning_publish(actor=request.user, partnership=partnership, learning_id=pk)
    except NotFound:
        raise Http404 from None
    except NotAllowed:
        raise PermissionDenied from None
    except IllegalTransition as refused:
        messages.info(request, str(refused))
    else:
        messages.success(request, _("Marked fit to publish in the annual report"))
    # Back to the period the page showed (its own query, re-encoded: never an address).
    query = urlencode(
        {k: v for k, v in QueryDict(request.POST.get("query", "")).items() if k in PERIOD_FIELDS}
    )
    return redirect(reverse("reports:learning") + (f"?{query}" if query else "") + f"#learning-{pk}")
