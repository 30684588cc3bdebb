"""Several processes training one run, as ``torchrun`` starts them: who we are, and the collectives.

torchrun tells each process its place through the environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, plus ``MASTER_ADDR``/``MASTER_PORT`` for the rendezvous);
without them, or with a world of one, ``torchrun_world()`` is None and nothing here is used.
The process group uses gloo on CPU and NCCL on CUDA devices, ``LOCAL_RANK`` choosing the GPU.

DistributedDataParallel cannot serve MAML (its reducer hooks do not survive the double
backward through the inner loop), so the ranks average θ's ``.grad`` themselves after the
meta-step, as learn2learn's distributed examples do: one flat buffer, one all-reduce.

A collective that fails because another rank is gone (gloo's "Connection reset by peer") raises one
line's worth instead (``engine.run.rank_watch``), and each rank stops when its torchrun agent dies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from engine.core.errors import ConfigError
from engine.run import rank_watch


@dataclass(frozen=True)
class World:
    """This process's place among the ranks of one run."""

    rank: int
    size: int
    local_rank: int  # among the ranks on this machine: the GPU it takes
    local_size: int  # ranks on this machine: they share its cores

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes the run folder, prints, and validates."""
        return self.rank == 0


def torchrun_world(environ: Mapping[str, str] | None = None) -> World | None:
    """The world torchrun describes in the environment; None without torchrun or for one process."""
    env = os.environ if environ is None else environ
    if not all(name in env for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK")):
        return None
    try:
        size, rank, local_rank = int(env["WORLD_SIZE"]), int(env["RANK"]), int(env["LOCAL_RANK"])
        local_size = int(env.get("LOCAL_WORLD_SIZE", size))
    except ValueError:
        raise ConfigError(
            "RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE must be whole numbers; "
            "start the processes with torchrun"
        ) from None
    if size <= 1:
        return None
    return World(rank, size, local_rank, local_size)


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def pick_local_device(world: World, device_name: str) -> None:
    """With CUDA, make ``LOCAL_RANK``'s GPU the current one, so that "cuda" means it."""
    if device_name == "cpu" or not torch.cuda.is_available():
        return
    if world.local_rank >= torch.cuda.device_count():
        raise ConfigError(
            f"LOCAL_RANK {world.local_rank} has no GPU: this machine has {torch.cuda.device_count()}; "
            "start at most that many processes per node, or give --device cpu"
        )
    torch.cuda.set_device(world.local_rank)


def join(device: torch.device) -> None:
    """Join the process group torchrun set up (once per process), with the backend ``device`` needs."""
    if not dist.is_initialized():
        dist.init_process_group(backend_for(device))


def leave() -> None:
    if dist.is_initialized():
        try:
            dist.destroy_process_group()
        except RuntimeError:  # the other ranks are gone already: nothing is left to leave
            pass


def _collective(op, *args, **kwargs):
    """``op`` (a ``dist`` collective); its failure, a rank gone, becomes one line
    (``rank_watch.peer_lost``)."""
    try:
        return op(*args, **kwargs)
    except RuntimeError as exc:  # gloo's and NCCL's errors (DistBackendError is one)
        raise rank_watch.peer_lost(exc) from None


def _comm_device() -> torch.device:
    """Where collective buffers live: the current GPU for NCCL, else the CPU."""
    return (
        torch.device("cuda", torch.cuda.current_device())
        if dist.get_backend() == "nccl"
        else torch.device("cpu")
    )


def broadcast_module(module: nn.Module) -> None:
    """Overwrite every rank's parameters and buffers with rank 0's."""
    for tensor in (*module.parameters(), *module.buffers()):
        _collective(dist.broadcast, tensor.data, src=0)  # once per run: one call per tensor keeps each dtype


def average_gradients(parameters: Iterable[nn.Parameter]) -> None:
    """Replace each ``.grad`` by its mean over the ranks (a parameter without one on every rank is
    skipped)."""
    average_tensors([p.grad for p in parameters if p.grad is not None])


def average_tensors(tensors: list[torch.Tensor]) -> None:
    """Replace each tensor (in place) by its mean over the ranks: one flat buffer, one all-reduce."""
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    _collective(dist.all_reduce, flat)
    flat /= dist.get_world_size()
    _unflatten_into(flat, tensors)


def average_floats(values: list[float | None]) -> list[float | None]:
    """The ranks' mean of each number; None stays None (it is None on every rank alike)."""
    present = [i for i, v in enumerate(values) if v is not None]
    if not present:
        return list(values)
    flat = torch.tensor([values[i] for i in present], dtype=torch.float64, device=_comm_device())
    _collective(dist.all_reduce, flat)
    means = (flat / dist.get_world_size()).tolist()
    out = list(values)
    for i, mean in zip(present, means):
        out[i] = mean
    return out


def any_rank(flag: bool) -> bool:
    """True on every rank when it is true on any: a decision all ranks must take together."""
    value = torch.tensor([int(flag)], device=_comm_device())
    _collective(dist.all_reduce, value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _unflatten_into(flat: torch.Tensor, tensors: list[torch.Tensor]) -> None:
    offset = 0
    with torch.no_grad():
        for t in tensors:
            n = t.numel()
            t.copy_(flat[offset : offset + n].view_as(t))
            offset += n
