"""A memory-augmented learner in the sense of Santoro et al. 2016: an LSTM controller with an external
memory that it writes at every step and reads by content (cosine similarity).

Each step: the controller reads (image embedding, label fed, last read vector); it emits a key;
the read vector is the softmax(β · cos(key, stored keys))-weighted mean of the values written
at earlier steps; the logits come from the controller state and the read vector; then the step's
key and value are written to a fresh slot (a sequence is short, so no slot is ever overwritten:
Santoro's least-recently-used rule never has to choose). A query finds the support steps whose
keys resemble its own and reads their values, which carry their labels: binding an image to its
label is a memory write, not something the LSTM state must hold.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.embedding import ConvEmbedding


class MemoryMannNet(nn.Module):
    def __init__(self, ways: int, hidden: int = 128, key_size: int = 64, value_size: int = 64) -> None:
        super().__init__()
        self.ways, self.hidden, self.key_size, self.value_size = ways, hidden, key_size, value_size
        self.encoder = ConvEmbedding(channels=32)
        self.controller = nn.LSTMCell(self.encoder.out_features + ways + value_size, hidden)
        self.key = nn.Linear(hidden, key_size)
        self.value = nn.Linear(hidden + ways, value_size)
        self.sharpness = nn.Parameter(torch.tensor(10.0))  # β of the content-based read
        self.out = nn.Linear(hidden + value_size, ways)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        lead = images.shape[:-3]
        return self.encoder(images.reshape(-1, *images.shape[-3:])).reshape(*lead, -1)

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``images [B, T, 1, 28, 28]``, ``labels [B, T, N]`` (one-hot or zeros) -> logits ``[B, T, N]``."""
        feats = self.encode(images)
        b, t = feats.shape[:2]
        h = feats.new_zeros(b, self.hidden)
        c = feats.new_zeros(b, self.hidden)
        read = feats.new_zeros(b, self.value_size)
        keys, values, outputs = [], [], []
        for step in range(t):
            h, c = self.controller(torch.cat([feats[:, step], labels[:, step], read], dim=-1), (h, c))
            key = self.key(h)
            if keys:
                stored_keys, stored_values = torch.stack(keys, 1), torch.stack(values, 1)  # [B, slots, ·]
                similarity = F.cosine_similarity(key[:, None], stored_keys, dim=-1)  # [B, slots]
                weights = (self.sharpness * similarity).softmax(dim=-1)
                read = (weights[..., None] * stored_values).sum(1)
            else:
                read = feats.new_zeros(b, self.value_size)
            outputs.append(self.out(torch.cat([h, read], dim=-1)))
            keys.append(key)
            values.append(self.value(torch.cat([h, labels[:, step]], dim=-1)))
        return torch.stack(outputs, 1)

    def carrier_count(self, support_items: int) -> int:
        """The memory written while reading the support set, plus the controller's h and c."""
        return support_items * (self.key_size + self.value_size) + 2 * self.hidden
