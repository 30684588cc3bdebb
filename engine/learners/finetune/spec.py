"""The fine-tuning baseline (the lecture's recap) as the product describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.listing import Listing, parse_listing
from engine.learners.spec import Family, LearnerSpec, RecipeWords

if TYPE_CHECKING:
    from engine.core.config import TrainConfig

_LISTING = """
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


class FineTuneSpec(LearnerSpec):
    name = "finetune"
    label = "Fine-tuning baseline"
    family = Family.BASELINE
    summary = (
        "the lecture's recap, 'fine-tune your parameters on the test set': an ordinary classifier "
        "pre-trained over all meta-training classes, then a new head fitted on each support set"
    )
    models = {"classification": ("conv4", "conv4-pool")}
    reads = ("test_inner_steps", "inner_lr")
    # Pre-training sees every image of a task batch as one labelled minibatch (32 x 5 x 4 = 640 images);
    # the new head starts at the class prototypes and takes 20 steps of 0.5 on the support loss.
    defaults = dict(queries=3, meta_batch=32, meta_lr=1e-3, test_inner_steps=20, inner_lr=0.5)
    transduction = "batch norm with the query set's statistics"
    why_no_inner_loop = ""
    traces_by_reading = False  # its trace is the new head's steps
    recipe = RecipeWords(
        "pre-training loss (every image of the batch, over all training classes)",
        " The fine-tuning baseline does not use the split in training: every image is an "
        "ordinary training example over all training classes.",
        "none in training; at test time a new head on 𝒟ᵢᵗʳ",
        "θ ← θ − β ∇θ L(θ, all images, all training classes)",
    )

    def build(self, config, device):
        from engine.learners.finetune.learner import FineTuneLearner

        return FineTuneLearner(config, device)

    def loss_name(self, config: TrainConfig) -> str:
        return "pre-training loss (one classifier over every meta-training class)"

    def accuracy_name(self, config: TrainConfig) -> str:
        return "pre-training accuracy (train images)"

    def validation_words(self, config: TrainConfig) -> str:
        return (
            f"validation with a new head ({config.test_inner_steps} steps) on {config.val_tasks} tasks, "
            f"every {config.val_every} its"
        )

    def phi_words(self, config: TrainConfig, inner_lr: float | None) -> str:
        return (
            "There is no φ in this learner's training; shown is what it does at test time: a new N-way head "
            "fitted on the support set on top of the pre-trained features θ."
        )

    def listing(
        self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True
    ) -> Listing:
        return Listing(
            "Fine-tuning baseline",
            parse_listing(_LISTING),
            (
                "a meta-batch of tasks, for their images",
                "not used in training: every image is a training example",
                "only at test time: a new head fitted on the support set",
                "cross-entropy over all training classes: ordinary pre-training",
            ),
        )


SPEC = FineTuneSpec()
