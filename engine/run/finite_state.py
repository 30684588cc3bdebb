"""The last finite state of a run: θ, the module's buffers and the optimiser's moments, as they were
before the meta-iteration in progress.

A meta-step can leave something non-finite even when nothing stops it: batch norm's running
statistics take the NaNs of a forward pass that diverges, and an update with a finite gradient can
overflow θ (a meta learning rate of 1e30). ``LastFiniteState.keep()`` copies everything into
buffers allocated once; ``restore()`` puts it back, so the state a diverged run saves as its last
good one is the one before the step that broke it.
"""

from __future__ import annotations

import torch


def non_finite_entries(module: torch.nn.Module) -> list[str]:
    """Names of the module's floating-point parameters and buffers that hold a NaN or an infinity."""
    entries = [(name, value) for name, value in module.state_dict().items() if value.is_floating_point()]
    if not entries:
        return []
    finite = torch.stack([torch.isfinite(value).all() for _, value in entries]).cpu()  # one sync
    return [name for (name, _), ok in zip(entries, finite.tolist()) if not ok]


class LastFiniteState:
    def __init__(self, module: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.module, self.optimizer = module, optimizer
        self._pairs: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._with_state: set[int] = set()  # ids of the parameters the optimiser had a state for

    def _live(self) -> list[torch.Tensor]:
        tensors = list(self.module.state_dict().values())  # these share storage with the module's own
        for state in self.optimizer.state.values():
            tensors += [value for value in state.values() if isinstance(value, torch.Tensor)]
        return tensors

    def keep(self) -> None:
        """Copy the current state (before a meta-iteration)."""
        live = self._live()
        with torch.no_grad():
            if len(live) == len(self._pairs) and all(
                a.data_ptr() == p.data_ptr() and a.shape == p.shape for a, (p, _) in zip(live, self._pairs)
            ):
                for source, copy in self._pairs:
                    copy.copy_(source)
            else:  # the first time, or after the optimiser made or replaced its state
                self._pairs = [(t, t.detach().clone()) for t in live]
        self._with_state = {id(p) for p in self.optimizer.state}

    def restore(self) -> None:
        """Put back what ``keep()`` copied; an optimiser state made since (the first step's) is dropped."""
        with torch.no_grad():
            for source, copy in self._pairs:
                source.copy_(copy)
        for param in [p for p in self.optimizer.state if id(p) not in self._with_state]:
            del self.optimizer.state[param]
