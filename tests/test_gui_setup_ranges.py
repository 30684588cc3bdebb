"""The setup panel shows every setting the engine accepts as it is: its ranges are the engine's, so a
CLI run, a remembered config or a preset is never shown clamped (and never used clamped by Reset or
by a preset saved from it)."""

from __future__ import annotations

import json

import pytest
from gui_conftest import *  # noqa: F401,F403  (fixtures; sets QT_QPA_PLATFORM first)
from PySide6.QtCore import Qt

from engine.cli import main as cli
from engine.core.config import COUNT_LIMIT, SEED_LIMIT, default_config
from engine.core.errors import ConfigError

BIG = dict(seed=3_000_000_000, meta_batch=1000)  # beyond the panel's old ranges (2**31 - 1 and 512)


def _retype(qtbot, box, text: str) -> None:
    """Select what the spin box shows and type over it, as a person would."""
    box.setFocus()
    box.selectAll()
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_the_panels_ranges_are_the_engines(qtbot):
    from gui.run.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    positive = (
        panel.ways,
        panel.shots,
        panel.queries,
        panel.inner_steps,
        panel.test_steps,
        panel.meta_batch,
        panel.iterations,
        panel.val_tasks,
    )
    for box in positive:
        assert (box.minimum(), box.maximum()) == (1, COUNT_LIMIT - 1), box.toolTip()
    for box in (panel.split_every, panel.val_every):  # 0: never
        assert (box.minimum(), box.maximum()) == (0, COUNT_LIMIT - 1), box.toolTip()
    assert (panel.seed.minimum(), panel.seed.maximum()) == (0, SEED_LIMIT - 1)
    # and the engine refuses what the panel cannot hold, with a message naming the setting
    for name in ("meta_batch", "ways", "iterations", "val_every"):
        with pytest.raises(ConfigError, match=name.replace("_", "-")):
            default_config("glyphs", **{name: COUNT_LIMIT})
    with pytest.raises(ConfigError, match="seed"):
        default_config("glyphs", seed=SEED_LIMIT)


@pytest.mark.slow
def test_the_largest_seed_can_be_typed_and_new_seed_wraps_to_0(qtbot, make_window, tiny_sinusoid):
    window = make_window(tiny_sinusoid)
    _retype(qtbot, window.setup.seed, str(SEED_LIMIT - 1))
    assert window.setup.seed.value() == SEED_LIMIT - 1
    assert window.setup.seed.text() == f"{SEED_LIMIT - 1:,}"
    assert window.setup.config().seed == SEED_LIMIT - 1
    _retype(qtbot, window.setup.meta_batch, "1000")
    assert window.setup.config().meta_batch == 1000
    qtbot.mouseClick(window.transport.new_seed, Qt.MouseButton.LeftButton)
    assert window.setup.seed.value() == 0 and window.session.config.seed == 0
    wait_built(qtbot, window)


@pytest.mark.slow
def test_a_cli_run_beyond_the_old_ranges_opens_as_it_is_and_reset_keeps_it(
    qtbot, make_window, tiny_sinusoid, tmp_path, settings_dir, capsys
):
    folder = tmp_path / "cli-run"
    assert (
        cli(
            [
                "train",
                "--dataset",
                "sinusoid",
                "--iterations",
                "1",
                "--meta-batch",
                "1000",
                "--seed",
                "3000000000",
                "--val-every",
                "0",
                "--device",
                "cpu",
                "--out",
                str(folder),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    window = make_window(tiny_sinusoid)
    window.open_checkpoint(folder)
    qtbot.waitUntil(lambda: window.session.info is not None, timeout=60_000)
    trained = window.session.config
    assert (trained.seed, trained.meta_batch) == (3_000_000_000, 1000)
    assert window.setup.seed.value() == 3_000_000_000 and window.setup.meta_batch.value() == 1000
    assert window.setup.config() == trained

    window.reset()  # the same settings, a new run
    assert (window.session.config.seed, window.session.config.meta_batch) == (3_000_000_000, 1000)
    preset = window.preset_menu.save("From the CLI run", "")
    saved = json.loads(preset.path.read_text(encoding="utf-8"))["settings"]
    assert (saved["seed"], saved["meta_batch"]) == (3_000_000_000, 1000)
    assert "Traceback" not in capsys.readouterr().err
    wait_built(qtbot, window)


@pytest.mark.slow
def test_a_config_given_at_start_beyond_the_old_ranges_is_shown_as_it_is(qtbot, make_window, tiny_sinusoid):
    config = tiny_sinusoid.with_changes(**BIG, val_tasks=20_000, test_inner_steps=150, inner_lr=0.0123456789)
    window = make_window(config)
    assert window.setup.seed.value() == 3_000_000_000 and window.setup.meta_batch.value() == 1000
    assert window.setup.val_tasks.value() == 20_000 and window.setup.test_steps.value() == 150
    assert window.setup.config() == config  # the learning rate too, to its last digit
    assert window.session.config == config
    wait_built(qtbot, window)
