"""The words of "Black box vs optimization": the story, each family's φ = f_θ(D_tr), "who is φ?", the
accuracies on the test tasks and the "does not scale" count (no Qt, plain strings)."""

from __future__ import annotations

from engine.learners.spec import Family
from engine.lessons.two_families import COMPARE_FILE, FamilyAnswers, TwoFamiliesTask


def story() -> str:
    return (
        "<b>φ = f<sub>θ</sub>(D<sub>tr</sub>)</b> for both: one test task, the same ten queries, each "
        "answered alone."
    )


def title(family: FamilyAnswers) -> str:
    return f"{family.label} · {family.family}"


def rule(family: FamilyAnswers) -> str:
    """φ = f_θ(D_tr) in this family's form."""
    if family.inner_lr is not None:
        return (
            f"f<sub>θ</sub>: φ = θ − α∇<sub>θ</sub>L(θ, D<sub>tr</sub>), {family.last} steps, "
            f"α = {family.inner_lr:g}: φ is the network's weights."
        )
    return (
        "f<sub>θ</sub>: one forward pass over D<sub>tr</sub> (drawing, label): φ is activations; θ stays "
        "fixed."
    )


def stage_value(family: FamilyAnswers, stage: int) -> str:
    """The slider's caption: what it moves through, and where it is."""
    if family.inner_lr is not None:
        return f"inner steps: <b>k = {stage}</b> of {family.last}"
    return f"support items read: <b>p = {stage}</b> of {family.last}"


def right(family: FamilyAnswers, stage: int) -> int:
    return int(round(float(family.accuracy[stage]) * family.probs.shape[1]))


def accuracy_text(family: FamilyAnswers, stage: int) -> str:
    queries, count = family.probs.shape[1], right(family, stage)
    return f"{family.stages[stage]}: {count}/{queries} right"


def phi_text(family: FamilyAnswers, stage: int) -> str:
    """Who φ is at ``stage``: the black box's grows with every support item it reads."""
    phi = family.phis[stage]
    if family.family is Family.BLACK_BOX:
        return f"<b>Who is φ?</b> {phi.count:,} {phi.what} · θ: {phi.theta_count:,}"
    share = "all of θ" if phi.count == phi.theta_count else f"{100 * phi.share_of_theta:.2g}% of θ"
    return f"<b>Who is φ?</b> {phi.count:,} {phi.what} ({share})"


def compared_text(family: FamilyAnswers) -> str:
    found = family.compared
    if found is None:
        return "The 600 test tasks: not yet compared."
    stage = f"{found.stage}, " if family.inner_lr is not None else ""
    return (
        f"{found.tasks} test tasks ({stage}each query alone): "
        f"<b>{100 * found.accuracy:.1f}% ± {100 * found.ci95:.1f}</b>"
    )


def compared_tip(family: FamilyAnswers) -> str:
    where = f"{COMPARE_FILE.name} (innerloop-cli compare)"
    if family.compared is None:
        return f"{where} has no row for {family.checkpoint} yet"
    return f"The row of {family.checkpoint} in {where}"


def scale_text(shown: TwoFamiliesTask) -> str:
    """The lecture's "outputting all of φ does not scale", in this task's numbers."""
    per_item = shown.carried // max(len(shown.task.y_support), 1)
    return (
        f"<b>Outputting all of φ does not scale:</b> a black box that output MAML's φ would emit "
        f"<b>{shown.emitted:,}</b> numbers per task. {shown.black_box.label} carries "
        f"<b>{shown.carried:,}</b> activations ({per_item:,} per support item) and keeps its θ fixed."
    )


def footnote(shown: TwoFamiliesTask | None) -> str:
    if shown is None:
        return ""
    task = shown.task
    return (
        f"Task {shown.index} of seed {shown.seed}: {task.ways}-way {task.shots}-shot, {len(task.y_query)} "
        f"queries, {task.protocol} test split. Learners: the shipped {shown.optimization.checkpoint} and "
        f"{shown.black_box.checkpoint}; the accuracies on the test tasks come from {COMPARE_FILE.name}."
    )
