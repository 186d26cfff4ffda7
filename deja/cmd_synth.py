"""deja synth: area, timing and memory reports of the reuse engine beside the baseline engine."""

import json
import pathlib

from synth.flows import ECP5_DEVICES
from synth.report import ALL_FLOWS, markdown, synth_report
from synth.tools import ToolError, find_tool

from .common import (
    CLIError,
    add_engine_options,
    add_network_option,
    check_output_dir,
    engine_or_network,
    write_files,
)
from .progress import Progress

TOOLS = {"generic": ["yosys"], "asic": ["yosys"], "ecp5": ["yosys", "nextpnr-ecp5"], "memories": []}


def add_parser(sub):
    p = sub.add_parser("synth", help="area, timing and memory reports (Yosys, nextpnr, CACTI)")
    p.add_argument("--flow", choices=ALL_FLOWS + ("quick", "all"), default="quick",
                   help="which flow (quick: generic, memories, and asic when --liberty is given; "
                        "all: those and ecp5, the FPGA place and route, which takes minutes, "
                        "over half an hour on the 85k part)")
    add_engine_options(p)
    add_network_option(p, "report the engine sized for this network, with its buffers")
    p.add_argument("--liberty", metavar="PATH", help="standard-cell Liberty file (asic flow)")
    p.add_argument("--node", type=int, default=32, metavar="NM",
                   help="technology node of the memory model in nm (default 32)")
    p.add_argument("--freq", type=float, default=150, metavar="MHZ",
                   help="nextpnr clock target in MHz (default 150)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (default 1)")
    p.add_argument("--device", choices=sorted(ECP5_DEVICES), default="85k",
                   help="ECP5 part (default 85k, LFE5U-85F; smaller parts place and route faster)")
    p.add_argument("-o", "--output", metavar="DIR", default="build/synth",
                   help="output directory (default build/synth)")
    return p


def check_inputs(flows, liberty):
    """Everything a run needs, checked before any file is written (one-line errors)."""
    try:
        for flow in flows:
            for tool in TOOLS[flow]:
                find_tool(tool)
    except ToolError as e:
        raise CLIError(str(e)) from None
    if "asic" in flows:
        if liberty is None:
            raise CLIError("--flow asic needs --liberty PATH (a standard-cell Liberty file)")
        if not pathlib.Path(liberty).is_file():
            raise CLIError(f"--liberty {liberty}: no such file")


def check_place_and_route(freq, seed):
    """nextpnr's clock target and placement seed."""
    if not 0 < freq <= 2000:                   # also refuses nan
        raise CLIError(f"--freq {freq:g}: expected a clock target in MHz (0 < MHz <= 2000)")
    if seed is not None and seed < 0:
        raise CLIError(f"--seed {seed}: allowed 0 or more")


SLOW_FLOWS = ("ecp5",)


def selected_flows(flow, liberty):
    """The flows of ``--flow``: one, ``quick`` (all but the slow ones) or ``all``; asic only
    with a Liberty file."""
    if flow not in ("quick", "all"):
        return (flow,)
    return tuple(f for f in ALL_FLOWS if (f != "asic" or liberty is not None)
                 and (flow == "all" or f not in SLOW_FLOWS))


def run(args):
    config, network = engine_or_network(args)
    flows = selected_flows(args.flow, args.liberty)
    check_inputs(flows, args.liberty)
    if not 1 <= args.node <= 1000:
        raise CLIError(f"--node {args.node}: expected a technology node in nm (1..1000)")
    check_place_and_route(args.freq, args.seed)
    out = check_output_dir(args.output)
    steps = 2 * sum(1 for f in flows if f != "memories")
    progress = Progress(steps, "synth") if steps else None
    try:
        report = synth_report(config, flows, out / "logs", liberty=args.liberty, node_nm=args.node,
                             freq_mhz=args.freq, seed=args.seed, device=args.device,
                             progress=progress)
    except ToolError as e:
        raise CLIError(str(e)) from None
    if network is not None:
        report["network"] = {"name": network.name, "weight_words": config.weight_depth,
                             "layers": [layer.to_dict() for layer, _, _ in network.layers]}
    if args.flow in ("quick", "all"):
        skipped = {}
        if args.liberty is None:
            skipped["asic"] = "no --liberty given"
        if args.flow == "quick":
            skipped.update({f: "slow: --flow all or --flow " + f for f in SLOW_FLOWS})
        if skipped:
            report["skipped"] = skipped
    text = markdown(report)
    paths = write_files(out, {"report.json": json.dumps(report, indent=1, sort_keys=True) + "\n",
                              "report.md": text + "\n"})
    report["files"] = paths + [str(out / "logs")]
    if not args.json:
        print(text)
        print(f"wrote {paths[0]}, {paths[1]} and the tool logs in {out / 'logs'}")
    return report
