"""BlazeFace (MediaPipe face detection, short range) anchors, box decoding and the accuracy
metric of the blazeface workload: do the integer and float models find the same face?

Anchors follow MediaPipe's SSD anchor calculator for this model: 128 x 128 input, strides
8, 16, 16, 16 (layers of equal stride merged: 2 anchors per cell on the 16 x 16 grid, 6 on the
8 x 8 grid), anchor offset 0.5, fixed anchor size; boxes are (x, y, w, h) offsets in pixels of
the 128 x 128 input.
"""

import numpy as np

__all__ = ["blazeface_anchors", "decode_boxes", "best_detection", "iou", "detection_agreement"]


def blazeface_anchors():
    anchors = []
    for grid, per_cell in ((16, 2), (8, 6)):
        for y in range(grid):
            for x in range(grid):
                anchors += [((x + 0.5) / grid, (y + 0.5) / grid)] * per_cell
    return np.array(anchors)              # (896, 2): centre x, y in [0, 1]


def decode_boxes(regressors, anchors=None, size=128.0):
    """(896, 16) raw regressors -> (896, 4) boxes (x_min, y_min, x_max, y_max) in [0, 1]."""
    anchors = blazeface_anchors() if anchors is None else anchors
    r = np.asarray(regressors, dtype=np.float64).reshape(-1, 16)
    cx = r[:, 0] / size + anchors[:, 0]
    cy = r[:, 1] / size + anchors[:, 1]
    w, h = r[:, 2] / size, r[:, 3] / size
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def best_detection(regressors, logits, threshold=0.5):
    """The highest-scoring box if its score passes ``threshold``, else None."""
    scores = 1 / (1 + np.exp(-np.clip(np.asarray(logits, dtype=np.float64).reshape(-1), -80, 80)))
    k = int(scores.argmax())
    if scores[k] < threshold:
        return None
    return decode_boxes(regressors)[k]


def detection_agreement(got, ref, min_iou=0.5):
    """Fraction of frames where both models find no face, or both find one and the boxes
    overlap by at least ``min_iou``."""
    frames = len(ref["classificators"])
    agree = 0
    for f in range(frames):
        a = best_detection(got["regressors"][f], got["classificators"][f])
        b = best_detection(ref["regressors"][f], ref["classificators"][f])
        if a is None and b is None:
            agree += 1
        elif a is not None and b is not None and iou(a, b) >= min_iou:
            agree += 1
    return agree / frames if frames else 1.0
