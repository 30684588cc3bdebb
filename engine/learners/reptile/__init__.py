from engine.learners.reptile.spec import SPEC

__all__ = ["SPEC"]
