"""Forms for the escalation pages. Validation of the protocol's rules lives in the
services; these forms check shape and map the services' errors back onto fields."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from accord.core.govuk import DateInputField
from accord.partnership.models import Role, User
from accord.partnership.protocol import Ladder, ladder_of
from accord.partnership.selectors import casework_agencies, partnership_agencies, partnership_users_with_role

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
from .services import ActionDetails, PartyDetails, validate_other_parties
from .services.guests import resolve_email
from .subjects import AdultAware, AdvocateInvolved, Subject, asks_subject, subjects_for, worded

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

    def __init__(self, *args, subject: str = Subject.CHILD, **kwargs):
        super().__init__(*args, **kwargs)
        if subject != Subject.CHILD:
            field = self.fields["immediate_danger"]
            field.label = worded("Is any child in immediate danger?", subject)
            field.error_messages["required"] = worded(
                "Select yes if any child is in immediate danger", subject
            )


class StartForm(forms.Form):
    """A conference chair or IRO only: where the concern came from, and the stage it starts at."""

    origin = forms.ChoiceField(
        label=_("Where did the concern come from?"),
        choices=Origin.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select where the concern came from")},
    )

    def __init__(self, *args, ladder: Ladder | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if ladder is not None and ladder.conference_chair_starts():
            starts = [1, *ladder.conference_chair_starts()]
            self.fields["start_stage"] = forms.TypedChoiceField(
                label=_("Which stage should it start at?"),
                help_text=_("From a conference or review you may start at stage %(stages)s.")
                % {"stages": ", ".join(map(str, starts[1:]))},
                choices=[
                    (str(n), _("Stage %(n)s: %(name)s") % {"n": n, "name": ladder.stage(n).name})
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
                    "start_stage", _("Only an escalation from a conference or review can start above stage 1")
                )
            elif not (data.get("start_stage_reason") or "").strip():
                self.add_error("start_stage_reason", _("Enter why this starts above stage 1"))
        return data


MOST_ROWS = 10  # other agencies, or children, on one raising


def find_practitioner(partnership, agency, text: str) -> tuple[str, str]:
    """Who was typed for ``agency``: (username, "") for someone in Accord, found by their
    work email, username or full name (one person of that agency with it); ("", email) for
    someone not in Accord, named by a work email at the agency's domains. Raises
    ``ValueError`` with the words for the page."""
    text = " ".join((text or "").replace("\x00", "").split())
    if not text:
        return "", ""
    chosen = re.search(r"<([^<>\s]+@[^<>\s]+)>$", text)  # "Sam Okafor <sam@…>", as the picker fills it
    if chosen:
        text = chosen.group(1)
    people = User.objects.filter(
        is_active=True, agency=agency, role_assignments__partnership=partnership
    ).distinct()
    if "@" in text:
        # Someone of the partnership's staff (chosen from the directory) is named as themselves,
        # whatever their address; anyone else must be at one of the agency's work domains.
        known = people.filter(email__iexact=text).first()
        if known is not None:
            return known.username, ""
        named = resolve_email(partnership, agency, text)
        return (named.person.username, "") if named.person else ("", named.email)
    by_username = people.filter(username=text).first()
    if by_username is not None:
        return by_username.username, ""
    first, _space, last = text.rpartition(" ")
    found = list(people.filter(first_name__iexact=first, last_name__iexact=last)[:2]) if first else []
    if len(found) != 1:
        # Part of a name (without script there is no list to choose from): one person only.
        words = Q()
        for word in text.split()[:4]:
            words &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        found = list(people.filter(words)[:6])
        if len(found) > 1:
            raise ValueError(
                _(
                    "Several people at %(agency)s match %(name)s (%(names)s): enter their full name or work email"
                )
                % {
                    "agency": agency.name,
                    "name": text,
                    "names": ", ".join(p.get_full_name() or p.username for p in found[:5]),
                }
            )
    if len(found) == 1:
        return found[0].username, ""
    raise ValueError(
        _(
            "Nobody called %(name)s works for %(agency)s in Accord: choose them from the list, or enter their work email"
        )
        % {"name": text, "agency": agency.name}
    )


def _practitioner_input(label, hint=None) -> forms.CharField:
    field = forms.CharField(
        label=label,
        help_text=hint,
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "data-directory": "1"}),
    )
    return field


class WithForm(forms.Form):
    """What it is about and who it is with: the first agency and any others (added one row
    at a time), each with the practitioner there if known, found by name or work email. Only
    agencies taking part in casework are offered. Checked here by the same service checks
    that raising applies."""

    kind = forms.ChoiceField(
        label=_("Is the difference about a child, or a theme across cases?"),
        choices=[(Kind.CASE, _("A child or children")), (Kind.THEME, _("A theme across cases"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Select whether this is about a child or a theme")},
    )
    with_agency = forms.TypedChoiceField(
        label=_("Which agency is the difference with?"),
        coerce=int,
        error_messages={"required": _("Select the agency the difference is with")},
    )
    with_practitioner = _practitioner_input(
        _("Their practitioner, if you know (optional)"),
        _(
            "Start typing a name, or enter the work email of someone not in Accord. If you name nobody, the agency's managers receive it."
        ),
    )

    def __init__(self, *args, partnership, user, rows: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership = partnership
        self.user = user
        self.rows = max(0, min(rows, MOST_ROWS))
        if asks_subject(partnership.safeguards):
            # Where the partnership safeguards adults at risk, whom it is about is asked here,
            # beside the kind (a theme: whom the pattern places at risk).
            self.fields["kind"].label = _(
                "Is the difference about a person or family, or a theme across cases?"
            )
            self.fields["kind"].error_messages["required"] = _(
                "Select whether this is about a person or family, or a theme"
            )
            self.fields["kind"].choices = [
                (Kind.CASE, _("A person or a family")),
                (Kind.THEME, _("A theme across cases")),
            ]
            subject = forms.ChoiceField(
                label=_("Whom is it about?"),
                help_text=_("For a theme: whom the pattern places at risk."),
                choices=[(c.value, c.label) for c in subjects_for(partnership.safeguards)],
                widget=forms.RadioSelect,
                error_messages={"required": _("Select whom the difference is about")},
            )
            fields = list(self.fields.items())
            self.fields = {name: field for name, field in fields[:1]}
            self.fields["subject"] = subject
            self.fields.update(fields[1:])
        agencies = list(casework_agencies(partnership).exclude(pk=user.agency_id))
        self.agencies = {a.pk: a for a in agencies}
        choices = [("", _("Select an agency"))] + [(a.pk, a.name) for a in agencies]
        self.fields["with_agency"].choices = choices
        self.fields["with_agency"].widget.attrs["data-autocomplete"] = "1"
        for i in range(1, self.rows + 1):
            self.fields[f"other_{i}_agency"] = forms.TypedChoiceField(
                label=_("Agency"),
                coerce=int,
                empty_value=None,
                required=False,
                choices=choices,
                widget=forms.Select(attrs={"data-autocomplete": "1"}),
            )
            self.fields[f"other_{i}_practitioner"] = _practitioner_input(
                _("Their practitioner, if you know (optional)")
            )

    def others(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (str(i), self[f"other_{i}_agency"], self[f"other_{i}_practitioner"])
            for i in range(1, self.rows + 1)
        ]

    def _practitioner(self, agency_id, field: str) -> None:
        text = self.cleaned_data.get(field) or ""
        agency = self.agencies.get(agency_id)
        if not text or agency is None:
            self.cleaned_data[field] = ""
            return
        try:
            username, email = find_practitioner(self.partnership, agency, text)
        except ValueError as e:
            self.add_error(field, str(e))
            return
        self.cleaned_data[field] = username or email

    def clean(self):
        data = super().clean()
        first = data.get("with_agency")
        if first:
            self._practitioner(first, "with_practitioner")
        for i in range(1, self.rows + 1):
            agency = data.get(f"other_{i}_agency")
            if data.get(f"other_{i}_practitioner") and not agency:
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
            self._practitioner(agency, f"other_{i}_practitioner")
        return data


class ChildrenForm(forms.Form):
    """The child or children: a name or initials is enough; a date of birth and your
    agency's reference help the others find them. One row at a time. For an adult at risk
    (``subject``), whether they know of the difference, their views and wishes, and whether
    an advocate is involved are asked here too (Making Safeguarding Personal)."""

    def __init__(self, *args, rows: int = 1, subject: str = Subject.CHILD, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = max(1, min(rows, MOST_ROWS))
        self.subject = subject
        for i in range(1, self.rows + 1):
            self.fields[f"child_{i}_name"] = forms.CharField(
                label=_("Name or initials"), required=False, max_length=200
            )
            self.fields[f"child_{i}_date_of_birth"] = DateInputField(
                label=_("Date of birth (optional)"),
                subject=worded("the date of birth of child %(n)s", subject) % {"n": i},
                required=False,
                allow_future=False,
                help_text=_("For example, 27 3 2019"),
            )
            self.fields[f"child_{i}_agency_reference"] = forms.CharField(
                label=_("Your agency's case reference (optional)"), required=False, max_length=100
            )
        if subject == Subject.ADULT:
            self.fields.update(adult_fields())

    def clean(self):
        data = super().clean()
        if not any((data.get(f"child_{i}_name") or "").strip() for i in range(1, self.rows + 1)):
            self.add_error(
                "child_1_name", worded("Enter the name or initials of at least one child", self.subject)
            )
        for i in range(1, self.rows + 1):
            has_other = (
                data.get(f"child_{i}_date_of_birth")
                or (data.get(f"child_{i}_agency_reference") or "").strip()
            )
            if has_other and not (data.get(f"child_{i}_name") or "").strip():
                self.add_error(
                    f"child_{i}_name",
                    worded("Enter the name or initials of child %(n)s", self.subject) % {"n": i},
                )
        return data

    def adult_fields_of(self) -> list[forms.BoundField]:
        return [self[name] for name in ADULT_FIELDS if name in self.fields]

    def rows_of(self):
        return [
            (
                str(i),
                self[f"child_{i}_name"],
                self[f"child_{i}_date_of_birth"],
                self[f"child_{i}_agency_reference"],
            )
            for i in range(1, self.rows + 1)
        ]


ADULT_FIELDS = ("adult_aware", "adult_views", "adult_advocate")


def adult_fields() -> dict[str, forms.Field]:
    """The adult's own part in the difference, asked where it is about an adult at risk."""
    return {
        "adult_aware": forms.ChoiceField(
            label=_("Does the adult know about this difference?"),
            choices=AdultAware.choices,
            widget=forms.RadioSelect,
            error_messages={"required": _("Select whether the adult knows of the difference")},
        ),
        "adult_views": _text(
            _("The adult's views and wishes (optional)"),
            required=False,
            rows=4,
            max_length=5000,
            hint=_("What they want to happen, in their own words where you can."),
        ),
        "adult_advocate": forms.ChoiceField(
            label=_("Is an advocate involved? (optional)"),
            choices=AdvocateInvolved.choices,
            widget=forms.RadioSelect,
            required=False,
        ),
    }


