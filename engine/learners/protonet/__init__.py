from engine.learners.protonet.spec import SPEC

__all__ = ["SPEC"]
