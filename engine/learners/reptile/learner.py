"""Reptile (Nichol, Achiam & Schulman 2018) behind the learner seam.

Per task, K plain SGD steps from φ_0 = θ (``adapt_on_examples``: one pass over the task's support and
query examples in K minibatches, first order, no graph kept), then θ moves toward the adapted parameters:

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

Meta-training adapts each task on all its examples, support and query together, one pass in K
minibatches (each holding every class): Reptile has no query loss to differentiate, and its
authors meta-train 1-shot Omniglot on 10 examples per class ("train-shots") in minibatches of 10
(Nichol et al. 2018, appendix) while testing on 1. On our 5-way 1-shot tasks with 15 queries that
is 16 per class, 80 examples in 5 steps of 16; adapting on the single support example instead left
θ near chance (53% validation accuracy after 1,000 iterations on ``finn``). The losses reported are the
task's loss on those examples before and after its inner loop. At test time (scoring, traces, the public
``adapt``/``predict_proba``, all MAML's) the inner loop reads the support set only, as for every learner.
"""

from __future__ import annotations

import torch

from engine.core.config import TrainConfig
from engine.core.errors import ConfigError
from engine.core.tasks import Task, TaskBatch, stack_tasks
from engine.learners.common.losses import accuracy, task_loss
from engine.learners.maml.learner import MamlLearner
from engine.learners.seam import StepReport
from engine.runtime.func_transforms import grad, vmap


class ReptileLearner(MamlLearner):
    """θ in ``module`` (a ``Maml``, first order by construction; no learned inner rates)."""

    measures_hessian_split = False

    def __init__(self, config: TrainConfig, device: torch.device | str = "cpu") -> None:
        if config.learn_inner_lr:
            raise ConfigError("Reptile has no gradient for learned inner learning rates; turn Meta-SGD off")
        super().__init__(config, device)

    def step_plan(self, task: Task) -> str:
        batch = stack_tasks([task] * self.config.meta_batch).to(self.device)
        return "tasks batched with vmap" if self.maml.prefers_vectorised(batch) else "one task at a time"

    def meta_step(self, batch: TaskBatch, *, diagnostics: bool = False) -> StepReport:
        """Add ``θ − mean φ_K`` to θ's ``.grad``, each φ_K adapted on the task's support and query
        examples together; report the loss on those examples at θ and at φ_K.

        ``diagnostics`` (MAML's Hessian split) does not apply: there is no Hessian term.
        """
        maml, classify = self.maml, self.kind == "classification"
        theta = {k: v.detach() for k, v in maml.theta().items()}

        def per_task(x_s, y_s, x_q, y_q):
            x, y = self.training_examples(x_s, y_s, x_q, y_q)
            phi = self.adapt_on_examples(theta, x, y)
            out, pre = maml.forward_with(phi, x), maml.forward_with(theta, x)
            losses = torch.stack([task_loss(maml.kind, out, y), task_loss(maml.kind, pre, y)])
            accs = torch.stack([accuracy(out, y), accuracy(pre, y)]) if classify else losses
            return phi, losses, accs

        with torch.no_grad():
            if maml.prefers_vectorised(batch):
                phi, losses, accs = vmap(per_task)(
                    batch.x_support, batch.y_support, batch.x_query, batch.y_query
                )
            else:  # large tasks: one at a time (see Maml.prefers_vectorised)
                rows = [
                    per_task(batch.x_support[b], batch.y_support[b], batch.x_query[b], batch.y_query[b])
                    for b in range(batch.size)
                ]
                phi = {k: torch.stack([r[0][k] for r in rows]) for k in theta}
                losses, accs = torch.stack([r[1] for r in rows]), torch.stack([r[2] for r in rows])
            for name, param in maml.theta().items():
                direction = theta[name] - phi[name].mean(0)
                param.grad = direction if param.grad is None else param.grad + direction
        loss, pre_loss = losses.mean(0).tolist()
        post_acc, pre_acc = accs.mean(0).tolist() if classify else (None, None)
        return StepReport(loss, pre_loss, pre_acc, post_acc, {})

    def training_examples(
        self, x_s: torch.Tensor, y_s: torch.Tensor, x_q: torch.Tensor, y_q: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The task's examples, support and query, ordered round-robin over the classes, so that each
        of the K consecutive minibatches holds every class (the sampler lays both sets out class by
        class). Regression points keep their order."""
        x, y = torch.cat([x_s, x_q]), torch.cat([y_s, y_q])
        if self.kind != "classification":
            return x, y
        ways = self.config.ways
        per_class = lambda t: t.reshape(ways, -1, *t.shape[1:])  # noqa: E731  [N, K or Q, ...]
        xs = torch.cat([per_class(x_s), per_class(x_q)], dim=1).transpose(0, 1)
        ys = torch.cat([per_class(y_s), per_class(y_q)], dim=1).transpose(0, 1)
        return xs.reshape(-1, *x.shape[1:]), ys.reshape(-1)

    def adapt_on_examples(
        self, theta: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Reptile's inner loop: one pass over ``x, y`` in K consecutive minibatches, a plain SGD step
        each."""
        maml, steps = self.maml, self.config.inner_steps
        phi = theta
        for chunk_x, chunk_y in zip(torch.tensor_split(x, steps), torch.tensor_split(y, steps)):
            phi = maml.inner_step(phi, grad(maml.loss_at)(phi, chunk_x, chunk_y))
        return phi

    def recipe_phi(self, x_s, y_s, x_q, y_q) -> tuple[dict[str, torch.Tensor], str]:
        """As Reptile meta-trains: one pass over the support and query examples in K minibatches."""
        theta = {name: p.detach() for name, p in self.maml.theta().items()}
        return (
            self.adapt_on_examples(theta, *self.training_examples(x_s, y_s, x_q, y_q)),
            "minibatches of the support and query examples (as Reptile meta-trains)",
        )
