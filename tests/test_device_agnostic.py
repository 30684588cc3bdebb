"""The compute paths never create a tensor on a fixed device: every learner's meta-step runs with θ
and the batch on PyTorch's "meta" device (shapes only, no data), where a tensor made on the CPU by
mistake raises "Tensor on device cpu is not on the expected device meta", as it would on CUDA.

The CUDA runs themselves are ``scripts/device_check.sh`` (a machine with a GPU)."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.core.config import default_config
from engine.data.sources import make_sampler
from engine.learners.registry import LEARNERS, build_learner

ENGINE = Path(__file__).resolve().parents[1] / "engine"


@pytest.fixture
def meta_reads(monkeypatch):
    """Reading a number out of a meta tensor has no data to read: give zeros, so the step runs to its end."""
    item, tolist, as_float = torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__float__
    monkeypatch.setattr(torch.Tensor, "item", lambda t: 0.0 if t.is_meta else item(t))
    monkeypatch.setattr(torch.Tensor, "__float__", lambda t: 0.0 if t.is_meta else as_float(t))
    as_bool = torch.Tensor.__bool__
    monkeypatch.setattr(torch.Tensor, "__bool__", lambda t: True if t.is_meta else as_bool(t))
    monkeypatch.setattr(
        torch.Tensor, "tolist", lambda t: np.zeros(t.shape).tolist() if t.is_meta else tolist(t)
    )


# MANN orders each episode by its labels' values (the homework's format), which a meta tensor does
# not have; its network is covered by the black-box forward test below.
@pytest.mark.parametrize("algo", [a for a in LEARNERS if a != "mann"])
@pytest.mark.parametrize("diagnostics", [False, True])
def test_every_learner_meta_step_runs_on_the_batch_device(meta_reads, algo, diagnostics):
    config = default_config("glyphs", algo=algo, meta_batch=2, queries=2, inner_steps=2)
    learner = build_learner(config, "meta")
    sampler = make_sampler(
        "glyphs", split="train", ways=config.ways, shots=config.shots, queries=config.queries
    )
    batch = sampler.sample_batch(2, np.random.default_rng(0)).to("meta")
    learner.meta_step(batch, diagnostics=diagnostics)
    grads = [p.grad for p in learner.module.parameters() if p.requires_grad]
    assert grads and all(g is not None and g.is_meta for g in grads)


@pytest.mark.parametrize("model", ["lstm", "conv-lstm", "memory-lstm"])
def test_mann_networks_run_on_the_batch_device(model):
    from engine.core.catalog import models_for

    assert model in models_for("mann", "glyphs")
    config = default_config("glyphs", algo="mann", model=model, ways=3)
    net = build_learner(config, "meta").module
    steps = 4  # an episode: [B, T, 1, 28, 28] images and [B, T, N] labels
    images = torch.zeros(2, steps, 1, 28, 28, device="meta")
    labels = torch.zeros(2, steps, 3, device="meta")
    out = net(images, labels)
    out = out[0] if isinstance(out, tuple) else out
    out.sum().backward()
    assert out.is_meta and all(p.grad is not None and p.grad.is_meta for p in net.parameters())


@pytest.mark.parametrize("vectorised", [True, False])
@pytest.mark.parametrize("recompute", [False, True])
def test_maml_both_paths_run_on_the_batch_device(meta_reads, vectorised, recompute):
    config = default_config("glyphs", meta_batch=2, queries=2)
    maml = build_learner(config, "meta").maml
    sampler = make_sampler("glyphs", split="train", ways=5, shots=1, queries=2)
    batch = sampler.sample_batch(2, np.random.default_rng(0)).to("meta")
    maml.meta_step(batch, 2, first_order=False, vectorised=vectorised and not recompute, recompute=recompute)
    assert all(p.grad.is_meta for p in maml.parameters())


def test_no_device_literals_in_the_engine():
    """Devices come from the config (``resolve_device``) or from the batch, never from a literal."""
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.cuda\(\)|device=[\"']cuda", line):
                offenders.append(f"{path.relative_to(ENGINE.parent)}:{number}: {line.strip()}")
    assert not offenders, offenders
