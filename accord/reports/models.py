from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accord.partnership.models import Partnership


class PdgMeeting(models.Model):
    """A meeting of the Practice Development Group; the standing item covers the time since the last one."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="pdg_meetings")
    held_on = models.DateField(_("date of the meeting"))
    # The meeting's own record (the PDG's, not any case's: no child's details here).
    discussed = models.TextField(_("what the meeting discussed"), blank=True)
    decided = models.TextField(_("what it decided"), blank=True)
    asked_for = models.TextField(
        _("what it asked for, of whom and by when"),
        blank=True,
        help_text=_("Shown with the next standing item, so the next meeting can follow it up."),
    )

    class Meta:
        ordering = ["-held_on"]
        verbose_name = _("PDG meeting")
        constraints = [models.UniqueConstraint(fields=["partnership", "held_on"], name="pdg_meeting_unique")]

    def __str__(self) -> str:
        return f"{self.partnership}: {self.held_on:%d %B %Y}"


class MeetingAction(models.Model):
    """What a PDG meeting asked of someone, by when: followed up at the next meeting, marked
    done by its owner (or their line manager, the business unit or the PDG) with a note, and
    chased to the owner and their line manager while it is overdue."""

    meeting = models.ForeignKey(PdgMeeting, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField(_("what was asked"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who it was asked of"),
    )
    due_on = models.DateField(_("by when"))
    done_on = models.DateField(null=True, blank=True, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    done_note = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("action the meeting asked for")
        # The reminder sweep finds the overdue ones without reading the done ones.
        indexes = [
            models.Index(fields=["due_on"], condition=Q(done_on__isnull=True), name="meeting_action_open_due")
        ]

    def __str__(self) -> str:
        return self.description[:80]


class AnnualNarrative(models.Model):
    """What the business unit writes for the annual report to the Partnership Executive Group."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="annual_narratives")
    year = models.PositiveSmallIntegerField(_("reporting year starting in"))
    culture = models.TextField(_("How the culture of challenge has developed"), blank=True)
    learning = models.TextField(_("Learning from the year's escalations"), blank=True)
    next_year = models.TextField(_("Actions for next year"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership", "year"], name="annual_narrative_unique")
        ]

    def __str__(self) -> str:
        return f"{self.partnership} {self.year}"
