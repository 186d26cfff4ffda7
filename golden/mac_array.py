"""MAC array: ``lanes`` lanes, one output neuron each: acc[l] += d * w[l]."""

import numpy as np

__all__ = ["mac"]


def mac(acc, d, weight_word):
    """One cycle of the array: one change-list entry times one weight word."""
    return np.asarray(acc, dtype=np.int64) + int(d) * np.asarray(weight_word, dtype=np.int64)
