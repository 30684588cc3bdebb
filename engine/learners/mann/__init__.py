from engine.learners.mann.spec import SPEC

__all__ = ["SPEC"]
