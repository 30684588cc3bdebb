"""SNAIL behind the learner seam: each query is answered from its own sequence, the support items
(shuffled in training) followed by that query, as in Mishra et al. 2018.

Every image is embedded once per batch; the sequences of a task's queries share the support
embeddings.
"""

from __future__ import annotations

import torch

from engine.algorithms.blackbox import BlackBoxLearner
from engine.algorithms.episodes import label_inputs
from engine.config import TrainConfig
from engine.models.snail import SnailNet


class SnailLearner(BlackBoxLearner):
    algo = "snail"
    shuffle_support_in_training = True

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        super().__init__(config, SnailNet(config.ways, config.shots), device)

    def query_logits(self, x_s, y_s, x_q, *, attention: bool = False):
        net: SnailNet = self.module
        b, p, q = x_s.shape[0], x_s.shape[1], x_q.shape[1]
        feats = net.embed(torch.cat([x_s, x_q], dim=1))  # [B, P+Q, E]
        support, queries = feats[:, :p], feats[:, p:]
        # One sequence per query: [B, Q, P+1, E] -> [B*Q, P+1, E]
        seq = torch.cat([support[:, None].expand(b, q, p, support.shape[-1]), queries[:, :, None]], dim=2)
        labels = label_inputs(y_s, 1, self.ways)  # [B, P+1, N]
        labels = labels[:, None].expand(b, q, p + 1, self.ways)
        logits, weights = net.forward_features(seq.reshape(b * q, p + 1, -1), labels.reshape(b * q, p + 1, -1))
        answer = logits[:, -1].view(b, q, self.ways)
        if not attention:
            return answer, None
        # Each query's attention row (the last step) over the support items and itself: [blocks, B, Q, P+1]
        return answer, weights[:, :, -1].reshape(weights.shape[0], b, q, p + 1)

    def carrier(self, support_items: int) -> tuple[int, str]:
        net: SnailNet = self.module
        return net.carrier_count(support_items), (
            f"features of the {support_items} support items the query attends to "
            f"({net.att3.out_channels} channels each, plus the keys of 3 attention blocks)")
