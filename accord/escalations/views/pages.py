"""The list of escalations, an escalation's page, its printed record and its documents."""

from __future__ import annotations

import io
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from openpyxl import Workbook

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.downloads import SafeCsvWriter, xlsx_append_stream
from accord.core.errors import NotFound
from accord.core.together import read_together
from accord.partnership.protocol import ladder_of
from accord.partnership.roles import CASEWORK_ROLES

from .. import forms as f
from .. import selectors, services
from ..models import OTHER_PARTIES, Escalation, FollowUp
from ..policies import (
    allowed_actions,
    completable_actions,
    is_formal,
    is_party_side,
    is_pdg,
    not_held_follow_up,
    reopen_too_late,
    sees_children,
)
from ..selectors import ListFilters, current_holders, escalation_list, is_overdue
from ..services import guests
from ._common import _get, _partnership

logger = logging.getLogger("accord.escalations")

# --------------------------------------------------------------------------- list and detail


def _list_filters(request: HttpRequest, partnership) -> tuple[Any, ListFilters]:
    """The list's filters as the person chose them (the page and its downloads alike)."""
    stages = services.ladder(partnership)
    form = f.ListFilterForm(request.GET or None, partnership=partnership, stages=stages)
    filters = ListFilters()
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        filters = ListFilters(
            q=cd["q"].strip(),
            status=cd["status"],
            stage=cd["stage"],
            kind=cd["kind"],
            agency=cd["agency"],
            overdue=cd["overdue"],
            urgency=cd["urgency"],
            reached=cd["reached"],
            origin=cd["origin"],
            area=cd["area"],
            theme=cd["theme"],
            raised_by_agency=cd["raised_by_agency"],
            received_by_agency=cd["received_by_agency"],
            raised_from=cd["raised_from"],
            raised_to=cd["raised_to"],
        )
    return form, filters


def escalation_list_view(request: HttpRequest) -> HttpResponse:
    partnership = _partnership(request)
    if not request.roles & CASEWORK_ROLES:
        raise PermissionDenied  # the executive, auditors and the business unit see aggregates only
    form, filters = _list_filters(request, partnership)
    qs = escalation_list(user=request.user, partnership=partnership, filters=filters)
    page = selectors.list_paginator(qs, user=request.user, partnership=partnership, filters=filters).get_page(
        request.GET.get("page")
    )
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_LISTED,
        partnership_id=partnership.pk,
        payload={"filters": {k: str(v) for k, v in filters.__dict__.items() if v}, "page": page.number},
    )
    selectors.attach_others(list(page.object_list))  # the other agencies each is with
    query = request.GET.copy()
    query.pop("page", None)
    # Past the pages' limit, the exact number when it is known (unfiltered: kept).
    total = getattr(page.paginator, "total", None) if page.paginator.capped else None
    return render(
        request,
        "escalations/list.html",
        {
            "form": form,
            "page": page,
            "total": total,
            "query": query.urlencode(),
            "overdue_ids": {e.pk for e in page if is_overdue(e)},
        },
    )


EXPORT_COLUMNS = (
    "reference",
    "kind",
    "status",
    "stage",
    "highest stage reached",
    "priority",
    "raised on",
    "due",
    "raising agency",
    "with agency",
    "also with",
    "summary",
)
XLSX_EXPORT_LIMIT = 100_000  # rows in one XLSX download; the CSV has no limit


def _export_rows(request: HttpRequest, filters: ListFilters, partnership):
    """The list's escalations, as filtered and within rule 7, one row each (no child's details)."""
    labels = {p.code: str(p) for p in ladder_of(partnership).priorities}
    qs = (
        escalation_list(user=request.user, partnership=partnership, filters=filters)
        .select_related("raising_agency", "with_agency")
        .prefetch_related(OTHER_PARTIES)
    )
    for e in qs.order_by("-raised_at", "-pk").iterator(chunk_size=2000):
        yield [
            e.reference,
            e.get_kind_display(),
            e.get_status_display(),
            e.stage,
            e.highest_stage,
            str(labels.get(e.urgency, e.urgency)),
            timezone.localtime(e.raised_at).date(),
            e.due_date,
            str(e.raising_agency),
            str(e.with_agency),
            "; ".join(str(o.agency) for o in e.others()),
            e.summary,
        ]


