"""What the black-box learners share: φ = f_θ(support set), read as a sequence.

A subclass provides the network (``module``), the order in which it reads a support set
(``reading_order``) and ``query_logits(x_s, y_s, x_q)``: the logits of every query after reading
the support items in the given order. Training, scoring, the API and the trace are written here
once. A learner that reads the queries in sequence (MANN) would answer a later query knowing the
earlier ones; per query (``engine.core.answering``, the default outside training) each query is read
after the support set on its own sequence. In training the queries (and, where the learner asks for it,
the support items) are shuffled with torch's seeded generator; scoring and traces use a fixed generator
of their own, so they never disturb the training stream.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.core.answering import Answering, transduction_of
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import SequenceTrace
from engine.core.tasks import Task, TaskBatch
from engine.learners.common.episodes import gather_items, random_order, support_item_name
from engine.learners.seam import StageAnswers, StepReport, TaskScores

SCORE_SEED = 20_180_101


class BlackBoxLearner:
    algo = ""
    measures_hessian_split = False
    shuffle_support_in_training = False

    def __init__(self, config: TrainConfig, module: nn.Module, device: torch.device | str) -> None:
        self.config, self.kind, self.device = config, config.kind, torch.device(device)
        self.module = module.to(self.device)
        self.ways = config.ways

    # -- what a subclass provides -----------------------------------------------------------------
    def reading_order(self, y_support: torch.Tensor) -> torch.Tensor:
        """``[B, P]`` indices: the order in which support items are read (default: as given)."""
        return torch.arange(y_support.shape[1], device=y_support.device).expand_as(y_support)

    def query_logits(
        self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor, *, attention: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def carrier(self, support_items: int) -> tuple[int, str]:
        """How many activations carry the support set to the queries, and what they are."""
        raise NotImplementedError

    @property
    def transductive(self) -> bool:
        """Whether its answer for one query depends on the other queries read with it."""
        return bool(transduction_of(self))

    def answers(
        self,
        x_s: torch.Tensor,
        y_s: torch.Tensor,
        x_q: torch.Tensor,
        answering: Answering = Answering.PER_QUERY,
        *,
        attention: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``query_logits``, with each query on its own sequence (support set, then that query) when
        answering per query and the learner would otherwise read the queries together."""
        if answering is Answering.TRANSDUCTIVE or not self.transductive:
            return self.query_logits(x_s, y_s, x_q, attention=attention)
        b, q = x_q.shape[:2]
        alone = x_q.reshape(b * q, 1, *x_q.shape[2:])
        logits, _ = self.query_logits(x_s.repeat_interleave(q, 0), y_s.repeat_interleave(q, 0), alone)
        return logits.reshape(b, q, -1), None

    # -- one batch ------------------------------------------------------------------------------------
    def _episode(self, batch: TaskBatch, generator: torch.Generator | None, shuffle_support: bool):
        x_s, y_s, x_q, y_q = batch.x_support, batch.y_support, batch.x_query, batch.y_query
        b = batch.size
        if shuffle_support:
            order = random_order(b, y_s.shape[1], y_s.device, generator)
        else:
            order = self.reading_order(y_s)
        q_order = random_order(b, y_q.shape[1], y_q.device, generator)
        return (
            gather_items(x_s, order),
            gather_items(y_s, order),
            gather_items(x_q, q_order),
            gather_items(y_q, q_order),
        )

    def _loss_and_accuracy(self, logits: torch.Tensor, y_q: torch.Tensor):
        per_item = F.cross_entropy(logits.flatten(0, 1), y_q.flatten(), reduction="none").view_as(y_q)
        correct = (logits.argmax(-1) == y_q).float()
        return per_item.mean(1), correct.mean(1)  # per task

    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        """Cross-entropy on the query outputs only; the gradient goes into ``module``'s ``.grad``."""
        self.module.train()
        x_s, y_s, x_q, y_q = self._episode(batch, None, self.shuffle_support_in_training)
        logits, _ = self.query_logits(x_s, y_s, x_q)
        losses, accs = self._loss_and_accuracy(logits, y_q)
        loss = losses.mean()
        loss.backward()
        return StepReport(loss.item(), None, None, accs.mean().item())

    def score(
        self, batch: TaskBatch, *, steps: int | None = None, answering: Answering = Answering.PER_QUERY
    ) -> TaskScores:
        """Query loss and accuracy of each task after reading its whole support set."""
        generator = torch.Generator().manual_seed(SCORE_SEED)
        self.module.eval()
        with torch.no_grad():
            x_s, y_s, x_q, y_q = self._episode(batch, generator, False)
            logits, _ = self.answers(x_s, y_s, x_q, answering)
            losses, accs = self._loss_and_accuracy(logits, y_q)
        return TaskScores(losses[:, None], accs[:, None], ("answer",))

    # -- the public API --------------------------------------------------------------------------------
    def adapt(self, x_support: torch.Tensor, y_support: torch.Tensor, *, steps: int | None = None):
        """A black-box learner adapts by reading: keep the support set in its reading order."""
        y = y_support.to(self.device)[None]
        if int(y.max()) + 1 != self.ways or y.min() < 0:
            raise ConfigError(f"this learner reads {self.ways}-way support sets (labels 0..{self.ways - 1})")
        x = x_support.to(self.device)[None]
        order = self.reading_order(y)
        return gather_items(x, order), gather_items(y, order)

    def predict_proba(
        self, adapted, x_query: torch.Tensor, answering: Answering = Answering.PER_QUERY
    ) -> torch.Tensor:
        x_s, y_s = adapted
        self.module.eval()
        with torch.no_grad():
            logits, _ = self.answers(x_s, y_s, x_query.to(self.device)[None], answering)
        return logits[0].softmax(-1).cpu()

    def stage_answers(self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor) -> StageAnswers:
        """The queries' probabilities after reading 0, 1, …, P support items, in the order it reads them
        (its growing prefixes, as ``trace`` does for a sampled task)."""
        self.module.eval()
        order = self.reading_order(y_s[None])
        xs, ys = gather_items(x_s[None], order), gather_items(y_s[None], order)
        rows = []
        with torch.no_grad():
            for p in range(xs.shape[1] + 1):
                logits, _ = self.answers(xs[:, :p], ys[:, :p], x_q[None], Answering.PER_QUERY)
                rows.append(logits[0].softmax(-1).cpu().numpy())
        shots = x_s.shape[0] // self.ways
        read = [
            support_item_name(int(c), int(order[0, i]) % shots, shots) for i, c in enumerate(ys[0].tolist())
        ]
        return StageAnswers(
            ("nothing read",) + tuple(f"read {name}" for name in read), np.stack(rows), by_steps=False
        )

    def before_and_after(self, x_s, y_s, x_q, y_q, grid=None) -> dict:
        """The recipe's step 3: φ = f_θ(support set); the queries answered before reading any support
        item and after reading them all."""
        read = self.adapt(x_s, y_s)
        nothing = tuple(part[:, :0] for part in read)
        return dict(
            before_label="meta-parameters θ, before reading any support item",
            after_label=f"adapted φ: after reading the {y_s.numel()} support items",
            query_probs_before=self.predict_proba(nothing, x_q),
            query_probs_after=self.predict_proba(read, x_q),
        )

    def live_value(self, name: str) -> float:
        raise ConfigError(f"{self.algo} holds no live setting {name}")

    def set_live(self, name: str, value: float, *, restoring: bool = False) -> None:
        raise ConfigError(f"{self.algo} has no live setting {name}")

    # -- the view -------------------------------------------------------------------------------------
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
        generator = torch.Generator().manual_seed(SCORE_SEED)
        x_s, y_s = task.x_support[None].to(self.device), task.y_support[None].to(self.device)
        x_q, y_q = task.x_query[None].to(self.device), task.y_query[None].to(self.device)
        order = self.reading_order(y_s)
        q_order = random_order(1, y_q.shape[1], self.device, generator)
        x_s, y_s = gather_items(x_s, order), gather_items(y_s, order)
        x_q, y_q = gather_items(x_q, q_order), gather_items(y_q, q_order)
        probs, losses, accs, attention = [], [], [], []
        items = x_s.shape[1]
        with torch.no_grad():
            for p in range(items + 1):
                logits, attn = self.answers(x_s[:, :p], y_s[:, :p], x_q, answering, attention=True)
                loss, acc = self._loss_and_accuracy(logits, y_q)
                probs.append(logits[0].softmax(-1).cpu().numpy())
                losses.append(loss.item())
                accs.append(acc.item())
                if (
                    attn is not None
                ):  # [blocks, Q, p+1] -> columns: the P support items, then the query itself
                    weights = np.zeros((attn.shape[0], attn.shape[2], items + 1), dtype=np.float32)
                    weights[:, :, :p] = attn[:, 0, :, :p].cpu().numpy()
                    weights[:, :, items] = attn[:, 0, :, p].cpu().numpy()
                    attention.append(weights)
        count, what = self.carrier(x_s.shape[1])
        s_idx, q_idx = order[0].cpu().numpy(), q_order[0].cpu().numpy()
        return SequenceTrace(
            iteration=iteration,
            algo=self.algo,
            ways=self.ways,
            support_images=x_s[0, :, 0].cpu().numpy(),
            support_labels=y_s[0].cpu().numpy(),
            query_images=x_q[0, :, 0].cpu().numpy(),
            query_labels=y_q[0].cpu().numpy(),
            prefix_probs=np.stack(probs),
            prefix_accuracy=np.asarray(accs),
            prefix_loss=np.asarray(losses),
            carrier_count=count,
            carrier_description=what,
            meta_parameter_count=sum(p.numel() for p in self.module.parameters()),
            attention=np.stack(attention) if attention else None,
            support_captions=tuple(task.support_info[i].caption() for i in s_idx)
            if task.support_info
            else (),
            query_captions=tuple(task.query_info[i].caption() for i in q_idx) if task.query_info else (),
            description=task.description,
        )