def _text(label, required=True, message=None, hint=None, rows=5, max_length=None):
    return forms.CharField(
        label=label,
        required=required,
        help_text=hint,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": message} if message else {},
    )


# How each answer a stage may ask for is asked on a page (``protocol.ANSWERS``).
ANSWER_FIELDS = {
    "concern": (
        _("What worries you for the child?"),
        _("In a few words: what could happen to them if nothing changes."),
    ),
    "decision_challenged": (_("The decision or situation you are challenging"), None),
    "tried_so_far": (_("What has been tried so far to resolve it"), None),
    "desired_outcome": (_("The outcome you want for the child"), None),
    "evidence": (_("The evidence for your concern"), _("What you have seen, heard or read, with dates.")),
    "efforts_to_resolve": (
        _("Evidence of efforts to resolve it at the earlier stages"),
        _("We have filled this in from the recorded discussions: check and add to it."),
    ),
    "professional_curiosity": (
        _("What professional curiosity found"),
        _("What you explored beyond what you were told."),
    ),
    "child_voice": (
        _("The child's voice and lived experience"),
        _("What the child has said or shown, and what daily life is like for them."),
    ),
    "family_view": (_("The family's view"), None),
}


def answer_label(name: str, subject: str = Subject.CHILD) -> str:
    """An answer's label, in the words for the escalation's ``subject``."""
    if subject != Subject.CHILD and name in WORDED_ANSWERS:
        return worded(WORDED_ANSWERS[name][0], subject)
    return str(ANSWER_FIELDS[name][0])


