"""Files shipped with Inner Loop: small demo checkpoints trained by the project's own trainer.

``checkpoints/omniglot-finn-5w1s-maml.pt``: second-order MAML, Omniglot 5-way 1-shot, ``finn``
protocol, 60 minutes on a 2-core CPU (6539 iterations).
``checkpoints/sinusoid-10shot-maml.pt``: second-order MAML on the sinusoid, 10-shot, 10 minutes;
MSE 0.35 after one step.
``checkpoints/sinusoid-10shot-joint.pt``: the Sinusoid playground's joint-training baseline, the same
MLP trained as one regressor on pooled sinusoid tasks (no inner loop) by
``scripts/train_joint_sine_baseline.py``, with the MAML file's config so it adapts the same way; MSE
3.216 ± 0.245 before and 2.588 ± 0.198 after one step on 600 tasks.
``checkpoints/omniglot-finn-5w1s-finetune.pt``: the fine-tuning baseline (the conv4 network pre-trained
as one classifier over every ``finn`` meta-training class, 6 minutes, 683 iterations; a new head is
fitted per task); 5 MB, most of it the pre-training head.
``checkpoints/omniglot-cs330-3w1s-mann.pt``: the memory-augmented LSTM, CS330 3-way 1-shot.
``checkpoints/omniglot-finn-20w1s-maml.pt``: second-order MAML, Omniglot 20-way 1-shot, ``finn``, 90
minutes on one core (4,731 iterations).
Each file's ``note`` holds the exact command; ``docs/answering.json`` their accuracy on 600 test tasks,
each query answered alone and transductively (``scripts/answering_table.py``).
"""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
CHECKPOINTS = ASSETS / "checkpoints"


def checkpoint_path(name: str) -> Path:
    return CHECKPOINTS / name
