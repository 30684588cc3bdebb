"""MANN (Santoro et al. 2016) in the CS330 homework-1 format, behind the learner seam.

The support set is read in the homework's row order, each image with its one-hot label; the
queries follow, shuffled, with all-zero labels; the loss is the cross-entropy on the query outputs
only. Several queries per class extend the last row (one query per class is the homework's).
"""

from __future__ import annotations

import torch

from engine.core.config import TrainConfig
from engine.learners.common.blackbox import BlackBoxLearner
from engine.learners.common.episodes import homework_order, label_inputs
from engine.models.mann import MannNet
from engine.models.memory_mann import MemoryMannNet


class MannLearner(BlackBoxLearner):
    algo = "mann"

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        if config.model == "memory-lstm":
            net = MemoryMannNet(config.ways, config.hidden)
        else:
            net = MannNet(config.ways, config.hidden, "conv" if config.model == "conv-lstm" else "linear")
        super().__init__(config, net, device)

    def reading_order(self, y_support: torch.Tensor) -> torch.Tensor:
        return homework_order(y_support)

    def query_logits(self, x_s, y_s, x_q, *, attention: bool = False):
        images = torch.cat([x_s, x_q], dim=1)
        labels = label_inputs(y_s, x_q.shape[1], self.ways)
        out = self.module(images, labels)
        return out[:, x_s.shape[1] :], None

    def carrier(self, support_items: int) -> tuple[int, str]:
        if isinstance(self.module, MemoryMannNet):
            return self.module.carrier_count(support_items), (
                f"the external memory written while reading the {support_items} support items (a key and a "
                f"value each) and the controller's state"
            )
        net: MannNet = self.module
        return net.carrier_count(), (
            f"the LSTM state after reading the support set: h and c of both layers "
            f"(2 × ({net.hidden} + {net.ways}))"
        )
