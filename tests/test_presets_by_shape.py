"""The presets a test walks stand for every shape of protocol among the presets."""

from __future__ import annotations

import pytest

from accord.partnership.protocol import preset, preset_names
from accord.testing.presets import ASPECTS, _aspect, presets_by_shape


@pytest.mark.parametrize("aspects", [("ladder",), ("ladder", "subject", "wales"), ASPECTS])
def test_every_presets_shape_is_walked_once(aspects):
    walked = presets_by_shape(*aspects)
    shape = {name: tuple(_aspect(preset(name), a) for a in aspects) for name in preset_names()}
    assert {shape[n] for n in walked} == set(shape.values())
    assert len({shape[n] for n in walked}) == len(walked)


def test_presets_of_one_ladder_are_walked_once_and_an_unknown_aspect_is_refused():
    assert "devon" in presets_by_shape("ladder")
    # Somerset's ladder is Devon's shape (practitioners, managers, senior leaders, formal body).
    assert "somerset" not in presets_by_shape("ladder")
    with pytest.raises(ValueError):
        presets_by_shape("colour")
