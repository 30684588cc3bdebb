from engine.learners.imaml.spec import SPEC

__all__ = ["SPEC"]
