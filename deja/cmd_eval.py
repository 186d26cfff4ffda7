"""deja eval: computation reuse of a whole network on a real (or user's) sequence."""

import json
import os
import pathlib
import tempfile

import numpy as np

from golden.evaluation.evaluate import evaluate
from golden.evaluation.report import eval_markdown, eval_plots

from .common import CLIError, write_files
from .progress import Progress


def add_parser(sub):
    p = sub.add_parser("eval", help="evaluate reuse on a network and sequence (paper Table I, Fig. 5/9/10, Table III)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--workload", help="a built-in workload: silero, fbank, blazeface")
    src.add_argument("--model", metavar="FILE", help="your own model, .onnx or .tflite (with --input)")
    p.add_argument("--input", metavar="FILE",
                   help="your sequence: .npy frames (F, *input shape), a .wav (cut into windows of "
                        "the input size) or a video (.mp4, ...; scaled to a square RGB input)")
    p.add_argument("--clusters", default="16", help="16, 32 or auto (per-layer search); default 16")
    p.add_argument("--budget", default="1%", help="accuracy loss allowed by the reuse policy (default 1%%)")
    p.add_argument("--frames", type=int, help="evaluation frames (default: the workload's)")
    p.add_argument("--lanes", type=int, default=16, help="MAC lanes of the cycle model (default 16)")
    p.add_argument("--energy", choices=("cacti", "table"), default="cacti",
                   help="buffer access energies: CACTI 32 nm figures recorded by `deja synth` "
                        "(default), or the documented 45 nm table of golden/evaluation/perf.py")
    p.add_argument("-o", "--output", metavar="DIR", default="build/eval", help="report directory")
    return p


def _budget(text):
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CLIError(f"--budget {text}: give a percentage like 1% or a fraction like 0.01") from None
    if not 0 <= value < 1:
        raise CLIError(f"--budget {text}: allowed 0% <= budget < 100%")
    return value


VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def _user_model(model):
    from golden.evaluation.importers import import_onnx, import_tflite
    from golden.network.graph import UnsupportedOperator
    path = pathlib.Path(model)
    if not path.is_file():
        raise CLIError(f"--model {model}: no such file")
    importers = {".onnx": import_onnx, ".tflite": import_tflite}
    if path.suffix.lower() not in importers:
        raise CLIError(f"--model {model}: unknown model format {path.suffix!r}: allowed .onnx, .tflite")
    try:
        return path, importers[path.suffix.lower()](path)
    except UnsupportedOperator as e:
        raise CLIError(str(e)) from None


