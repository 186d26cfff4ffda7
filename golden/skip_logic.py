"""Skip logic: drop every input whose index did not change, before any weight fetch."""

import numpy as np

__all__ = ["changed", "change_list"]


def changed(q_new, q_old, first):
    """Boolean mask of inputs that must be processed (all of them on a first execution)."""
    q_new = np.asarray(q_new)
    if first:
        return np.ones(q_new.shape, dtype=bool)
    return q_new != np.asarray(q_old)


def change_list(q_new, q_old, first, deltas):
    """The change list ``(i, d_i)``, in input order, as the scan writes it."""
    idx = np.flatnonzero(changed(q_new, q_old, first))
    return idx, np.asarray(deltas, dtype=np.int64)[idx]
