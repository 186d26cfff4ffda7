"""Delta subtractor: d = c[q_new] - c[q_old] (paper Eq. 10).

On a layer's first execution of a sequence there is no previous contribution, so d = c[q_new]
and the outputs start from the bias.
"""

import numpy as np

__all__ = ["delta"]


def delta(q_new, q_old, centroids, first):
    c = np.asarray(centroids, dtype=np.int64)
    new = c[np.asarray(q_new)]
    if first:
        return new
    return new - c[np.asarray(q_old)]
