"""deja eval: computation reuse of a whole network on a real (or user's) sequence."""

import json
import os
import pathlib
import tempfile

from golden.evaluation.evaluate import evaluate
from golden.evaluation.report import eval_markdown, eval_plots
from golden.network.builtin import NAMES

from .common import CLIError, check_output_dir, write_files
from .progress import Progress


def add_parser(sub):
    p = sub.add_parser("eval", help="evaluate reuse on a network and sequence "
                                    "(paper Table I, Fig. 5/9/10, Table III)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--workload", help=f"a built-in network on its sequence: {', '.join(NAMES)}")
    src.add_argument("--model", metavar="FILE",
                     help="your own model, .onnx or .tflite (with --input)")
    p.add_argument("--input", metavar="FILE",
                   help="your sequence: .npy frames (F, *input shape), a mono 16 kHz 16-bit .wav "
                        "(cut into windows of the input size) or a video (.mp4, ...; scaled to a "
                        "square RGB input)")
    p.add_argument("--clusters", default="16", help="16, 32 or auto (per-layer search); default 16")
    p.add_argument("--budget", default="1%",
                   help="accuracy loss allowed by the reuse policy (default 1%%)")
    p.add_argument("--frames", type=int, help="evaluation frames (default: the workload's)")
    p.add_argument("--lanes", type=int, default=16,
                   help="MAC lanes of the cycle model (default 16)")
    p.add_argument("--energy", choices=("cacti", "table"), default="cacti",
                   help="buffer access energies: CACTI 32 nm figures recorded by deja synth "
                        "(default), or the documented 45 nm table of golden/evaluation/perf.py")
    p.add_argument("-o", "--output", metavar="DIR", default="build/eval", help="report directory")
    return p


def _budget(text):
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CLIError(f"--budget {text}: give a percentage like 1% "
                       f"or a fraction like 0.01") from None
    if not 0 <= value < 1:
        raise CLIError(f"--budget {text}: allowed 0% <= budget < 100%")
    return value


def _workload(args):
    from golden.evaluation.user_workload import UserInputError, user_workload
    if args.model:
        try:
            return user_workload(args.model, args.input, args.frames)
        except UserInputError as e:
            raise CLIError(f"--{e.argument} {e}" if e.argument else str(e)) from None
    from golden.network.builtin import WorkloadUnavailable, build_workload
    try:
        return build_workload(args.workload, frames=args.frames)
    except (KeyError, WorkloadUnavailable) as e:
        raise CLIError(str(e).strip("'\"")) from None


def run(args):
    budget = _budget(args.budget)
    if args.clusters not in ("16", "32", "auto"):
        raise CLIError(f"--clusters {args.clusters}: allowed 16, 32 or auto")
    clusters = args.clusters if args.clusters == "auto" else int(args.clusters)
    if args.frames is not None and args.frames < 1:
        raise CLIError(f"--frames {args.frames}: allowed 1 or more")
    if not 1 <= args.lanes <= 64:
        raise CLIError(f"--lanes {args.lanes}: allowed 1..64")
    out = check_output_dir(args.output)         # before the evaluation, not after
    workload = _workload(args)
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
    text = eval_markdown(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".deja-plots-") as tmp:
        plots = eval_plots(result, pathlib.Path(tmp))     # all figures first: no partial report
        write_files(out, {"eval.json": json.dumps(result, indent=2, default=float) + "\n",
                          "eval.md": text})
        result["plots"] = []
        for p in plots:
            os.replace(p, out / p.name)
            result["plots"].append(str(out / p.name))
    result["report"] = str(out / "eval.md")
    if not args.json:
        print(text)
        print(f"wrote {out / 'eval.json'}, {out / 'eval.md'}, " + ", ".join(result["plots"]))
    return result
