"""The recipe's code listings are the engine's meta-iteration: run as written, they give the engine's
meta-gradient and move θ as ``Trainer.train_step`` does, for every learner."""

import pytest
import torch

from engine.core.config import default_config
from engine.learners.registry import LEARNERS
from engine.lessons.recipe_code import STEP_TITLES, listing_for, listing_namespace
from engine.run.training import Trainer

CASES = {name: dict(algo=name) for name in LEARNERS} | {  # every registered learner, and MAML's variants
    "fomaml": dict(algo="maml", first_order=True),
    "meta-sgd": dict(algo="maml", learn_inner_lr=True, inner_steps=2),
    "maml-transductive": dict(algo="maml", inner_steps=2, train_answering="transductive"),
    "reptile": dict(algo="reptile", inner_steps=2),
}


def config(**changes):
    base = dict(
        ways=3,
        shots=2,
        queries=2,
        meta_batch=3,
        iterations=10,
        val_every=0,
        checkpoint_every=0,
        device="cpu",
        test_inner_steps=2,
        seed=11,
    )
    base.update(changes)
    return default_config("glyphs", **base)


def _listing(c):
    return listing_for(
        c.algo,
        first_order=c.first_order,
        learn_inner_lr=c.learn_inner_lr,
        kind=c.kind,
        per_query=c.train_answering == "per-query",
    )


def _state(trainer):
    return {
        n: (p.detach().clone(), p.grad.detach().clone()) for n, p in trainer.learner.module.named_parameters()
    }


@pytest.mark.parametrize("case", list(CASES))
def test_the_listing_run_as_written_is_the_engines_meta_iteration(case):
    c = config(**CASES[case])
    engine = Trainer(c)
    start = {n: p.detach().clone() for n, p in engine.learner.module.named_parameters()}
    snap = engine.train_step()
    expected = _state(engine)
    written = Trainer(c)  # built after the first ran: the same θ, RNG and (global) torch stream
    names = listing_namespace(written)
    exec(compile(_listing(c).code, f"<{case} listing>", "exec"), names)  # noqa: S102
    got = _state(written)
    assert got.keys() == expected.keys()
    full = torch.cat([g.flatten() for _, g in expected.values()])
    mine = torch.cat([got[n][1].flatten() for n in expected])
    assert float((mine - full).norm() / full.norm()) < 1e-5
    for name, (theta, grad) in expected.items():
        if float(grad.norm()) <= 1e-4 * float(full.norm()):  # rounding noise (a conv bias before batch
            # norm): its entries depend on the order of float32 sums (threads under load); both are noise
            assert float(got[name][1].norm()) <= 1e-3 * float(full.norm()), f"∇ {name}"
            continue
        torch.testing.assert_close(
            got[name][1], grad, rtol=1e-4, atol=1e-5 * float(full.abs().max()), msg=f"∇ {name}"
        )
        # Adam's first step moves each entry by about meta_lr · sign(∇): entries whose gradient is rounding
        # noise (a conv bias before batch norm has an exact gradient of 0, a few entries of any tensor are
        # within float32 rounding of 0) may go either way. Compared on the entries whose gradient is not
        # noise, every tensor moves the same way.
        signal = grad.abs() > 1e-4 * float(grad.abs().max())
        if float(grad.norm()) > 1e-4 * float(full.norm()):
            moved, mine_moved = (theta - start[name])[signal], (got[name][0] - start[name])[signal]
            assert float((mine_moved - moved).norm() / moved.norm()) < 1e-3, f"θ {name}"
    if "meta_loss" in names:
        assert names["meta_loss"].item() == pytest.approx(snap.meta_loss, rel=1e-5)


def test_second_and_first_order_listings_differ_where_the_engine_does():
    second, first = listing_for("maml"), listing_for("maml", first_order=True)
    assert any("detach" in text for _, text in first.lines) and not any(
        "detach" in t for _, t in second.lines
    )
    assert "graph kept" in second.code and "Hessian" in second.code


@pytest.mark.parametrize("algo", list(LEARNERS))
def test_every_listing_is_short_and_does_all_four_steps_in_order(algo):
    listing = listing_for(algo)
    steps = [s for s, _ in listing.lines if s]
    assert steps == sorted(steps) and set(steps) == {1, 2, 3, 4}
    assert 8 <= len(listing.lines) <= 16 and len(listing.how) == len(STEP_TITLES) == 4
    assert all(len(text) <= 80 for _, text in listing.lines)
