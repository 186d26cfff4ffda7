"""A user's own workload: a model file (.onnx, .tflite) and a sequence file, split into a
calibration part and an evaluation part as the built-in workloads are.

A bad file raises :class:`UserInputError`, whose ``argument`` says which of the two it is
(``"model"`` or ``"input"``) and whose message starts with the file's name.
"""

import pathlib
import wave

import numpy as np

from ..network.graph import UnsupportedOperator
from .evaluate import Workload, argmax_agreement, decision_agreement

__all__ = ["UserInputError", "VIDEO_SUFFIXES", "load_model", "sequence_frames",
           "user_workload"]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
WAV_RATE = 16000        # a WAV sequence is cut into windows as recorded: no resampling


class UserInputError(ValueError):
    """A model or sequence file deja cannot use; ``argument``: ``"model"``, ``"input"`` or
    None (the message says it all)."""

    def __init__(self, message, argument=None):
        super().__init__(message)
        self.argument = argument


def load_model(model):
    """The float graph of a .onnx or .tflite file."""
    from .importers import import_onnx, import_tflite
    path = pathlib.Path(model)
    if not path.is_file():
        raise UserInputError(f"{model}: no such file", "model")
    importers = {".onnx": import_onnx, ".tflite": import_tflite}
    if path.suffix.lower() not in importers:
        raise UserInputError(f"{model}: unknown model format {path.suffix!r}: allowed .onnx, "
                             f".tflite", "model")
    try:
        graph = importers[path.suffix.lower()](path)
    except UnsupportedOperator as e:
        raise UserInputError(str(e)) from None
    for node in graph.nodes:
        for key, value in node.params.items():
            if isinstance(value, np.ndarray) and not np.isfinite(value).all():
                raise UserInputError(f"{model}: node {node.name!r} has a {key} that is not "
                                     f"finite (NaN or infinity)", "model")
    try:
        # a graph whose shapes do not chain fails here, not in the middle of an evaluation
        graph.run_float(np.zeros((1, *graph.input_shape)))
    except (ValueError, IndexError, KeyError) as e:
        raise UserInputError(f"{model}: the model does not run on its input shape "
                             f"{tuple(graph.input_shape)} ({e})", "model") from None
    return graph


def sequence_frames(frames_file, shape):
    """A sequence as float frames of the model's input ``shape``: a .npy array of frames, a
    WAV file cut into consecutive windows of the input size, or a video scaled to a square RGB
    input."""
    from .workloads import decode_video
    from .workloads.video import square_resize
    ipath = pathlib.Path(frames_file)
    if not ipath.is_file():
        raise UserInputError(f"{frames_file}: no such file", "input")
    suffix = ipath.suffix.lower()
    size = int(np.prod(shape))
    if suffix == ".npy":
        try:
            x = np.load(ipath, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise UserInputError(f"{frames_file}: not a NumPy array file ({e})", "input") from None
        if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
            raise UserInputError(f"{frames_file}: an array of {x.dtype}: expected real numbers "
                                 f"(integers or floats)", "input")
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != size:
            raise UserInputError(f"{frames_file}: frames have shape {x.shape[1:]}, the model "
                                 f"takes {tuple(shape)}", "input")
        if not np.isfinite(x).all():
            bad = np.argwhere(~np.isfinite(x))[0]
            raise UserInputError(f"{frames_file}: frame {bad[0]} holds {x[tuple(bad)]}: "
                                 f"expected finite numbers", "input")
    elif suffix == ".wav":
        audio = _wav_samples(frames_file)
        x = audio[:len(audio) // size * size].reshape(-1, size)
    elif suffix in VIDEO_SUFFIXES:
        square = [d for d in shape if d != 3]
        if len(shape) != 3 or 3 not in shape or len(set(square)) != 1:
            raise UserInputError(f"{frames_file}: a video needs a model with a square RGB "
                                 f"input, this one takes {tuple(shape)}", "input")
        try:
            video, _ = decode_video(ipath)
        except ValueError as e:
            raise UserInputError(str(e), "input") from None
        x = square_resize(video, square[0])                     # (F, H, W, 3) in [-1, 1]
        if shape[0] == 3:
            x = x.transpose(0, 3, 1, 2)
    else:
        raise UserInputError(f"{frames_file}: unknown sequence format {suffix!r}: allowed .npy, "
                             f".wav, " + ", ".join(VIDEO_SUFFIXES), "input")
    return x.reshape(len(x), *shape).astype(np.float64)


def _wav_samples(frames_file):
    """The samples of a mono 16-bit PCM WAV file at :data:`WAV_RATE`."""
    from .workloads import read_wav
    try:
        with wave.open(str(frames_file)) as w:
            layout = (w.getnchannels(), w.getframerate())
        if layout == (1, WAV_RATE):
            return read_wav(frames_file)[0]
    except (wave.Error, ValueError, EOFError, OSError) as e:    # wave.Error is no ValueError
        raise UserInputError(f"{frames_file}: not a 16-bit PCM WAV file "
                             f"({e or type(e).__name__})", "input") from None
    raise UserInputError(f"{frames_file}: {layout[0]} channel(s) at {layout[1]} Hz: expected "
                         f"mono at {WAV_RATE} Hz (16-bit PCM)", "input")


def user_workload(model, frames_file, frames=None):
    """The user's model on their sequence: the first quarter calibrates, the rest (its first
    ``frames``) is evaluated; accuracy: the arg-max (or, for one output value, the decision
    p > 0.5) agreement of the first output with the float model."""
    path = pathlib.Path(model)
    graph = load_model(model)
    if frames_file is None:
        raise UserInputError("--model needs --input FILE (.npy frames, .wav, or a video)")
    x = sequence_frames(frames_file, tuple(graph.input_shape))
    ipath = pathlib.Path(frames_file)
    if len(x) < 4:
        raise UserInputError(f"{frames_file}: {len(x)} frames; at least 4 are needed", "input")
    cal = max(1, len(x) // 4)
    evaluation = x[cal:cal + frames] if frames else x[cal:]
    out_name = graph.outputs[0]
    probe = graph.run_float(x[:1])[out_name]
    several = np.prod(probe.shape[1:]) > 1
    metric = argmax_agreement(out_name) if several else decision_agreement(out_name)
    return Workload(path.stem, f"user model {path.name} on {ipath.name}", graph, x[:cal],
                    evaluation,
                    f"argmax agreement of {out_name!r} with the float model" if several
                    else f"decision (> 0.5) agreement of {out_name!r} with the float model",
                    metric, "average",
                    notes=[f"calibration: the first {cal} frames of {ipath.name}; evaluation: "
                           f"the rest"])
