"""The fine-tuning baseline ("fine-tune your parameters on the test set", the lecture's recap).

Meta-training is ordinary supervised pre-training: the Omniglot CNN classifies every image of
the sampled tasks among *all* the split's labels (``TaskBatch.class_ids``: a character as turned,
so 4,400 labels under the ``finn`` protocol), with cross-entropy and the trainer's Adam. Nothing in
it knows about N-way tasks.

To adapt to a task, the pre-trained features are kept and a new N-way head is fitted on the
support set: it starts as the class prototypes (the mean normalised feature of each class, a
cosine classifier with scale ``SCALE``), then takes ``test_inner_steps`` gradient steps of size
``inner_lr`` on the support cross-entropy. Stage 0 is the prototype head. Batch norm normalises the
support set with its own statistics; a query per query with the support set's, or transductively
with the query set's (``engine.core.answering``), as MAML's does.
All layers could be fine-tuned too; this baseline fits the head only.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.core.answering import Answering
from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.snapshots import AdaptationTrace
from engine.core.tasks import Task, TaskBatch
from engine.data.sources import train_label_count
from engine.learners.seam import StepReport, TaskScores
from engine.models import build_model
from engine.models.batch_stat_norm import statistics_from_first

SCALE = 10.0  # logits = SCALE · cos(feature, class weight) for the prototype head


class FineTuneLearner:
    measures_hessian_split = False

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        self.config, self.kind, self.device = config, config.kind, torch.device(device)
        self.labels = train_label_count(config.dataset, config.protocol, config.train_classes)
        self.net = build_model(config.model, self.labels).to(self.device)
        self.module = self.net
        self.head_lr = config.inner_lr

    # -- pre-training --------------------------------------------------------------------------
    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        if batch.class_ids is None:
            raise ConfigError("pre-training needs split-wide class labels; this sampler gives none")
        x = torch.cat([batch.x_support, batch.x_query], dim=1).flatten(0, 1)
        local = torch.cat([batch.y_support, batch.y_query], dim=1)
        labels = torch.gather(batch.class_ids, 1, local).flatten()
        logits = self.net(x)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        accuracy = (logits.argmax(-1) == labels).float().mean().item()
        return StepReport(loss.item(), None, None, accuracy)

    # -- adaptation: a new head on the support set ----------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``[n, 1, 28, 28]`` -> L2-normalised features ``[n, D]`` (batch norm over these n images)."""
        return F.normalize(self.net.features(x).flatten(1), dim=-1)

    def _fit_heads(
        self, f_s: torch.Tensor, y_s: torch.Tensor, steps: int
    ) -> tuple[list[torch.Tensor], list[float]]:
        """For tasks ``f_s [B, n, D]``, ``y_s [B, n]``: the head ``[B, N, D]`` after each step 0..steps,
        and the norm of the support-loss gradient at each of those heads."""
        ways = self.config.ways
        onehot = F.one_hot(y_s, ways).to(f_s.dtype)  # [B, n, N]
        protos = onehot.transpose(1, 2) @ f_s / onehot.sum(1).unsqueeze(-1).clamp_min(1)
        head = F.normalize(protos, dim=-1) * SCALE
        heads, norms = [head], []
        lr = self.head_lr
        with torch.enable_grad():
            for k in range(steps + 1):
                w = heads[-1].detach().requires_grad_(True)
                logits = f_s @ w.transpose(1, 2)
                loss = F.cross_entropy(logits.flatten(0, 1), y_s.flatten(), reduction="sum") / y_s.shape[1]
                (g,) = torch.autograd.grad(loss, w)
                norms.append(float(g.norm()))
                if k < steps:
                    heads.append((w - lr * g).detach())
        return heads, norms

    def query_features(
        self, x_s: torch.Tensor, x_q: torch.Tensor, answering: Answering = Answering.PER_QUERY
    ) -> torch.Tensor:
        """Features of one task's queries: per query with the support set's batch statistics, or
        transductively with the query set's."""
        if answering is Answering.TRANSDUCTIVE:
            return self.features(x_q)
        rows = x_s.shape[0]
        with statistics_from_first(rows):
            return self.features(torch.cat([x_s, x_q]))[rows:]

    def score(
        self, batch: TaskBatch, *, steps: int | None = None, answering: Answering = Answering.PER_QUERY
    ) -> TaskScores:
        steps = self.config.test_inner_steps if steps is None else steps
        with torch.no_grad():
            f_s = torch.stack([self.features(x) for x in batch.x_support])  # batch norm per task
            f_q = torch.stack(
                [self.query_features(x_s, x_q, answering) for x_s, x_q in zip(batch.x_support, batch.x_query)]
            )
            heads, _ = self._fit_heads(f_s, batch.y_support, steps)
            losses, accs = [], []
            for head in heads:
                logits = f_q @ head.transpose(1, 2)  # [B, Q, N]
                losses.append(
                    F.cross_entropy(logits.transpose(1, 2), batch.y_query, reduction="none").mean(1)
                )
                accs.append((logits.argmax(-1) == batch.y_query).float().mean(1))
        stages = ("prototype head",) + tuple(f"head step {k}" for k in range(1, steps + 1))
        return TaskScores(torch.stack(losses, 1), torch.stack(accs, 1), stages)

    def adapt(
        self, x_support: torch.Tensor, y_support: torch.Tensor, *, steps: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The fitted head ``[N, D]`` and the support images (whose statistics normalise a query)."""
        steps = self.config.test_inner_steps if steps is None else steps
        x_support = x_support.to(self.device)
        with torch.no_grad():
            f_s = self.features(x_support)[None]
            return self._fit_heads(f_s, y_support.to(self.device)[None], steps)[0][-1][0], x_support

    def predict_proba(
        self,
        adapted: tuple[torch.Tensor, torch.Tensor],
        x_query: torch.Tensor,
        answering: Answering = Answering.PER_QUERY,
    ) -> torch.Tensor:
        head, x_support = adapted
        with torch.no_grad():
            return (
                (self.query_features(x_support, x_query.to(self.device), answering) @ head.T)
                .softmax(-1)
                .cpu()
            )

    def before_and_after(self, x_s, y_s, x_q, y_q, grid=None) -> dict:
        """The recipe's step 3: the queries answered by the prototype head and by the fitted head."""
        k = self.config.test_inner_steps
        return dict(
            before_label="prototype head on the pre-trained features θ",
            after_label=f"adapted parameters φ: the new head after {k} step{'s' * (k != 1)} "
            "on the support set (at test time only)",
            query_probs_before=self.predict_proba(self.adapt(x_s, y_s, steps=0), x_q),
            query_probs_after=self.predict_proba(self.adapt(x_s, y_s), x_q),
        )

    def live_value(self, name: str) -> float:
        if name != "inner_lr":
            raise ConfigError(f"the fine-tuning baseline holds no live setting {name}")
        return float(self.head_lr)

    def set_live(self, name: str, value: float, *, restoring: bool = False) -> None:
        if name != "inner_lr":
            raise ConfigError(f"the fine-tuning baseline cannot change {name} while it runs")
        self.head_lr = float(value)

    # -- the view: the head being fitted, step by step ------------------------------------------------
    def trace(
        self,
        task: Task,
        *,
        iteration: int = 0,
        steps: int | None = None,
        answering: Answering = Answering.PER_QUERY,
    ) -> AdaptationTrace:
        steps = self.config.test_inner_steps if steps is None else steps
        x_s, y_s = task.x_support.to(self.device), task.y_support.to(self.device)
        x_q, y_q = task.x_query.to(self.device), task.y_query.to(self.device)
        with torch.no_grad():
            f_s, f_q = self.features(x_s)[None], self.query_features(x_s, x_q, answering)[None]
            heads, grad_norms = self._fit_heads(f_s, y_s[None], steps)
            rows = {k: [] for k in ("s_loss", "q_loss", "s_acc", "q_acc", "probs", "change")}
            for head in heads:
                out_s, out_q = (f_s @ head.transpose(1, 2))[0], (f_q @ head.transpose(1, 2))[0]
                rows["s_loss"].append(F.cross_entropy(out_s, y_s).item())
                rows["q_loss"].append(F.cross_entropy(out_q, y_q).item())
                rows["s_acc"].append((out_s.argmax(-1) == y_s).float().mean().item())
                rows["q_acc"].append((out_q.argmax(-1) == y_q).float().mean().item())
                rows["probs"].append(out_q.softmax(-1).cpu().numpy())
                rows["change"].append(float((head - heads[0]).norm()))
        arr = lambda key: np.asarray(rows[key], dtype=np.float64)  # noqa: E731
        return AdaptationTrace(
            iteration=iteration,
            kind="classification",
            steps=steps,
            support_loss=arr("s_loss"),
            query_loss=arr("q_loss"),
            support_accuracy=arr("s_acc"),
            query_accuracy=arr("q_acc"),
            query_probs=np.stack(rows["probs"]),
            support_labels=task.y_support.cpu().numpy(),
            query_labels=task.y_query.cpu().numpy(),
            param_change={"new head": arr("change")},
            grad_norm={"new head": np.asarray(grad_norms)},
            support_images=task.x_support[:, 0].cpu().numpy(),
            query_images=task.x_query[:, 0].cpu().numpy(),
            support_captions=tuple(i.caption() for i in task.support_info),
            query_captions=tuple(i.caption() for i in task.query_info),
            adapted_count=int(heads[0][0].numel()),
            description=task.description,
        )
