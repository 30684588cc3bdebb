"""Drawn characters without Qt: rendering, the ink threshold, the folder of PNGs, and the answer per stage."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from assets import checkpoint_path
from engine.core.errors import ConfigError, DataError
from engine.core.tasks import Task
from engine.data.image_prep import drawings_to_batch
from engine.lessons.drawing import CANVAS, MIN_INK, PEN_RADIUS, Drawing, has_enough_ink, ink_fraction, render
from engine.lessons.drawing_answer import EmptyDrawingError, answer_drawings, check_drawings
from engine.lessons.drawing_examples import EXAMPLE_QUERY_CLASS, example_query, example_support
from engine.lessons.drawing_folder import DrawingSet, load_drawing_set, save_drawing_set, support_file
from engine.run.learner_io import load_meta_learner

MAML = "omniglot-finn-5w1s-maml.pt"
MANN = "omniglot-cs330-3w1s-mann.pt"


@pytest.fixture(scope="module")
def learners():
    torch.set_num_threads(1)
    return {name: load_meta_learner(checkpoint_path(name), "cpu")[1] for name in (MAML, MANN)}


def _stroke_width(ink: np.ndarray) -> float:
    """2·area / boundary pixels: the width of a long stroke, in pixels."""
    pad = np.pad(ink, 1)
    inner = pad[1:-1, 1:-1] & pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
    return 2 * ink.sum() / (ink.sum() - inner.sum())


# -- rendering and ink ---------------------------------------------------------------------------------------
def test_a_blank_drawing_is_white_paper_of_omniglot_size():
    image = render(Drawing())
    assert image.mode == "L" and image.size == (CANVAS, CANVAS)
    assert np.asarray(image).min() == 255 and ink_fraction(image) == 0.0


def test_a_horizontal_stroke_is_4_to_5_pixels_thick_and_pure_black():
    for y in (50.0, 50.25, 50.5, 50.75):
        image = np.asarray(render(Drawing().with_stroke(((20.0, y), (80.0, y)))))
        assert set(np.unique(image)) == {0, 255}  # one-bit like the Omniglot PNGs
        assert (image[:, 50] == 0).sum() in (4, 5)  # as the stroke falls within a pixel


def test_undo_and_a_dot():
    line = Drawing().with_stroke(((20.0, 50.0), (80.0, 50.0)))
    assert line.with_stroke(((10.0, 10.0),)).undone() == line
    dot = Drawing().with_stroke(((50.0, 50.0),))
    assert 0 < ink_fraction(render(dot)) < MIN_INK and not has_enough_ink(render(dot))
    assert has_enough_ink(render(line))


def test_a_base_image_of_another_size_keeps_the_pen_in_proportion():
    base = Image.new("L", (210, 210), 255)
    drawing = Drawing(base=base).with_stroke(((40.0, 100.0), (160.0, 100.0)))
    assert drawing.pen_radius == 2 * PEN_RADIUS and render(drawing).size == (210, 210)
    assert 8 <= (np.asarray(render(drawing))[:, 100] == 0).sum() <= 10  # twice as thick, to a pixel
    assert np.asarray(base).min() == 255  # the base itself is never drawn on


def test_the_pen_and_the_ink_threshold_match_real_omniglot(omniglot_dir):
    """On 500 random Omniglot originals: strokes as wide as this pen's, and almost none below MIN_INK."""
    archive = next(p for p in (omniglot_dir / "images_background.zip", omniglot_dir) if p.exists())
    with zipfile.ZipFile(archive) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".png"))
        chosen = np.random.default_rng(0).choice(names, 500, replace=False)
        originals = [Image.open(io.BytesIO(z.read(n))) for n in chosen]
    widths = [_stroke_width(np.asarray(im.convert("L")) < 128) for im in originals]
    ours = _stroke_width(np.asarray(render(Drawing().with_stroke(((15.0, 30.0), (90.0, 75.0))))) < 128)
    assert abs(np.median(widths) - ours) < 0.75
    inks = np.array([ink_fraction(im) for im in originals])
    assert (inks < MIN_INK).mean() <= 0.005


