"""The code of one meta-iteration of each learner, line by line, each line tagged with its recipe step.

The recipe (``engine.lessons.recipe``): (1) sample a task, (2) its disjoint support and query sets, (3) the
task-specific φ, (4) update θ. Each learner's folder holds its listing (``engine/learners/<name>/``):
short, readable PyTorch, and real code: with the names of ``listing_namespace`` it runs, and
``tests/test_recipe_code.py`` checks that it moves θ exactly as the engine's own meta-iteration
does. Step 0 marks lines that belong to no step (setup).
"""

from __future__ import annotations

from engine.learners.listing import Listing
from engine.learners.registry import learner_spec

STEP_TITLES = (
    "Sample a task 𝒯ᵢ ~ p(𝒯)",
    "Sample disjoint support 𝒟ᵗʳ and query 𝒟ᵗˢ sets",
    "Compute the task-specific φᵢ",
    "Update the meta-parameters θ",
)


def listing_for(
    algo: str,
    *,
    first_order: bool = False,
    learn_inner_lr: bool = False,
    kind: str = "classification",
    per_query: bool = True,
) -> Listing:
    """The listing of one meta-iteration of ``algo`` (a config's algo; first order, Meta-SGD and per-query
    query losses are MAML's settings), from the learner's own folder."""
    return learner_spec(algo).listing(
        first_order=first_order, learn_inner_lr=learn_inner_lr, kind=kind, per_query=per_query
    )


def listing_namespace(trainer) -> dict:
    """The names a listing reads, bound to ``trainer``'s run (its sampler, RNG, network and optimiser)."""
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call

    from engine.learners.common.episodes import gather_items, homework_order, random_order
    from engine.runtime.func_transforms import grad

    c, learner = trainer.config, trainer.learner
    module = learner.module
    net = getattr(module, "net", module)
    names = dict(
        sampler=trainer.train_sampler,
        rng=trainer.rng,
        optimizer=trainer.optimizer,
        meta_batch=c.meta_batch,
        inner_steps=c.inner_steps,
        N=c.ways,
        K=c.shots,
        Q=c.queries,
        net=net,
        lstm=module,
        snail=module,
        grad=grad,
        functional_call=functional_call,
        cat=torch.cat,
        stack=torch.stack,
        zeros=torch.zeros,
        one_hot=lambda y, n: F.one_hot(y, n).float(),
        cross_entropy=F.cross_entropy,
        mse_loss=F.mse_loss,
        gather=gather_items,
        homework_order=homework_order,
        random_order=lambda b, n: random_order(b, n, trainer.device),
        tasks=lambda b: zip(b.x_support, b.y_support, b.x_query, b.y_query),
        split=torch.tensor_split,
        interleave=getattr(learner, "training_examples", None),  # Reptile's own order of a task's examples
        cg=getattr(learner, "implicit_gradient", None),
        lam=c.imaml_lambda,  # iMAML's CG solve and λ
        unpack=lambda b: (b.x_support, b.y_support, b.x_query, b.y_query),
    )
    if c.uses_inner_loop:
        from engine.core.answering import Answering

        names["answer"] = lambda params, x_s, x_q: learner.maml.answer(params, x_s, x_q, Answering.PER_QUERY)
        steps = learner.maml.step_sizes()
        names["alpha"] = steps if c.learn_inner_lr else learner.maml.inner_lr
    return names
