"""SNAIL (Mishra et al. 2018): temporal convolutions and causal attention over an (image, label) sequence.

For Omniglot N-way K-shot, each image is embedded (``ConvEmbedding``: 4 blocks of 64 channels),
and a sequence of T = NK + 1 steps (the labelled support items, then one
query with an all-zero label) goes through, as in the paper's appendix:

    attention(64, 32) -> TC(T, 128) -> attention(256, 128) -> TC(T, 128) -> attention(512, 256)
    -> 1x1 convolution to N logits

A TC block stacks ceil(log2 T) dense blocks with dilations 1, 2, 4, ...; each applies a causal
dilated convolution (kernel 2) with a gated activation tanh(a)·σ(b) and concatenates its output
to its input. An attention block computes keys, queries and values from its input, masks the
future (a step sees itself and the past), takes the softmax over the keys, and concatenates the
read values to its input. Everything is causal, so no step can see a later one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.models.embedding import ConvEmbedding


class DenseBlock(nn.Module):
    def __init__(self, in_channels: int, filters: int, dilation: int) -> None:
        super().__init__()
        self.dilation = dilation
        self.conv = nn.Conv1d(in_channels, 2 * filters, kernel_size=2, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [B, C, T]`` -> ``[B, C + filters, T]``; step t reads steps t and t - dilation only."""
        a, b = self.conv(F.pad(x, (self.dilation, 0))).chunk(2, dim=1)
        return torch.cat([x, torch.tanh(a) * torch.sigmoid(b)], dim=1)

    def step(self, past: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The block at one step after ``past [B, C, P]``, for ``x [B, C, Q]`` (Q independent steps at
        position P): output = W0·x[P - dilation] + W1·x[P]."""
        position = past.shape[2] - self.dilation
        before = (
            past[:, :, position : position + 1]
            if position >= 0
            else past.new_zeros(past.shape[0], past.shape[1], 1)
        )
        w = self.conv.weight
        out = torch.einsum("oc,bcq->boq", w[:, :, 1], x) + torch.einsum("oc,bcq->boq", w[:, :, 0], before)
        a, b = (out + self.conv.bias[None, :, None]).chunk(2, dim=1)
        return torch.cat([x, torch.tanh(a) * torch.sigmoid(b)], dim=1)


class TCBlock(nn.Module):
    def __init__(self, in_channels: int, sequence_length: int, filters: int) -> None:
        super().__init__()
        count = max(1, math.ceil(math.log2(max(sequence_length, 2))))
        blocks = []
        for i in range(count):
            blocks.append(DenseBlock(in_channels + i * filters, filters, 2**i))
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = in_channels + count * filters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class AttentionBlock(nn.Module):
    def __init__(self, in_channels: int, key_size: int, value_size: int) -> None:
        super().__init__()
        self.query = nn.Linear(in_channels, key_size)
        self.key = nn.Linear(in_channels, key_size)
        self.value = nn.Linear(in_channels, value_size)
        self.scale = 1.0 / math.sqrt(key_size)
        self.out_channels = in_channels + value_size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, C, T]`` -> (``[B, C + V, T]``, weights ``[B, T, T]``; row t sums to 1 over keys ≤ t)."""
        seq = x.transpose(1, 2)  # [B, T, C]
        q, k, v = self.query(seq), self.key(seq), self.value(seq)
        logits = torch.bmm(q, k.transpose(1, 2)) * self.scale  # [B, T (queries), T (keys)]
        t = seq.shape[1]
        future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        weights = logits.masked_fill(future, float("-inf")).softmax(dim=-1)  # over the keys
        read = torch.bmm(weights, v)
        return torch.cat([x, read.transpose(1, 2)], dim=1), weights

    def step(self, past: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q independent steps ``x [B, C, Q]`` at position P after ``past [B, C, P]``: each attends to
        the P past steps and itself. Returns ``[B, C + V, Q]`` and weights ``[B, Q, P + 1]``."""
        past_seq, seq = past.transpose(1, 2), x.transpose(1, 2)
        q, k_self, v_self = self.query(seq), self.key(seq), self.value(seq)  # [B, Q, ·]
        k_past, v_past = self.key(past_seq), self.value(past_seq)  # [B, P, ·]
        logits = torch.cat([torch.bmm(q, k_past.transpose(1, 2)), (q * k_self).sum(-1, keepdim=True)], dim=-1)
        weights = (logits * self.scale).softmax(dim=-1)  # over the P + 1 keys
        read = torch.bmm(weights[..., :-1], v_past) + weights[..., -1:] * v_self
        return torch.cat([x, read.transpose(1, 2)], dim=1), weights


class SnailNet(nn.Module):
    def __init__(self, ways: int, shots: int, embedding_channels: int = 64) -> None:
        super().__init__()
        self.ways = ways
        self.sequence_length = ways * shots + 1
        self.embedding = ConvEmbedding(embedding_channels)
        c = self.embedding.out_features + ways
        self.att1 = AttentionBlock(c, 64, 32)
        self.tc1 = TCBlock(self.att1.out_channels, self.sequence_length, 128)
        self.att2 = AttentionBlock(self.tc1.out_channels, 256, 128)
        self.tc2 = TCBlock(self.att2.out_channels, self.sequence_length, 128)
        self.att3 = AttentionBlock(self.tc2.out_channels, 512, 256)
        self.head = nn.Conv1d(self.att3.out_channels, ways, kernel_size=1)
        self.key_sizes = (64, 256, 512)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        lead = images.shape[:-3]
        return self.embedding(images.reshape(-1, *images.shape[-3:])).reshape(*lead, -1)

    def forward_features(self, features: torch.Tensor, labels: torch.Tensor):
        """``features [B, T, E]`` and ``labels [B, T, N]`` -> logits ``[B, T, N]``, attention
        ``[3, B, T, T]``."""
        x = torch.cat([features, labels], dim=-1).transpose(1, 2)  # [B, C, T]
        x, w1 = self.att1(x)
        x = self.tc1(x)
        x, w2 = self.att2(x)
        x = self.tc2(x)
        x, w3 = self.att3(x)
        return self.head(x).transpose(1, 2), torch.stack([w1, w2, w3])

    def answer_queries(self, support: torch.Tensor, support_labels: torch.Tensor, queries: torch.Tensor):
        """Each query read right after the support sequence, independently of the other queries.

        ``support [B, P, E]``, ``support_labels [B, P, N]`` (one-hot), ``queries [B, Q, E]`` ->
        logits ``[B, Q, N]`` and attention ``[3, B, Q, P + 1]``. The same numbers as
        ``forward_features`` on each sequence ``[support..., query]``, but the support steps are
        computed once per task instead of once per query.
        """
        past = torch.cat([support, support_labels], dim=-1).transpose(1, 2)  # [B, C, P]
        blank = queries.new_zeros(*queries.shape[:2], support_labels.shape[-1])
        now = torch.cat([queries, blank], dim=-1).transpose(1, 2)  # [B, C, Q]
        weights = []
        for layer in (self.att1, *self.tc1.blocks, self.att2, *self.tc2.blocks, self.att3):
            if isinstance(layer, AttentionBlock):
                now, w = layer.step(past, now)
                weights.append(w)
            else:
                now = layer.step(past, now)
            if past.shape[2] == 0:  # nothing read yet: the past stays empty, with the new width
                past = now.new_zeros(now.shape[0], now.shape[1], 0)
            else:
                past = layer(past)[0] if isinstance(layer, AttentionBlock) else layer(past)
        return self.head(now).transpose(1, 2), torch.stack(weights)

    def carrier_count(self, support_items: int) -> int:
        """Activations over the support items that a query reads: the last layer's features and
        every attention block's keys at each support position."""
        return support_items * (self.att3.out_channels + sum(self.key_sizes))
