"""SNAIL (Mishra et al. 2018) as the product describes it."""

from __future__ import annotations

from engine.learners.listing import Listing, parse_listing
from engine.learners.published import Reference
from engine.learners.spec import Family, LearnerSpec

_MISHRA = {(5, 1): 99.07, (5, 5): 99.78, (20, 1): 97.64, (20, 5): 99.36}  # Omniglot, Mishra et al. 2018

_LISTING = """
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


class SnailSpec(LearnerSpec):
    name = "snail"
    label = "SNAIL"
    family = Family.BLACK_BOX
    summary = (
        "Mishra et al. 2018: an embedding CNN, then dilated causal convolutions and causal "
        "attention over the (image, label) sequence"
    )
    models = {"classification": ("snail",)}
    defaults = dict(protocol="finn", queries=1, meta_batch=32, meta_lr=5e-4, model="snail")

    def build(self, config, device):
        from engine.learners.snail.learner import SnailLearner

        return SnailLearner(config, device)

    def listing(
        self, *, first_order=False, learn_inner_lr=False, kind="classification", per_query=True
    ) -> Listing:
        return Listing(
            "SNAIL",
            parse_listing(_LISTING),
            (
                "a meta-batch of tasks from the run's sampler",
                "support items shuffled, then each query after them",
                "no gradient steps: each query reads the support items' features and labels (φ)",
                "cross-entropy on the query answers, back-propagated to every weight θ",
            ),
        )

    def published(self, config) -> Reference | None:
        """Mishra et al.'s Omniglot figure for this task shape: their own split and budget, so it is shown
        with that said, whichever protocol the run uses."""
        key = (config.ways, config.shots)
        if config.dataset != "omniglot" or key not in _MISHRA:
            return None
        return Reference(
            "accuracy",
            _MISHRA[key],
            None,
            f"SNAIL {key[0]}-way {key[1]}-shot",
            "Mishra et al. 2018",
            "Mishra et al.'s own split",
            "long GPU training, not this run's split or budget",
        )


SPEC = SnailSpec()
