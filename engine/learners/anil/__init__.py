from engine.learners.anil.spec import SPEC

__all__ = ["SPEC"]
