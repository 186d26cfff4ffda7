"""Output unit: activation, then requantization to ``act_width`` (rounding shift, saturation)."""

import numpy as np

__all__ = ["activate", "requantize", "output_unit"]


def activate(z, activation):
    z = np.asarray(z, dtype=np.int64)
    if activation == "relu":
        return np.maximum(z, 0)
    return z


def requantize(z, shift, act_width):
    """Round half up (add 2**(shift-1), arithmetic shift), then saturate to act_width bits."""
    z = np.asarray(z, dtype=np.int64)
    if shift > 0:
        z = (z + (1 << (shift - 1))) >> shift
    lo, hi = -(1 << (act_width - 1)), (1 << (act_width - 1)) - 1
    return np.clip(z, lo, hi)


def output_unit(z, activation, shift, act_width):
    return requantize(activate(z, activation), shift, act_width)
