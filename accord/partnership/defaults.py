"""Devon's protocol as Accord's default configuration: the ladder, the taxonomies, the agencies.

Everything here is data loaded into a partnership; any partnership can change it.
"""

from __future__ import annotations

from .models import AgencyKind, AreaOfDisagreement, PracticeTheme
from .protocol import DEFAULT_PRESET, install_ladder, preset

AREAS_OF_DISAGREEMENT = [
    ("levels-of-risk", "Levels of risk, need or threshold"),
    ("roles-and-responsibilities", "Roles and responsibilities"),
    ("communication", "Communication and information sharing"),
    ("provision-of-services", "Provision of services"),
    ("progressing-plans", "Action or inaction in progressing plans"),
    ("step-up-down-closure", "A case being stepped up, stepped down or closed"),
]

PRACTICE_THEMES = [
    ("neglect", "Neglect"),
    ("exploitation", "Exploitation"),
    ("domestic-abuse", "Domestic abuse"),
    ("parental-mental-health", "Parental mental health"),
    ("parental-substance-misuse", "Parental substance misuse"),
    ("sexual-abuse", "Sexual abuse"),
    ("physical-abuse", "Physical abuse"),
    ("emotional-abuse", "Emotional abuse"),
    ("online-harm", "Online harm"),
    ("children-with-disabilities", "Children with disabilities"),
    ("adolescent-risk", "Adolescent risk outside the home"),
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
