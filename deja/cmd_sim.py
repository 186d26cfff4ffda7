"""deja sim: run a frame sequence on the Amaranth simulator, Verilator or Icarus, checked against golden."""

import pathlib

import numpy as np

from golden import LayerConfig
from sim.demo import demo_layer
from golden import similar_frames

from .common import CLIError, add_engine_options, engine_from_args, check_sequence_options, table

SIMULATOR_CHOICES = ("amaranth", "verilator", "icarus")


def add_parser(sub):
    p = sub.add_parser("sim", help="simulate the engine (Amaranth, or its Verilog under cocotb) "
                                   "against golden")
    p.add_argument("--simulator", choices=SIMULATOR_CHOICES, default="verilator",
                   help="simulator (default verilator)")
    add_engine_options(p)
    p.add_argument("--frames", type=int, default=100, help="frames in the sequence (default 100)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--similarity", type=float, default=0.9,
                        help="fraction of inputs that keep their cluster frame to frame "
                             "(default 0.9)")
    source.add_argument("--inputs", metavar="FILE.npy",
                        help="frames (F x N integer activations) instead of synthetic ones")
    p.add_argument("--stall", type=float, default=0.0,
                   help="probability of a bubble on the input and of backpressure on the output")
    p.add_argument("--waves", metavar="FILE.fst|.vcd", help="write a waveform file")
    p.add_argument("--seed", type=int, default=1, help="seed of the layer, frames and stalls")
    return p


def _frames(args, config):
    if args.inputs is None:
        layer, weights, bias = demo_layer(config, inputs=min(96, config.max_inputs),
                                          outputs=min(64, config.max_outputs), seed=args.seed)
        x = similar_frames(args.frames, layer.inputs, args.similarity, layer.centroids,
                           config.act_width, seed=args.seed)
        return layer, weights, bias, x
    path = pathlib.Path(args.inputs)
    if not path.is_file():
        raise CLIError(f"--inputs {args.inputs}: no such file")
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise CLIError(f"--inputs {args.inputs}: not a .npy array ({e})") from None
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer) or x.size == 0:
        raise CLIError(f"--inputs {args.inputs}: expected a non-empty (frames, inputs) integer "
                       f"array, got shape {x.shape} of {x.dtype}")
    if x.min() < config.act_min or x.max() > config.act_max:
        raise CLIError(f"--inputs {args.inputs}: values must be act_width = {config.act_width} "
                       f"bit ({config.act_min}..{config.act_max}), found {int(x.min())}..{int(x.max())}")
    if x.shape[1] > config.max_inputs:
        raise CLIError(f"--inputs {args.inputs}: {x.shape[1]} inputs per frame, engine "
                       f"max_inputs = {config.max_inputs}")
    x = x[:args.frames].astype(np.int64)
    layer, weights, bias = demo_layer(config, inputs=x.shape[1],
                                      outputs=min(64, config.max_outputs), seed=args.seed)
    return layer, weights, bias, x


def run(args):
    from sim.simulate import simulate, check_simulator, SimulatorMissing
    config = engine_from_args(args)
    check_sequence_options(args)
    if args.waves is not None:
        suffix = pathlib.Path(args.waves).suffix.lower()
        allowed = (".vcd",) if args.simulator == "amaranth" else (".vcd", ".fst")
        if args.simulator == "icarus":
            allowed = (".fst",)
        if suffix not in allowed:
            raise CLIError(f"--waves {args.waves}: {args.simulator} writes "
                           f"{' or '.join(allowed)} files")
        if not pathlib.Path(args.waves).resolve().parent.is_dir():
            raise CLIError(f"--waves {args.waves}: no such directory")
    try:
        check_simulator(args.simulator)
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    layer, weights, bias, x = _frames(args, config)
    from sim.runner import SimulationError
    try:
        report = simulate(config, layer, weights, bias, x, simulator=args.simulator,
                          stall=args.stall, seed=args.seed, waves=args.waves)
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    except SimulationError as e:
        raise CLIError(str(e).splitlines()[0]) from None
    report.update(engine=config.to_dict(), layer=layer.to_dict(), stall=args.stall,
                  seed=args.seed, waves=args.waves)
    if not args.json:
        cpf = report["cycles_per_frame"]
        print(f"{args.simulator}: FC {layer.inputs} -> {layer.outputs}, {layer.clusters} clusters, "
              f"{report['frames']} frames, stall {args.stall:g}")
        rows = [["frames checked", report["frames"]],
                ["mismatches", report["mismatches"]],
                ["cycles per frame (min / mean / max)",
                 f"{min(cpf)} / {np.mean(cpf):.1f} / {max(cpf)}" if cpf else "-"],
                ["inputs changed", f"{report['totals']['inputs_changed']} / "
                                   f"{report['totals']['inputs_scanned']}"],
                ["MACs", report["totals"]["macs"]],
                ["simulated cycles", report["cycles"]],
                ["simulated cycles / s", f"{report['cycles_per_second']:.0f}"]]
        if "build_seconds" in report:
            rows.append(["build (s)", f"{report['build_seconds']:.1f}"
                                      + (" (cached)" if report["build_cached"] else "")])
        print(table(rows, ["", "value"]))
        if report["first_mismatch"]:
            print(f"first mismatch: {report['first_mismatch']}")
        if args.waves:
            print(f"waveform: {args.waves}")
    return report
