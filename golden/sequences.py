"""Synthetic frame sequences with a chosen input similarity (for tests, the demo and benches).

Real workloads (speech, video) come later; these let a test ask for "95 % of inputs keep their
cluster" and get exactly that.
"""

import numpy as np

from .quantizer import quantize

__all__ = ["similar_frames"]


def similar_frames(frames, inputs, similarity, centroids, act_width, seed=0):
    """``frames`` x ``inputs`` activations where, frame to frame, a fraction ``similarity`` of
    the inputs keeps its quantization cluster and every other input moves to another cluster.

    Values are drawn anywhere inside the chosen cluster's quantization interval, so unchanged
    inputs still vary in value (as real inputs do) while their index stays put.
    """
    if not 0.0 <= similarity <= 1.0:
        raise ValueError(f"similarity = {similarity} is out of range: allowed 0..1")
    rng = np.random.default_rng(seed)
    lo, hi = -(1 << (act_width - 1)), (1 << (act_width - 1)) - 1
    values = np.arange(lo, hi + 1)
    cluster_of = quantize(values, centroids)
    clusters = len(centroids)
    # each cluster is a contiguous interval of values (thresholds are increasing)
    first = np.array([values[cluster_of == k].min() for k in range(clusters)])
    last = np.array([values[cluster_of == k].max() for k in range(clusters)])

    index = rng.integers(0, clusters, inputs)
    out = np.empty((frames, inputs), dtype=np.int64)
    for f in range(frames):
        if f > 0:
            moving = rng.random(inputs) >= similarity
            shift = rng.integers(1, clusters, inputs)
            index = np.where(moving, (index + shift) % clusters, index)
        out[f] = rng.integers(first[index], last[index] + 1)
    return out
