"""The words of the recipe view: its story, what each step will show, and what the update measured."""

from __future__ import annotations

import math

from engine.snapshots import RecipeStep

STORY = ("Every meta-learner follows one recipe: <b>(1)</b> sample a task, <b>(2)</b> sample its disjoint support "
         "and query sets, <b>(3)</b> compute the <b>adapted parameters φ</b> (an inner loop for MAML and Reptile; "
         "reading the support set for a black-box learner), <b>(4)</b> update the <b>meta-parameters θ</b> with the "
         "query loss. <b>Recipe step</b> runs the live run's next meta-iteration one step at a time, on its real batch.")

PLACEHOLDERS = (
    "Press <b>Recipe step</b>: the run draws its next meta-batch of tasks from the training split; the first "
    "task's classes appear here.",
    "Step 2 shows the same task split in two: the support set (labels given) and the query set (labels kept "
    "for the loss).",
    "Step 3 shows what the learner makes of the support set: each query's predicted class and probability, "
    "before (meta-parameters θ) and after (adapted parameters φ).",
    "Step 4 updates θ on the whole batch, as every iteration of the run does: the meta-loss of this batch "
    "before and after, and the tensors of θ that moved most.",
)

BUTTON = "Recipe step"
NEXT_WORDS = ("sample a task", "split support / query", "compute φ", "update θ")


def objective_words(algo: str, kind: str) -> str:
    """What the number of step 4 is, for this learner."""
    if algo == "reptile":
        return "Reptile's loss (each task's support and query examples, after its inner loop)"
    if algo == "finetune":
        return "pre-training loss (every image of the batch, over all training classes)"
    loss = "MSE" if kind == "regression" else "loss"
    return f"meta-loss (query {loss} after adaptation, mean over the batch)"


def update_headline(step: RecipeStep) -> str:
    if step.meta_loss_after is None:
        return f"<b>θ was not updated</b>: {step.message}"
    before, after = step.meta_loss_before, step.meta_loss_after
    change = (after - before) / abs(before) * 100 if before else math.nan
    return (f"On this batch, before → after the update: <b>{before:.4f}&nbsp;→&nbsp;{after:.4f}</b> "
            f"({change:+.1f}%)".replace("(-", "(−"))


def update_details(step: RecipeStep, meta_lr: float | None) -> str:
    lr = f", step size β = {meta_lr:g}" if meta_lr is not None else ""
    grad = f"‖∇θ‖ = {step.grad_norm:.3g} · " if step.grad_norm is not None and math.isfinite(step.grad_norm) else ""
    return (f"{objective_words(step.algo, step.kind)}. {grad}Adam{lr} · meta-iteration {step.iteration:,} counted "
            f"in the run's curves · meta-parameters θ: {step.param_count:,} numbers in {len(step.param_names)} "
            "tensors; those that moved most, relative to their size:")


def relative_text(value: float) -> str:
    return "was 0" if math.isinf(value) else f"{value:.2e}"


def tensor_name(name: str) -> str:
    """A parameter's name as a reader knows it (MAML's network is ``net`` inside the learner)."""
    return name.removeprefix("net.")


def step_note(step: RecipeStep | None, algo: str, first_order: bool, inner_lr: float | None) -> str:
    """What the step just run did, in the engine, for this learner (None: before the first step)."""
    if step is None:
        return ("<b>Nothing run yet.</b> The four steps run the run's <i>next</i> meta-iteration, on the batch its own "
                "random generator draws next: the iteration Play would have made, counted in its curves.")
    black_box = algo in ("mann", "snail")
    if step.phase == 1:
        return (f"<b>Step 1 ran.</b> The run drew its next meta-batch of {step.meta_batch} tasks with its own sampler "
                "and random generator. Each task has its own classes, labelled 0..N−1 afresh, so no label means "
                "anything across tasks: the learner must learn them from the support set.")
    if step.phase == 2:
        extra = {"reptile": " Reptile then joins the two sets: in meta-training it adapts on both (its authors train "
                            "1-shot Omniglot on more shots than it is tested on).",
                 "finetune": " The fine-tuning baseline does not use the split in training: every image is an "
                             "ordinary training example over all training classes."}.get(algo, "")
        return ("<b>Step 2 ran.</b> Support and query images of a class are different drawings (disjoint sets): the "
                "learner adapts on the support set and is scored on the query set, as it will be at test time." + extra)
    if step.phase == 3:
        if black_box:
            what = ("φ is not a set of weights: it is the activations that carry the support set to the queries. "
                    "Left: the answers before any support item was read; right: after reading them all.")
        elif algo == "finetune":
            what = ("There is no φ in this learner's training; shown is what it does at test time: a new N-way head "
                    "fitted on the support set on top of the pre-trained features θ.")
        else:
            lr = f" with α = {inner_lr:g}" if inner_lr is not None else ""
            order = ("treated as constants (first order)" if first_order or algo == "reptile"
                     else "kept in the graph, so step 4 differentiates through them (second order)")
            what = (f"φ = θ − α ∇θ L(θ, 𝒟ᵗʳ), gradient steps{lr}; their gradients are {order}.")
        return ("<b>Step 3 ran</b> on the first task, without touching θ. " + what
                + " In step 4 the same computation runs for every task of the batch.")
    return ("<b>Step 4 ran.</b> θ took one Adam step on the gradient of the whole batch and the run counted the "
            "iteration. The loss of this batch falls because θ was fitted to it; the validation curve says "
            "whether that generalises to new tasks.")


def symbols_html(algo: str, current: int) -> str:
    """The recipe in the lecture's symbols, for this learner; the step just run in bold on a highlight."""
    if algo in ("mann", "snail"):
        adapt, update = "φᵢ = f<sub>θ</sub>(𝒟ᵢᵗʳ)  (read, not optimised)", "θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ)"
    elif algo == "reptile":
        adapt = "φᵢ = θ after K SGD steps on 𝒟ᵢᵗʳ ∪ 𝒟ᵢᵗˢ"
        update = "θ ← θ + ε (meanᵢ φᵢ − θ)  (with Adam)"
    elif algo == "finetune":
        adapt = "none in training; at test time a new head on 𝒟ᵢᵗʳ"
        update = "θ ← θ − β ∇θ L(θ, all images, all training classes)"
    else:
        adapt, update = "φᵢ = θ − α ∇θ L(θ, 𝒟ᵢᵗʳ)", "θ ← θ − β ∇θ Σᵢ L(φᵢ, 𝒟ᵢᵗˢ)"
    rows = ("𝒯ᵢ ~ p(𝒯)", "𝒟ᵢᵗʳ, 𝒟ᵢᵗˢ ~ 𝒯ᵢ, disjoint", adapt, update)
    lines = []
    for step, text in enumerate(rows, start=1):
        line = f"{step}. {text}"
        lines.append(f"<span style='background: #FFE9A8;'><b>{line}</b></span>" if step == current else line)
    return "<b>In the lecture's symbols</b><br>" + "<br>".join(lines)
