"""SNAIL's attention map keeps its numbers where a class sees it: on a projector's screen the map gets
about 120 px of height (1366x768), and every cell must still show its weight, with the whole map in view."""

from __future__ import annotations

import numpy as np
import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)

from gui.task_views.attention_map import NUMBER_CELL, AttentionMap


def _filled(qtbot, width: int, height: int, queries: int = 5, support: int = 5) -> AttentionMap:
    view = AttentionMap()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(support + 1), size=queries)
    images = rng.random((support, 28, 28)).astype(np.float32)
    view.set_attention(weights, images, np.arange(support) % 5, images[:queries], np.arange(queries) % 5)
    view.resize(width, height)
    view.show()
    return view


@pytest.mark.parametrize("height", [120, 143, 200])
def test_every_cell_shows_its_weight_and_the_map_fits_at_a_projectors_height(qtbot, height):
    view = _filled(qtbot, 512, height)
    cell = view._cell()
    _, head = view._head(cell)
    assert cell >= NUMBER_CELL, f"{cell:.1f} px cells at {height} px: too small for their numbers"
    assert head + 5 * cell + 4 <= height + 0.5, "the last row is cut"
    view.grab()  # paints without error


def test_a_tall_map_keeps_full_size_thumbnails(qtbot):
    view = _filled(qtbot, 512, 400)
    thumb, head = view._head(view._cell())
    assert thumb == 22 and head == 38
