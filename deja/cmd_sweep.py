"""deja sweep synth: one synthesis flow over a grid of lanes x clusters; a table and a PNG."""

import argparse
import io
import json

from synth.sweep import METRICS, sweep_plot, sweep_synth
from synth.tools import ToolError

from .cmd_synth import check_inputs, check_place_and_route
from .common import (
    CLIError,
    add_engine_option,
    check_output_dir,
    engine_from_args,
    table,
    write_files,
)
from .progress import Progress

# engine options that stay fixed over the grid (lanes and max_clusters are the grid)
_FIXED = ("act_width", "weight_width", "acc_width", "max_inputs", "max_outputs", "max_layers")


def _ints(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CLIError(f"expected a comma-separated list of integers, not {text!r}") from None
    if not values:
        raise CLIError("expected at least one value")
    return values


def add_parser(sub):
    p = sub.add_parser("sweep", help="run a synthesis flow over a grid of configurations")
    what = p.add_subparsers(dest="sweep", required=True, metavar="WHAT")
    s = what.add_parser("synth", help="lanes x clusters grid of one synthesis flow")
    s.add_argument("--lanes", default="4,8,16,32", help="comma-separated lanes (default 4,8,16,32)")
    s.add_argument("--clusters", default="16,32",
                   help="comma-separated max_clusters (default 16,32)")
    s.add_argument("--flow", choices=sorted(METRICS), default="generic",
                   help="synthesis flow (ecp5: place and route, minutes per configuration)")
    group = s.add_argument_group("engine configuration (defaults: golden.DEFAULT)")
    group.add_argument("--config", metavar="FILE.json", help="engine configuration JSON")
    for name in _FIXED:
        add_engine_option(group, name, network=False)
    group.add_argument("--baseline", action="store_true", help="sweep the baseline engine")
    s.add_argument("--liberty", metavar="PATH", help="Liberty file (asic flow)")
    s.add_argument("--freq", type=float, default=150, metavar="MHZ", help="nextpnr target (MHz)")
    s.add_argument("-o", "--output", metavar="DIR", default="build/sweep",
                   help="output directory (default build/sweep)")
    # the top-level parser adds --json to "sweep"; the leaf needs its own
    s.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args):
    if args.sweep != "synth":
        raise CLIError(f"unknown sweep {args.sweep!r}")
    lanes, clusters = _ints(args.lanes), _ints(args.clusters)
    base = engine_from_args(
        argparse.Namespace(**{**vars(args), "lanes": None, "max_clusters": None}))
    check_inputs((args.flow,), args.liberty)
    check_place_and_route(args.freq, None)
    out = check_output_dir(args.output)
    progress = Progress(len(lanes) * len(clusters), f"sweep {args.flow}")
    try:
        result = sweep_synth(base, lanes, clusters, args.flow, out / "logs",
                             liberty=args.liberty, freq_mhz=args.freq, progress=progress)
    except ToolError as e:
        raise CLIError(str(e)) from None
    rows, columns = result["rows"], result.pop("columns")
    text = table([[r["lanes"], r["max_clusters"]] + [r[c] for c in columns] for r in rows],
                 ["lanes", "clusters"] + columns)
    png = io.BytesIO()
    sweep_plot(rows, args.flow, png)
    result["files"] = write_files(out, {
        "sweep.json": json.dumps(result, indent=1, sort_keys=True) + "\n",
        "sweep.txt": text + "\n", "sweep.png": png.getvalue()})
    if not args.json:
        print(text)
        print(f"wrote {', '.join(result['files'])}")
    return result
