"""Reptile (Nichol, Achiam & Schulman 2018) behind the learner seam.

Per task, K plain SGD steps on the support set from φ_0 = θ (``Maml.trajectory``, first order: no
graph is kept), then θ moves toward the adapted parameters:

    θ ← θ + ε · mean_tasks(φ_K − θ).

``meta_step`` writes the Reptile direction ``θ − mean_tasks φ_K`` into θ's ``.grad`` (it adds, as
every learner does, to what is there). An optimiser stepping against ``.grad`` then moves θ
toward mean φ_K: plain SGD with learning rate ε performs exactly the update above.

The trainer's optimiser is Adam with ``meta_lr``, and Reptile keeps it: this is the variant its
authors offer ("as an alternative to the last step, we can treat Φ − W as a gradient and plug it
into a more sophisticated optimizer like Adam", openai.com/research/reptile, where Φ is the
initialisation θ and W the adapted weights φ_K). We chose it over a separate outer step size ε applied by hand
because it needs no second optimiser path in the trainer, ``meta_lr`` stays live and checkpoints
keep the optimiser state as for every learner. The price: Adam rescales each coordinate, so
``meta_lr`` is a per-coordinate step size, not the paper's ε (annealed 1 → 0 with plain SGD).

The query set is never trained on: the inner loop reads the support set, as it does at test
time, and the query loss after adaptation is measured (it is the curve the views draw). Scoring,
traces and the public ``adapt``/``predict_proba`` are MAML's: both adapt θ by SGD steps.
"""

from __future__ import annotations

import torch
from torch.func import vmap

from engine.algorithms.learner import StepReport
from engine.algorithms.losses import accuracy, task_loss
from engine.algorithms.maml_learner import MamlLearner
from engine.config import TrainConfig
from engine.errors import ConfigError
from engine.tasks import TaskBatch


class ReptileLearner(MamlLearner):
    """θ in ``module`` (a ``Maml``, first order by construction; no learned inner rates)."""

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        if config.learn_inner_lr:
            raise ConfigError("Reptile has no gradient for learned inner learning rates; turn Meta-SGD off")
        super().__init__(config, device)

    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        """Add ``θ − mean φ_K`` to θ's ``.grad``; report the query losses at θ and at φ_K.

        ``diagnostics`` (MAML's Hessian split) does not apply: there is no Hessian term.
        """
        maml, steps, classify = self.maml, self.config.inner_steps, self.kind == "classification"
        theta = {k: v.detach() for k, v in maml.theta().items()}

        def per_task(x_s, y_s, x_q, y_q):
            phi = maml.trajectory(theta, x_s, y_s, steps, first_order=True).adapted
            out_q, pre_q = maml.forward_with(phi, x_q), maml.forward_with(theta, x_q)
            losses = torch.stack([task_loss(maml.kind, out_q, y_q), task_loss(maml.kind, pre_q, y_q)])
            accs = torch.stack([accuracy(out_q, y_q), accuracy(pre_q, y_q)]) if classify else losses
            return phi, losses, accs

        with torch.no_grad():
            if maml.prefers_vectorised(batch):
                phi, losses, accs = vmap(per_task)(batch.x_support, batch.y_support, batch.x_query, batch.y_query)
            else:  # large tasks: one at a time (see Maml.prefers_vectorised)
                rows = [per_task(batch.x_support[b], batch.y_support[b], batch.x_query[b], batch.y_query[b])
                        for b in range(batch.size)]
                phi = {k: torch.stack([r[0][k] for r in rows]) for k in theta}
                losses, accs = torch.stack([r[1] for r in rows]), torch.stack([r[2] for r in rows])
            for name, param in maml.theta().items():
                direction = theta[name] - phi[name].mean(0)
                param.grad = direction if param.grad is None else param.grad + direction
        loss, pre_loss = losses.mean(0).tolist()
        post_acc, pre_acc = accs.mean(0).tolist() if classify else (None, None)
        return StepReport(loss, pre_loss, pre_acc, post_acc, {})
