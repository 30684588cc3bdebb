"""The code of one meta-iteration of each learner, line by line, each line tagged with its recipe step.

The recipe (``engine.recipe``): (1) sample a task, (2) its disjoint support and query sets, (3) the
task-specific φ, (4) update θ. Each listing is short, readable PyTorch, and it is real code: with
the names of ``listing_namespace`` it runs, and ``tests/test_recipe_code.py`` checks that it moves
θ exactly as the engine's own meta-iteration does (``engine/algorithms/``: maml.py, reptile.py,
mann.py, snail.py, blackbox.py, finetune.py). Step 0 marks lines that belong to no step (setup).
"""

from __future__ import annotations

from dataclasses import dataclass

STEP_TITLES = ("Sample a task 𝒯ᵢ ~ p(𝒯)",
               "Sample disjoint support 𝒟ᵗʳ and query 𝒟ᵗˢ sets",
               "Compute the task-specific φᵢ",
               "Update the meta-parameters θ")


@dataclass(frozen=True)
class Listing:
    title: str
    lines: tuple[tuple[int, str], ...]  # (recipe step 0..4, code)
    how: tuple[str, str, str, str]  # each recipe step as this learner does it, in words

    @property
    def code(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def lines_of(self, step: int) -> list[int]:
        """The indices of the lines that do recipe step ``step``."""
        return [i for i, (s, _) in enumerate(self.lines) if s == step]


def _parse(block: str) -> tuple[tuple[int, str], ...]:
    """Lines written as ``"3| code"``: the step, a bar, the code."""
    rows = []
    for raw in block.strip("\n").splitlines():
        step, _, text = raw.partition("| ")
        rows.append((int(step), text.rstrip()))
    return tuple(rows)


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

_MANN = """
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| x_s, y_s, x_q, y_q = unpack(batch)  # [B, N·K, …], [B, N·Q, …]
2| order = homework_order(y_s)  # row i: i-th shot of each class
2| x_s, y_s = gather(x_s, order), gather(y_s, order)
2| q = random_order(meta_batch, N * Q)  # queries shuffled
2| x_q, y_q = gather(x_q, q), gather(y_q, q)
3| images = cat([x_s, x_q], dim=1)
3| no_labels = zeros(meta_batch, N * Q, N)  # queries: never fed
3| labels = cat([one_hot(y_s, N), no_labels], dim=1)
3| out = lstm(images, labels)  # φ: its state after the support
4| logits = out[:, N * K:]  # the answers to the queries only
4| meta_loss = cross_entropy(logits.flatten(0, 1), y_q.flatten())
4| optimizer.zero_grad()
4| meta_loss.backward()
4| optimizer.step()  # Adam on θ: every weight of the network
"""

_SNAIL = """
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| x_s, y_s, x_q, y_q = unpack(batch)  # [B, N·K, …], [B, N·Q, …]
2| s = random_order(meta_batch, N * K)  # support order shuffled
2| q = random_order(meta_batch, N * Q)  # queries shuffled
2| x_s, y_s = gather(x_s, s), gather(y_s, s)
2| x_q, y_q = gather(x_q, q), gather(y_q, q)
3| feats = snail.embed(cat([x_s, x_q], dim=1))  # each image once
3| labels = one_hot(y_s, N)  # φ: the support's features + labels
3| support, queries = feats[:, :N * K], feats[:, N * K:]
3| logits, _ = snail.answer_queries(support, labels, queries)
4| meta_loss = cross_entropy(logits.flatten(0, 1), y_q.flatten())
4| optimizer.zero_grad()
4| meta_loss.backward()
4| optimizer.step()  # Adam on θ: CNN, convolutions, attention
"""

_FINETUNE = """
1| batch = sampler.sample_batch(meta_batch, rng)  # B tasks
2| x_s, y_s, x_q, y_q = unpack(batch)  # the split is not used
2| x = cat([x_s, x_q], dim=1).flatten(0, 1)  # every image
2| y = batch.class_ids.gather(1, cat([y_s, y_q], dim=1)).flatten()
3| # no φ while training: at test time only, a new N-way head is
3| # fitted on the support set (class prototypes, then SGD steps)
4| meta_loss = cross_entropy(net(x), y)  # all training classes
4| optimizer.zero_grad()
4| meta_loss.backward()
4| optimizer.step()  # Adam: ordinary supervised pre-training of θ
"""


_TRANSDUCTIVE_QUERY_LOSS = "4|     meta_loss = meta_loss + loss_at(phi, x_q, y_q) / meta_batch\n"
_PER_QUERY_LOSS = ("4|     out_q = answer(phi, x_s, x_q)  # each query alone: support-set batch norm\n"
                   "4|     meta_loss = meta_loss + {loss}(out_q, y_q) / meta_batch\n")


def listing_for(algo: str, *, first_order: bool = False, learn_inner_lr: bool = False,
                kind: str = "classification", per_query: bool = True) -> Listing:
    """The listing of one meta-iteration of ``algo`` (a config's algo; first order, Meta-SGD and per-query
    query losses are MAML's settings)."""
    loss = "cross_entropy" if kind == "classification" else "mse_loss"
    if algo == "maml":
        block = _MAML.format(
            loss=loss, keep="" if first_order else "  # graph kept",
            detach="3|         g = {k: v.detach() for k, v in g.items()}  # first order\n" if first_order else "",
            alpha="alpha[k]" if learn_inner_lr else "alpha",
            query_loss=_PER_QUERY_LOSS.format(loss=loss) if per_query and kind == "classification"
            else _TRANSDUCTIVE_QUERY_LOSS,
            backward="no Hessian term" if first_order else "Hessian-vector products")
        name = ("First-order MAML" if first_order else "MAML (second order)") + (" + Meta-SGD" if learn_inner_lr else "")
        what = "images" if kind == "classification" else "points"
        return Listing(name, _parse(block), (
            "a meta-batch of tasks from the run's sampler",
            f"each task: its support and query {what}, disjoint",
            f"{'a learned α per entry (Meta-SGD), ' if learn_inner_lr else ''}gradient steps on the support "
            f"loss from θ{'; the gradient is treated as a constant' if first_order else ', the graph kept'}",
            f"the query loss at φ, back-propagated to θ{'' if first_order else ' through the inner loop'}"))
    if algo == "reptile":
        return Listing("Reptile", _parse(_REPTILE.format(loss=loss)), (
            "a meta-batch of tasks from the run's sampler",
            "sampled as for every learner, then joined: Reptile adapts on support and query examples",
            "plain SGD steps from θ, one pass over the task's examples in K minibatches",
            "no query loss: θ moves toward the adapted φ (θ − mean φ as the gradient, stepped by Adam)"))
    if algo == "mann":
        return Listing("MANN (CS330 homework 1)", _parse(_MANN), (
            "a meta-batch of tasks from the run's sampler",
            "support items in the homework's row order, then the queries, shuffled",
            "no gradient steps: the LSTM reads the (image, label) pairs; its state is φ",
            "cross-entropy on the query outputs, back-propagated to every weight θ"))
    if algo == "snail":
        return Listing("SNAIL", _parse(_SNAIL), (
            "a meta-batch of tasks from the run's sampler",
            "support items shuffled, then each query after them",
            "no gradient steps: each query reads the support items' features and labels (φ)",
            "cross-entropy on the query answers, back-propagated to every weight θ"))
    if algo == "finetune":
        return Listing("Fine-tuning baseline", _parse(_FINETUNE), (
            "a meta-batch of tasks, for their images",
            "not used in training: every image is a training example",
            "only at test time: a new head fitted on the support set",
            "cross-entropy over all training classes: ordinary pre-training"))
    raise ValueError(f"no listing for {algo!r}")


def listing_namespace(trainer) -> dict:
    """The names a listing reads, bound to ``trainer``'s run (its sampler, RNG, network and optimiser)."""
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, grad

    from engine.algorithms.episodes import gather_items, homework_order, random_order

    c, learner = trainer.config, trainer.learner
    module = learner.module
    net = getattr(module, "net", module)
    names = dict(
        sampler=trainer.train_sampler, rng=trainer.rng, optimizer=trainer.optimizer, meta_batch=c.meta_batch,
        inner_steps=c.inner_steps, N=c.ways, K=c.shots, Q=c.queries, net=net, lstm=module, snail=module,
        grad=grad, functional_call=functional_call, cat=torch.cat, stack=torch.stack, zeros=torch.zeros, one_hot=lambda y, n: F.one_hot(y, n).float(),
        cross_entropy=F.cross_entropy, mse_loss=F.mse_loss, gather=gather_items, homework_order=homework_order,
        random_order=lambda b, n: random_order(b, n, trainer.device),
        tasks=lambda b: zip(b.x_support, b.y_support, b.x_query, b.y_query), split=torch.tensor_split,
        interleave=getattr(learner, "training_examples", None),  # Reptile's own order of a task's examples
        unpack=lambda b: (b.x_support, b.y_support, b.x_query, b.y_query))
    if c.uses_inner_loop:
        from engine.answering import Answering

        names["answer"] = lambda params, x_s, x_q: learner.maml.answer(params, x_s, x_q, Answering.PER_QUERY)
        steps = learner.maml.step_sizes()
        names["alpha"] = steps if c.learn_inner_lr else learner.maml.inner_lr
    return names
