"""SNAIL behind the learner seam: each query is answered from its own sequence, the support items
(shuffled in training) followed by that query, as in Mishra et al. 2018.

Every image is embedded once per batch, and the support steps of a task are computed once for all
its queries (``SnailNet.answer_queries``).
"""

from __future__ import annotations

import torch

from engine.core.config import TrainConfig
from engine.learners.common.blackbox import BlackBoxLearner
from engine.learners.common.episodes import label_inputs
from engine.models.snail import SnailNet


class SnailLearner(BlackBoxLearner):
    algo = "snail"
    shuffle_support_in_training = True

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        super().__init__(config, SnailNet(config.ways, config.shots), device)

    def query_logits(self, x_s, y_s, x_q, *, attention: bool = False):
        net: SnailNet = self.module
        p = x_s.shape[1]
        feats = net.embed(torch.cat([x_s, x_q], dim=1))  # every image embedded once: [B, P+Q, E]
        labels = label_inputs(y_s, 0, self.ways)  # [B, P, N]
        logits, weights = net.answer_queries(feats[:, :p], labels, feats[:, p:])
        return logits, (weights if attention else None)

    def carrier(self, support_items: int) -> tuple[int, str]:
        net: SnailNet = self.module
        return net.carrier_count(support_items), (
            f"features and attention keys of the {support_items} support items read"
        )
