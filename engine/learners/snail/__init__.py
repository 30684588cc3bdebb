from engine.learners.snail.spec import SPEC

__all__ = ["SPEC"]
