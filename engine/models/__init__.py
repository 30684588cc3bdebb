"""Networks whose parameters can be passed in (``torch.func.functional_call``)."""

from engine.models.factory import MODELS, build_model

__all__ = ["MODELS", "build_model"]
