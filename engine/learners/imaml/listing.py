"""iMAML's meta-iteration as runnable code (``engine.lessons.recipe_code``; ``tests/test_recipe_code.py``
runs it).

``cg`` is the learner's ``implicit_gradient``: (I + ∇²L(φ, 𝒟ᵗʳ)/λ)⁻¹ v by the run's conjugate-gradient steps,
each a Hessian-vector product at φ (``engine.learners.imaml.implicit``); ``lam`` is λ.
"""

from __future__ import annotations

from engine.learners.listing import Listing, parse_listing

_IMAML = """
0| loss_at = lambda p, x, y: cross_entropy(functional_call(net, p, x), y)
0| theta = {k: p.detach() for k, p in net.named_parameters()}
0| gs = []  # one implicit meta-gradient per task
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| for x_s, y_s, x_q, y_q in tasks(batch):  # support, query
3|     phi = theta  # min L(φ, 𝒟ᵗʳ) + λ/2‖φ − θ‖²: K steps, no graph
3|     for _ in range(inner_steps):
3|         g = grad(loss_at)(phi, x_s, y_s)
3|         g = {k: g[k] + lam * (phi[k] - theta[k]) for k in g}
3|         phi = {k: phi[k] - alpha * g[k] for k in phi}
4|     v = grad(lambda p: cross_entropy(answer(p, x_s, x_q), y_q))(phi)
4|     gs.append(cg(loss_at, phi, x_s, y_s, v))  # (I + ∇²L(φ)/λ)⁻¹ v
4| for k, p in net.named_parameters():  # the mean over the tasks
4|     p.grad = stack([g[k] for g in gs]).mean(0)  # not through the steps
4| optimizer.step()  # Adam: θ ← θ − β·Adam(∇θ)
"""


def imaml_listing() -> Listing:
    return Listing(
        "iMAML (implicit gradients)",
        parse_listing(_IMAML),
        (
            "a meta-batch of tasks from the run's sampler",
            "each task: its support and query images, disjoint",
            "gradient steps from θ on the support loss + λ/2‖φ − θ‖², the gradients constants: "
            "no graph is kept",
            "the query gradient at φ, mapped through (I + ∇²L(φ, 𝒟ᵗʳ)/λ)⁻¹ by conjugate gradient "
            "(the implicit "
            "function theorem), averaged over the tasks",
        ),
    )
