"""Reptile's meta-iteration as runnable code (``engine.lessons.recipe_code``; ``tests/test_recipe_code.py``
runs it)."""

from __future__ import annotations

from engine.learners.listing import Listing, parse_listing

_REPTILE = """
0| f = lambda params, x: functional_call(net, params, x)  # f(x; θ)
0| loss_at = lambda params, x, y: {loss}(f(params, x), y)
0| theta = {{k: p.detach() for k, p in net.named_parameters()}}
0| phis = []
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| for x_s, y_s, x_q, y_q in tasks(batch):  # support, query
2|     x, y = interleave(x_s, y_s, x_q, y_q)  # both sets, by class
3|     phi = theta  # one pass in K minibatches, each with every class
3|     for xb, yb in zip(split(x, inner_steps), split(y, inner_steps)):
3|         g = grad(loss_at)(phi, xb, yb)  # plain SGD steps
3|         phi = {{k: phi[k] - alpha * g[k] for k in phi}}
3|     phis.append(phi)
4| optimizer.zero_grad()
4| for k, p in net.named_parameters():  # no query loss:
4|     p.grad = theta[k] - stack([f[k] for f in phis]).mean(0)
4| optimizer.step()  # Adam moves θ toward the mean φ
"""


def reptile_listing(kind: str) -> Listing:
    loss = "cross_entropy" if kind == "classification" else "mse_loss"
    return Listing(
        "Reptile",
        parse_listing(_REPTILE.format(loss=loss)),
        (
            "a meta-batch of tasks from the run's sampler",
            "sampled as for every learner, then joined: Reptile adapts on support and query examples",
            "plain SGD steps from θ, one pass over the task's examples in K minibatches",
            "no query loss: θ moves toward the adapted φ (θ − mean φ as the gradient, stepped by Adam)",
        ),
    )
