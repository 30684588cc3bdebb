"""Keep memory the process freed for its next allocation, instead of handing it back to the kernel.

A meta-iteration allocates and frees the same few megabytes of feature maps every time. By
default glibc's malloc gives freed memory at the top of its heaps back to the kernel and serves
large blocks with fresh ``mmap`` calls, so the next iteration touches new pages, each a page fault
the kernel zero-fills: about 100,000 faults per 15-query MAML meta-iteration, 11% of its time on a
2-core CPU (``innerloop-cli bench maml``; the reference loop gains too). With the thresholds fixed
high, the heaps keep what they had and an iteration after the first faults on almost nothing; the
cost is that the process keeps up to its peak use.

Called by the command line and the app at start-up, never on import: a library should not change
a process's allocator behind its back. Settings a user made (``MALLOC_*`` variables,
``GLIBC_TUNABLES``, another allocator preloaded) are left alone; other C libraries are not touched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit systems
TRIM_THRESHOLD = 512 * 1024 * 1024

_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")
_kept: str | None = None


def keep_freed_memory() -> str:
    """Ask glibc to keep freed memory; returns what was done, in words (benches record it)."""
    global _kept
    if _kept is None:
        _kept = _apply()
    return _kept


def _apply() -> str:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "system allocator (not glibc)"
    if any(name in os.environ for name in _USER_SETTINGS):
        return "glibc malloc, as set in the environment"
    if "malloc" in os.environ.get("LD_PRELOAD", ""):
        return f"preloaded allocator ({os.environ['LD_PRELOAD']})"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        done = (
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        )
    except (OSError, AttributeError):
        done = False
    if not done:
        return "glibc malloc, defaults (mallopt refused)"
    return (
        f"glibc malloc keeps freed memory (mmap threshold {MMAP_THRESHOLD >> 20} MiB, "
        f"trim threshold {TRIM_THRESHOLD >> 20} MiB)"
    )
