import numpy as np

from golden.evaluation.detection import blazeface_anchors, decode_boxes, detection_agreement, iou


def test_anchors_cover_the_image():
    a = blazeface_anchors()
    assert a.shape == (896, 2)
    assert np.isclose(a[:512, 0].min(), 0.5 / 16) and np.isclose(a[512:, 0].max(), 7.5 / 8)


def test_decode_and_iou():
    r = np.zeros((896, 16))
    r[0, 2:4] = 32                       # a 32 x 32 px box on the first anchor
    box = decode_boxes(r)[0]
    assert np.allclose(box, [0.5 / 16 - 0.125, 0.5 / 16 - 0.125,
                             0.5 / 16 + 0.125, 0.5 / 16 + 0.125])
    assert iou(box, box) == 1.0
    assert iou([0, 0, 1, 1], [0.5, 0, 1.5, 1]) == 1 / 3


def test_detection_agreement():
    r = np.zeros((3, 896, 16))
    r[:, :, 2:4] = 20
    face = np.full((3, 896, 1), -9.0)
    face[:, 100] = 5.0
    none = np.full((3, 896, 1), -9.0)
    assert detection_agreement({"regressors": r, "classificators": face},
                               {"regressors": r, "classificators": face}) == 1.0
    assert detection_agreement({"regressors": r, "classificators": none},
                               {"regressors": r, "classificators": face}) == 0.0
    moved = face.copy()
    moved[:, 100], moved[:, 700] = -9.0, 5.0     # far away anchor: boxes do not overlap
    assert detection_agreement({"regressors": r, "classificators": moved},
                               {"regressors": r, "classificators": face}) == 0.0
