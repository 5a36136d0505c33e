"""A person's words matched to choices: exactly, case and punctuation aside; else a close
match to suggest, never a guess between two."""

from accord.core.matching import exact, suggest

AGENCIES = {
    "Royal Devon University Healthcare NHS Foundation Trust": "health",
    "Devon County Council Children's Services": "social",
    "Devon & Cornwall Police": "police",
}
STAGES = {
    "1": "practitioners",
    "stage 1": "practitioners",
    "2": "line-management",
    "stage 2": "line-management",
}


def test_exact_names_ignore_case_and_punctuation():
    assert exact("devon  & cornwall police", AGENCIES) == "police"
    assert exact("DEVON CORNWALL POLICE.", AGENCIES) == "police"
    assert exact("Police", AGENCIES) is None and exact("", AGENCIES) is None


def test_a_close_match_is_suggested_and_an_ambiguous_one_is_not():
    assert suggest("Royal Devon", AGENCIES) == "health"  # its words are in one name only
    assert suggest("Devon", AGENCIES) is None  # in all three: no guess
    assert suggest("Level 2", STAGES) == "line-management"  # numbered so, and only one is
    assert suggest("Devon Cornwal Police", AGENCIES) == "police"  # a slip of the keys
    assert suggest("Housing", AGENCIES) is None
