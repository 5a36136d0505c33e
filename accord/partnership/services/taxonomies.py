"""The partnership's taxonomies: its areas of disagreement and its practice themes, a term
added or changed. A term's code never changes once escalations may carry it (the reports
count by it); a term no longer used is made inactive, never deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed
from accord.core.records import apply_changes

from ..models import AreaOfDisagreement, Partnership, PracticeTheme, User
from .common import require_business_unit

TAXONOMIES = {"areas": AreaOfDisagreement, "themes": PracticeTheme}


@dataclass(frozen=True)
class TermDetails:
    label: str
    code: str
    is_active: bool = True
    position: int = 0
    label_cy: str = ""  # its label in Welsh, for a partnership that works in Wales


def term_save(
    *,
    actor: User | None,
    partnership: Partnership,
    taxonomy: str,
    details: TermDetails,
    term: AreaOfDisagreement | PracticeTheme | None = None,
) -> AreaOfDisagreement | PracticeTheme:
    """Add a term to one of the partnership's taxonomies (its areas of disagreement or its
    practice themes), or change one. A term's code never changes once escalations may carry
    it (the reports count by it); a term no longer used is made inactive, never deleted, so
    the escalations that carry it keep it."""
    require_business_unit(actor, partnership)
    model = TAXONOMIES.get(taxonomy)
    if model is None or (
        term is not None and (type(term) is not model or term.partnership_id != partnership.pk)
    ):
        raise NotAllowed(_("That is not one of the partnership's taxonomies."))
    label = " ".join((details.label or "").split())
    label_cy = " ".join((details.label_cy or "").split())
    errors: dict[str, str] = {}
    if not label or len(label) > 200:
        errors["label"] = _("Enter the label, up to 200 characters")
    if len(label_cy) > 200:
        errors["label_cy"] = _("Enter the Welsh label in 200 characters or fewer")
    if not 0 <= details.position <= 1000:
        errors["position"] = _("Enter a position from 0 to 1000")
    code = term.code if term is not None else (details.code or "").strip().lower()
    if term is None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,59}", code):
            errors["code"] = _("Enter a code of lower-case letters, digits, - or _, up to 60")
        elif model.objects.filter(partnership=partnership, code=code).exists():
            errors["code"] = _("Another term has that code: choose another")
    if (
        model.objects.filter(partnership=partnership, label__iexact=label)
        .exclude(pk=term.pk if term else None)
        .exists()
    ):
        errors["label"] = _("Another term has that label: choose another")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        added = term is None
        if term is None:
            term = model.objects.create(
                partnership=partnership,
                code=code,
                label=label,
                label_cy=label_cy,
                is_active=details.is_active,
                position=details.position,
            )
            changed = ["code", "label", "is_active", "position"] + (["label_cy"] if label_cy else [])
        else:
            changed = apply_changes(
                term,
                {
                    "label": label,
                    "label_cy": label_cy,
                    "is_active": details.is_active,
                    "position": details.position,
                },
            )
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.TERM_ADDED if added else Verb.TERM_CHANGED,
                target=term,
                partnership_id=partnership.pk,
                payload={"taxonomy": taxonomy, "term": term.code, "fields": changed},
            )
    return term
