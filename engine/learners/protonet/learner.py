"""Prototypical networks (Snell, Swersky, Zemel 2017): a class is the mean of its embedded support images.

θ is an embedding network, the body of the conv4 network (``engine.models.build_model``, without its
head): an image becomes a vector z = f_θ(x). φ for a task is one prototype per class, c_k = the mean z
of its support images; a query's logits are minus its squared Euclidean distances to the prototypes,
so its class probabilities are softmax(−‖f_θ(x) − c_k‖²). Meta-training is the cross-entropy of the
queries of every task of the batch, back-propagated into θ (the trainer's Adam takes the step).

Batch norm, as the other conv4 learners do it (``engine.core.answering``): a support set is normalised
with its own statistics; each query per query with the support set's statistics (its answer never
depends on the other queries: ``statistics_from_first``), transductively with the query set's. Training
normalises the queries as answered per query, so the network meets at test time the statistics it
was trained with, and every task is normalised on its own (tasks never meet in a meta-step).

Reading the support set item by item (the sequence view, the drawing lesson): after p items the
learner has a prototype for the classes read so far only (their images normalised with those p
images' statistics). A class with no prototype yet gets a logit of −∞: a nearest-prototype classifier
never names a class it has not seen, so its probability is 0 (and the loss of a query of that class
is +∞). With no prototype at all, every class gets the same logit: the answer is uniform. The order
it reads: the first drawing of every class (in label order), then the second, and so on.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.core.answering import Answering
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import SequenceTrace
from engine.core.tasks import Task, TaskBatch
from engine.learners.common.episodes import support_item_name
from engine.learners.seam import StageAnswers, StepReport, TaskScores
from engine.models import build_model
from engine.models.activation_layout import as_asked, channels_last_activations
from engine.models.batch_stat_norm import statistics_from_first

STAGES = ("prototypes",)


class PrototypeEmbedding(nn.Module):
    """The conv4 network's body: ``[n, 1, 28, 28]`` -> embeddings ``[n, D]`` (D = 256 for conv4, 64 for
    conv4-pool). Its parameters are named as in the conv4 network (``features.*``), without the head."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.features = build_model(model, 1).features  # the head of a classifier has no use here

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(as_asked(x)).flatten(1)

    def embed(self, x_s: torch.Tensor, x_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One task's support and query embeddings, every image normalised with the support set's batch
        statistics (the support rows as alone; each query as if it were the only one)."""
        rows = x_s.shape[0]
        with statistics_from_first(rows):
            z = self(torch.cat([x_s, x_q]))
        return z[:rows], z[rows:]


def prototypes(z_s: torch.Tensor, y_s: torch.Tensor, ways: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The class means ``[N, D]`` of support embeddings ``z_s [n, D]`` labelled ``y_s [n]``, and which
    classes have at least one support image (``[N]`` bool; an absent class's row is 0)."""
    members = (y_s[:, None] == torch.arange(ways, device=y_s.device)).to(z_s.dtype)  # [n, N]
    counts = members.sum(0)
    return members.T @ z_s / counts.clamp_min(1)[:, None], counts > 0


def distance_logits(z_q: torch.Tensor, protos: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """``[Q, N]``: −‖z_q − c_k‖² for each query and prototype; −∞ for a class without a prototype."""
    logits = -((z_q[:, None] - protos[None]) ** 2).sum(-1)
    return logits.masked_fill(~present, float("-inf"))


def reading_order(y_s: torch.Tensor) -> torch.Tensor:
    """``[n]`` indices: the first drawing of every class in label order, then the second, and so on
    (classes may have different numbers of drawings)."""
    labels = y_s.tolist()
    drawn: dict[int, int] = {}
    shot = []
    for label in labels:
        shot.append(drawn.get(label, 0))
        drawn[label] = shot[-1] + 1
    keys = sorted(range(len(labels)), key=lambda i: (shot[i], labels[i]))
    return torch.tensor(keys, dtype=torch.long, device=y_s.device)


class ProtoNetLearner:
    measures_hessian_split = False

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        self.config, self.kind, self.device = config, config.kind, torch.device(device)
        self.ways = config.ways
        self.module = PrototypeEmbedding(config.model).to(self.device)
        with torch.no_grad():
            self.dim = self.module(torch.zeros(2, 1, 28, 28, device=self.device)).shape[1]  # D

    # -- one task -------------------------------------------------------------------------------------
    def task_logits(
        self,
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        x_q: torch.Tensor,
        answering: Answering = Answering.PER_QUERY,
    ) -> torch.Tensor:
        """``[Q, N]`` logits of one task's queries given the support items ``x_s`` (any number, 0 too)."""
        if x_s.shape[0] == 0:  # no prototype at all: nothing to tell the classes apart
            return x_q.new_zeros(x_q.shape[0], self.ways)
        if answering is Answering.TRANSDUCTIVE:
            z_s, z_q = self.module(x_s), self.module(x_q)
        else:
            z_s, z_q = self.module.embed(x_s, x_q)
        return distance_logits(z_q, *prototypes(z_s, y_s, self.ways))

    def _scores(self, batch: TaskBatch, answering: Answering) -> tuple[torch.Tensor, torch.Tensor]:
        """Per task: the mean query cross-entropy and accuracy ``[B]`` each."""
        losses, accs = [], []
        with channels_last_activations():  # faster convolutions one task at a time; the same numbers
            for x_s, y_s, x_q, y_q in zip(batch.x_support, batch.y_support, batch.x_query, batch.y_query):
                logits = self.task_logits(x_s, y_s, x_q, answering)
                losses.append(F.cross_entropy(logits, y_q))
                accs.append((logits.argmax(-1) == y_q).float().mean())
        return torch.stack(losses), torch.stack(accs)

    # -- meta-training ----------------------------------------------------------------------------------
    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        """The queries' cross-entropy, mean over the batch's tasks; its gradient goes into θ's ``.grad``."""
        self.module.train()
        losses, accs = self._scores(batch, Answering.PER_QUERY)
        loss = losses.mean()
        loss.backward()
        return StepReport(loss.item(), None, None, accs.mean().item())

    def score(
        self, batch: TaskBatch, *, steps: int | None = None, answering: Answering = Answering.PER_QUERY
    ) -> TaskScores:
        """Query loss and accuracy of each task with all its prototypes (one stage; ``steps`` unused)."""
        self.module.eval()
        with torch.no_grad():
            losses, accs = self._scores(batch, answering)
        return TaskScores(losses[:, None], accs[:, None], STAGES)

    # -- the public API ---------------------------------------------------------------------------------
    def adapt(
        self, x_support: torch.Tensor, y_support: torch.Tensor, *, steps: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The prototypes ``[N, D]`` and the support images (whose statistics normalise a query)."""
        y = y_support.to(self.device)
        if y.numel() == 0 or y.min() < 0 or set(y.tolist()) != set(range(self.ways)):
            raise ConfigError(
                f"this learner reads {self.ways}-way support sets (labels 0..{self.ways - 1}, "
                "each at least once)"
            )
        x = x_support.to(self.device)
        self.module.eval()
        with torch.no_grad():
            protos, _ = prototypes(self.module(x), y, self.ways)
        return protos, x

    def predict_proba(
        self,
        adapted: tuple[torch.Tensor, torch.Tensor],
        x_query: torch.Tensor,
        answering: Answering = Answering.PER_QUERY,
    ) -> torch.Tensor:
        protos, x_support = adapted
        x_q = x_query.to(self.device)
        self.module.eval()
        with torch.no_grad():
            if answering is Answering.TRANSDUCTIVE:
                z_q = self.module(x_q)
            else:
                z_q = self.module.embed(x_support, x_q)[1]
            present = torch.ones(self.ways, dtype=torch.bool, device=self.device)
            return distance_logits(z_q, protos, present).softmax(-1).cpu()

    def _prefix_logits(self, x_s, y_s, x_q, answering: Answering) -> list[torch.Tensor]:
        """The queries' logits after reading 0, 1, …, P support items (``x_s`` already in reading order)."""
        return [self.task_logits(x_s[:p], y_s[:p], x_q, answering) for p in range(x_s.shape[0] + 1)]

    def stage_answers(self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor) -> StageAnswers:
        """The queries' probabilities after reading 0, 1, …, P support items in reading order (each query
        answered on its own)."""
        self.module.eval()
        order = reading_order(y_s)
        xs, ys = x_s.to(self.device)[order], y_s.to(self.device)[order]
        with torch.no_grad():
            rows = [
                logits.softmax(-1).cpu().numpy()
                for logits in self._prefix_logits(xs, ys, x_q.to(self.device), Answering.PER_QUERY)
            ]
        return StageAnswers(("nothing read",) + self._item_names(ys), np.stack(rows), by_steps=False)

    @staticmethod
    def _item_names(ys: torch.Tensor) -> tuple[str, ...]:
        labels = ys.tolist()
        shots = max(labels.count(c) for c in set(labels)) if labels else 1
        names = [support_item_name(c, labels[:i].count(c), shots) for i, c in enumerate(labels)]
        return tuple(f"read {name}" for name in names)

    def before_and_after(self, x_s, y_s, x_q, y_q, grid=None) -> dict:
        """The recipe's step 3: the queries answered with no prototype (uniform) and with all of them."""
        uniform = torch.full((x_q.shape[0], self.ways), 1.0 / self.ways)
        after = self.predict_proba(self.adapt(x_s, y_s), x_q)
        return dict(
            before_label="meta-parameters θ, before any prototype: every class alike",
            after_label=f"adapted φ: the {self.ways} prototypes, mean embeddings of the "
            f"{y_s.numel()} support images",
            query_probs_before=uniform,
            query_probs_after=after,
        )

    def live_value(self, name: str) -> float:
        raise ConfigError(f"prototypical networks hold no live setting {name}")

    def set_live(self, name: str, value: float, *, restoring: bool = False) -> None:
        if name == "meta_lr":  # the trainer's optimiser takes it; nothing of the learner's changes
            return
        raise ConfigError(f"prototypical networks have no live setting {name}")

    # -- the view: the prototypes forming, support item by support item -----------------------------------
    def carrier(self) -> tuple[int, str]:
        return self.ways * self.dim, (
            f"{self.ways} prototypes of {self.dim} numbers: each class's mean embedding"
        )

    def trace(
        self,
        task: Task,
        *,
        iteration: int = 0,
        steps: int | None = None,
        answering: Answering = Answering.PER_QUERY,
    ) -> SequenceTrace:
        """The task read one support item at a time: every query's answer after each prefix."""
        self.module.eval()
        order = reading_order(task.y_support)
        x_s, y_s = task.x_support[order].to(self.device), task.y_support[order].to(self.device)
        x_q, y_q = task.x_query.to(self.device), task.y_query.to(self.device)
        probs, losses, accs = [], [], []
        with torch.no_grad():
            for logits in self._prefix_logits(x_s, y_s, x_q, answering):
                probs.append(logits.softmax(-1).cpu().numpy())
                losses.append(F.cross_entropy(logits, y_q).item())
                accs.append((logits.argmax(-1) == y_q).float().mean().item())
            count, what = self.carrier()
        s_idx = order.tolist()
        info_s, info_q = task.support_info, task.query_info
        return SequenceTrace(
            iteration=iteration,
            algo=self.config.algo,
            ways=self.ways,
            support_images=x_s[:, 0].cpu().numpy(),
            support_labels=y_s.cpu().numpy(),
            query_images=x_q[:, 0].cpu().numpy(),
            query_labels=y_q.cpu().numpy(),
            prefix_probs=np.stack(probs),
            prefix_accuracy=np.asarray(accs),
            prefix_loss=np.asarray(losses),
            carrier_count=count,
            carrier_description=what,
            meta_parameter_count=sum(p.numel() for p in self.module.parameters()),
            support_captions=tuple(info_s[i].caption() for i in s_idx) if info_s else (),
            query_captions=tuple(i.caption() for i in info_q) if info_q else (),
            description=task.description,
        )
