"""Damaged inputs, generated systematically (the sibling of test_fuzz_inputs.py): the family
"non-finite tensors". Every weight tensor of one small shipped checkpoint gets a NaN, a +Inf and a
-Inf at a seeded position; each is refused on load, and by the CLI with exit 2 and one line naming
the tensor, and the file is left as it was.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
import torch

from engine.cli import main
from engine.core.errors import CheckpointError
from engine.run.checkpoints import load_checkpoint, save_checkpoint

SMALL = Path(__file__).parents[1] / "assets" / "checkpoints" / "sinusoid-10shot-maml.pt"
NON_FINITE = {
    "nan": (float("nan"), "NaN"),
    "+inf": (float("inf"), "infinite"),
    "-inf": (float("-inf"), "infinite"),
}


def _cases():
    model = torch.load(SMALL, map_location="cpu", weights_only=True)["model"]
    for name, tensor in model.items():
        if tensor.is_floating_point():
            for kind in NON_FINITE:
                yield pytest.param(name, kind, id=f"{name}={kind}")


@pytest.mark.parametrize("name, kind", list(_cases()))
def test_a_non_finite_number_in_any_weight_is_refused_naming_it(tmp_path, capsys, name, kind):
    value, words = NON_FINITE[kind]
    data = load_checkpoint(SMALL)
    payload = {k: v for k, v in data.items() if k not in ("format", "version")}
    tensor = payload["model"][name].clone()
    position = zlib.crc32(f"{name}{kind}".encode()) % tensor.numel()  # seeded, so a failure reproduces
    tensor.view(-1)[position] = value
    run = tmp_path / "run"
    path = save_checkpoint(run / "checkpoint.pt", {**payload, "model": {**payload["model"], name: tensor}})
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and f"'{name}'" in message and words in message, message
    assert main(["eval", str(run), "--tasks", "2", "--threads", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1 and name in err, err
    assert path.read_bytes() == before
