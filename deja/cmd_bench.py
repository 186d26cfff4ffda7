"""deja bench: throughput figures measured in one run (ratios, never a timed test).

``golden``: the golden model against dense float; ``sim``: simulated cycles per second of the
Amaranth simulator and of Verilator on the same checked workload; ``network``: Verilator frames
per wall-clock second of a built-in network (kaldi-mlp) on its real input, checked against golden;
``throughput``: golden's cycle model on every built-in network, reuse against the baseline
engine, with the cycles lost by term.
"""

from golden.evaluation.bench import bench_golden

from .common import CLIError, table


def add_parser(sub):
    p = sub.add_parser("bench", help="benchmarks: golden model vs dense float, Verilator vs "
                                     "Amaranth, Verilator frames/s of a network, where the "
                                     "engine's cycles go (throughput)")
    p.add_argument("target", choices=["golden", "sim", "network", "throughput"],
                   help="what to benchmark")
    p.add_argument("--frames", type=int, default=None,
                   help="frames in the sequence (default 100; throughput: 300)")
    p.add_argument("--scan-width", type=int, default=None, metavar="W",
                   help="throughput: inputs scanned per cycle, blocked engines included "
                        "(default: each network engine's, 8 where the network allows it)")
    p.add_argument("--similarity", type=float, default=0.5, help="input similarity (default 0.5)")
    p.add_argument("--network", default="kaldi-mlp",
                   help="built-in network of the network benchmark (default kaldi-mlp)")
    return p


def run(args):
    if not 0.0 <= args.similarity <= 1.0:
        raise CLIError(f"--similarity {args.similarity}: allowed 0..1")
    if args.frames is None:
        args.frames = 300 if args.target == "throughput" else 100
    if args.frames < 2:
        raise CLIError(f"--frames {args.frames}: allowed 2 or more")
    if args.scan_width is not None and args.target != "throughput":
        raise CLIError("--scan-width: allowed with the throughput benchmark only")
    if args.target == "throughput":
        return _bench_throughput(args)
    if args.target == "sim":
        return _bench_sim(args)
    if args.target == "network":
        return _bench_network(args)
    result = bench_golden(similarity=args.similarity, frames=args.frames)
    if not args.json:
        print(f"{result['layer']}, {result['clusters']} clusters, similarity "
              f"{result['similarity_measured']:.1%} measured\n")
        print(table([
            ["golden reuse model, sequence (ReuseEngine.run)",
             f"{result['golden_frames_per_second']:.0f}"],
            ["golden reuse model, frame by frame (ReuseEngine.step)",
             f"{result['golden_step_frames_per_second']:.0f}"],
            ["dense NumPy float32, frame by frame",
             f"{result['dense_float32_frames_per_second']:.0f}"],
            ["dense NumPy float32, all frames in one matmul",
             f"{result['dense_float32_batched_frames_per_second']:.0f}"],
        ], ["", "frames/s"]))
        print(f"\ngolden / dense frame by frame: {result['ratio_golden_over_dense']:.2f}   "
              f"golden / dense batched: {result['ratio_golden_over_dense_batched']:.2f}")
    return result


def _bench_sim(args):
    from sim.bench import bench_sim
    from sim.simulate import SimulatorMissing, check_simulator
    try:
        check_simulator("verilator")
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    result = bench_sim(frames=args.frames, similarity=args.similarity)
    if not args.json:
        print(f"{result['layer']}, default engine, {result['frames']} frames, "
              f"{result['cycles']} simulated cycles, checked against golden\n")
        print(table([
            ["Amaranth simulator", f"{result['amaranth_cycles_per_second']:.0f}",
             result["mismatches"]["amaranth"]],
            ["Verilator (cocotb)", f"{result['verilator_cycles_per_second']:.0f}",
             result["mismatches"]["verilator"]],
        ], ["", "cycles/s", "mismatches"]))
        print(f"\nVerilator / Amaranth: {result['ratio_verilator_over_amaranth']:.1f}x   "
              f"(Verilator build {result['verilator_build_seconds']:.1f} s"
              f"{', cached' if result['verilator_build_cached'] else ''})")
    return result


def _bench_network(args):
    from golden.network.builtin import NETWORK_NAMES
    from sim.bench import bench_network
    from sim.simulate import SimulatorMissing, check_simulator
    if args.network not in NETWORK_NAMES:
        raise CLIError(f"--network {args.network}: unknown network: allowed "
                       f"{', '.join(NETWORK_NAMES)}")
    try:
        check_simulator("verilator")
    except SimulatorMissing as e:
        raise CLIError(str(e)) from None
    result = bench_network(args.network, frames=args.frames)
    if not args.json:
        print(f"network {result['network']} ({result['shape']}), "
              f"{result['engine']['lanes']} lanes, "
              f"{result['frames']} frames of its real input on Verilator, checked against golden "
              f"({result['mismatches']} mismatches)\n")
        print(table([
            ["simulated cycles / s", f"{result['verilator_cycles_per_second']:.0f}"],
            ["frames / s (simulation)", f"{result['verilator_frames_per_second']:.1f}"],
            ["frames / s (simulator process)",
             f"{result['verilator_frames_per_second_process']:.1f}"],
            ["cycles per frame, reuse (RTL)", f"{result['cycles_per_frame_mean']:.1f}"],
            ["cycles per frame, baseline (golden)",
             f"{result['baseline_cycles_per_frame_mean']:.1f}"],
            ["RTL speedup vs baseline", f"{result['speedup']:.2f}x"],
            ["build (s)", f"{result['verilator_build_seconds']:.1f}"
                          + (" (cached)" if result["verilator_build_cached"] else "")],
        ], ["", "value"]))
    return result


def _bench_throughput(args):
    from golden.config import ConfigError, EngineConfig
    from golden.evaluation.throughput import TERMS, throughput_report
    if args.scan_width is not None:
        try:
            EngineConfig(scan_width=args.scan_width)
        except ConfigError as e:
            raise CLIError(f"--scan-width: {e}") from None
    rows = throughput_report(frames=args.frames, scan_width=args.scan_width)
    result = {"frames": args.frames, "networks": [r.to_dict() for r in rows]}
    if not args.json:
        print(f"golden's cycle model, {args.frames} frames of each network's real input, "
              f"{rows[0].lanes} lanes, no stalls; cycles per frame; fraction = speedup / MAC "
              f"ratio\n")
        print(table([[r.name + (f" ({r.band_rows}-row bands)" if r.band_rows else ""),
                      r.scan_width, f"{r.cycles:,.0f}", f"{r.baseline_cycles:,.0f}",
                      f"{r.speedup:.2f}x", f"{r.mac_ratio:.2f}x", f"{r.fraction:.2f}",
                      f"{r.ideal:,.0f}"] for r in rows],
                    ["network", "W", "reuse", "baseline", "speedup", "MAC ratio", "fraction",
                     "ideal"]))
        print("\ncycles lost per frame, by term\n")
        print(table([[r.name + (f" ({r.band_rows})" if r.band_rows else "")]
                     + [f"{r.losses[t]:,.0f}" for t in TERMS] for r in rows],
                    ["network", *TERMS]))
    return result
