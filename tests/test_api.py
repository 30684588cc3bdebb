"""engine.api: load a learner, adapt it to drawings given as files, PIL images or arrays."""

import numpy as np
import pytest
from PIL import Image

from engine.api import load_learner
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError, DataError
from engine.data.image_prep import drawings_to_batch, prepare_drawing
from engine.data.sources import make_sampler
from engine.run.training import Trainer


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    config = TrainConfig(
        dataset="glyphs",
        protocol="glyphs",
        ways=3,
        shots=1,
        queries=1,
        meta_batch=2,
        iterations=3,
        val_every=0,
        checkpoint_every=0,
        test_inner_steps=5,
        device="cpu",
    )
    run = tmp_path_factory.mktemp("run")
    list(Trainer(config, run_dir=run).run())
    return run


def _as_paper_drawings(task):
    """The task's images as a person would give them: dark ink on white, at 105x105."""
    return [
        Image.fromarray((255 - x[0].numpy() * 255).astype(np.uint8)).resize((105, 105))
        for x in task.x_support
    ]


def test_adapted_learner_fits_its_support_set_from_files_pil_and_arrays(checkpoint, tmp_path):
    learner = load_learner(checkpoint)
    task = make_sampler("glyphs", split="test", ways=3, shots=1, queries=1).sample(np.random.default_rng(0))
    pictures = _as_paper_drawings(task)
    paths = []
    for i, picture in enumerate(pictures):
        paths.append(tmp_path / f"d{i}.png")
        picture.save(paths[-1])
    names = ["alpha", "beta", "gamma"]
    adapted = learner.adapt(paths, names, steps=20)
    probs = adapted.predict_proba(paths)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert adapted.predict(paths) == names
    same = learner.adapt(pictures, names, steps=20).predict_proba([np.asarray(p) for p in pictures])
    np.testing.assert_allclose(probs, same, atol=1e-5)


def test_zero_steps_is_theta_itself(checkpoint):
    learner = load_learner(checkpoint)
    task = make_sampler("glyphs", split="test", ways=3, shots=1, queries=1).sample(np.random.default_rng(1))
    pictures = _as_paper_drawings(task)
    unadapted = learner.adapt(pictures, [0, 1, 2], steps=0).predict_proba(pictures)
    adapted = learner.adapt(pictures, [0, 1, 2], steps=5).predict_proba(pictures)
    assert not np.allclose(unadapted, adapted)


def test_wrong_support_sets_are_refused(checkpoint):
    learner = load_learner(checkpoint)
    blank = np.full((40, 40), 255, np.uint8)
    with pytest.raises(ConfigError, match="3-way"):
        learner.adapt([blank, blank], ["a", "b"])
    with pytest.raises(ConfigError, match="labels"):
        learner.adapt([blank], ["a", "b"])
    with pytest.raises(DataError, match="cannot read image"):
        learner.adapt(["/no/such.png"] * 3, ["a", "b", "c"])
    with pytest.raises(DataError, match="2-D"):
        drawings_to_batch([np.zeros((2, 3, 4, 5))])


def test_preparation_makes_ink_bright_and_keeps_float_and_uint8_alike():
    drawing = np.full((105, 105), 255, np.uint8)
    drawing[40:60, 20:80] = 0  # a dark bar
    a = drawings_to_batch([drawing])
    b = drawings_to_batch([drawing.astype(np.float32) / 255.0])
    np.testing.assert_allclose(a, b, atol=1 / 255)
    assert a.shape == (1, 1, 28, 28) and a[0, 0, 13, 14] > 0.9 and a[0, 0, 2, 2] < 0.05


@pytest.mark.omniglot
def test_preparation_equals_the_training_data_recipe(omniglot_dir):
    import zipfile

    from engine.data.omniglot_archive import decode_png

    with zipfile.ZipFile(omniglot_dir / "images_background_small1.zip") as z:
        name = next(n for n in z.namelist() if n.endswith(".png"))
        data = z.read(name)
    import io

    np.testing.assert_array_equal(prepare_drawing(Image.open(io.BytesIO(data))), decode_png(data))
