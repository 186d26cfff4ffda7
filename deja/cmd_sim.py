"""deja sim: run a frame sequence on the Amaranth simulator, Verilator or Icarus, checked
against golden.

By default one synthetic FC layer; ``--network`` runs a whole network of FC and LSTM layers (a
built-in one on its workload's frames, or a .npz file on ``--inputs``) on the engine sized for it,
and reports the RTL speedup over the golden cycle model's baseline accelerator.
"""

import os
import pathlib

import numpy as np

from golden import similar_frames
from sim.demo import demo_layer

from .common import (
    CLIError,
    add_engine_options,
    add_network_option,
    check_sequence_options,
    engine_from_args,
    load_inputs,
    network_engine,
    network_from_args,
    table,
)

SIMULATOR_CHOICES = ("amaranth", "verilator", "icarus")


def add_parser(sub):
    p = sub.add_parser("sim", help="simulate the engine (Amaranth, or its Verilog under cocotb) "
                                   "against golden")
    p.add_argument("--simulator", choices=SIMULATOR_CHOICES, default="verilator",
                   help="simulator (default verilator)")
    add_engine_options(p)
    add_network_option(p, "run a network (FC layers, an LSTM cell) instead of one synthetic layer")
    p.add_argument("--frames", type=int, default=100, help="frames in the sequence (default 100)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--similarity", type=float,
                        help="fraction of inputs that keep their cluster frame to frame "
                             "(default 0.9; synthetic frames only)")
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
    x = load_inputs(args.inputs, config)
    if x.shape[1] > config.max_inputs:
        raise CLIError(f"--inputs {args.inputs}: {x.shape[1]} inputs per frame, engine "
                       f"max_inputs = {config.max_inputs}")
    x = x[:args.frames].astype(np.int64)
    layer, weights, bias = demo_layer(config, inputs=x.shape[1],
                                      outputs=min(64, config.max_outputs), seed=args.seed)
    return layer, weights, bias, x


def _network(args):
    """The network, its engine and its frames (``--inputs`` or the built-in workload's)."""
    network, x = network_from_args(args, args.frames)
    config = network_engine(args, network)
    if args.inputs is not None:
        x = load_inputs(args.inputs, config, network.inputs,
                        f" for network {args.network}")
    elif x is None:
        raise CLIError(f"--network {args.network}: a network file needs --inputs FILE.npy, a "
                       f"(frames, {network.inputs}) integer array")
    return network, config, x[:args.frames]


def run(args):
    from sim.simulate import SimulatorMissing, check_simulator, simulate
    if args.network is not None and args.similarity is not None:
        raise CLIError("--similarity: not allowed with --network (its frames are real inputs)")
    if args.similarity is None:
        args.similarity = 0.9
    check_sequence_options(args)
    if args.seed < 0:
        raise CLIError(f"--seed {args.seed}: allowed 0 or more")
    if args.network is None:
        if args.band_rows is not None:
            raise CLIError("--band-rows: needs --network (a network of one conv layer)")
        config = engine_from_args(args)
    else:
        network, config, x = _network(args)
    if args.band_rows is not None:
        return _run_blocked(args, network, config, x)
    if args.waves is not None:
        suffix = pathlib.Path(args.waves).suffix.lower()
        allowed = (".vcd",) if args.simulator == "amaranth" else (".vcd", ".fst")
        if args.simulator == "icarus":
            allowed = (".fst",)
        if suffix not in allowed:
            raise CLIError(f"--waves {args.waves}: {args.simulator} writes "
                           f"{' or '.join(allowed)} files")
        waves = pathlib.Path(args.waves).resolve()
        if not waves.parent.is_dir():
            raise CLIError(f"--waves {args.waves}: no such directory")
        if waves.is_dir() or not os.access(waves.parent, os.W_OK | os.X_OK):
            raise CLIError(f"--waves {args.waves}: cannot write a file there")
    try:
        check_simulator(args.simulator)
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    if args.network is None:
        layer, weights, bias, x = _frames(args, config)
    from sim.runner import SimulationError
    from sim.simulate import simulate_network
    options = dict(simulator=args.simulator, stall=args.stall, seed=args.seed, waves=args.waves)
    try:
        if args.network is not None:
            report = simulate_network(network, x, config, **options)
        else:
            report = simulate(config, layer, weights, bias, x, **options)
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    except SimulationError as e:
        raise CLIError(str(e).splitlines()[0]) from None
    report.update(engine=config.to_dict(), stall=args.stall, seed=args.seed, waves=args.waves)
    if args.network is not None:
        report.pop("layer_counters", None)          # per layer and frame: see layer_totals
        if not args.json:
            _print_network(args, network, config, report)
        return report
    report["layer"] = layer.to_dict()
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
        _print_rows(args, report, rows)
    return report


