from engine.learners.finetune.spec import SPEC

__all__ = ["SPEC"]