def _user_frames(frames_file, shape):
    """The user's sequence as frames of the model's input ``shape``: a .npy array of frames, a
    WAV file cut into consecutive windows of the input size, or a video scaled to the input."""
    from golden.evaluation.workloads import read_wav, decode_video
    from golden.evaluation.workloads.video import square_resize
    ipath = pathlib.Path(frames_file)
    if not ipath.is_file():
        raise CLIError(f"--input {frames_file}: no such file")
    suffix = ipath.suffix.lower()
    size = int(np.prod(shape))
    if suffix == ".npy":
        try:
            x = np.load(ipath, allow_pickle=False)
        except ValueError as e:
            raise CLIError(f"--input {frames_file}: not a NumPy array file ({e})") from None
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != size:
            raise CLIError(f"--input {frames_file}: frames have shape {x.shape[1:]}, the model takes "
                           f"{tuple(shape)}")
    elif suffix == ".wav":
        try:
            audio, _ = read_wav(ipath)
        except (ValueError, EOFError, OSError) as e:       # wave raises wave.Error(ValueError)
            raise CLIError(f"--input {frames_file}: not a 16-bit PCM WAV file ({e})") from None
        x = audio[:len(audio) // size * size].reshape(-1, size)
    elif suffix in VIDEO_SUFFIXES:
        square = [d for d in shape if d != 3]
        if len(shape) != 3 or 3 not in shape or len(set(square)) != 1:
            raise CLIError(f"--input {frames_file}: a video needs a model with a square RGB input, "
                           f"this one takes {tuple(shape)}")
        try:
            video, _ = decode_video(ipath)
        except ValueError as e:
            raise CLIError(f"--input {e}") from None
        x = square_resize(video, square[0])                     # (F, H, W, 3) in [-1, 1]
        if shape[0] == 3:
            x = x.transpose(0, 3, 1, 2)
    else:
        raise CLIError(f"--input {frames_file}: unknown sequence format {suffix!r}: allowed .npy, .wav, "
                       + ", ".join(VIDEO_SUFFIXES))
    return x.reshape(len(x), *shape).astype(np.float64)


def _user_workload(model, frames_file, frames):
    from golden.evaluation.evaluate import Workload, decision_agreement, argmax_agreement
    path, graph = _user_model(model)
    if frames_file is None:
        raise CLIError("--model needs --input FILE (.npy frames, .wav, or a video)")
    x = _user_frames(frames_file, tuple(graph.input_shape))
    ipath = pathlib.Path(frames_file)
    if len(x) < 4:
        raise CLIError(f"--input {frames_file}: {len(x)} frames; at least 4 are needed")
    cal = max(1, len(x) // 4)
    evaluation = x[cal:cal + frames] if frames else x[cal:]
    out_name = graph.outputs[0]
    probe = graph.run_float(x[:1])[out_name]
    metric = argmax_agreement(out_name) if np.prod(probe.shape[1:]) > 1 else decision_agreement(out_name)
    return Workload(path.stem, f"user model {path.name} on {ipath.name}", graph, x[:cal], evaluation,
                    f"argmax agreement of {out_name!r} with the float model" if np.prod(probe.shape[1:]) > 1
                    else f"decision (> 0.5) agreement of {out_name!r} with the float model",
                    metric, "average",
                    notes=[f"calibration: the first {cal} frames of {ipath.name}; evaluation: the rest"])


def run(args):
    budget = _budget(args.budget)
    if args.clusters not in ("auto",) and not args.clusters.isdigit():
        raise CLIError(f"--clusters {args.clusters}: allowed 16, 32 or auto")
    clusters = args.clusters if args.clusters == "auto" else int(args.clusters)
    if clusters != "auto" and not 2 <= clusters <= 64:
        raise CLIError(f"--clusters {clusters}: allowed 2..64 or auto")
    if args.frames is not None and args.frames < 1:
        raise CLIError(f"--frames {args.frames}: allowed 1 or more")
    if not 1 <= args.lanes <= 64:
        raise CLIError(f"--lanes {args.lanes}: allowed 1..64")
    if args.model:
        workload = _user_workload(args.model, args.input, args.frames)
    else:
        from golden.network.builtin import build_workload, WorkloadUnavailable
        try:
            workload = build_workload(args.workload, frames=args.frames)
        except (KeyError, WorkloadUnavailable) as e:
            raise CLIError(str(e).strip("'\"")) from None
    energy = {}
    if args.energy == "cacti":
        from synth.memories import perf_energy_table
        from synth.tools import ToolError
        try:
            table, description = perf_energy_table(32)
            energy = {"energy": table, "energy_model": description}
        except ToolError as e:
            workload.notes.append(f"energy: the 45 nm table, CACTI figures unavailable ({e})")
    bar = None if args.json else Progress(len(workload.evaluation), f"{workload.name}")
    result = evaluate(workload, clusters=clusters, budget=budget, lanes=args.lanes, progress=bar,
                      **energy)
    out = pathlib.Path(args.output)
    text = eval_markdown(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".deja-plots-") as tmp:
        plots = eval_plots(result, pathlib.Path(tmp))     # all figures first: no partial report
        write_files(out, {"eval.json": json.dumps(result, indent=2, default=float) + "\n", "eval.md": text})
        result["plots"] = []
        for p in plots:
            os.replace(p, out / p.name)
            result["plots"].append(str(out / p.name))
    result["report"] = str(out / "eval.md")
    if not args.json:
        print(text)
        print(f"wrote {out / 'eval.json'}, {out / 'eval.md'}, " + ", ".join(result["plots"]))
    return result
