"""Named starting points: a setting of every control plus a one-line description."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import TrainConfig, default_config


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    dataset: str
    overrides: dict

    def config(self) -> TrainConfig:
        return default_config(self.dataset, **self.overrides)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("sinusoid-demo",
           "Sinusoid regression, 10-shot, second-order MAML: fast on any CPU",
           "sinusoid",
           dict(iterations=70_000, meta_batch=25, test_inner_steps=5, val_every=100, val_tasks=100,
                hessian_split_every=10, device="auto")),
    Preset("glyphs-5way-1shot",
           "5-way 1-shot on procedurally drawn glyphs: works offline, no download",
           "glyphs",
           dict(protocol="glyphs", ways=5, shots=1, queries=5, meta_batch=4, inner_lr=0.4,
                iterations=20_000, test_inner_steps=5, val_every=100, val_tasks=20,
                hessian_split_every=10, device="auto")),
    Preset("omniglot-5way-1shot",
           "The MAML paper's Omniglot 5-way 1-shot (finn protocol, meta-batch 32, inner lr 0.4)",
           "omniglot",
           dict(protocol="finn", ways=5, shots=1, queries=1, meta_batch=32, inner_lr=0.4,
                iterations=60_000, test_inner_steps=10, val_every=500, val_tasks=100,
                hessian_split_every=25, device="auto")),
    Preset("omniglot-20way-1shot",
           "The MAML paper's Omniglot 20-way 1-shot (finn protocol, meta-batch 16, inner lr 0.1, 5 steps)",
           "omniglot",
           dict(protocol="finn", ways=20, shots=1, queries=1, meta_batch=16, inner_lr=0.1, inner_steps=5,
                iterations=60_000, test_inner_steps=10, val_every=500, val_tasks=100,
                hessian_split_every=25, device="auto")),
    Preset("glyphs-snail-5way-1shot",
           "SNAIL on 5-way 1-shot glyphs: a black box that reads the support set, offline",
           "glyphs",
           dict(algo="snail", ways=5, shots=1, meta_batch=16, iterations=20_000, val_every=100, val_tasks=20,
                device="auto")),
    Preset("omniglot-snail-5way-1shot",
           "SNAIL (Mishra et al. 2018) on Omniglot 5-way 1-shot: finn protocol, meta-batch 32, Adam",
           "omniglot",
           dict(algo="snail", ways=5, shots=1, iterations=60_000, val_every=500, val_tasks=100, device="auto")),
    Preset("omniglot-mann-3way-1shot",
           "MANN (LSTM) in the CS330 homework format: Omniglot 3-way 1-shot, cs330 protocol, meta-batch 128",
           "omniglot",
           dict(algo="mann", ways=3, shots=1, iterations=20_000, val_every=200, val_tasks=100, device="auto")),
)}

DEFAULT_PRESET = "sinusoid-demo"


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
