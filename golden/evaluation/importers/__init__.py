"""Importers: float models (ONNX, TFLite) into golden.network.graph.Graph."""

from .onnx_model import import_onnx
from .silero import import_silero
from .tflite_model import import_tflite

__all__ = ["import_onnx", "import_silero", "import_tflite"]
