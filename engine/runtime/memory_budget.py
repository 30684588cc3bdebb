"""Whether one batch of tasks fits in memory, checked with the settings, before anything is allocated.

A typo such as ``--meta-batch 100000000`` would otherwise ask numpy for hundreds of GiB on the first
iteration (after the run folder exists). The estimate is the sampled batch itself: every support and
query image as float32 plus its label, times a margin for the uint8 gather the sampler starts from and
the copy onto the device. Where the free memory cannot be read, nothing is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.core.errors import ConfigError

IMAGE_PIXELS = 28 * 28
LABEL_BYTES = 8  # int64 class labels
MARGIN = 2
_MEMINFO = Path("/proc/meminfo")


def task_batch_bytes(config) -> int:
    """Bytes of one sampled meta-batch of ``config`` (a ``TrainConfig``): inputs and targets."""
    examples = config.ways * (config.shots + config.queries)
    per_example = 4 + 4 if config.kind == "regression" else IMAGE_PIXELS * 4 + LABEL_BYTES
    return config.meta_batch * examples * per_example


def available_bytes() -> int | None:
    """Memory the kernel could give this process now (Linux MemAvailable), or None when unknown."""
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024:
            return f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} PiB"


def check_task_batch_fits(config) -> None:
    """Raise ConfigError when one meta-batch of ``config`` cannot fit in the memory available now."""
    need = MARGIN * task_batch_bytes(config)
    free = available_bytes()
    if free is None or need <= free:
        return
    examples = config.ways * (config.shots + config.queries)
    what = "points" if config.kind == "regression" else "images of 28x28"
    raise ConfigError(
        f"meta-batch {config.meta_batch} would need about {format_bytes(need)} of memory for one "
        f"batch of tasks ({config.meta_batch} tasks x {examples} {what}), but "
        f"{format_bytes(free)} is available; lower meta-batch (or ways, shots, queries)"
    )
