"""The checks every benchmark makes of its counts and durations (a zero repeat count would report
an infinite best time; an infinite duration would never end)."""

from __future__ import annotations

import math

from engine.core.errors import ConfigError


def check_repeats(repeats, flag: str = "--repeats") -> None:
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ConfigError(f"{flag} must be 1 or more, got {repeats!r}")


def check_seconds(seconds, flag: str = "--seconds") -> None:
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"{flag} must be a positive, finite number of seconds, got {seconds!r}")