def escalation_list_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The list as a CSV or XLSX download: what the page lists, as filtered, audited."""
    partnership = _partnership(request)
    if not request.roles & CASEWORK_ROLES:
        raise PermissionDenied
    _form, filters = _list_filters(request, partnership)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATIONS_EXPORTED,
        partnership_id=partnership.pk,
        payload={"format": fmt, "filters": {k: str(v) for k, v in filters.__dict__.items() if v}},
    )
    name = f"accord-escalations-{clock.today()}.{fmt}"
    if fmt == "csv":

        def stream():
            buffer = io.StringIO()
            writer = SafeCsvWriter(buffer)
            writer.writerow(EXPORT_COLUMNS)
            yield buffer.getvalue()
            for row in _export_rows(request, filters, partnership):
                buffer.seek(0)
                buffer.truncate()
                writer.writerow(row)
                yield buffer.getvalue()

        response = StreamingHttpResponse(stream(), content_type="text/csv")
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Escalations")
        xlsx_append_stream(sheet, EXPORT_COLUMNS)
        for n, row in enumerate(_export_rows(request, filters, partnership)):
            if n >= XLSX_EXPORT_LIMIT:
                xlsx_append_stream(
                    sheet, [f"… the first {XLSX_EXPORT_LIMIT:,} only: download the CSV for them all"]
                )
                break
            xlsx_append_stream(sheet, row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    context = _detail_context(request, escalation)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference},
    )
    return render(request, "escalations/detail.html", context)


def _detail_context(request: HttpRequest, escalation: Escalation) -> dict[str, Any]:
    parts = _parts(request, escalation)
    pdg_actions = parts["pdg_actions"]
    actions = allowed_actions(request.user, escalation)
    # The policies offer reopening only within the window; say why to those it would be theirs.
    too_late = reopen_too_late(request.user, escalation)
    stages = services.ladder(escalation.partnership)
    current = next((s for s in stages if s.number == escalation.stage), None)
    next_stage = next((s for s in stages if s.number == escalation.stage + 1), None)
    discussions = parts["discussions"]
    agreed = parts["agreed_actions"]
    completable = completable_actions(request.user, escalation, agreed)
    for a in agreed:
        a.can_complete = a.pk in completable
        a.overdue = a.completed_on is None and a.due_date < clock.today()
    sees = sees_children(request.user, escalation)
    return {
        "escalation": escalation,
        "actions": actions,
        "stages": stages,
        "current_stage": current,
        "next_stage": next_stage,
        "overdue": is_overdue(escalation),
        "children": parts.get("children", []) if sees else [],
        "children_withheld": not sees,
        "themes": list(escalation.themes.all()),
        "events": parts["events"],
        "discussions": discussions,
        "documents": parts["documents"],
        "pdg_actions": pdg_actions,
        "resolution": next(iter(parts["resolutions"]), None),
        "agreed_actions": agreed,
        "consulted": services.manager_consulted(escalation, discussions),
        "can_read_reflection": "read_reflection" in actions,
        "reopen_too_late": too_late,
        "formal_body_decides": ladder_of(escalation.partnership).decides_at(escalation.stage),
        "holders": current_holders(viewer=request.user, escalation=escalation),
        "reopen_days": escalation.partnership.reopen_within_days,
        **_follow_through_context(request, escalation, parts["linked"]),
        **_guests_context(request, escalation, parts["guests"]),
    }


def _parts(request: HttpRequest, escalation: Escalation) -> dict[str, list]:
    """The escalation's parts the page shows, read in one statement (``read_together``):
    its formal body's actions (read before the policies ask whether a facilitator is
    appointed: they answer from these), discussions, agreed actions, children (only where
    the person may see them), themes and areas, timeline, documents, resolutions, the
    follow-ups that link it to others, and its guests."""
    wanted = {
        "pdg_actions": escalation.pdg_actions.select_related("facilitator", "recorded_by"),
        "discussions": escalation.discussions.select_related("recorded_by"),
        "agreed_actions": escalation.agreed_actions.select_related("owner_agency"),
        "themes": escalation.themes.all(),
        "areas": escalation.areas_of_disagreement.all(),
        "events": escalation.events.select_related("actor", "actor__agency").order_by("-at", "-id"),
        "documents": escalation.documents.all(),
        "resolutions": escalation.resolutions.select_related(
            "resolved_by", "follow_up__answered_by"
        ).order_by("-resolved_at"),
        # The follow-ups raised again as others and the one that raised this.
        "linked": FollowUp.objects.filter(
            Q(raised_again=escalation) | Q(escalation=escalation, raised_again__isnull=False)
        )
        .select_related("escalation", "raised_again")
        .order_by("pk"),
        "guests": escalation.guests.select_related("agency", "account").order_by("named_at", "id"),
    }
    # The children only for those who may see them (``sees_children`` decides, after these
    # are read; this asks nothing the policies would read these for, and allows no fewer).
    if (is_party_side | (is_pdg & is_formal)).test(
        request.user, escalation
    ) or escalation.partnership.facilitators_see_children:
        wanted["children"] = escalation.children.all()
    parts = dict(zip(wanted, read_together(*wanted.values()), strict=True))
    escalation.__dict__["_accord_pdg_actions"] = parts["pdg_actions"]
    _read_with(escalation, "themes", parts["themes"])
    _read_with(escalation, "areas_of_disagreement", parts["areas"])
    return parts


def _read_with(escalation: Escalation, name: str, found: list) -> None:
    """A many-to-many of the escalation's, as ``prefetch_related`` keeps one: ``.all()`` answers
    ``found`` without a statement (the templates ask it)."""
    qs = getattr(escalation, name).all()
    qs._result_cache = found
    qs._prefetch_done = True
    escalation.__dict__.setdefault("_prefetched_objects_cache", {})[name] = qs


def _follow_through_context(request: HttpRequest, escalation: Escalation, linked: list) -> dict[str, Any]:
    """Where an agreed way forward did not hold: the answer nobody has acted on yet, the
    escalations it was raised again as, and the one this raises again."""
    raises_again = next((f for f in linked if f.raised_again_id == escalation.pk), None)
    return {
        "not_held": not_held_follow_up(escalation),
        "raised_after": [
            f for f in linked if f.escalation_id == escalation.pk and f.raised_again_id is not None
        ],
        "raises_again": raises_again,
        "raises_again_visible": raises_again is not None
        and request.user.has_perm("escalations.view", raises_again.escalation),
    }


def _guests_context(request: HttpRequest, escalation: Escalation, named: list) -> dict[str, Any]:
    """The professionals named on it by work email, and whether this person may end a
    guest's access (the raiser's manager) or name someone (the parties working it)."""
    for guest in named:
        guest.escalation = escalation
    # Which agencies have nobody to work the stage asks of its guests too: these.
    escalation.__dict__["_accord_guest_list"] = named
    names_leaders = guests.may_name_leader(request.user, escalation)
    return {
        "guests": named,
        # (An entry written by a guest says so; one made a person since is named as themselves.)
        "guest_accounts": {guest.account_id for guest in named if not guest.account.is_active},
        "may_remove_guests": bool(named) and guests.may_remove(request.user, named[0]),
        # Where the difference climbed to another agency's managers (or senior leaders) and it
        # has nobody in Accord to work the stage: the raiser's manager names one by email.
        "leader_openings": guests.agencies_without_leader(escalation) if names_leaders else [],
        "leader_tier": guests.tier_words(guests.leader_tier_wanted(escalation) or "")
        if names_leaders
        else "",
    }


def record(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable record of the escalation and its outcome, for each agency's own file."""
    escalation = _get(request, pk)
    context = _detail_context(request, escalation)
    context["events"] = list(reversed(context["events"]))
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_PRINTED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference},
    )
    return render(request, "escalations/record.html", context)


def document_download(request: HttpRequest, pk: int, document: int) -> HttpResponse:
    escalation = _get(request, pk)
    try:
        doc, content = services.escalation_document_read(
            actor=request.user, escalation=escalation, document_id=document
        )
    except NotFound:
        raise Http404 from None
    response = FileResponse(
        io.BytesIO(content), as_attachment=True, filename=doc.filename, content_type=doc.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
