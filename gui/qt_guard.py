"""Keep PySide6 6.12 from freeing None, True and False on Python 3.10/3.11.

shiboken6 6.12.0 (abi3 wheels) returns None, True and False from Qt calls without taking a
reference, as if they were immortal, which they are only from Python 3.12 on. On 3.11 every
void Qt call (``QPainter.setPen``, ``QWidget.setEnabled``, ...) and every ``Signal.emit`` drops
one reference, and after a few seconds of painting the interpreter aborts with
"Fatal Python error: none_dealloc" (or bool_dealloc). 6.11.3 does not do this.

Importing this module applies the guard; ``guard_singletons()`` gives the three singletons a reference count no run can use up, which
is what Python 3.12 does by design; it does nothing on 3.12+ or when already applied. The real
fix is a PySide6 without the bug (pin ``PySide6-Essentials<6.12`` on Python < 3.12).
"""

from __future__ import annotations

import sys

_MARGIN = 1 << 48


def guard_singletons() -> bool:
    """Returns True when the counts were raised (Python < 3.12, first call)."""
    if sys.version_info >= (3, 12):
        return False
    import ctypes

    raised = False
    for obj in (None, True, False):
        if sys.getrefcount(obj) < _MARGIN // 2:
            ctypes.c_ssize_t.from_address(id(obj)).value += _MARGIN  # ob_refcnt is the first field
            raised = True
    return raised


guard_singletons()  # on import: every module that touches Qt imports this one first