# -- the folder ----------------------------------------------------------------------------------------------
def test_a_drawing_set_round_trips_through_pngs_and_replaces_an_older_set(tmp_path):
    images = [render(d) for d in example_support(5)]
    save_drawing_set(
        tmp_path, DrawingSet({(c, 0): im for c, im in enumerate(images)}, render(example_query()))
    )
    smaller = DrawingSet({(c, 0): im for c, im in enumerate(images[:3])}, None)
    save_drawing_set(tmp_path, smaller)
    (tmp_path / "notes.txt").write_text("kept")
    back = load_drawing_set(tmp_path)
    assert (back.ways, back.shots, back.query) == (3, 1, None)
    assert all(np.array_equal(np.asarray(back.support[(c, 0)]), np.asarray(images[c])) for c in range(3))
    assert (tmp_path / "notes.txt").exists()


def test_a_folder_without_drawings_or_with_a_broken_one_says_so(tmp_path):
    with pytest.raises(DataError, match="holds no drawings"):
        load_drawing_set(tmp_path)
    (tmp_path / support_file(0, 0)).write_bytes(b"not a png")
    with pytest.raises(DataError, match="cannot read drawing"):
        load_drawing_set(tmp_path)


# -- the answer ----------------------------------------------------------------------------------------------
def test_empty_and_nearly_empty_cells_are_named():
    full = [[render(d)] for d in example_support(3)]
    query = render(example_query())
    with pytest.raises(EmptyDrawingError, match="^class 2 is empty: draw a character there first$"):
        check_drawings([full[0], [None], full[2]], query)
    dot = render(Drawing().with_stroke(((50.0, 50.0),)))
    with pytest.raises(EmptyDrawingError, match="^the query is almost empty"):
        check_drawings(full, dot)
    with pytest.raises(EmptyDrawingError, match="^class 1, drawing 2 is empty"):
        check_drawings([[full[0][0], None], full[1] * 2, full[2] * 2], query)


def test_maml_answers_per_inner_step_with_the_query_beside_the_support(learners):
    learner = learners[MAML]
    support = [[render(d)] for d in example_support(5)]
    query = render(example_query())
    answer = answer_drawings(learner, support, query)
    steps = learner.config.test_inner_steps
    assert answer.by_steps and answer.stages[0] == "θ (no step)" and len(answer.stages) == steps + 1
    np.testing.assert_allclose(answer.probs.sum(1), 1.0, atol=1e-9)
    x = torch.from_numpy(drawings_to_batch([row[0] for row in support] + [query]))
    phi = learner.adapt(x[:-1], torch.arange(5), steps=steps)
    np.testing.assert_allclose(answer.probs[-1], learner.predict_proba(phi, x)[-1].numpy(), atol=1e-5)
    assert answer.answer == EXAMPLE_QUERY_CLASS


def test_the_black_box_answer_per_item_read_is_the_engines_trace(learners):
    learner = learners[MANN]
    images = [render(d) for d in example_support(3)]
    query = render(example_query())
    answer = answer_drawings(learner, [[im] for im in images], query)
    assert answer.stages == ("nothing read", "read class 1", "read class 2", "read class 3")
    x = torch.from_numpy(drawings_to_batch(images + [query]))
    task = Task(
        x[:-1],
        torch.arange(3),
        x[-1:],
        torch.tensor([EXAMPLE_QUERY_CLASS]),
        dataset="drawn",
        protocol="drawn",
        split="drawn",
        ways=3,
        shots=1,
        queries=1,
    )
    trace = learner.trace(task)
    np.testing.assert_allclose(answer.probs, trace.prefix_probs[:, 0], atol=1e-6)


def test_a_support_set_of_the_wrong_shape_is_refused(learners):
    images = [[render(d)] for d in example_support(3)]
    with pytest.raises(ConfigError, match="5-way"):
        answer_drawings(learners[MAML], images, render(example_query()))