def _run_blocked(args, network, config, x):
    """``--band-rows``: the network's conv layer band by band (golden/blocking.py)."""
    from sim.runner import SimulationError
    from sim.simulate import SimulatorMissing, check_simulator, simulate_blocked
    if args.stall:
        raise CLIError("--stall: not allowed with --band-rows (the host feeds every band "
                       "without bubbles)")
    if args.waves is not None:
        raise CLIError("--waves: not allowed with --band-rows")
    try:
        check_simulator(args.simulator)
        report = simulate_blocked(network, x, args.band_rows, config, simulator=args.simulator)
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    except SimulationError as e:
        raise CLIError(str(e).splitlines()[0]) from None
    if not args.json:
        layer = report["layer"]
        print(f"{args.simulator}: network {network.name}, conv {layer['inputs']} -> "
              f"{layer['outputs']} blocked in {report['bands']} bands of {args.band_rows} "
              f"output rows, {config.lanes} lanes, {report['frames']} frames")
        rows = [["frames checked", report["frames"]],
                ["mismatches", report["mismatches"]],
                ["engine buffers: inputs / outputs", f"{config.max_inputs} / "
                                                     f"{config.max_outputs} (layer: "
                                                     f"{layer['inputs']} / {layer['outputs']})"],
                ["cycles per frame, reuse (bands + transfers)",
                 f"{report['cycles_per_frame_mean']:.1f}"],
                ["  of which the bands' busy cycles",
                 f"{report['busy_cycles_per_frame_mean']:.1f}"],
                ["main-memory words per frame",
                 f"{report['main_memory_words_per_frame_mean']:.1f}"],
                ["cycles per frame, baseline blocked (golden)",
                 f"{report['baseline_cycles_per_frame_mean']:.1f}"],
                ["cycles per frame, reuse unblocked (golden)",
                 f"{report['unblocked_cycles_per_frame_mean']:.1f}"],
                ["speedup vs baseline", f"{report['speedup']:.2f}x"],
                ["MACs avoided", f"{report['macs_avoided_percent']:.1f} %"],
                ["inputs scanned per frame (halo)", f"{report['inputs_scanned_per_frame']} "
                                                    f"of {report['layer_inputs']}"],
                ["simulated cycles / s", f"{report['cycles_per_second']:.0f}"]]
        _print_rows(args, report, rows)
    return report


def _print_network(args, network, config, report):
    cpf = report["cycles_per_frame"]
    print(f"{args.simulator}: network {network.name}, {len(network.layers)} layers "
          f"{report['shape']}, {config.lanes} lanes, {report['frames']} frames, "
          f"stall {args.stall:g}")
    rows = [["frames checked", report["frames"]],
            ["mismatches", report["mismatches"]],
            ["cycles per frame, reuse (RTL, mean)",
             f"{report['cycles_per_frame_mean']:.1f}" if cpf else "-"],
            ["cycles per frame, baseline (golden, mean)",
             f"{report['baseline_cycles_per_frame_mean']:.1f}"],
            ["RTL speedup vs baseline", f"{report['speedup']:.2f}x" if cpf else "-"],
            ["MACs avoided", f"{report['macs_avoided_percent']:.1f} %"],
            ["inputs changed (all layers)", f"{report['totals']['inputs_changed']} / "
                                            f"{report['totals']['inputs_scanned']}"],
            ["simulated cycles", report["cycles"]],
            ["simulated cycles / s", f"{report['cycles_per_second']:.0f}"],
            ["frames / s (wall clock)", f"{report['frames_per_second']:.1f}"]]
    _print_rows(args, report, rows)


def _print_rows(args, report, rows):
    """The report table, with the build time, the first mismatch and the waveform file."""
    if "build_seconds" in report:
        rows.append(["build (s)", f"{report['build_seconds']:.1f}"
                                  + (" (cached)" if report["build_cached"] else "")])
    print(table(rows, ["", "value"]))
    if report["first_mismatch"]:
        print(f"first mismatch: {report['first_mismatch']}")
    if args.waves:
        print(f"waveform: {args.waves}")