# The answers whose question names the subject: its words for a child (``subjects.PHRASES``).
WORDED_ANSWERS = {
    "concern": ("What worries you for the child?", "Enter what worries you for the child"),
    "desired_outcome": ("The outcome you want for the child", None),
    "child_voice": ("The child's voice and lived experience", None),
}


def answer_field(
    name: str, *, required: bool, theme: bool = False, subject: str = Subject.CHILD
) -> forms.CharField:
    """The field for one of the answers a stage may ask for, required or optional, in the
    words for the escalation's ``subject``."""
    from .services import MISSING

    label, hint = ANSWER_FIELDS[name]
    message = MISSING.get(name)
    if subject != Subject.CHILD and name in WORDED_ANSWERS:
        for_child, missing_for_child = WORDED_ANSWERS[name]
        label = worded(for_child, subject)
        message = worded(missing_for_child, subject) if missing_for_child else message
    if theme and name == "concern":
        label, hint = _("What worries you for children?"), _("In a few words: the risk the pattern carries.")
    if theme and name == "child_voice":
        label = _("Children's voices and lived experience")
    if not required:
        label = _("%(label)s (optional)") % {"label": label}
    return _text(label, required=required, message=message, hint=hint, rows=3 if name == "concern" else 5)


class DifferenceForm(forms.Form):
    """The difference in brief: a one-line summary, what the protocol's first stage asks for
    (Devon's: what worries you for the child), how urgent it is, the areas and themes."""

    summary = forms.CharField(
        label=_("Summary of the difference"),
        max_length=200,
        help_text=_("One line others will recognise it by. Do not include the child's name."),
        error_messages={"required": _("Enter a short summary of the difference")},
    )
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"),
        widget=forms.RadioSelect,
        help_text=_("An urgent escalation runs on a shorter timescale at every stage."),
        error_messages={"required": _("Select how urgent this is")},
    )
    areas = forms.MultipleChoiceField(
        label=_("Areas of disagreement"), widget=forms.CheckboxSelectMultiple, required=False
    )
    themes = forms.MultipleChoiceField(
        label=_("Practice themes (optional)"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(
        self,
        *args,
        partnership,
        asks: tuple[str, ...] = (),
        theme: bool = False,
        subject: str = Subject.CHILD,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        ladder = ladder_of(partnership)
        texts = [a for a in asks if a in ANSWER_FIELDS]
        fields = {"summary": self.fields["summary"]}
        for name in texts:
            fields[name] = answer_field(name, required=True, theme=theme, subject=subject)
        fields.update({k: self.fields[k] for k in ("urgency", "areas", "themes")})
        self.fields = fields
        if subject != Subject.CHILD:
            self.fields["summary"].help_text = worded(
                "One line others will recognise it by. Do not include the child's name.", subject
            )
        self.fields["urgency"].choices = [
            (p.code, f"{p}: {p.description_shown}" if p.description else str(p)) for p in ladder.priorities
        ]
        self.fields["areas"].choices = [
            (a.code, str(a)) for a in partnership.areas_of_disagreement.filter(is_active=True)
        ]
        self.fields["themes"].choices = [
            (t.code, str(t)) for t in partnership.practice_themes.filter(is_active=True)
        ]
        if "areas_of_disagreement" in asks:
            self.fields["areas"].required = True
            self.fields["areas"].error_messages["required"] = _("Select the area of disagreement")
        else:
            self.fields["areas"].label = _("Areas of disagreement (optional)")
        if "themes" in asks or theme:  # (a thematic escalation is about a theme: always asked)
            self.fields["themes"].required = True
            self.fields["themes"].label = _("Practice themes")
            self.fields["themes"].error_messages["required"] = _("Select the practice themes")


class MoreForm(forms.Form):
    """Anything the protocol does not ask for yet, given now if the raiser wishes."""

    def __init__(
        self,
        *args,
        asks: tuple[str, ...] = (),
        theme: bool = False,
        is_chair: bool = False,
        subject: str = Subject.CHILD,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        for name in ANSWER_FIELDS:
            if name not in asks and name != "efforts_to_resolve" and not (theme and name == "family_view"):
                self.fields[name] = answer_field(name, required=False, theme=theme, subject=subject)
        if not theme:
            self.fields["family_aware"] = forms.ChoiceField(
                label=_("Does the family know about this challenge? (optional)"),
                choices=FamilyAware.choices,
                widget=forms.RadioSelect,
                required=False,
            )
        if not is_chair:
            self.fields["origin"] = forms.ChoiceField(
                label=_("Where did the concern come from?"),
                choices=[
                    (Origin.PRACTITIONER, Origin.PRACTITIONER.label),
                    (Origin.CHILD_OR_FAMILY, Origin.CHILD_OR_FAMILY.label),
                ],
                widget=forms.RadioSelect,
                required=False,
            )
        self.fields["with_people"] = forms.CharField(
            label=_("Anyone else the difference is with (optional)"),
            help_text=_(
                "People outside the partnership's agencies, such as a carer or an independent provider."
            ),
            required=False,
            max_length=300,
        )
        self.fields["reflection"] = _text(
            _("Your private reflection (optional)"),
            required=False,
            rows=6,
            hint=_(
                "Only you and your line manager can read this. Think about any personal distress, impact, "
                "over-identification, trauma or unconscious motivation that might be affecting your practice."
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


class SettledWithForm(WithForm):
    """A settled difference: one agency, its practitioner if known (someone in Accord)."""

    def __init__(self, *args, **kwargs):
        kwargs["rows"] = 0
        super().__init__(*args, **kwargs)
        self.fields["with_practitioner"].help_text = _(
            "Start typing a name. They are told it was recorded, and may add their view."
        )

    def _practitioner(self, agency_id, field: str) -> None:
        super()._practitioner(agency_id, field)
        if "@" in (self.cleaned_data.get(field) or ""):
            self.add_error(
                field, _("Choose someone in Accord, or leave it empty: the agency's managers are told")
            )


class SettledForm(forms.Form):
    summary = forms.CharField(
        label=_("In a line, what was it about?"),
        max_length=200,
        help_text=_("Do not include the child's name."),
        error_messages={"required": _("Enter a line on what it was about")},
    )
    outcome = forms.ChoiceField(
        label=_("How did it end?"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select how it ended")},
    )
    agreed_way_forward = forms.CharField(
        label=_("What was agreed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Enter what was agreed")},
    )
    learning = forms.CharField(
        label=_("Any learning for the partnership (optional)"),
        help_text=_("Without the child's name or other details that identify them."),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


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
    """Escalating asks what the stage entered asks for (``Ladder.required_to_enter``), in
    its words, pre-filled with what is known; and rule 3's answers only to enter the formal
    stages."""

    to_stage = forms.TypedChoiceField(label=_("Escalate to"), coerce=int, widget=forms.RadioSelect)
    reason = _text(_("Why are you escalating?"), message=_("Enter why you are escalating"), rows=4)
    skip_reason = _text(_("Why are you skipping a stage? (only if you are)"), required=False, rows=3)

    def __init__(self, *args, escalation, **kwargs):
        super().__init__(*args, **kwargs)
        ladder = ladder_of(escalation.partnership)
        later = [s for s in ladder.stages if s.number > escalation.stage]
        self.fields["to_stage"].choices = [(s.number, f"{s.number}: {s.shown_name}") for s in later]
        # The stage it goes to: the next, or the one chosen (a skip) when the form comes back.
        chosen = str((self.data or {}).get("to_stage", "")) if self.is_bound else ""
        self.next_stage = next((st for st in later if str(st.number) == chosen), later[0] if later else None)
        if self.fields["to_stage"].choices and not self.is_bound:
            self.fields["to_stage"].initial = self.fields["to_stage"].choices[0][0]
        if len(later) <= 1:
            del self.fields["skip_reason"]
        self.asks: list[str] = []
        self.entering_formal = False
        if self.next_stage is not None:
            self.entering_formal = self.next_stage.formal and escalation.formal_at is None
            theme = escalation.kind == Kind.THEME
            wanted: list[str] = []
            for number in range(escalation.stage + 1, self.next_stage.number + 1):
                wanted += [a for a in ladder.required_to_enter(number) if a not in wanted]
            for name in wanted:
                if name not in ANSWER_FIELDS or (name == "efforts_to_resolve" and not self.entering_formal):
                    continue
                # Asked as required; the service decides (what is known already counts), so
                # that rule 2's refusal, say, comes first and is the same for the API.
                self.fields[name] = answer_field(name, required=True, theme=theme, subject=escalation.subject)
                self.fields[name].required = False
                self.asks.append(name)
                if not self.is_bound and name != "efforts_to_resolve":
                    self.initial.setdefault(name, getattr(escalation, name, ""))
            if self.entering_formal:
                self.fields["reason"].label = _("Why are you escalating formally?")

    @property
    def button(self) -> str:
        if self.next_stage is None:
            return str(_("Escalate"))
        return str(_("Escalate to stage %(n)s") % {"n": self.next_stage.number})

    def answers(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in self.asks if name != "efforts_to_resolve"}


class DetailsForm(VersionedForm):
    """Details the protocol had not asked for yet (or a correction), the raiser's account."""

    def __init__(self, *args, escalation, **kwargs):
        super().__init__(*args, **kwargs)
        theme = escalation.kind == Kind.THEME
        for name in ANSWER_FIELDS:
            if name == "efforts_to_resolve" or (theme and name == "family_view"):
                continue
            self.fields[name] = answer_field(name, required=False, theme=theme, subject=escalation.subject)
            if not self.is_bound:
                self.initial.setdefault(name, getattr(escalation, name, ""))

    def answers(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in ANSWER_FIELDS if name in self.fields}


class ViewForm(VersionedForm):
    view = _text(_("Your view"), message=_("Enter your view"), rows=5, max_length=5000)


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
    practitioner = _practitioner_input(
        _("Their practitioner, if you know (optional)"),
        _("Start typing a name. If you name nobody, the agency's managers receive it."),
    )
    reason = _text(
        _("Why is this agency part of the difference?"),
        message=_("Enter why this agency is being brought in"),
        rows=4,
    )

    def __init__(self, *args, escalation, **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership = escalation.partnership
        taken = set(escalation.party_agency_ids())
        # Only agencies taking part in casework (as when raising).
        self.agencies = {a.pk: a for a in casework_agencies(self.partnership) if a.pk not in taken}
        self.fields["agency"].choices = [("", _("Select an agency"))] + [
            (a.pk, a.name) for a in self.agencies.values()
        ]
        self.fields["agency"].widget.attrs["data-autocomplete"] = "1"

    def clean(self):
        data = super().clean()
        agency, text = self.agencies.get(data.get("agency")), data.get("practitioner") or ""
        if agency is not None and text:
            try:
                username, email = find_practitioner(self.partnership, agency, text)
            except ValueError as e:
                self.add_error("practitioner", str(e))
            else:
                if email:
                    self.add_error(
                        "practitioner",
                        _(
                            "Someone not in Accord is named by work email from the escalation's page, once the agency is in"
                        ),
                    )
                data["practitioner"] = username
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
            (code, _("Note the %(body)s's involvement") % {"body": partnership.formal_body_shown})
            if code == PdgActionKind.NOTE
            else (code, label)
            for code, label in PdgActionKind.choices
        ]
        self.fields["facilitator"].choices = [("", _("Nobody"))] + [
            (u.username, u.get_full_name() or u.username) for u in facilitators
        ]


def agreed_actions_from(cd: dict, rows: int) -> list[ActionDetails]:
    """The agreed actions a resolution's form rows hold (those with a description)."""
    found = []
    for i in range(1, rows + 1):
        if (cd.get(f"action_{i}_description") or "").strip():
            found.append(
                ActionDetails(
                    description=cd[f"action_{i}_description"],
                    owner_agency_id=cd[f"action_{i}_owner"],
                    due_date=cd[f"action_{i}_due"],
                )
            )
    return found


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
        self.fields["stage"].choices = any_ + [(s.number, f"{s.number}: {s.shown_name}") for s in stages]
        self.fields["kind"].choices = any_ + [(Kind.CASE, _("Case")), (Kind.THEME, _("Theme"))]
        self.fields["urgency"].choices = any_ + [(p.code, str(p)) for p in ladder_of(partnership).priorities]
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
    )
    name = forms.CharField(
        label=_("Your name"),
        help_text=_("Needed if it is for you: the parties see it beside what you record."),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )

    def __init__(self, *args, works_with: tuple[str, str], **kwargs):
        """``works_with``: the answer that it is theirs, and the words asking for one."""
        super().__init__(*args, **kwargs)
        answer, ask = works_with
        self.fields["answer"].choices = [("confirm", answer), ("decline", _("This is not for me"))]
        self.fields["answer"].error_messages["required"] = ask

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
