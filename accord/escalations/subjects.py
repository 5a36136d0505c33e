"""Whom an escalation is about, and the words that follow from it (``docs/decisions/0013``).

A partnership safeguards children, adults at risk or both (``Partnership.safeguards``). An
escalation's subject is a child (or children), an adult at risk, or a family; a theme's is
whom the pattern places at risk (children or adults). Where the partnership safeguards only
children, nobody is asked: the subject is a child.

Every sentence that names the subject is written for a child, as it always was, and this
module gives its words for an adult and for a family (``worded``): the page, the email, the
report and the printable record ask it, never a copy of a template. The sentence for a child
keeps its msgid, so its translations stand; each variant is marked for translation here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from accord.partnership.models import Safeguards


class Subject(models.TextChoices):
    CHILD = "child", _("A child or children")
    ADULT = "adult", _("An adult at risk")
    FAMILY = "family", _("A family")


class AdultAware(models.TextChoices):
    """Whether the adult knows of the difference (Making Safeguarding Personal)."""

    YES = "yes", _("Yes")
    NO = "no", _("No")
    NOT_YET = "not_yet", _("Not yet, but they will be told")
    LACKS_CAPACITY = "lacks_capacity", _("No: they lack the capacity to understand it")
    NOT_SAFE = "not_safe", _("No, it would not be safe to tell them")


class AdvocateInvolved(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    BEING_ARRANGED = "being_arranged", _("An advocate is being arranged")


# The subjects a partnership's escalations may have: a case's, then a theme's (a theme is
# about a pattern, never one family).
CASE_SUBJECTS = {
    Safeguards.CHILDREN: (Subject.CHILD,),
    Safeguards.ADULTS: (Subject.ADULT, Subject.FAMILY),
    Safeguards.BOTH: (Subject.CHILD, Subject.ADULT, Subject.FAMILY),
}
THEME_SUBJECTS = {
    Safeguards.CHILDREN: (Subject.CHILD,),
    Safeguards.ADULTS: (Subject.ADULT,),
    Safeguards.BOTH: (Subject.CHILD, Subject.ADULT),
}


def subjects_for(safeguards: str, *, theme: bool = False) -> tuple[Subject, ...]:
    table = THEME_SUBJECTS if theme else CASE_SUBJECTS
    return table.get(safeguards, (Subject.CHILD,))


def default_subject(safeguards: str) -> str:
    """The subject of an escalation raised without one: the first the partnership allows
    (a child for a children's or joint partnership, an adult for an adults board)."""
    return subjects_for(safeguards)[0].value


def asks_subject(safeguards: str) -> bool:
    """Whether a raiser is asked whom the difference is about: only where the partnership
    safeguards more than children."""
    return safeguards != Safeguards.CHILDREN


# Each sentence that names the subject: as it reads for a child (its msgid, unchanged), and
# its words for an adult and for a family. ``worded`` looks a sentence up by its words for a
# child; a sentence missing here is a mistake the tests find (``test_subjects``).
PHRASES: dict[str, tuple[str, str]] = {
    gettext_noop("the child"): (gettext_noop("the adult"), gettext_noop("the family")),
    gettext_noop("Children"): (gettext_noop("The adult"), gettext_noop("The family")),
    gettext_noop("The child or children"): (gettext_noop("The adult"), gettext_noop("The family")),
    gettext_noop("Child %(n)s"): (gettext_noop("Adult %(n)s"), gettext_noop("Person %(n)s")),
    gettext_noop("child %(n)s"): (gettext_noop("adult %(n)s"), gettext_noop("person %(n)s")),
    gettext_noop("the date of birth of child %(n)s"): (
        gettext_noop("the date of birth of adult %(n)s"),
        gettext_noop("the date of birth of person %(n)s"),
    ),
    gettext_noop("Enter the name or initials of child %(n)s"): (
        gettext_noop("Enter the name or initials of adult %(n)s"),
        gettext_noop("Enter the name or initials of person %(n)s"),
    ),
    gettext_noop("Add another child"): (
        gettext_noop("Add another adult"),
        gettext_noop("Add another person"),
    ),
    gettext_noop("What worries you for the child?"): (
        gettext_noop("What worries you for the adult?"),
        gettext_noop("What worries you for the family?"),
    ),
    gettext_noop("The outcome you want for the child"): (
        gettext_noop("The outcome you want for the adult"),
        gettext_noop("The outcome you want for the family"),
    ),
    gettext_noop("Enter what worries you for the child"): (
        gettext_noop("Enter what worries you for the adult"),
        gettext_noop("Enter what worries you for the family"),
    ),
    gettext_noop("The child's voice and lived experience"): (
        gettext_noop("The adult's voice and lived experience"),
        gettext_noop("The family's voices and lived experience"),
    ),
    gettext_noop("Child-centred outcome wanted"): (
        gettext_noop("Outcome wanted for the adult"),
        gettext_noop("Outcome wanted for the family"),
    ),
    gettext_noop("Child-centred outcome achieved"): (
        gettext_noop("Outcome achieved for the adult"),
        gettext_noop("Outcome achieved for the family"),
    ),
    gettext_noop("Enter the name or initials of at least one child"): (
        gettext_noop("Enter the name or initials of the adult"),
        gettext_noop("Enter the name or initials of at least one person in the family"),
    ),
    gettext_noop(
        "A name or initials is enough. A date of birth and your agency's reference help the other agencies find the child."
    ): (
        gettext_noop(
            "A name or initials is enough. A date of birth and your agency's reference help the other agencies find the adult."
        ),
        gettext_noop(
            "A name or initials is enough for each person. A date of birth and your agency's reference help the other agencies find them."
        ),
    ),
    # The board's own words: the banner and footer of every page, and the danger question,
    # for an adults board (``default_subject``); the summary's hint for each escalation.
    gettext_noop("Accord is not the route for a child in immediate danger."): (
        gettext_noop("Accord is not the route for an adult in immediate danger."),
        gettext_noop("Accord is not the route for anyone in immediate danger."),
    ),
    gettext_noop(
        "Accord records professional differences about children's safety so that they are settled early, on time and with evidence. What you record here is confidential safeguarding information: share it only with those who need it."
    ): (
        gettext_noop(
            "Accord records professional differences about the safety of adults at risk so that they are settled early, on time and with evidence. What you record here is confidential safeguarding information: share it only with those who need it."
        ),
        gettext_noop(
            "Accord records professional differences about the safety of children and adults so that they are settled early, on time and with evidence. What you record here is confidential safeguarding information: share it only with those who need it."
        ),
    ),
    gettext_noop("Is any child in immediate danger?"): (
        gettext_noop("Is the adult or anyone else in immediate danger?"),
        gettext_noop("Is anyone in the family in immediate danger?"),
    ),
    gettext_noop("Select yes if any child is in immediate danger"): (
        gettext_noop("Select yes if the adult or anyone else is in immediate danger"),
        gettext_noop("Select yes if anyone in the family is in immediate danger"),
    ),
    gettext_noop(
        "If a child is in immediate danger, call 999. For a child at risk of harm, contact the %(name)s on %(phone)s"
    ): (
        gettext_noop(
            "If an adult is in immediate danger, call 999. For an adult at risk of harm, contact the %(name)s on %(phone)s"
        ),
        gettext_noop(
            "If anyone is in immediate danger, call 999. For anyone at risk of harm, contact the %(name)s on %(phone)s"
        ),
    ),
    gettext_noop(
        "Use this when you and a practitioner in another agency see a child's safety differently and you have not been able to settle it between you."
    ): (
        gettext_noop(
            "Use this when you and a practitioner in another agency see an adult's safety differently and you have not been able to settle it between you."
        ),
        gettext_noop(
            "Use this when you and a practitioner in another agency see a family's safety differently and you have not been able to settle it between you."
        ),
    ),
    gettext_noop(
        "Disagreeing is a normal and welcome part of keeping children safe. Different views help everyone see the whole of a child's life. Raising a difference is not a complaint about a colleague."
    ): (
        gettext_noop(
            "Disagreeing is a normal and welcome part of keeping adults safe. Different views help everyone see the whole of an adult's life. Raising a difference is not a complaint about a colleague."
        ),
        gettext_noop(
            "Disagreeing is a normal and welcome part of keeping families safe. Different views help everyone see the whole of a family's life. Raising a difference is not a complaint about a colleague."
        ),
    ),
    gettext_noop(
        "Keep the child at the centre: what is their life like, what have they said, and what outcome do they need?"
    ): (
        gettext_noop(
            "Keep the adult at the centre: what is their life like, what do they want, and what outcome do they need?"
        ),
        gettext_noop(
            "Keep the family at the centre: what is their life like, what have they said, and what outcome do they need?"
        ),
    ),
    gettext_noop("One line others will recognise it by. Do not include the child's name."): (
        gettext_noop("One line others will recognise it by. Do not include the adult's name."),
        gettext_noop("One line others will recognise it by. Do not include the family's names."),
    ),
    gettext_noop(
        "A summary for each agency's own file on the child. Printed from Accord; the escalation's page holds the current record."
    ): (
        gettext_noop(
            "A summary for each agency's own file on the adult. Printed from Accord; the escalation's page holds the current record."
        ),
        gettext_noop(
            "A summary for each agency's own file on the family. Printed from Accord; the escalation's page holds the current record."
        ),
    ),
    # A professional named by email, asked whether the escalation is theirs (``guests.py``).
    gettext_noop("I work with this child"): (
        gettext_noop("I work with this adult"),
        gettext_noop("I work with this family"),
    ),
    gettext_noop("Select whether you work with this child, or this is not for you"): (
        gettext_noop("Select whether you work with this adult, or this is not for you"),
        gettext_noop("Select whether you work with this family, or this is not for you"),
    ),
    gettext_noop("A child (or sibling group)"): (
        gettext_noop("An adult at risk"),
        gettext_noop("A family"),
    ),
    gettext_noop("The child's details are shown once you confirm you work with them."): (
        gettext_noop("The adult's details are shown once you confirm you work with them."),
        gettext_noop("The family's details are shown once you confirm you work with them."),
    ),
}


def worded(text_for_child: str, subject: str) -> str:
    """``text_for_child`` (a sentence of ``PHRASES``, as written for a child) in the words for
    ``subject``, translated."""
    if text_for_child not in PHRASES:
        raise KeyError(f"no words for other subjects: {text_for_child!r}")
    adult, family = PHRASES[text_for_child]
    if subject == Subject.ADULT:
        return gettext(adult)
    if subject == Subject.FAMILY:
        return gettext(family)
    return gettext(text_for_child)


def subject_label(subject: str) -> str:
    return str(dict(Subject.choices).get(subject, subject))
