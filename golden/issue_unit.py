"""The issue unit's arithmetic: the correct phase adds d_i * W[i, block] of every change-list
entry to the block's start (its previous outputs, or the bias), exactly.

The hardware issues LOAD, one MAC per entry and STORE per block (golden/cycle_model.py counts
them); the golden model computes the same sums at once through float BLAS, chunked so every
partial sum is an exact integer.
"""

import numpy as np

__all__ = ["exact_product", "exact_product_rows", "correct"]


def exact_product(d, w, bound):
    """d @ w for integer arrays, exactly, through float BLAS.

    Every partial sum of a chunk is an integer below 2**24 (float32) in magnitude, so float32
    arithmetic is exact in any summation order; chunks are summed in int64.
    """
    if d.size == 0:
        return np.zeros(w.shape[1], dtype=np.int64)
    chunk = max(1, (1 << 24) // max(1, bound))
    if chunk >= d.size:
        return (d.astype(np.float32) @ w).astype(np.int64)
    total = np.zeros(w.shape[1], dtype=np.int64)
    for s in range(0, d.size, chunk):
        total += (d[s:s + chunk].astype(np.float32) @ w[s:s + chunk]).astype(np.int64)
    return total


def exact_product_rows(d, w, bound):
    """d @ w for an integer (frames x N) matrix, exactly, chunked over N like exact_product."""
    chunk = max(1, (1 << 24) // max(1, bound))
    if chunk >= d.shape[1]:
        return (d.astype(np.float32) @ w).astype(np.int64)
    total = np.zeros((d.shape[0], w.shape[1]), dtype=np.int64)
    for s in range(0, d.shape[1], chunk):
        total += (d[:, s:s + chunk].astype(np.float32) @ w[s:s + chunk]).astype(np.int64)
    return total


def correct(start, deltas, weight_rows, bound):
    """One frame's corrected outputs: ``start + deltas @ weight_rows`` (the change list's
    deltas and the weight rows of its inputs), exactly."""
    return start + exact_product(deltas, weight_rows, bound)
