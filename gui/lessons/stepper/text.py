"""The inner-loop stepper's words: the story, the verdict at step k, the footnotes (no Qt, plain strings)."""

from __future__ import annotations

from engine.lessons.stepper import FINETUNE_FILE, MAML_FILE, RANDOM_SEED, ColumnTrajectory, StepperTask

SHORT_NAMES = {"meta": "meta-trained θ", "pretrained": "pre-trained classifier", "random": "random θ"}


def story() -> str:
    return (
        "One 5-way 1-shot task from the <b>finn</b> test split (characters no learner has seen), three "
        "starting points, the inner loop stepped k → k+1. From MAML's <b>meta-parameters θ</b> one SGD step "
        "on the five support drawings names the queries; from a <b>random θ</b> it does not."
    )


def right(column: ColumnTrajectory, k: int) -> int:
    """How many queries the adapted parameters φ_k classify correctly."""
    return int(round(float(column.query_accuracy[k]) * column.query_probs.shape[1]))


def accuracy_text(column: ColumnTrajectory, k: int) -> str:
    queries = column.query_probs.shape[1]
    return f"query accuracy {100 * right(column, k) / queries:.0f}% ({right(column, k)} of {queries})"


def loss_text(column: ColumnTrajectory, k: int) -> str:
    return f"support loss ┅ {column.support_loss[k]:.3f} · query loss ━ {column.query_loss[k]:.3f}"


def start_text(column: ColumnTrajectory) -> str:
    return f"starts at the <b>{column.start}</b> · adapted parameters φ_k: {column.adapts}"


def verdict(stepped: StepperTask, k: int) -> str:
    """One line comparing the three columns at step ``k``: counts, then what they mean."""
    columns = {c.key: c for c in stepped.columns}
    queries = stepped.columns[0].query_probs.shape[1]
    ways = stepped.columns[0].query_probs.shape[2]
    counts = " · ".join(
        f"{SHORT_NAMES.get(c.key, c.title)} <b>{right(c, k)}/{queries}</b>" for c in stepped.columns
    )
    head = f"At k = {k}: {counts} right (chance {queries // ways}/{queries})."
    meta, random = columns.get("meta"), columns.get("random")
    if meta is None or random is None:
        return head
    if k == 0:
        return (
            head + " No step yet: these are the starting parameters themselves, and θ has not seen this task."
        )
    gap = right(meta, k) - right(random, k)
    if gap < 2:
        return head + (
            f" The meta-trained θ is ahead by {gap}."
            if gap > 0
            else " On this task the random θ has caught up with the meta-trained θ."
        )
    one = k == 1
    meta_right = right(meta, k)
    named = "every query" if meta_right == queries else f"{meta_right} of {queries} queries"
    steps = "One SGD step" if one else f"{k} SGD steps"
    tail = f" {steps} from θ {'names' if one else 'name'} {named}; from the random θ "
    if random.support_loss[k] < 0.05:
        support = len(stepped.task.y_support)
        tail += (
            f"{'it fits' if one else 'they fit'} the {support} support drawings "
            f"(support loss {random.support_loss[k]:.3f}) but name only {right(random, k)} of {queries} "
            "queries."
        )
    else:
        tail += f"{'it is' if one else 'they are'} not enough."
    return head + tail


def change_title(column: ColumnTrajectory) -> str:
    """The bar chart's title: ‖φ_k − θ‖, or for the fine-tuning head, its distance from its own start."""
    if column.key == "pretrained":
        return "‖φ_k − θ‖ per layer; head: ‖head_k − head_0‖"
    return "‖φ_k − θ‖ per layer"


def footnote(stepped: StepperTask | None) -> str:
    if stepped is None:
        return ""
    task = stepped.task
    queries, support = len(task.y_query), len(task.y_support)
    return (
        f"Task {stepped.index} of seed {stepped.seed}: {task.ways}-way 1-shot, {queries} queries, "
        f"{task.protocol} test split. Batch norm: the {support} support drawings are normalised as one "
        f"batch, and each of the {queries} queries on its own with the support drawings' statistics "
        "(answered alone, as the learners' own evaluation does); a conv bar includes its batch-norm scale "
        "and shift. Fine-tuning replaces the pre-trained head (over all training classes) by a new head set "
        "to the support prototypes at k = 0, so its head bar is ‖head_k − head_0‖. Random θ: the same "
        f"conv4 initialised with torch seed {RANDOM_SEED}. Learners: the shipped {MAML_FILE} and "
        f"{FINETUNE_FILE}; every step is computed once per task."
    )
