"""Devon's protocol as Accord's default configuration: the ladder, the taxonomies, the agencies.

Everything here is data loaded into a partnership; any partnership can change it.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from .models import AgencyKind, AreaOfDisagreement, PracticeTheme
from .protocol import DEFAULT_PRESET, install_ladder, preset

AREAS_OF_DISAGREEMENT = [
    ("levels-of-risk", gettext_noop("Levels of risk, need or threshold")),
    ("roles-and-responsibilities", gettext_noop("Roles and responsibilities")),
    ("communication", gettext_noop("Communication and information sharing")),
    ("provision-of-services", gettext_noop("Provision of services")),
    ("progressing-plans", gettext_noop("Action or inaction in progressing plans")),
    ("step-up-down-closure", gettext_noop("A case being stepped up, stepped down or closed")),
]

PRACTICE_THEMES = [
    ("neglect", gettext_noop("Neglect")),
    ("exploitation", gettext_noop("Exploitation")),
    ("domestic-abuse", gettext_noop("Domestic abuse")),
    ("parental-mental-health", gettext_noop("Parental mental health")),
    ("parental-substance-misuse", gettext_noop("Parental substance misuse")),
    ("sexual-abuse", gettext_noop("Sexual abuse")),
    ("physical-abuse", gettext_noop("Physical abuse")),
    ("emotional-abuse", gettext_noop("Emotional abuse")),
    ("online-harm", gettext_noop("Online harm")),
    ("children-with-disabilities", gettext_noop("Children with disabilities")),
    ("adolescent-risk", gettext_noop("Adolescent risk outside the home")),
]

DEVON_AGENCIES = [
    ("Devon County Council Children's Services", AgencyKind.CHILDRENS_SOCIAL_CARE),
    ("Devon & Cornwall Police", AgencyKind.POLICE),
    ("NHS Devon Integrated Care Board", AgencyKind.HEALTH_COMMISSIONER),
    ("Royal Devon University Healthcare NHS Foundation Trust", AgencyKind.HEALTH_PROVIDER),
    ("Torbay and South Devon NHS Foundation Trust", AgencyKind.HEALTH_PROVIDER),
    ("Devon Partnership NHS Trust", AgencyKind.HEALTH_PROVIDER),
    ("Devon GP practices (primary care)", AgencyKind.HEALTH_PROVIDER),
    ("Devon Education and Learning (schools)", AgencyKind.EDUCATION),
    ("The Probation Service (South West)", AgencyKind.PROBATION),
    ("Exeter City Council Housing", AgencyKind.HOUSING),
    ("Young Devon", AgencyKind.VOLUNTARY_SECTOR),
    ("Cafcass", AgencyKind.CAFCASS),
    ("Devon Independent Reviewing Unit", AgencyKind.INDEPENDENT_REVIEWING_UNIT),
    ("Devon Safeguarding Children Partnership Business Unit", AgencyKind.PARTNERSHIP_BUSINESS_UNIT),
]


def install_defaults(partnership) -> None:
    """Give a partnership Devon's ladder (the default preset) and taxonomies."""

    install_ladder(partnership, preset(DEFAULT_PRESET))
    for position, (code, label) in enumerate(AREAS_OF_DISAGREEMENT):
        AreaOfDisagreement.objects.update_or_create(
            partnership=partnership, code=code, defaults={"label": label, "position": position}
        )
    for position, (code, label) in enumerate(PRACTICE_THEMES):
        PracticeTheme.objects.update_or_create(
            partnership=partnership, code=code, defaults={"label": label, "position": position}
        )
