"""deja demo: Verilog for the default configuration, golden vs RTL on a short sequence, then
whole networks (kaldi-mlp, speech-lstm, Silero VAD, video-cnn) on Verilator, a conv layer
larger than the engine's buffers run band by band (video-conv, paper IV-C), and reuse on a
real network: Silero VAD on recorded speech (fetched on first use)."""

from hw.verilog import TOP, engine_verilog
from sim.demo import run_demo

from .common import (
    add_engine_options,
    check_output_dir,
    check_sequence_options,
    engine_from_args,
    table,
    write_files,
)


def add_parser(sub):
    p = sub.add_parser("demo", help="generate Verilog, run golden and simulated RTL, "
                                    "compare reuse with baseline")
    add_engine_options(p)
    p.add_argument("--frames", type=int, default=24, help="frames in the sequence (default 24)")
    p.add_argument("--similarity", type=float, default=0.9,
                   help="fraction of inputs that keep their cluster frame to frame (default 0.9)")
    p.add_argument("--stall", type=float, default=0.0,
                   help="probability of a bubble on the input and of backpressure on the output")
    p.add_argument("--speech-frames", type=int, default=300, metavar="N",
                   help="frames (32 ms each) of the Silero VAD evaluation on real speech; "
                        "0 skips it (default 300)")
    p.add_argument("--network-frames", type=int, default=50, metavar="N",
                   help="frames of the kaldi-mlp (6 FC layers) and speech-lstm (FC, LSTM cell, FC) "
                        "networks on real filterbanks, of Silero VAD (convs, LSTM) on real "
                        "speech and of video-cnn (2-D convs, FC) on real video, each run on its "
                        "generated Verilog with Verilator, and of video-conv blocked in bands "
                        "(at most 20); 0 skips them (default 50)")
    p.add_argument("-o", "--output", metavar="DIR", default="build/demo",
                   help="where the Verilog goes (default build/demo)")
    return p


def run(args):
    from .common import CLIError
    config = engine_from_args(args)
    check_sequence_options(args)
    if args.speech_frames < 0:
        raise CLIError(f"--speech-frames {args.speech_frames}: allowed 0 or more")
    if args.network_frames < 0:
        raise CLIError(f"--network-frames {args.network_frames}: allowed 0 or more")
    check_output_dir(args.output)
    paths = write_files(args.output, {f"{TOP}.v": engine_verilog(config),
                                      "config.json": config.to_json() + "\n"})
    result = run_demo(config, frames=args.frames, similarity=args.similarity, stall=args.stall)
    result["verilog"] = paths[0]
    if not args.json:
        print(f"Verilog: {paths[0]}  (lanes {config.lanes}, act {config.act_width} b, "
              f"weights {config.weight_width} b, acc {config.acc_width} b)")
        layer = result["layer"]
        print(f"Layer: FC {layer['inputs']} -> {layer['outputs']}, "
              f"{len(layer['centroids'])} clusters, "
              f"{args.frames} frames at {args.similarity:.0%} requested similarity\n")
        rows = [
            ["frames", result["frames"], result["frames"]],
            ["inputs changed", f"{result['inputs_changed']} / {result['inputs_scanned']}",
             f"{result['inputs_scanned']} / {result['inputs_scanned']}"],
            ["MACs", result["macs_reuse"], result["macs_baseline"]],
            ["MACs avoided", f"{result['macs_avoided']:.1%}", "0.0%"],
            ["cycles", result["cycles_reuse"], result["cycles_baseline"]],
        ]
        print(table(rows, ["", "reuse", "baseline"]))
        print(f"\nspeedup (cycles): {result['speedup']:.2f}x")
        print(f"RTL (Amaranth sim) == golden, outputs, counters and {result['trace_events']} "
              f"cycle-stamped events: {'yes' if result['rtl_matches_golden'] else 'NO'}")
        print(f"reuse == full recompute on quantized inputs: "
              f"{'yes' if result['reuse_matches_full_recompute'] else 'NO'}")
    if args.network_frames:
        result["network"] = _network_demo(args, "kaldi-mlp")
        result["lstm_network"] = _network_demo(args, "speech-lstm")
        result["silero_network"] = _network_demo(args, "silero")
        result["video_network"] = _network_demo(args, "video-cnn")
        result["blocked_network"] = _blocked_demo(args)
    if args.speech_frames:
        result["speech"] = _speech_demo(args)
    return result


def _fetch(args, what, load, *a, **kw):
    """``load(*a, **kw)``, or ``{"skipped": reason}`` (printed as one line) when its data
    cannot be fetched."""
    from golden.network.builtin import WorkloadUnavailable
    try:
        return load(*a, **kw)
    except WorkloadUnavailable as e:
        if not args.json:
            print(f"\n{what}: skipped ({e})")
        return {"skipped": str(e)}


