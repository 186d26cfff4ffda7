"""Trained models shipped inside PyPI wheels (downloaded with ``pip download --no-deps``,
never installed: silero-vad would pull in torch, mediapipe a whole framework)."""

from .cache import pypi_member

__all__ = ["silero_vad_onnx", "blazeface_tflite"]

SILERO_VAD = "silero-vad==6.2.3"                # MIT
MEDIAPIPE = "mediapipe==0.10.14"                # Apache-2.0; the last release with a cp311 wheel


def silero_vad_onnx():
    """Path of Silero VAD v6's 16 kHz ONNX model (opset 15)."""
    return pypi_member(SILERO_VAD, "silero_vad/data/silero_vad_16k_op15.onnx",
                       "models/silero_vad_16k_op15.onnx")


def blazeface_tflite():
    """Path of MediaPipe's short-range BlazeFace face detector (128 x 128 input)."""
    return pypi_member(MEDIAPIPE,
                       "mediapipe/modules/face_detection/face_detection_short_range.tflite",
                       "models/face_detection_short_range.tflite")
