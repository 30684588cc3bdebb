"""Meta-learning algorithms: MAML (second and first order, Meta-SGD) and its adaptation traces."""