def _network_demo(args, name):
    """The layer table: a whole network per frame, on Verilator, checked against golden."""
    from golden.network.builtin import load_network
    from sim.simulate import simulate_network
    loaded = _fetch(args, f"{name} on Verilator", load_network, name, args.network_frames)
    if isinstance(loaded, dict):
        return loaded
    network, frames = loaded
    if not args.json:
        print(f"\n{name} ({network.description}), {len(frames)} frames on the generated "
              f"Verilog (Verilator), every frame's outputs and counters against golden")
    r = simulate_network(network, frames[:args.network_frames], stall=args.stall)
    summary = {k: r[k] for k in ("frames", "mismatches", "cycles_per_frame_mean",
                                 "baseline_cycles_per_frame_mean", "speedup",
                                 "macs_avoided_percent", "cycles_per_second")}
    if not args.json:
        print(f"mismatches {r['mismatches']}; cycles per frame {r['cycles_per_frame_mean']:.0f} "
              f"(baseline engine {r['baseline_cycles_per_frame_mean']:.0f}): RTL speedup "
              f"{r['speedup']:.2f}x, {r['macs_avoided_percent']:.1f}% of MACs avoided; "
              f"{r['cycles_per_second']:,.0f} simulated cycles/s")
    return summary


BLOCKED_BAND_ROWS = 4


def _blocked_demo(args):
    """Blocking: video-conv's 32 x 32 x 16 map on an engine sized for one band, on Verilator."""
    from golden.network.builtin import load_network
    from sim.simulate import simulate_blocked
    frames = min(args.network_frames, 20)
    loaded = _fetch(args, "video-conv blocked on Verilator", load_network, "video-conv", frames)
    if isinstance(loaded, dict):
        return loaded
    network, x = loaded
    if not args.json:
        print(f"\nvideo-conv ({network.description}), blocked in bands of {BLOCKED_BAND_ROWS} "
              f"output rows on an engine sized for one band, {len(x)} frames on the generated "
              f"Verilog (Verilator), every frame and band against golden")
    r = simulate_blocked(network, x, BLOCKED_BAND_ROWS)
    summary = {k: r[k] for k in ("frames", "bands", "mismatches", "cycles_per_frame_mean",
                                 "busy_cycles_per_frame_mean", "main_memory_words_per_frame_mean",
                                 "baseline_cycles_per_frame_mean",
                                 "unblocked_cycles_per_frame_mean", "speedup",
                                 "macs_avoided_percent", "cycles_per_second")}
    summary["engine"] = {k: r["engine"][k] for k in ("max_inputs", "max_outputs")}
    if not args.json:
        print(f"mismatches {r['mismatches']}; {r['bands']} bands, buffers for "
              f"{r['engine']['max_inputs']} of {r['layer_inputs']} inputs; cycles per frame "
              f"{r['cycles_per_frame_mean']:.0f} ({r['busy_cycles_per_frame_mean']:.0f} busy, "
              f"{r['main_memory_words_per_frame_mean']:.0f} main-memory words) against "
              f"{r['baseline_cycles_per_frame_mean']:.0f} for the baseline engine blocked: "
              f"{r['speedup']:.2f}x, {r['macs_avoided_percent']:.1f}% of MACs avoided")
    return summary


def _speech_demo(args):
    """A short whole-network evaluation; a workload that cannot be fetched is one line."""
    from golden.evaluation.evaluate import evaluate
    from golden.network.builtin import build_workload

    from .progress import Progress
    workload = _fetch(args, "Silero VAD on real speech", build_workload, "silero",
                      frames=args.speech_frames)
    if isinstance(workload, dict):
        return workload
    if not args.json:
        print(f"\nSilero VAD v6 on {len(workload.evaluation) * workload.frame_seconds:.1f} s "
              f"of recorded "
              f"speech (policy: reuse from the last layer back within a 1% loss, C = 16)")
    bar = None if args.json else Progress(len(workload.evaluation), "silero")
    r = evaluate(workload, clusters=16, budget=0.01, progress=bar)
    t = r["total"]
    summary = {"frames": r["frames"], "reuse_layers": r["reuse_layers"],
               "macs_avoided": t["macs_avoided"], "speedup": t["speedup"],
               "ideal_speedup": t["ideal_speedup"], "normalized_energy": t["normalized_energy"],
               "agreement_with_reuse": r["accuracy"]["with_reuse"],
               "agreement_without_reuse": r["accuracy"]["without_reuse"],
               "seconds": r["elapsed_seconds"]}
    if not args.json:
        rows = [[l["name"], "yes" if l["reuse_enabled"] else "no",
                 f"{l['input_similarity']:.0%}" if l["reuse_enabled"] else "-",
                 f"{l['computation_reuse']:.0%}", f"{l['speedup']:.2f}x"] for l in r["layers"]]
        print(table(rows, ["layer", "reuse", "input similarity", "MACs avoided", "speedup"]))
        print(f"network: {t['macs_avoided']:.1%} of MACs avoided, speedup {t['speedup']:.2f}x "
              f"(ideal {t['ideal_speedup']:.2f}x), "
              f"energy {t['normalized_energy']:.2f} of baseline; "
              f"decision agreement with float {r['accuracy']['with_reuse']:.1%} "
              f"(integer without reuse {r['accuracy']['without_reuse']:.1%}); "
              f"{r['elapsed_seconds']:.0f} s")
        print("whole-workload reports: deja eval --workload silero | fbank | blazeface")
    return summary
