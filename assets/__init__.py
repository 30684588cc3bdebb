"""Files shipped with Inner Loop: small demo checkpoints trained by the project's own trainer.

``checkpoints/omniglot-finn-5w1s-maml.pt``: second-order MAML, Omniglot 5-way 1-shot, ``finn``
protocol, 60 minutes on a 2-core CPU (6539 iterations); 97.5 ± 0.6% on 600 test tasks.
``checkpoints/sinusoid-10shot-maml.pt``: second-order MAML on the sinusoid, 10-shot, 10 minutes;
MSE 0.393 ± 0.038 after one step on 600 tasks.
``checkpoints/sinusoid-10shot-joint.pt``: the Sinusoid playground's joint-training baseline, the same
MLP trained as one regressor on pooled sinusoid tasks (no inner loop) by
``scripts/train_joint_sine_baseline.py``, with the MAML file's config so it adapts the same way; MSE
3.216 ± 0.245 before and 2.588 ± 0.198 after one step on 600 tasks. Each file's ``note`` holds the
exact command.
"""

from pathlib import Path

ASSETS = Path(__file__).resolve().parent
CHECKPOINTS = ASSETS / "checkpoints"


def checkpoint_path(name: str) -> Path:
    return CHECKPOINTS / name
