"""deja sweep synth: one synthesis flow over a grid of lanes x clusters; a table and a PNG."""

import argparse
import dataclasses
import io
import json
import pathlib

from synth.flows import run_flow
from synth.tools import ToolError

from .cmd_synth import check_inputs
from .common import CLIError, engine_from_args, write_files, table
from .progress import Progress

# what the table and the plot show for each flow: (column, how to read it from a result)
METRICS = {
    "ecp5": [("Fmax MHz", lambda r: r["fmax_mhz"]),
             ("LUT", lambda r: r["utilization"]["TRELLIS_COMB"]["used"]),
             ("FF", lambda r: r["utilization"]["TRELLIS_FF"]["used"]),
             ("MULT18X18D", lambda r: r["utilization"]["MULT18X18D"]["used"]),
             ("DP16KD", lambda r: r["utilization"]["DP16KD"]["used"])],
    "generic": [("cells", lambda r: r["total"]["cells"]),
                ("transistors", lambda r: r["total"]["transistors"]),
                ("depth", lambda r: r["logic_depth"]["gates"])],
    "asic": [("area um^2", lambda r: r["total"]["area"]),
             ("depth", lambda r: r["logic_depth"]["gates"])],
}
# (area-like metric, timing-like metric) plotted against lanes
PLOTS = {"ecp5": ("LUT", "Fmax MHz"), "generic": ("cells", "depth"), "asic": ("area um^2", "depth")}


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
    s.add_argument("--clusters", default="16,32", help="comma-separated max_clusters (default 16,32)")
    s.add_argument("--flow", choices=sorted(METRICS), default="ecp5", help="flow (default ecp5)")
    group = s.add_argument_group("engine configuration (defaults: golden.DEFAULT)")
    group.add_argument("--config", metavar="FILE.json", help="engine configuration JSON")
    for name in _FIXED:
        group.add_argument("--" + name.replace("_", "-"), type=int, metavar="N", dest=name)
    group.add_argument("--baseline", action="store_true", help="sweep the baseline engine")
    s.add_argument("--liberty", metavar="PATH", help="Liberty file (asic flow)")
    s.add_argument("--freq", type=float, default=150, metavar="MHZ", help="nextpnr target (MHz)")
    s.add_argument("-o", "--output", metavar="DIR", default="build/sweep",
                   help="output directory (default build/sweep)")
    # the top-level parser adds --json to "sweep"; the leaf needs its own
    s.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _plot(rows, flow, path_like):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    area, timing = PLOTS[flow]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for clusters in sorted({r["max_clusters"] for r in rows}):
        sel = sorted((r for r in rows if r["max_clusters"] == clusters), key=lambda r: r["lanes"])
        for ax, metric in zip(axes, (area, timing)):
            ax.plot([r["lanes"] for r in sel], [r[metric] for r in sel], marker="o",
                    label=f"{clusters} clusters")
    for ax, metric in zip(axes, (area, timing)):
        ax.set_xlabel("lanes")
        ax.set_ylabel(metric)
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(f"deja sweep synth ({flow})")
    fig.tight_layout()
    fig.savefig(path_like, format="png", dpi=100)
    plt.close(fig)


def run(args):
    if args.sweep != "synth":
        raise CLIError(f"unknown sweep {args.sweep!r}")
    lanes, clusters = _ints(args.lanes), _ints(args.clusters)
    base = engine_from_args(argparse.Namespace(**{**vars(args), "lanes": None, "max_clusters": None}))
    configs = [dataclasses.replace(base, lanes=l, max_clusters=c) for l in lanes for c in clusters]
    check_inputs((args.flow,), args.liberty)
    out = pathlib.Path(args.output)
    progress = Progress(len(configs), f"sweep {args.flow}")
    rows = []
    progress(0)
    for k, config in enumerate(configs):
        name = f"lanes{config.lanes}-clusters{config.max_clusters}"
        try:
            result = run_flow(args.flow, config, out / "logs" / name, liberty=args.liberty,
                              freq_mhz=args.freq)
        except ToolError as e:
            raise CLIError(str(e)) from None
        row = {"lanes": config.lanes, "max_clusters": config.max_clusters,
               "reuse": config.reuse, "seconds": result["seconds"]}
        row.update({column: read(result) for column, read in METRICS[args.flow]})
        rows.append(row)
        progress(k + 1)
    columns = [c for c, _ in METRICS[args.flow]]
    text = table([[r["lanes"], r["max_clusters"]] + [r[c] for c in columns] for r in rows],
                 ["lanes", "clusters"] + columns)
    png = io.BytesIO()
    _plot(rows, args.flow, png)
    result = {"flow": args.flow, "engine": base.to_dict(), "rows": rows}
    paths = write_files(out, {"sweep.json": json.dumps(result, indent=1, sort_keys=True) + "\n",
                              "sweep.txt": text + "\n"})
    (out / "sweep.png").write_bytes(png.getvalue())
    result["files"] = paths + [str(out / "sweep.png")]
    if not args.json:
        print(text)
        print(f"wrote {', '.join(result['files'])}")
    return result
