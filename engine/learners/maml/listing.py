"""MAML's meta-iteration as runnable code (``engine.lessons.recipe_code``; ``tests/test_recipe_code.py``
runs it)."""

from __future__ import annotations

from engine.learners.listing import Listing, parse_listing

_MAML = """
0| f = lambda params, x: functional_call(net, params, x)  # f(x; θ)
0| loss_at = lambda params, x, y: {loss}(f(params, x), y)
0| theta = dict(net.named_parameters())  # meta-parameters θ
0| meta_loss = 0
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| for x_s, y_s, x_q, y_q in tasks(batch):  # support, query
3|     phi = theta
3|     for _ in range(inner_steps):
3|         g = grad(loss_at)(phi, x_s, y_s){keep}
{detach}3|         phi = {{k: phi[k] - {alpha} * g[k] for k in phi}}
{query_loss}4| optimizer.zero_grad()
4| meta_loss.backward()  # {backward}
4| optimizer.step()  # Adam: θ ← θ − β·Adam(∇θ)
"""

_TRANSDUCTIVE_QUERY_LOSS = "4|     meta_loss = meta_loss + loss_at(phi, x_q, y_q) / meta_batch\n"
_PER_QUERY_LOSS = (
    "4|     out_q = answer(phi, x_s, x_q)  # each query alone: support-set batch norm\n"
    "4|     meta_loss = meta_loss + {loss}(out_q, y_q) / meta_batch\n"
)


def maml_listing(*, first_order: bool, learn_inner_lr: bool, kind: str, per_query: bool) -> Listing:
    loss = "cross_entropy" if kind == "classification" else "mse_loss"
    block = _MAML.format(
        loss=loss,
        keep="" if first_order else "  # graph kept",
        detach="3|         g = {k: v.detach() for k, v in g.items()}  # first order\n" if first_order else "",
        alpha="alpha[k]" if learn_inner_lr else "alpha",
        query_loss=_PER_QUERY_LOSS.format(loss=loss)
        if per_query and kind == "classification"
        else _TRANSDUCTIVE_QUERY_LOSS,
        backward="no Hessian term" if first_order else "Hessian-vector products",
    )
    name = ("First-order MAML" if first_order else "MAML (second order)") + (
        " + Meta-SGD" if learn_inner_lr else ""
    )
    what = "images" if kind == "classification" else "points"
    return Listing(
        name,
        parse_listing(block),
        (
            "a meta-batch of tasks from the run's sampler",
            f"each task: its support and query {what}, disjoint",
            f"{'a learned α per entry (Meta-SGD), ' if learn_inner_lr else ''}gradient steps on the support "
            f"loss from θ{'; the gradient is treated as a constant' if first_order else ', the graph kept'}",
            f"the query loss at φ, back-propagated to θ{'' if first_order else ' through the inner loop'}",
        ),
    )
