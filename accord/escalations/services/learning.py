"""Learning for the partnership, in words: written by whoever records an outcome at any stage
(a resolution, a withdrawal, the follow-up some weeks later), refused if it names the
escalation's children, read by the formal body grouped by theme and area, and published in
the annual report once the formal body's chair marks it fit to."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.partnership.models import Partnership, Role, User
from accord.partnership.selectors import user_has_role

from ..children import child_details_named
from ..models import Escalation, Learning

_NAMED = {
    "name": gettext_lazy("the child's name"),
    "date of birth": gettext_lazy("a child's date of birth"),
    "reference": gettext_lazy("a child's case reference"),
}


def learning_problem(escalation: Escalation, text: str) -> str:
    """Why this learning cannot be kept ("" if it can): it names one of the escalation's
    recorded children by name, date of birth or reference. The partnership reads it beyond
    the parties, so it must stand without them."""
    found = child_details_named(text, escalation.children.all())
    if not found:
        return ""
    return _(
        "Learning for the partnership must not identify the child: take out %(what)s, and write "
        "what the partnership can learn without it"
    ) % {"what": _(" and ").join(str(_NAMED[f]) for f in found)}


def check_learning(escalation: Escalation, text: str, field: str = "learning") -> None:
    problem = learning_problem(escalation, text)
    if problem:
        raise ValidationError({field: problem})


def learning_record(*, actor: User, escalation: Escalation, text: str, recorded_with: str) -> Learning | None:
    """Keep the learning written with an outcome (checked already, in the outcome's transaction)."""
    if not (text or "").strip():
        return None
    return Learning.objects.create(
        partnership_id=escalation.partnership_id,
        escalation=escalation,
        stage=escalation.stage,
        recorded_with=recorded_with,
        text=text.strip(),
        written_by=actor,
        written_at=clock.now(),
    )


def may_publish_learning(user: User, partnership_id: int) -> bool:
    """The formal body's chair decides what the annual report publishes."""
    return user_has_role(user, partnership_id, Role.PDG_CHAIR)


def learning_publish(*, actor: User, partnership: Partnership, learning_id: int) -> Learning:
    """Mark a note of learning fit to publish in the annual report (the formal body's chair)."""
    with transaction.atomic():
        learning = (
            Learning.objects.select_for_update(of=("self",))
            .select_related("escalation")
            .filter(pk=learning_id, partnership=partnership)
            .first()
        )
        if learning is None:
            raise NotFound()
        if not may_publish_learning(actor, partnership.pk):
            raise NotAllowed(
                _("Only the chair of the %(body)s marks learning fit to publish.")
                % {"body": partnership.formal_body_shown}
            )
        if learning.published_at is not None:
            raise IllegalTransition(_("That learning is already marked fit to publish."))
        learning.published_at, learning.published_by = clock.now(), actor
        learning.save(update_fields=["published_at", "published_by"])
        audit_record(
            actor=actor,
            verb=Verb.LEARNING_PUBLISHED,
            target=learning.escalation,
            partnership_id=partnership.pk,
            payload={"reference": learning.escalation.reference, "learning": learning.pk},
        )
    return learning
