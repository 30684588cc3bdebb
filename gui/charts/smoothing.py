"""Debiased exponential moving average, the smoothing of every training curve.

s_t = β s_{t-1} + (1-β) x_t with s_0 = 0, shown as s_t / (1 - β^t) so the first points are not
dragged towards zero. Non-finite inputs are skipped (the average carries over them).
"""

from __future__ import annotations

import numpy as np

_BLOCK = 512


def debiased_ema(values: np.ndarray, beta: float) -> np.ndarray:
    """The debiased EMA of ``values`` (1-D), computed in closed form block by block."""
    return ema_extend(values, beta, (0.0, 0.0))[0]


def ema_extend(
    values: np.ndarray, beta: float, state: tuple[float, float]
) -> tuple[np.ndarray, tuple[float, float]]:
    """Continue a debiased EMA over new ``values`` from ``state`` (raw EMA, EMA of ones).

    Returns the smoothed values and the state after them, so a growing curve is smoothed in
    time proportional to what is new, not to its length.
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    if x.size == 0:
        return out, state
    if beta <= 0.0:
        return np.where(np.isfinite(x), x, np.nan), state
    beta = float(min(beta, 0.9999))
    finite = np.isfinite(x)
    xs = np.where(finite, x, 0.0)
    # Over skipped points the average is carried: weight β only where a value arrives.
    decay = np.where(finite, beta, 1.0)
    gain = np.where(finite, 1.0 - beta, 0.0)
    # Within a block, s_i = c_i (s + Σ_{j≤i} g_j v_j / c_j) with c the running product of
    # decays; blocks are short enough that c stays far above the float64 underflow.
    block = int(max(1, min(_BLOCK, 200.0 / -np.log10(beta))))
    s, w = state  # raw EMA and the EMA of ones (the debiasing denominator 1 - β^t)
    for start in range(0, x.size, block):
        d = decay[start : start + block]
        g = gain[start : start + block]
        v = xs[start : start + block]
        cum = np.cumprod(d)
        s_block = cum * (s + np.cumsum(g * v / cum))
        w_block = cum * (w + np.cumsum(g / cum))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + block] = np.where(w_block > 0, s_block / w_block, np.nan)
        s, w = s_block[-1], w_block[-1]
    out[~finite] = np.nan
    return out, (float(s), float(w))


def beta_from_slider(position: int, maximum: int = 100) -> float:
    """Slider 0..max onto β in [0, 0.999], denser near 1 where the visible change is."""
    t = min(max(position, 0), maximum) / maximum
    return float(1.0 - 10.0 ** (-3.0 * t)) if t > 0 else 0.0
