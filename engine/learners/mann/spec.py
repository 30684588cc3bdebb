"""MANN in the CS330 homework's format (Santoro et al. 2016) as the product describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.learners.listing import Listing, parse_listing
from engine.learners.published import Reference
from engine.learners.spec import Family, LearnerSpec

if TYPE_CHECKING:
    from engine.core.config import TrainConfig

_CS330_TARGETS = {2: 90.0, 3: 80.0, 4: 70.0}  # 1-shot homework targets (≈)

_LISTING = """
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


class MannSpec(LearnerSpec):
    name = "mann"
    label = "MANN (LSTM)"
    family = Family.BLACK_BOX
    summary = (
        "Santoro et al. 2016, CS330 homework 1 format: an LSTM reads (image, label) pairs and "
        "answers the unlabelled queries at the end"
    )
    models = {"classification": ("lstm", "conv-lstm", "memory-lstm")}
    reads = ("hidden",)
    defaults = dict(protocol="cs330", queries=1, meta_batch=128, meta_lr=1e-3, model="lstm", hidden=128)
    transduction = "it reads the queries one after another, so a later query sees the earlier ones"

    def build(self, config, device):
        from engine.learners.mann.learner import MannLearner

        return MannLearner(config, device)

    def listing(
        self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True
    ) -> Listing:
        return Listing(
            "MANN (CS330 homework 1)",
            parse_listing(_LISTING),
            (
                "a meta-batch of tasks from the run's sampler",
                "support items in the homework's row order, then the queries, shuffled",
                "no gradient steps: the LSTM reads the (image, label) pairs; its state is φ",
                "cross-entropy on the query outputs, back-propagated to every weight θ",
            ),
        )

    def published(self, config: TrainConfig) -> Reference | None:
        if config.protocol == "cs330" and config.shots == 1 and config.ways in _CS330_TARGETS:
            return Reference(
                "accuracy",
                _CS330_TARGETS[config.ways],
                None,
                f"MANN {config.ways}-way 1-shot target (≈)",
                "CS330 homework",
                "cs330",
                "LSTM, 128 units",
            )
        return None


SPEC = MannSpec()
