"""The CS330 homework-1 memory-augmented learner: two stacked LSTMs reading (image, label) pairs.

Each time step is an image (its 784 pixels, or with ``encoder="conv"`` a small conv embedding: 4 strided
blocks of 32 channels, 128-d) concatenated with its one-hot label (all zeros for a query).
LSTM(in + N -> hidden), then LSTM(hidden -> N) whose output at a query step is that query's class logits.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.models.embedding import ConvEmbedding


class MannNet(nn.Module):
    def __init__(self, ways: int, hidden: int = 128, encoder: str = "linear", image_size: int = 28) -> None:
        super().__init__()
        if encoder not in ("linear", "conv"):
            raise ValueError(f"encoder must be linear or conv, not {encoder!r}")
        self.ways, self.hidden = ways, hidden
        self.encoder = ConvEmbedding(channels=32) if encoder == "conv" else None
        features = self.encoder.out_features if self.encoder is not None else image_size * image_size
        self.lstm1 = nn.LSTM(features + ways, hidden, batch_first=True)
        self.lstm2 = nn.LSTM(hidden, ways, batch_first=True)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``[..., 1, 28, 28]`` -> ``[..., features]``."""
        lead = images.shape[:-3]
        flat = images.reshape(-1, *images.shape[-3:])
        feats = self.encoder(flat) if self.encoder is not None else flat.flatten(1)
        return feats.reshape(*lead, -1)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``images [B, T, 1, 28, 28]``, ``labels [B, T, N]`` (one-hot or zeros) -> logits ``[B, T, N]``."""
        steps = torch.cat([self.encode(images), labels], dim=-1)
        out, _ = self.lstm1(steps)
        out, _ = self.lstm2(out)
        return out

    def carrier_count(self) -> int:
        """Numbers of state that carry the support set to the queries: h and c of both LSTMs."""
        return 2 * (self.hidden + self.ways)
