"""Quantizer: activation -> index of the nearest centroid (paper Eq. 9), in integers.

For strictly increasing centroids c[0..C-1] the thresholds are t[k] = (c[k] + c[k+1] + 1) >> 1
and q(x) = #{k : x >= t[k]}. Inputs below the first or above the last threshold saturate to
index 0 or C-1. A tie (x exactly half-way) goes to the upper centroid.
"""

import math

import numpy as np

from .config import ConfigError

__all__ = ["thresholds", "quantize", "quantization_table", "linear_centroids"]


def thresholds(centroids):
    c = np.asarray(centroids, dtype=np.int64)
    return (c[:-1] + c[1:] + 1) >> 1


def quantize(x, centroids):
    """Index of the nearest centroid of every element of ``x`` (any shape)."""
    # thresholds are non-decreasing, so "number of t <= x" is a right-sided search.
    return np.searchsorted(thresholds(centroids), np.asarray(x, dtype=np.int64), side="right")


def quantization_table(centroids, act_width):
    """q(x) for every ``act_width``-bit activation, in the order the hardware addresses its
    table: entry ``x mod 2**act_width`` (two's complement bits of x) holds q(x)."""
    addresses = np.arange(1 << act_width)
    x = np.where(addresses >= 1 << (act_width - 1), addresses - (1 << act_width), addresses)
    return quantize(x, centroids)


def linear_centroids(lo, hi, clusters, act_width):
    """Linear centroids covering the profiled range [lo, hi], with 0 always a centroid.

    The centroids are k0*step + k*step for k = 0..C-1 (the paper's linear quantization), with
    an integer step chosen so that C-1 steps span the range, and k0 <= 0 <= k0 + C - 1 so that
    an input of 0 (ReLU outputs, padding) is represented exactly.
    """
    if clusters < 2:
        raise ConfigError(f"clusters = {clusters} is out of range: allowed 2..{2 ** act_width}")
    if clusters > 2 ** act_width:
        raise ConfigError(f"clusters = {clusters} is out of range: allowed 2..{2 ** act_width}")
    if lo > hi:
        raise ConfigError(f"profiled range is empty: lo = {lo} > hi = {hi}")
    amin, amax = -(1 << (act_width - 1)), (1 << (act_width - 1)) - 1
    lo, hi = max(min(int(lo), 0), amin), min(max(int(hi), 0), amax)
    step = max(1, math.ceil((hi - lo) / (clusters - 1)))
    while True:
        # k0 must keep 0 a centroid and every centroid inside the activation range
        k0_min = max(-(clusters - 1), -((-amin) // step))
        k0_max = min(0, amax // step - (clusters - 1))
        if k0_min <= k0_max or step == 1:
            break
        step -= 1
    ideal = -((-lo) // step)                      # ceil(lo / step): bottom centroid >= lo
    k0 = min(max(ideal, k0_min), k0_max)
    return tuple(int((k0 + k) * step) for k in range(clusters))
