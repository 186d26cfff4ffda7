"""Centroid table: the per-layer centroids as the hardware stores them.

C is a run-time value up to ``max_clusters``; unused entries hold 0 and are never selected
(the quantization table never yields an index of C or more).
"""

import numpy as np

__all__ = ["centroid_table", "lookup"]


def centroid_table(centroids, max_clusters):
    """The centroids padded to ``max_clusters`` entries."""
    c = np.zeros(max_clusters, dtype=np.int64)
    c[:len(centroids)] = centroids
    return c


def lookup(table, index):
    """Centroid value of each index (a table read)."""
    return np.asarray(table, dtype=np.int64)[np.asarray(index)]
