"""Trained models shipped inside PyPI wheels (downloaded with ``pip download --no-deps``,
never installed: silero-vad would pull in torch, mediapipe a whole framework)."""

from .cache import pypi_member

__all__ = ["silero_vad_onnx", "blazeface_tflite"]

SILERO_VAD = "silero-vad==6.2.3"                # MIT
MEDIAPIPE = "mediapipe==0.10.14"                # Apache-2.0; the last release with a cp311 wheel
# SHA-256 of the files as they are in those wheels (the cache checks them on use)
SILERO_VAD_SHA256 = "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49"
BLAZEFACE_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"


def silero_vad_onnx():
    """Path of Silero VAD v6's 16 kHz ONNX model (opset 15)."""
    return pypi_member(SILERO_VAD, "silero_vad/data/silero_vad_16k_op15.onnx",
                       "models/silero_vad_16k_op15.onnx", SILERO_VAD_SHA256)


def blazeface_tflite():
    """Path of MediaPipe's short-range BlazeFace face detector (128 x 128 input)."""
    return pypi_member(MEDIAPIPE,
                       "mediapipe/modules/face_detection/face_detection_short_range.tflite",
                       "models/face_detection_short_range.tflite", BLAZEFACE_SHA256)
