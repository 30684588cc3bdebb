"""A bad setting's error names the setting it is about (``ConfigError.field``), so a form marks that
control rather than guessing from the message's words; learning rates have a finite ceiling."""

from __future__ import annotations

import pytest

from engine.core.config import RATE_LIMIT, TrainConfig
from engine.core.errors import ConfigError


@pytest.mark.parametrize(
    "field, value",
    [
        ("inner_lr", -1.0),
        ("meta_lr", 0.0),
        ("inner_lr", float("nan")),
        ("meta_lr", 1e39),
        ("inner_lr", RATE_LIMIT * 2),
        ("ways", 0),
        ("meta_batch", 2**31),
        ("val_every", -1),
        ("iterations", 0),
    ],
)
def test_the_error_names_its_field(field, value):
    with pytest.raises(ConfigError) as caught:
        TrainConfig(dataset="glyphs", protocol="glyphs", **{field: value}).validated()
    assert caught.value.field == field
    assert field.replace("_", "-") in str(caught.value)


def test_a_meta_lr_that_would_overflow_adam_is_refused_and_the_ceiling_itself_is_fine():
    with pytest.raises(ConfigError, match=r"meta-lr must be at most 1e\+06"):
        TrainConfig(meta_lr=1e39).validated()
    assert TrainConfig(meta_lr=RATE_LIMIT, inner_lr=RATE_LIMIT).validated().meta_lr == RATE_LIMIT


def test_an_error_about_the_combination_names_no_field():
    with pytest.raises(ConfigError) as caught:
        TrainConfig(iterations=None, minutes=None).validated()
    assert caught.value.field is None


def test_the_setup_panel_marks_the_box_the_error_is_about(qtbot):
    from gui.run.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    panel.set_config(TrainConfig(dataset="glyphs", protocol="glyphs"))
    panel.meta_lr.setText(
        "1e39"
    )  # parses, but the config refuses it: the meta lr box is marked, not the inner one
    with pytest.raises(ConfigError):
        panel.config()
    assert panel.meta_lr.property("invalid") is True and panel.inner_lr.property("invalid") is False
    panel.meta_lr.setText("0.001")
    panel.inner_lr.setText("abc")
    with pytest.raises(ConfigError):
        panel.config()
    assert panel.inner_lr.property("invalid") is True and panel.meta_lr.property("invalid") is False
    panel.inner_lr.setText("0.4")
    panel.config()
    assert panel.inner_lr.property("invalid") is False and panel.meta_lr.property("invalid") is False
