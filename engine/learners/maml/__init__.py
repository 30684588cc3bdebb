from engine.learners.maml.spec import SPEC

__all__ = ["SPEC"]
