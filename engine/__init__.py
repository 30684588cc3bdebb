"""Inner Loop's engine: data, tasks, models, meta-learning algorithms and training, with no Qt."""

__version__ = "0.1.0"
