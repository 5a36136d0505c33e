"""Forms for the escalation pages. Validation of the protocol's rules lives in the
services; these forms check shape and map the services' errors back onto fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from accord.core.govuk import DateInputField
from accord.partnership.models import Role, User
from accord.partnership.protocol import Ladder, ladder_of
from accord.partnership.selectors import partnership_agencies, partnership_users_with_role

from .models import (
    IRU_ORIGINS,
    ChildCentredOutcome,
    FamilyAware,
    Held,
    Kind,
    Origin,
    Outcome,
    PdgActionKind,
    Status,
)
from .services import PartyDetails, practitioner_in, validate_other_parties
from .services.guests import resolve_email

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` onto the form's fields (or above the form)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields else None
            for e in errors:
                form.add_error(target, e)
    else:
        for message in error.messages:
            form.add_error(None, message)


class VersionedForm(forms.Form):
    """Every change to an existing escalation carries the version it was made against."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --------------------------------------------------------------------- raising


class DangerForm(forms.Form):
    immediate_danger = forms.ChoiceField(
        label=_("Is any child in immediate danger?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text=_("For example, at risk of serious harm today if nobody acts now."),
        error_messages={"required": _("Select yes if any child is in immediate danger")},
    )


class KindForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is the difference about?"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether this is about a child or a theme")},
    )
    origin = forms.ChoiceField(
        label=_("Where did the concern come from?"),
        choices=Origin.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select where the concern came from")},
    )

    def __init__(self, *args, is_chair: bool = False, ladder: Ladder | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_chair:
            self.fields["origin"].choices = [
                (Origin.PRACTITIONER, Origin.PRACTITIONER.label),
                (Origin.CHILD_OR_FAMILY, Origin.CHILD_OR_FAMILY.label),
            ]
        elif ladder is not None and ladder.conference_chair_starts():
            starts = [1, *ladder.conference_chair_starts()]
            self.fields["start_stage"] = forms.TypedChoiceField(
                label=_("Which stage should it start at?"),
                help_text=_("From a conference or review you may start at stage %(stages)s.")
                % {"stages": ", ".join(map(str, starts[1:]))},
                choices=[
                    (
                        str(n),
                        _("Stage %(n)s: %(name)s") % {"n": n, "name": ladder.stage(n).name},
                    )
                    for n in starts
                ],
                coerce=int,
                widget=forms.RadioSelect,
                initial="1",
                error_messages={"required": _("Select the stage to start at")},
            )
            self.fields["start_stage_reason"] = forms.CharField(
                label=_("Why does it start above stage 1? (if it does)"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def clean(self):
        data = super().clean()
        start = data.get("start_stage")
        if start and start != 1:
            if data.get("origin") and data["origin"] not in IRU_ORIGINS:
                self.add_error(
                    "start_stage",
                    _("Only an escalation from a conference or review can start above stage 1"),
                )
            elif not (data.get("start_stage_reason") or "").strip():
                self.add_error("start_stage_reason", _("Enter why this starts above stage 1"))
        return data


class WithForm(forms.Form):
    """The agencies the difference is with: the first, and up to ``OTHER_ROWS`` more, each
    with the practitioner there if known. Checked here, on the page where it is asked, by
    the same service checks that raising applies."""

    OTHER_ROWS = 3

    with_agency = forms.TypedChoiceField(
        label=_("Which agency is the difference with?"),
        coerce=int,
        error_messages={"required": _("Select the agency the difference is with")},
    )
    with_practitioner = forms.ChoiceField(
        label=_("Which practitioner in that agency, if you know?"),
        help_text=_("If you do not name one, the agency's managers receive it."),
        required=False,
    )
    with_practitioner_email = forms.CharField(
        label=_("Or, if they are not in Accord, their work email"),
        help_text=_(
            "They are emailed a link to answer as a guest of this escalation alone. The address must "
            "be at one of that agency's work email domains."
        ),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    with_people = forms.CharField(
        label=_("Anyone else the difference is with (optional)"),
        help_text=_("People outside the partnership's agencies, such as a carer or an independent provider."),
        required=False,
        max_length=300,
    )

    def __init__(self, *args, partnership, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership = partnership
        self.user = user
        agencies = list(partnership_agencies(partnership).exclude(pk=user.agency_id))
        self.fields["with_agency"].choices = [("", _("Select an agency"))] + [
            (a.pk, a.name) for a in agencies
        ]
        practitioners = (
            partnership_users_with_role(partnership, Role.PRACTITIONER)
            .exclude(agency_id=user.agency_id)
            .select_related("agency")
            .order_by("agency__name", "last_name")
        )
        practitioners = list(practitioners)
        people = [(u.username, f"{u.get_full_name() or u.username} ({u.agency})") for u in practitioners]
        # Each practitioner's agency, for the page to offer only those of the agency chosen.
        of_agency = {u.username: {"data-agency": str(u.agency_id)} for u in practitioners}
        self.fields["with_practitioner"].choices = [("", _("I do not know / nobody named"))] + people
        self.fields["with_practitioner"].option_attributes = of_agency
        self.fields["with_practitioner"].widget.attrs["data-agency-from"] = "id_with_agency"
        for i in range(1, self.OTHER_ROWS + 1):
            self.fields[f"other_{i}_agency"] = forms.TypedChoiceField(
                label=_("Other agency %(n)s (optional)") % {"n": i},
                coerce=int,
                empty_value=None,
                required=False,
                choices=[("", _("None"))] + [(a.pk, a.name) for a in agencies],
            )
            self.fields[f"other_{i}_practitioner"] = forms.ChoiceField(
                label=_("Practitioner in other agency %(n)s, if you know") % {"n": i},
                required=False,
                choices=[("", _("I do not know / nobody named"))] + people,
                widget=forms.Select(attrs={"data-agency-from": f"id_other_{i}_agency"}),
            )
            self.fields[f"other_{i}_practitioner"].option_attributes = of_agency
            self.fields[f"other_{i}_practitioner_email"] = forms.CharField(
                label=_("Or the work email of the practitioner in other agency %(n)s, if not in Accord")
                % {"n": i},
                required=False,
                max_length=254,
                widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )

    def others(self) -> list[tuple[str, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (
                str(i),
                self[f"other_{i}_agency"],
                self[f"other_{i}_practitioner"],
                self[f"other_{i}_practitioner_email"],
            )
            for i in range(1, self.OTHER_ROWS + 1)
        ]

    def _check_email(self, agency, field: str, chosen: str) -> None:
        email = (self.cleaned_data.get(field) or "").strip()
        if not email or agency is None:
            return
        if chosen:
            self.add_error(field, _("Name the practitioner from the list or by email, not both"))
            return
        try:
            resolve_email(self.partnership, agency, email)
        except ValueError as e:
            self.add_error(field, str(e))

    def clean(self):
        data = super().clean()
        first = data.get("with_agency")
        agencies = partnership_agencies(self.partnership).in_bulk()
        if first and data.get("with_practitioner"):
            try:
                practitioner_in(agencies.get(first), data["with_practitioner"])
            except LookupError:
                self.add_error("with_practitioner", _("Select a practitioner who works for that agency"))
        if first:
            self._check_email(agencies.get(first), "with_practitioner_email", data.get("with_practitioner"))
        for i in range(1, self.OTHER_ROWS + 1):
            agency, person = data.get(f"other_{i}_agency"), data.get(f"other_{i}_practitioner")
            if (person or data.get(f"other_{i}_practitioner_email")) and not agency:
                self.add_error(f"other_{i}_agency", _("Select the agency this practitioner works for"))
                continue
            if not agency:
                continue
            earlier = [data.get(f"other_{j}_agency") for j in range(1, i)]
            try:
                validate_other_parties(
                    partnership=self.partnership,
                    raising_agency_id=self.user.agency_id,
                    first_agency_id=first,
                    others=[PartyDetails(agency)],
                    already=[a for a in earlier if a],
                    field=f"other_{i}_agency",
                )
            except ValidationError as e:
                add_service_errors(self, e)
                continue
            try:
                practitioner_in(agencies.get(agency), person or "")
            except LookupError:
                self.add_error(
                    f"other_{i}_practitioner",
                    _("Select a practitioner who works for %(agency)s, or nobody")
                    % {"agency": agencies[agency].name},
                )
                continue
            self._check_email(agencies.get(agency), f"other_{i}_practitioner_email", person)
        return data


class ChildrenForm(forms.Form):
    ROWS = 4

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, self.ROWS + 1):
            self.fields[f"child_{i}_name"] = forms.CharField(
                label=_("Child %(n)s: name or initials") % {"n": i}, required=False, max_length=200
            )
            self.fields[f"child_{i}_date_of_birth"] = DateInputField(
                label=_("Child %(n)s: date of birth") % {"n": i},
                subject=_("the date of birth of child %(n)s") % {"n": i},
                required=False,
                allow_future=False,
                help_text=_("For example, 27 3 2019"),
            )
            self.fields[f"child_{i}_agency_reference"] = forms.CharField(
                label=_("Child %(n)s: your agency's case reference") % {"n": i},
                required=False,
                max_length=100,
            )

    def clean(self):
        data = super().clean()
        if not any((data.get(f"child_{i}_name") or "").strip() for i in range(1, self.ROWS + 1)):
            self.add_error("child_1_name", _("Enter the name or initials of at least one child"))
        for i in range(1, self.ROWS + 1):
            has_other = (
                data.get(f"child_{i}_date_of_birth")
                or (data.get(f"child_{i}_agency_reference") or "").strip()
            )
            if has_other and not (data.get(f"child_{i}_name") or "").strip():
                self.add_error(f"child_{i}_name", _("Enter the name or initials of child %(n)s") % {"n": i})
        return data

    def rows(self):
        return [
            (self[f"child_{i}_name"], self[f"child_{i}_date_of_birth"], self[f"child_{i}_agency_reference"])
            for i in range(1, self.ROWS + 1)
        ]


def _text(label, required=True, message=None, hint=None, rows=5, max_length=None):
    return forms.CharField(
        label=label,
        required=required,
        help_text=hint,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": message} if message else {},
    )


class DifferenceForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary of the difference"),
        max_length=200,
        help_text=_("One line others will recognise it by. Do not include the child's name."),
        error_messages={"required": _("Enter a short summary of the difference")},
    )
    decision_challenged = _text(
        _("The decision or situation you are challenging"),
        message=_("Enter the decision or situation you are challenging"),
    )
    concern = _text(_("Your concern"), message=_("Enter your concern"))
    evidence = _text(
        _("The evidence for your concern"),
        message=_("Enter the evidence for your concern"),
        hint=_("What you have seen, heard or read, with dates."),
    )
    professional_curiosity = _text(
        _("What professional curiosity found (optional)"),
        required=False,
        hint=_("What you explored beyond what you were told."),
    )


class ChildVoiceForm(forms.Form):
    child_voice = _text(
        _("The child's voice and lived experience"),
        required=False,
        hint=_("What the child has said or shown, and what daily life is like for them."),
    )
    family_view = _text(_("The family's view (optional)"), required=False)
    family_aware = forms.ChoiceField(
        label=_("Does the family know about this challenge?"),
        choices=FamilyAware.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether the family knows of the challenge")},
    )

    def __init__(self, *args: Any, theme: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if theme:
            # A pattern across children: no one family to ask about, but the children's
            # voices still matter.
            del self.fields["family_view"]
            del self.fields["family_aware"]
            self.fields["child_voice"].label = _("Children's voices and lived experience")
            self.fields["child_voice"].help_text = _(
                "What children and young people affected by the pattern have said or shown, "
                "and what it means for their daily lives."
            )


class OutcomeWantedForm(forms.Form):
    tried_so_far = _text(
        _("What has been tried so far to resolve it"), message=_("Enter what has been tried so far")
    )
    desired_outcome = _text(
        _("The child-centred outcome you want"), message=_("Enter the child-centred outcome you want")
    )
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"),
        widget=forms.RadioSelect,
        help_text=_("An urgent escalation runs on a shorter timescale at every stage."),
        error_messages={"required": _("Select how urgent this is")},
    )
    area_of_disagreement = forms.ChoiceField(
        label=_("Area of disagreement"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Select the area of disagreement")},
    )
    themes = forms.MultipleChoiceField(
        label=_("Practice themes (optional)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        # The partnership's priority tiers (routine and urgent, and any it added), each
        # with when to choose it.
        self.fields["urgency"].choices = [
            (p.code, f"{p.label}: {p.description}" if p.description else p.label)
            for p in ladder_of(partnership).priorities
        ]
        self.fields["area_of_disagreement"].choices = [
            (a.code, a.label) for a in partnership.areas_of_disagreement.filter(is_active=True)
        ]
        self.fields["themes"].choices = [
            (t.code, t.label) for t in partnership.practice_themes.filter(is_active=True)
        ]


class ReflectionForm(forms.Form):
    reflection = _text(
        _("Your private reflection (optional)"),
        required=False,
        rows=6,
        hint=_(
            "Only you and your line manager can read this. Think about any personal distress, "
            "impact, over-identification, trauma or unconscious motivation that might be "
            "affecting your practice."
        ),
    )


class EvidenceForm(forms.Form):
    """Evidence attached while raising (optional): one file at a time, as often as needed."""

    file = forms.FileField(
        label=_("Attach an evidence document (optional)"),
        help_text=_(
            "PDF, Word, PNG, JPEG or plain text, up to 10 MB. You can attach several, one at a time."
        ),
        required=False,
    )
    description = forms.CharField(label=_("What is it? (optional)"), required=False, max_length=200)


STEPS = [
    ("kind", KindForm, _("What the difference is about")),
    ("with", WithForm, _("Who the difference is with")),
    ("children", ChildrenForm, _("The children")),
    ("difference", DifferenceForm, _("The difference and the evidence")),
    ("evidence", EvidenceForm, _("Evidence documents")),
    ("child-voice", ChildVoiceForm, _("The child's voice and the family")),
    ("outcome", OutcomeWantedForm, _("What has been tried and the outcome wanted")),
    ("reflection", ReflectionForm, _("Your private reflection")),
]


# --------------------------------------------------------------------- actions


class DiscussionForm(VersionedForm):
    held_on = DateInputField(
        label=_("When did the discussion take place?"),
        subject=_("the date the discussion took place"),
        allow_future=False,
        help_text=_("For example, 27 3 2026"),
    )
    participants = forms.CharField(label=_("Who took part"), required=False, max_length=300)
    note = _text(_("What was discussed"), message=_("Enter what was discussed"))
    agreed = forms.ChoiceField(
        label=_("Was agreement reached?"),
        choices=[("yes", _("Yes")), ("no", _("No")), ("unsure", _("Not yet"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether agreement was reached")},
    )
    with_manager = forms.BooleanField(
        label=_("This was my consultation with the raiser's own manager or safeguarding lead"),
        required=False,
    )


class EscalateForm(VersionedForm):
    reason = _text(_("Why are you escalating?"), message=_("Enter why you are escalating"))
    efforts_to_resolve = _text(
        _("Evidence of efforts to resolve at the earlier stages"),
        required=False,
        rows=8,
        hint=_(
            "Required to escalate formally. We have filled this in from the recorded discussions: check and add to it."
        ),
    )
    to_stage = forms.TypedChoiceField(label=_("Escalate to"), coerce=int, widget=forms.RadioSelect)
    skip_reason = _text(_("Why are you skipping a stage? (only if you are)"), required=False, rows=3)

    def __init__(self, *args, stages, current_stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_stage"].choices = [
            (s.number, f"{s.number}: {s.name}") for s in stages if s.number > current_stage
        ]
        if self.fields["to_stage"].choices and not self.is_bound:
            self.fields["to_stage"].initial = self.fields["to_stage"].choices[0][0]


class ReasonForm(VersionedForm):
    reason = _text(_("Reason"), message=_("Enter a reason"), rows=4)


class CompleteActionForm(VersionedForm):
    note = _text(_("What was done (optional)"), required=False, rows=4)


class WithdrawForm(VersionedForm):
    reason = _text(_("Reason"), message=_("Enter a reason"), rows=4)
    learning = _text(
        _("Learning for the partnership (optional)"),
        required=False,
        rows=4,
        hint=_(
            "What the partnership could learn from this difference. The formal body reads it whatever the "
            "stage, so do not name the child or give their date of birth or case reference."
        ),
    )


class FollowUpForm(VersionedForm):
    held = forms.ChoiceField(
        label=_("Did the agreed way forward hold?"),
        choices=Held.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether the agreed way forward held")},
    )
    what_changed = _text(
        _("What changed for the child?"),
        message=_("Enter what changed for the child"),
        rows=5,
        hint=_("What is different for the child since the resolution, and what did not change."),
    )
    learning = _text(
        _("Learning for the partnership (optional)"),
        required=False,
        rows=4,
        hint=_(
            "What the partnership could learn from this difference. The formal body reads it whatever the "
            "stage, so do not name the child or give their date of birth or case reference."
        ),
    )


class AppointFacilitatorForm(VersionedForm):
    facilitator = forms.ChoiceField(
        label=_("Facilitator to appoint"),
        error_messages={"required": _("Select the facilitator to appoint")},
    )
    note = _text(_("What you ask of them (optional)"), required=False, rows=3)

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        facilitators = partnership_users_with_role(partnership, Role.FACILITATOR)
        self.fields["facilitator"].choices = [("", _("Select a facilitator"))] + [
            (u.username, u.get_full_name() or u.username) for u in facilitators
        ]


class EndFacilitationForm(VersionedForm):
    reason = _text(_("Why is the appointment ending? (optional)"), required=False, rows=3)


class ReassignForm(VersionedForm):
    holder = forms.ChoiceField(
        label=_("Whose part is being handed on?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whose part is being reassigned")},
    )
    to = forms.ChoiceField(
        label=_("Who holds it now?"),
        help_text=_(
            "Someone in the same agency. For a named practitioner, choose nobody and the agency's "
            "managers receive it."
        ),
        required=False,
    )
    reason = _text(_("Why is it being reassigned?"), message=_("Enter why it is being reassigned"), rows=3)

    def __init__(self, *args, escalation, **kwargs):
        super().__init__(*args, **kwargs)
        names = {a.pk: a.name for a in partnership_agencies(escalation.partnership)}
        holders = [
            ("raiser", _("The raiser (%(agency)s)") % {"agency": names.get(escalation.raising_agency_id, "")})
        ]
        holders += [
            (str(pk), _("The practitioner named at %(agency)s") % {"agency": names.get(pk, "")})
            for pk in escalation.receiving_agency_ids()
        ]
        self.fields["holder"].choices = holders
        people = (
            User.objects.filter(
                is_active=True,
                agency_id__in=escalation.party_agency_ids(),
                role_assignments__partnership=escalation.partnership,
            )
            .distinct()
            .select_related("agency")
            .order_by("agency__name", "last_name", "first_name")
        )
        self.fields["to"].choices = [("", _("Nobody named: the agency's managers"))] + [
            (u.username, f"{u.get_full_name() or u.username} ({u.agency})") for u in people
        ]


class AddPartyForm(VersionedForm):
    agency = forms.TypedChoiceField(
        label=_("Which agency should be brought in?"),
        coerce=int,
        error_messages={"required": _("Select the agency to bring in")},
    )
    practitioner = forms.ChoiceField(
        label=_("Which practitioner in that agency, if you know?"),
        help_text=_("If you do not name one, the agency's managers receive it."),
        required=False,
    )
    reason = _text(
        _("Why is this agency part of the difference?"),
        message=_("Enter why this agency is being brought in"),
        rows=4,
    )

    def __init__(self, *args, escalation, **kwargs):
        super().__init__(*args, **kwargs)
        partnership = escalation.partnership
        taken = set(escalation.party_agency_ids())
        self.agencies = {a.pk: a for a in partnership_agencies(partnership) if a.pk not in taken}
        self.fields["agency"].choices = [("", _("Select an agency"))] + [
            (a.pk, a.name) for a in self.agencies.values()
        ]
        practitioners = (
            partnership_users_with_role(partnership, Role.PRACTITIONER)
            .filter(agency_id__in=list(self.agencies))
            .select_related("agency")
            .order_by("agency__name", "last_name")
        )
        self.fields["practitioner"].choices = [("", _("I do not know / nobody named"))] + [
            (u.username, f"{u.get_full_name() or u.username} ({u.agency})") for u in practitioners
        ]

    def clean(self):
        data = super().clean()
        agency, person = data.get("agency"), data.get("practitioner")
        if agency and person:
            try:
                practitioner_in(self.agencies.get(agency), person)
            except LookupError:
                self.add_error(
                    "practitioner", _("Select a practitioner who works for that agency, or nobody")
                )
        return data


class RemovePartyForm(VersionedForm):
    reason = _text(
        _("Why is this agency no longer part of the difference?"),
        message=_("Enter why this agency is no longer part of the difference"),
        rows=4,
    )


class PdgActionForm(VersionedForm):
    action = forms.ChoiceField(
        label=_("What is being offered or done?"),
        choices=PdgActionKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select what is being offered or done")},
    )
    facilitator = forms.ChoiceField(
        label=_("Restorative facilitator to appoint"),
        help_text=_("Needed when offering a restorative facilitator; otherwise leave it as “Nobody”."),
        required=False,
    )
    note = _text(_("Note"), required=False, rows=4)

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        facilitators = partnership_users_with_role(partnership, Role.FACILITATOR)
        # The note of its involvement names the partnership's own formal body.
        self.fields["action"].choices = [
            (code, _("Note the %(body)s's involvement") % {"body": partnership.formal_body_name})
            if code == PdgActionKind.NOTE
            else (code, label)
            for code, label in PdgActionKind.choices
        ]
        self.fields["facilitator"].choices = [("", _("Nobody"))] + [
            (u.username, u.get_full_name() or u.username) for u in facilitators
        ]


class ResolveForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select the outcome")},
    )
    referred_to = forms.CharField(
        label=_("If referred on: to which process?"),
        help_text=_("For example a strategy discussion, a conference, the LADO or a rapid review."),
        required=False,
        max_length=200,
    )
    agreed_way_forward = _text(_("The agreed way forward"), message=_("Enter the agreed way forward"))
    child_centred_outcome_achieved = forms.ChoiceField(
        label=_("Was the child-centred outcome achieved?"),
        choices=ChildCentredOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether the child-centred outcome was achieved")},
    )
    learning = _text(
        _("Learning for the partnership (optional)"),
        required=False,
        rows=4,
        hint=_(
            "What the partnership could learn from this difference. The formal body reads it whatever the "
            "stage, so do not name the child or give their date of birth or case reference."
        ),
    )
    ACTION_ROWS = 3

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        agencies = [("", _("Select an agency"))] + [(a.pk, a.name) for a in partnership_agencies(partnership)]
        for i in range(1, self.ACTION_ROWS + 1):
            self.fields[f"action_{i}_description"] = forms.CharField(
                label=_("Action %(n)s") % {"n": i}, required=False, max_length=500
            )
            self.fields[f"action_{i}_owner"] = forms.TypedChoiceField(
                label=_("Action %(n)s: agency responsible") % {"n": i},
                required=False,
                choices=agencies,
                coerce=int,
                empty_value=None,
            )
            self.fields[f"action_{i}_due"] = DateInputField(
                label=_("Action %(n)s: due by") % {"n": i},
                subject=_("the due date of action %(n)s") % {"n": i},
                required=False,
            )

    def clean(self):
        data = super().clean()
        for i in range(1, self.ACTION_ROWS + 1):
            description = (data.get(f"action_{i}_description") or "").strip()
            owner = data.get(f"action_{i}_owner")
            due = data.get(f"action_{i}_due")
            if description or owner or due:
                if not description:
                    self.add_error(
                        f"action_{i}_description", _("Enter a description for action %(n)s") % {"n": i}
                    )
                if not owner:
                    self.add_error(
                        f"action_{i}_owner", _("Select the agency responsible for action %(n)s") % {"n": i}
                    )
                if not due and f"action_{i}_due" not in self.errors:
                    self.add_error(f"action_{i}_due", _("Enter the due date of action %(n)s") % {"n": i})
        return data

    def action_rows(self):
        return [
            (self[f"action_{i}_description"], self[f"action_{i}_owner"], self[f"action_{i}_due"])
            for i in range(1, self.ACTION_ROWS + 1)
        ]


class DocumentForm(VersionedForm):
    file = forms.FileField(
        label=_("Upload an evidence document"),
        help_text=_("PDF, Word, PNG, JPEG or plain text, up to 10 MB."),
        error_messages={"required": _("Select a file")},
    )
    description = forms.CharField(label=_("What is it? (optional)"), required=False, max_length=200)


LARGEST_ID = 2**63 - 1  # the largest key PostgreSQL's bigint and SQLite's integer hold


class _Listed(BaseChoiceIterator):
    """Choices already in (value, label) pairs, handed to a field as they are: Django
    checks and rebuilds a plain list of choices each time it is set or read."""

    def __init__(self, choices: list[tuple]) -> None:
        self.choices = choices

    def __iter__(self):
        return iter(self.choices)


class ListFilterForm(forms.Form):
    q = forms.CharField(label=_("Reference or summary"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False)
    stage = forms.TypedChoiceField(label=_("Stage"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    agency = forms.TypedChoiceField(label=_("Agency"), required=False, coerce=int, empty_value=None)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    # Set by drill-down links from the reports; kept in the address, not shown as fields.
    reached = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        widget=forms.HiddenInput,
        choices=[(n, n) for n in range(1, 10)],
    )
    raised_from = DateInputField(
        label=_("Raised on or after"), subject=_("the earliest date raised"), required=False
    )
    raised_to = DateInputField(
        label=_("Raised on or before"), subject=_("the latest date raised"), required=False
    )
    origin = forms.CharField(required=False, max_length=30, widget=forms.HiddenInput)
    area = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    theme = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    # (An id no database could hold is refused here, before it reaches a query.)
    raised_by_agency = forms.IntegerField(
        required=False, min_value=1, max_value=LARGEST_ID, widget=forms.HiddenInput
    )
    received_by_agency = forms.IntegerField(
        required=False, min_value=1, max_value=LARGEST_ID, widget=forms.HiddenInput
    )

    def __init__(self, *args, partnership, stages, **kwargs):
        super().__init__(*args, **kwargs)

        any_ = [("", _("Any"))]
        self.fields["status"].choices = any_ + list(Status.choices)
        self.fields["stage"].choices = any_ + [(s.number, f"{s.number}: {s.name}") for s in stages]
        self.fields["kind"].choices = any_ + [(Kind.CASE, _("Case")), (Kind.THEME, _("Theme"))]
        self.fields["urgency"].choices = any_ + [(p.code, p.label) for p in ladder_of(partnership).priorities]
        # Every agency of the partnership (200 at national scale), read as pairs rather
        # than records, and handed over as an iterator so the field need not re-check each.
        agencies = any_ + list(partnership_agencies(partnership, active_only=False).values_list("pk", "name"))
        self.fields["agency"].choices = _Listed(agencies)

    def clean(self):
        data = super().clean()
        start, end = data.get("raised_from"), data.get("raised_to")
        if start and end and start > end:
            self.add_error("raised_to", _("The latest date raised must be the same as or after the earliest"))
        return data


# --------------------------------------------------------------------------- guests


class GuestCodeForm(forms.Form):
    """The one-time code: typed or pasted (spaces and dashes are ignored), nothing to remember."""

    code = forms.CharField(
        label=_("Enter the code from the email"),
        help_text=_("It is 6 digits. You can paste it."),
        max_length=20,
        error_messages={"required": _("Enter the code from the email")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )


class GuestAnswerForm(forms.Form):
    """Whether the escalation is for them: until they say it is, no child's details are shown."""

    answer = forms.ChoiceField(
        label=_("Is this for you?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether you work with this child, or this is not for you")},
    )
    name = forms.CharField(
        label=_("Your name"),
        help_text=_("The parties see it beside what you record."),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )

    def __init__(self, *args, works_with: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer"].choices = [("confirm", works_with), ("decline", _("This is not for me"))]

    def clean(self):
        data = super().clean()
        if data.get("answer") == "confirm" and not (data.get("name") or "").strip():
            self.add_error("name", _("Enter your name"))
        return data


class GuestDiscussionForm(DiscussionForm):
    """A guest records a discussion or response as any party does (never the raiser's own
    manager's consultation, which is the raiser's side's)."""

    with_manager = None


class GuestNameForm(forms.Form):
    """Naming the other agency's professional by work email after raising (a corrected address)."""

    agency = forms.TypedChoiceField(
        label=_("Which agency do they work for?"),
        coerce=int,
        error_messages={"required": _("Select the agency they work for")},
    )
    email = forms.CharField(
        label=_("Their work email"),
        max_length=254,
        error_messages={"required": _("Enter their work email")},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.pk, a.name) for a in agencies]


class EmailDomainsForm(forms.Form):
    domains = forms.CharField(
        label=_("Its work email domains"),
        help_text=_(
            "One a line, for example nhs.net. Someone of this agency who is not in Accord can then be "
            "named on a difference by an address at one of these, and answer as a guest. Leave it "
            "empty and nobody of this agency can be named by email."
        ),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )


class GuestPersonForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), max_length=150, error_messages={"required": _("Enter their first name")}
    )
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    job_title = forms.CharField(label=_("Job title (optional)"), max_length=200, required=False)
