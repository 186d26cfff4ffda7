"""A user's own workload: a model file (.onnx, .tflite) and a sequence file, split into a
calibration part and an evaluation part as the built-in workloads are.

A bad file raises :class:`UserInputError`, whose ``argument`` says which of the two it is
(``"model"`` or ``"input"``) and whose message starts with the file's name.
"""

import pathlib

import numpy as np

from ..network.graph import UnsupportedOperator
from .evaluate import Workload, argmax_agreement, decision_agreement

__all__ = ["UserInputError", "VIDEO_SUFFIXES", "load_model", "sequence_frames",
           "user_workload"]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


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
        return importers[path.suffix.lower()](path)
    except UnsupportedOperator as e:
        raise UserInputError(str(e)) from None


def sequence_frames(frames_file, shape):
    """A sequence as float frames of the model's input ``shape``: a .npy array of frames, a
    WAV file cut into consecutive windows of the input size, or a video scaled to a square RGB
    input."""
    from .workloads import decode_video, read_wav
    from .workloads.video import square_resize
    ipath = pathlib.Path(frames_file)
    if not ipath.is_file():
        raise UserInputError(f"{frames_file}: no such file", "input")
    suffix = ipath.suffix.lower()
    size = int(np.prod(shape))
    if suffix == ".npy":
        try:
            x = np.load(ipath, allow_pickle=False)
        except ValueError as e:
            raise UserInputError(f"{frames_file}: not a NumPy array file ({e})", "input") from None
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != size:
            raise UserInputError(f"{frames_file}: frames have shape {x.shape[1:]}, the model "
                                 f"takes {tuple(shape)}", "input")
    elif suffix == ".wav":
        try:
            audio, _ = read_wav(ipath)
        except (ValueError, EOFError, OSError) as e:       # wave raises wave.Error(ValueError)
            raise UserInputError(f"{frames_file}: not a 16-bit PCM WAV file ({e})",
                                 "input") from None
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
