"""Magnitude unit: |re + j im| of pairs of a conv layer's outputs, after its output unit (the
magnitude of an STFT computed as a convolution with cosine and sine filters, as Silero VAD's).

Lanes 2k and 2k + 1 of a block hold the real and imaginary parts of one bin (the host
interleaves the filters); the unit gives floor(sqrt(re^2 + im^2)), requantized (rounding shift
``shift``, saturation to ``act_width``): half as many values as the block has lanes.
"""

import numpy as np

from .output_unit import requantize

__all__ = ["magnitude", "magnitude_unit"]


def magnitude(re, im):
    """floor(sqrt(re^2 + im^2)), exactly (float64 sqrt corrected in integers)."""
    s = np.asarray(re, dtype=np.int64) ** 2 + np.asarray(im, dtype=np.int64) ** 2
    r = np.floor(np.sqrt(s.astype(np.float64))).astype(np.int64)
    r -= (r * r > s)
    r += ((r + 1) * (r + 1) <= s)
    return r


def magnitude_unit(y, shift, act_width):
    """``y[..., 2k], y[..., 2k + 1]`` = (re, im) -> requantized magnitudes ``[..., k]``."""
    y = np.asarray(y, dtype=np.int64)
    return requantize(magnitude(y[..., 0::2], y[..., 1::2]), shift, act_width)
