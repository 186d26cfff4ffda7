"""Weight buffer layout: the ``lanes`` weights of one input for one output block are one word.

Word address of (block b, input i) is ``b * N + i``; the last block is padded with zero weights.
"""

import numpy as np

__all__ = ["weight_words", "weight_address"]


def weight_address(block, index, inputs):
    return block * inputs + index


def weight_words(weights, lanes):
    """Array of shape (B * N, lanes): row ``b * N + i`` holds W[i, b*lanes : (b+1)*lanes]."""
    w = np.asarray(weights, dtype=np.int64)
    n, m = w.shape
    blocks = -(-m // lanes)
    padded = np.zeros((n, blocks * lanes), dtype=np.int64)
    padded[:, :m] = w
    return padded.reshape(n, blocks, lanes).transpose(1, 0, 2).reshape(blocks * n, lanes)
