"""The scan unit: quantize a frame's inputs, compare them with the index area, and build the
change list (i, d_i) of the inputs whose index changed, updating the index area.

On a layer's first execution of a sequence every input is in the list with d_i = c[q_i]; with
reuse off (the baseline accelerator) every input is in it with d_i = x_i.
"""

import numpy as np

from .delta_subtractor import delta
from .quantizer import quantize
from .skip_logic import change_list

__all__ = ["scan", "scan_sequence"]


def scan(x, centroids, index_area, first, reuse=True):
    """One frame: the change list ``(indices, deltas)``; ``index_area`` is updated in place."""
    if not reuse:
        return np.arange(x.size), x
    q_new = quantize(x, centroids)
    d = delta(q_new, index_area, centroids, first)
    idx, dl = change_list(q_new, index_area, first, d)
    index_area[idx] = q_new[idx]
    return idx, dl


def scan_sequence(q, index_area, centroids, first):
    """A frame sequence at once, from its quantized inputs ``q`` (frames x N): the change mask
    and the deltas (frames x N; 0 where unchanged), the previous frame's indices standing in
    for the index area. Returns ``(changed, deltas, firsts)``; the caller keeps ``q[-1]`` as
    the index area."""
    c = np.asarray(centroids, dtype=np.int64)
    frames = len(q)
    firsts = np.zeros(frames, dtype=bool)
    prev = np.vstack([index_area[None, :], q[:-1]])
    changed = q != prev
    d = c[q] - c[prev]
    if first and frames:
        changed[0] = True
        d[0] = c[q[0]]
        firsts[0] = True
    return changed, d, firsts
