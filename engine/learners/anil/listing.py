"""ANIL's meta-iteration as runnable code (``engine.lessons.recipe_code``; ``tests/test_recipe_code.py``
runs it)."""

from __future__ import annotations

from engine.learners.listing import Listing, parse_listing

_ANIL = """
0| f = lambda params, x: functional_call(net, params, x)  # f(x; θ)
0| loss_at = lambda h, body, x, y: cross_entropy(f({{**body, **h}}, x), y)
0| head = {{k: p for k, p in net.named_parameters() if k.startswith("head.")}}
0| body = {{k: p for k, p in net.named_parameters() if k not in head}}
0| meta_loss = 0
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| for x_s, y_s, x_q, y_q in tasks(batch):  # support, query
3|     phi = head  # only the head adapts; the body is reused as is
3|     for _ in range(inner_steps):
3|         g = grad(loss_at)(phi, body, x_s, y_s){keep}
{detach}3|         phi = {{k: phi[k] - alpha * g[k] for k in phi}}
{query_loss}4| optimizer.zero_grad()
4| meta_loss.backward()  # {backward}
4| optimizer.step()  # Adam: θ ← θ − β·Adam(∇θ), body and head
"""

_TRANSDUCTIVE_QUERY_LOSS = "4|     meta_loss = meta_loss + loss_at(phi, body, x_q, y_q) / meta_batch\n"
_PER_QUERY_LOSS = (
    "4|     out_q = answer({**body, **phi}, x_s, x_q)  # support-set batch norm\n"
    "4|     meta_loss = meta_loss + cross_entropy(out_q, y_q) / meta_batch\n"
)


def anil_listing(*, first_order: bool, per_query: bool) -> Listing:
    block = _ANIL.format(
        keep="" if first_order else "  # graph kept",
        detach="3|         g = {k: v.detach() for k, v in g.items()}  # first order\n" if first_order else "",
        query_loss=_PER_QUERY_LOSS if per_query else _TRANSDUCTIVE_QUERY_LOSS,
        backward="no Hessian term" if first_order else "through the head's steps",
    )
    return Listing(
        "First-order ANIL" if first_order else "ANIL (second order)",
        parse_listing(block),
        (
            "a meta-batch of tasks from the run's sampler",
            "each task: its support and query images, disjoint",
            "gradient steps on the support loss from θ, the head's parameters only; the body is reused as is"
            + ("; the gradient is treated as a constant" if first_order else ", the graph kept"),
            "the query loss at φ, back-propagated to the head and the body"
            + ("" if first_order else " (through the head's inner steps)"),
        ),
    )
