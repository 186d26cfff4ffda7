"""The issue unit's arithmetic: the correct phase adds d_i * W[i, block] of every change-list
entry to the block's start (its previous outputs, or the bias), exactly.

The hardware issues LOAD, one MAC per entry and STORE per block (golden/cycle_model.py counts
them); the golden model computes the same sums at once through float BLAS, in a float type
where every partial sum is an exact integer (:func:`product_type`).
"""

import numpy as np

__all__ = ["product_type", "exact_product", "exact_product_rows", "correct"]

# Every integer of magnitude up to 2**24 (float32) or 2**53 (float64) is a float of that type.
_FLOAT32_EXACT = 1 << 24
_FLOAT64_EXACT = 1 << 53


def product_type(bound, terms):
    """The type in which a sum of ``terms`` integer products, each at most ``bound`` in
    magnitude, is computed exactly in any summation order: float32 or float64 when every
    partial sum stays below 2**24 or 2**53, else int64 (chunked float64, or integer arithmetic).

    float64 covers every configuration EngineConfig allows: products of at most 2**12 - 1
    (a delta of two 12-bit centroids) by 2**17 (an 18-bit weight), at most 2**16 terms.
    """
    worst = bound * max(1, terms)
    if worst < _FLOAT32_EXACT:
        return np.float32
    if worst < _FLOAT64_EXACT:
        return np.float64
    return np.int64


def exact_product_rows(d, w, bound):
    """d @ w for an integer (frames x N) matrix ``d`` and an (N x M) weight matrix ``w``
    (integers, or already of the :func:`product_type` of ``bound`` and N, which saves a
    conversion per call), every product at most ``bound`` in magnitude: exactly, as int64."""
    dtype = product_type(bound, d.shape[1])
    if dtype is not np.int64:
        return (d.astype(dtype) @ w.astype(dtype, copy=False)).astype(np.int64)
    # beyond 2**53: chunks of N whose partial sums stay below 2**53, added in int64
    chunk = (_FLOAT64_EXACT - 1) // bound
    if chunk < 1:
        # a single product may not be a float64: plain integer arithmetic (no BLAS)
        return d.astype(np.int64) @ w.astype(np.int64, copy=False)
    w = w.astype(np.float64, copy=False)
    total = np.zeros((d.shape[0], w.shape[1]), dtype=np.int64)
    for s in range(0, d.shape[1], chunk):
        total += (d[:, s:s + chunk].astype(np.float64) @ w[s:s + chunk]).astype(np.int64)
    return total


def exact_product(d, w, bound):
    """d @ w for an integer vector ``d``, exactly, like :func:`exact_product_rows`."""
    return exact_product_rows(np.asarray(d)[None], w, bound)[0]


def correct(start, deltas, weight_rows, bound):
    """One frame's corrected outputs: ``start + deltas @ weight_rows`` (the change list's
    deltas and the weight rows of its inputs), exactly."""
    return start + exact_product(deltas, weight_rows, bound)
