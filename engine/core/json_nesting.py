"""How deeply a JSON text nests its arrays and objects, found without parsing it.

Python's ``json`` recurses once per level: a file of 100,000 ``[`` raises RecursionError, and a
value a few hundred levels deep can still overflow whatever walks it later (``json.dumps`` in an
error message). A reader of a user's JSON measures the depth first and refuses what no valid file
of its kind needs, with its own one-line error.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

MAX_NESTING = 64  # deeper than any file this program writes or reads needs

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # brackets inside strings are not nesting


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (0 for a bare number or string).

    Linear in the text's length and memory only for its brackets; the text need not be valid JSON.
    """
    bare = _STRING.sub('""', text).encode("utf-8", "surrogatepass")
    codes = np.frombuffer(bare, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    where = np.flatnonzero(opens | closes)
    if where.size == 0:
        return 0
    steps = np.where(opens[where], 1, -1).astype(np.int64)
    return int(np.cumsum(steps).max(initial=0))


def loads_shallow(text: str, limit: int = MAX_NESTING) -> Any:
    """``json.loads``, refusing with a ``ValueError`` (as for any malformed text) a text nested deeper
    than ``limit``."""
    depth = nesting_depth(text)
    if depth > limit:
        raise ValueError(f"nested {depth:,} levels deep (at most {limit})")
    return json.loads(text)
