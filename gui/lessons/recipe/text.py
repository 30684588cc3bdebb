"""The words of the recipe view: its story, what each step will show, and what the update measured."""

from __future__ import annotations

import math

from engine.core.config import TrainConfig
from engine.core.snapshots import RecipeStep
from engine.learners.registry import learner_spec

STORY = (
    "Every meta-learner follows one recipe: <b>(1)</b> sample a task, <b>(2)</b> sample its disjoint support "
    "and query sets, <b>(3)</b> compute the <b>adapted parameters φ</b> (an inner loop for MAML and Reptile; "
    "reading the support set for a black-box learner), <b>(4)</b> update the <b>meta-parameters θ</b> with "
    "the query loss. <b>Recipe step</b> runs the live run's next meta-iteration one step at a time, on its "
    "real batch."
)

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
    return learner_spec(algo).recipe.objective.format(loss="MSE" if kind == "regression" else "loss")


def update_headline(step: RecipeStep) -> str:
    if step.meta_loss_after is None:
        return f"<b>θ was not updated</b>: {step.message}"
    before, after = step.meta_loss_before, step.meta_loss_after
    change = (after - before) / abs(before) * 100 if before else math.nan
    return (
        f"On this batch, before → after the update: <b>{before:.4f}&nbsp;→&nbsp;{after:.4f}</b> "
        f"({change:+.1f}%)".replace("(-", "(−")
    )


def update_details(step: RecipeStep, meta_lr: float | None) -> str:
    lr = f", step size β = {meta_lr:g}" if meta_lr is not None else ""
    grad = (
        f"‖∇θ‖ = {step.grad_norm:.3g} · "
        if step.grad_norm is not None and math.isfinite(step.grad_norm)
        else ""
    )
    return (
        f"{objective_words(step.algo, step.kind)}. {grad}Adam{lr} · meta-iteration {step.iteration:,} "
        f"counted in the run's curves · meta-parameters θ: {step.param_count:,} numbers in "
        f"{len(step.param_names)} tensors; those that moved most, relative to their size:"
    )


def relative_text(value: float) -> str:
    return "was 0" if math.isinf(value) else f"{value:.2e}"


def tensor_name(name: str) -> str:
    """A parameter's name as a reader knows it (MAML's network is ``net`` inside the learner)."""
    return name.removeprefix("net.")


def step_note(step: RecipeStep | None, config: TrainConfig, inner_lr: float | None) -> str:
    """What the step just run did, in the engine, for ``config``'s learner (None: before the first step)."""
    if step is None:
        return (
            "<b>Nothing run yet.</b> The four steps run the run's <i>next</i> meta-iteration, on the batch "
            "its own random generator draws next: the iteration Play would have made, counted in its curves."
        )
    spec = config.spec
    if step.phase == 1:
        return (
            f"<b>Step 1 ran.</b> The run drew its next meta-batch of {step.meta_batch} tasks with its own "
            "sampler and random generator. Each task has its own classes, labelled 0..N−1 afresh, so no "
            "label means anything across tasks: the learner must learn them from the support set."
        )
    if step.phase == 2:
        extra = spec.recipe.split_note
        return (
            "<b>Step 2 ran.</b> Support and query images of a class are different drawings (disjoint sets): "
            "the learner adapts on the support set and is scored on the query set, as it will be at test "
            "time." + extra
        )
    if step.phase == 3:
        what = spec.phi_words(config, inner_lr)
        return (
            "<b>Step 3 ran</b> on the first task, without touching θ. "
            + what
            + " In step 4 the same computation runs for every task of the batch."
        )
    return (
        "<b>Step 4 ran.</b> θ took one Adam step on the gradient of the whole batch and the run counted the "
        "iteration. The loss of this batch falls because θ was fitted to it; the validation curve says "
        "whether that generalises to new tasks."
    )


def symbols_html(algo: str, current: int) -> str:
    """The recipe in the lecture's symbols, for this learner; the step just run in bold on a highlight."""
    words = learner_spec(algo).recipe
    adapt, update = words.adapt_symbols, words.update_symbols
    rows = ("𝒯ᵢ ~ p(𝒯)", "𝒟ᵢᵗʳ, 𝒟ᵢᵗˢ ~ 𝒯ᵢ, disjoint", adapt, update)
    lines = []
    for step, text in enumerate(rows, start=1):
        line = f"{step}. {text}"
        lines.append(f"<span style='background: #FFE9A8;'><b>{line}</b></span>" if step == current else line)
    return "<b>In the lecture's symbols</b><br>" + "<br>".join(lines)
