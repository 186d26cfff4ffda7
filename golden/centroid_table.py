"""Centroid table: the per-layer centroids and thresholds as the hardware stores them.

C is a run-time value up to ``max_clusters``; unused entries hold 0 and are never selected
(the quantizer ignores thresholds at or above C-1, and indices never reach C).
"""

import numpy as np

from .quantizer import thresholds

__all__ = ["centroid_table", "lookup"]


def centroid_table(centroids, max_clusters):
    """``(centroids, thresholds)`` padded to ``max_clusters`` and ``max_clusters - 1`` entries."""
    c = np.zeros(max_clusters, dtype=np.int64)
    t = np.zeros(max_clusters - 1, dtype=np.int64)
    c[:len(centroids)] = centroids
    t[:len(centroids) - 1] = thresholds(centroids)
    return c, t


def lookup(table, index):
    """Centroid value of each index (a table read)."""
    return np.asarray(table, dtype=np.int64)[np.asarray(index)]
