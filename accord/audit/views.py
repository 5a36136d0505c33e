"""The auditor's pages: search the trail and export it (the subject access page, which
gathers a child's escalations, is ``accord.escalations.data_protection_views``)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accord.core.downloads import SafeCsvWriter
from accord.core.govuk import DateInputField

from .describe import described
from .models import Verb
from .selectors import OLDEST_FIRST, AuditFilters, audit_search, audited_partnerships
from .services import audit_record, chain_pending_reads


class AuditSearchForm(forms.Form):
    person = forms.CharField(label=_("Username"), required=False, max_length=150)
    escalation = forms.CharField(label=_("Escalation reference or number"), required=False, max_length=40)
    agency = forms.CharField(label=_("Agency"), required=False, max_length=200)
    verb = forms.ChoiceField(
        label=_("What was done"),
        required=False,
        choices=[("", _("Anything"))] + sorted(Verb.choices, key=lambda choice: str(choice[1])),
        error_messages={"invalid_choice": _("Select what was done from the list")},
    )
    date_from = DateInputField(label=_("From"), subject=_("the start date"), required=False)
    date_to = DateInputField(label=_("To"), subject=_("the end date"), required=False)


def require_auditor(request: HttpRequest) -> int:
    """The partnership the auditor is working in: its trail and its data only."""
    partnership = request.partnership
    if partnership is None or partnership.pk not in audited_partnerships(request.user):
        raise PermissionDenied
    return partnership.pk


def _filters(form: AuditSearchForm) -> AuditFilters:
    if form.is_bound and form.is_valid():
        return AuditFilters(**form.cleaned_data)
    return AuditFilters()


def search(request: HttpRequest) -> HttpResponse:
    partnership_id = require_auditor(request)
    chain_pending_reads()  # every read made so far, in the trail and in its place
    form = AuditSearchForm(request.GET or None)
    filters = _filters(form)
    page = Paginator(
        audit_search(user=request.user, partnership_id=partnership_id, filters=filters), 50
    ).get_page(request.GET.get("page"))
    audit_record(
        actor=request.user,
        verb=Verb.AUDIT_SEARCHED,
        partnership_id=partnership_id,
        payload={"filters": {k: str(v) for k, v in filters.__dict__.items() if v}},
        request=request,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "rows": described(page.object_list), "query": query.urlencode()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_BATCH = 500


def export(request: HttpRequest) -> StreamingHttpResponse:
    partnership_id = require_auditor(request)
    chain_pending_reads()  # every read made so far, in the trail and in its place
    filters = _filters(AuditSearchForm(request.GET or None))
    rows = audit_search(user=request.user, partnership_id=partnership_id, filters=filters).order_by(
        *OLDEST_FIRST
    )
    audit_record(
        actor=request.user,
        verb=Verb.AUDIT_EXPORTED,
        partnership_id=partnership_id,
        payload={"filters": {k: str(v) for k, v in filters.__dict__.items() if v}},
        request=request,
    )
    writer = SafeCsvWriter(_Echo())

    def stream():
        yield writer.writerow(
            [
                "id",
                "at",
                "actor",
                "agency",
                "roles",
                "verb",
                "target_type",
                "target_id",
                "reference",
                "ip_address",
                "entry_hash",
                "who",
                "what",
                "about",
            ]
        )
        batch: list = []

        def written(entries):
            return "".join(
                writer.writerow(
                    [
                        d.entry.pk,
                        d.entry.at.isoformat(),
                        d.entry.actor_label,
                        d.entry.actor_agency,
                        d.entry.actor_roles,
                        d.entry.verb,
                        d.entry.target_type,
                        d.entry.target_id,
                        (d.entry.payload or {}).get("reference", ""),
                        d.entry.ip_address or "",
                        d.entry.entry_hash,
                        d.who,
                        d.what,
                        d.record,
                    ]
                )
                for d in described(entries)
            )

        # In words too, a batch at a time (a query for each kind of record a batch names).
        for e in rows.iterator(chunk_size=2000):
            batch.append(e)
            if len(batch) >= EXPORT_BATCH:
                yield written(batch)
                batch = []
        if batch:
            yield written(batch)

    response = StreamingHttpResponse(stream(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="accord-audit-trail.csv"'
    return response
