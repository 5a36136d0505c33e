from django.db import models
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
