"""Run a frame sequence on a chosen simulator and report it the same way for all of them.

``simulate(config, layer, weights, bias, frames, simulator=...)`` (one layer) and
``simulate_layers(config, layers, frames, simulator=...)`` (a list of ``(LayerConfig, weights,
bias)``) return frames, mismatches (0, or the first one with frame, what, index, expected,
got), cycles per frame, counters (per frame, totals over the layers) and simulated cycles per
second. ``amaranth`` runs sim/harness.py in-process; ``verilator`` and
``icarus`` run the cocotb testbench (sim/tb_engine.py) on the generated Verilog. Both compare
against the same golden model and cycle model (:class:`sim.tb_engine.Model`, ``Checker``).
"""

import time

import numpy as np

from golden import Counters

from .harness import rtl_network_run
from .runner import SIMULATORS as COCOTB_SIMULATORS
from .runner import SimulatorMissing, available, run_case
from .tb_engine import Checker, Frame, Model, make_pattern, pattern_spec

__all__ = ["SIMULATORS", "simulate", "simulate_layers", "simulate_network",
           "simulate_blocked", "stall_specs", "SimulatorMissing", "check_simulator"]

SIMULATORS = ("amaranth",) + COCOTB_SIMULATORS


def stall_specs(stall, seed):
    """Seeded random bubbles (input) and backpressure (output) with probability ``stall``."""
    if not stall:
        return pattern_spec("none"), pattern_spec("none")
    return (pattern_spec("random", seed, 1 - stall), pattern_spec("random", seed + 1, 1 - stall))


def check_simulator(simulator):
    """Raise :class:`SimulatorMissing` (one line) unless ``simulator`` can run here."""
    if simulator not in SIMULATORS:
        raise SimulatorMissing(f"simulator = {simulator!r} is not supported: allowed "
                               f"{', '.join(SIMULATORS)}")
    if simulator != "amaranth":
        ok, reason = available(simulator)
        if not ok:
            raise SimulatorMissing(reason)


def _amaranth(config, layers, frames, valid_spec, ready_spec, waves):
    if waves is not None and not str(waves).lower().endswith(".vcd"):
        raise ValueError(f"waveform file {waves}: the Amaranth simulator writes .vcd only")
    valid, ready = make_pattern(valid_spec), make_pattern(ready_spec)
    model = Model(config, layers, frames, valid, ready)
    checker = Checker(model.frames)
    start = time.perf_counter()
    got = rtl_network_run(config, layers, frames, input_valid=valid, output_ready=ready,
                          vcd=waves, trace=True)
    seconds = time.perf_counter() - start
    blocks = layers[-1][0].blocks(config.lanes)
    beats = [t for t, kind, _, _ in got.trace if kind == "beat"]
    for f in range(len(frames)):
        # the harness itself raises on a wrong o_stream.last, so the flags it saw were right
        per_layer = ([(l, r.counters[f]) for l, r in enumerate(got.layers)]
                     if config.max_layers > 1 else None)
        checker.frame(Frame(got.outputs[f], got.counters[f], beats[f * blocks:(f + 1) * blocks],
                            [b == blocks - 1 for b in range(blocks)], None, per_layer))
    cycles = beats[-1] + 1 if beats else 0
    return {"frames": checker.received, "mismatches": checker.mismatches,
            "first_mismatch": checker.first, "cycles": cycles, "sim_seconds": seconds,
            "cycles_per_second": cycles / seconds, "cycles_per_frame": checker.cycles,
            "counters": checker.counters, "layer_counters": checker.layer_counters,
            "simulator": "amaranth"}


def _check_player_capacity(config, layers, frames, valid_spec, ready_spec):
    """The Verilog stimulus player holds IN_DEPTH input beats and PATTERN_WORDS * 32 cycles of
    stall pattern: refuse longer sequences here, with one line, not inside the simulator."""
    from .runner import SimulationError
    from .tb_top import IN_DEPTH, PATTERN_WORDS
    if frames.size > IN_DEPTH:
        raise SimulationError(f"{len(frames)} frames of {layers[0][0].x_inputs} inputs: "
                              f"the Verilog stimulus player holds {IN_DEPTH} input beats (at most "
                              f"{IN_DEPTH // layers[0][0].x_inputs} frames)")
    if valid_spec["kind"] != "none" or ready_spec["kind"] != "none":
        horizon = Model(config, layers, frames, make_pattern(valid_spec),
                        make_pattern(ready_spec)).last_cycle + 64
        if horizon > PATTERN_WORDS * 32:
            raise SimulationError(f"{len(frames)} frames with stalls take {horizon} cycles: the "
                                  f"Verilog stimulus player holds {PATTERN_WORDS * 32} cycles of "
                                  f"stall pattern (use fewer frames)")


def simulate(config, layer, weights, bias, frames, **options):
    """Run ``frames`` as one sequence through one layer on a simulator; see module doc."""
    return simulate_layers(config, [(layer, weights, bias)], frames, **options)


def simulate_layers(config, layers, frames, *, simulator="verilator", stall=0.0, seed=1,
                    waves=None, build_root=None):
    """Run ``frames`` (F x N of the first layer) as one sequence through the network ``layers``
    on ``simulator``, checked against golden; see module doc."""
    check_simulator(simulator)
    frames = np.asarray(frames, dtype=np.int64)
    layers = list(layers)
    valid_spec, ready_spec = stall_specs(stall, seed)
    if simulator == "amaranth":
        report = _amaranth(config, layers, frames, valid_spec, ready_spec, waves)
    else:
        _check_player_capacity(config, layers, frames, valid_spec, ready_spec)
        case = {"layers": layers,
                "phases": [{"frames": frames, "input_valid": valid_spec,
                            "output_ready": ready_spec}]}
        report = run_case(config, case, simulator, waves=waves, build_root=build_root)
    report["totals"] = {name: int(sum(c[name] for c in report["counters"]))
                        for name in Counters.FIELDS}
    report["failed"] = report["mismatches"] != 0 or report["frames"] != len(frames)
    return report


def simulate_network(network, frames, config=None, **options):
    """:func:`simulate_layers` of a :class:`golden.network.engine_network.EngineNetwork`, with
    the figures of ``deja sim --network``: RTL cycles per frame against the golden cycle model's
    baseline (the same network on ``config.replace(reuse=False)``, same stall patterns), the RTL
    speedup, MACs avoided and frames per wall-clock second. ``config`` defaults to
    ``network.engine_config()``; ``options`` are those of :func:`simulate_layers`.
    """
    from golden import golden_network_run
    config = config or network.engine_config()
    frames = np.asarray(frames, dtype=np.int64)
    layers = list(network.layers)
    report = simulate_layers(config, layers, frames, **options)
    valid, ready = (make_pattern(spec) for spec in stall_specs(options.get("stall", 0.0),
                                                                options.get("seed", 1)))
    baseline = golden_network_run(config.replace(reuse=False), layers, frames,
                                  input_valid=valid, output_ready=ready, trace=False)
    base_cycles = [c.cycles + c.stall_cycles for c in baseline.counters]
    base_macs = sum(c.macs for c in baseline.counters)
    cycles = report["cycles_per_frame"]
    n = max(report["frames"], 1)
    report.update(
        network=network.name,
        layers=[layer.to_dict() for layer, _, _ in layers],
        shape="-".join([str(network.inputs)] + [_layer_shape(l) for l, _, _ in layers]),
        cycles_per_frame_mean=float(np.mean(cycles)) if cycles else None,
        baseline_cycles_per_frame=base_cycles,
        baseline_cycles_per_frame_mean=float(np.mean(base_cycles)),
        speedup=(sum(base_cycles[:len(cycles)]) / sum(cycles)) if cycles else None,
        baseline_macs=base_macs,
        macs_avoided=1 - report["totals"]["macs"] / base_macs if base_macs else 0.0,
        frames_per_second=report["frames"] / max(report["sim_seconds"], 1e-9))
    report["macs_avoided_percent"] = 100 * report["macs_avoided"]
    if report.get("layer_counters"):
        report["layer_totals"] = [
            {name: int(sum(frame[l][name] for frame in report["layer_counters"]))
             for name in Counters.FIELDS} for l in range(len(layers))]
    if "wall_seconds" in report:
        report["frames_per_second_process"] = n / max(report["wall_seconds"], 1e-9)
    return report


def _layer_shape(layer):
    """A layer in a network's shape string: FC outputs, ``lstm``H, ``conv``F``x``P (filters x
    positions, ``|mag`` with the magnitude unit)."""
    if layer.kind == "lstm":
        return f"lstm{layer.hidden}"
    if layer.kind == "conv":
        return f"conv{layer.filters}x{layer.positions}" + (
            "|mag" if layer.activation == "magnitude" else "")
    return str(layer.outputs)


def simulate_blocked(network, frames, rows, config=None, *, simulator="verilator",
                     build_root=None):
    """Run ``network`` (one conv layer) blocked in bands of ``rows`` output rows
    (golden/blocking.py) on ``simulator``, on an engine sized for one band
    (:func:`golden.blocking.band_engine` unless ``config``), and check every frame against
    golden: its outputs, its pre-activations (reuse), and each band's counters (stalls
    excepted: they include the host's transfers) and main-memory words. Reports the frame's
    cycles (the bands' busy cycles, the transfers and configuration writes, one word per cycle)
    against the baseline engine's blocked run (no transfers: it keeps no state) and against
    the unblocked layer on an engine that holds it whole."""
    from golden import golden_network_run
    from golden.blocking import Traffic, band_engine, blocked_conv_run, blocked_layer

    from .harness import rtl_blocked_run
    from .runner import run_blocked
    check_simulator(simulator)
    layer, weights, bias = blocked_layer(network)
    config = config or band_engine(network, rows)
    frames = np.asarray(frames, dtype=np.int64)
    expected = blocked_conv_run(config, layer, weights, bias, frames, rows)
    if simulator == "amaranth":
        start = time.perf_counter()
        host = rtl_blocked_run(config, layer, weights, bias, frames, rows)
        seconds = time.perf_counter() - start
        report = {**host.arrays(), "cycles": host.cycles, "sim_seconds": seconds,
                  "cycles_per_second": host.cycles / max(seconds, 1e-9), "simulator": simulator}
    else:
        report = run_blocked(config, layer, weights, bias, frames, rows, simulator,
                             build_root=build_root)
    reuse = config.reuse and layer.reuse
    want = expected.arrays()
    # stall cycles include the host's transfers: the engine's counters but those
    counted = [k for k, name in enumerate(Counters.FIELDS) if name != "stall_cycles"]
    checks = [("outputs", lambda a, f: a["outputs"][f]),
              ("counters", lambda a, f: a["counters"][f][:, counted]),
              ("main-memory words", lambda a, f: a["traffic"][f])]
    if reuse:
        checks.insert(1, ("preactivations", lambda a, f: a["preactivations"][f]))
    mismatches, first = 0, None
    for f in range(len(frames)):
        wrong = [what for what, part in checks
                 if not np.array_equal(part(report, f), part(want, f))]
        if wrong:
            mismatches += 1
            first = first or {"frame": f, "what": wrong[0]}
    baseline = blocked_conv_run(config.replace(reuse=False, blocking=False), layer, weights,
                                bias, frames, rows)
    whole = network.engine_config(lanes=config.lanes)
    unblocked = golden_network_run(whole, [(layer, weights, bias)], frames, trace=False)

    def per_frame(name, table="counters", fields=Counters.FIELDS):
        """The RTL run's ``name`` summed over each frame's bands."""
        return report[table][:, :, fields.index(name)].sum(axis=1)

    # the RTL's: its bands' busy cycles, and one cycle per word moved or configuration write
    cycles = (per_frame("cycles") + report["traffic"].sum(axis=(1, 2))).tolist()
    base_cycles = [baseline.frame_cycles(f) for f in range(len(frames))]
    macs = int(per_frame("macs").sum())
    base_macs = sum(c.macs for frame in baseline.counters for c in frame)
    words = report["traffic"].sum(axis=(1, 2)) - per_frame("config_writes", "traffic",
                                                           Traffic.FIELDS)
    return {
        "network": network.name, "layer": layer.to_dict(), "engine": config.to_dict(),
        "simulator": report["simulator"], "frames": len(frames), "band_rows": rows,
        "bands": len(expected.bands), "mismatches": mismatches, "first_mismatch": first,
        "cycles_per_frame": cycles, "cycles_per_frame_mean": float(np.mean(cycles)),
        "busy_cycles_per_frame_mean": float(per_frame("cycles").mean()),
        "host_cycles_per_frame": [int(c) for c in report["frame_cycles"]],
        "baseline_cycles_per_frame_mean": float(np.mean(base_cycles)),
        "unblocked_cycles_per_frame_mean": float(np.mean([c.cycles
                                                          for c in unblocked.counters])),
        "speedup": sum(base_cycles) / max(sum(cycles), 1),
        "macs_avoided_percent": 100 * (1 - macs / base_macs) if base_macs else 0.0,
        "macs": macs, "unblocked_macs": sum(c.macs for c in unblocked.counters),
        "main_memory_words_per_frame_mean": float(np.mean(words)),
        "inputs_scanned_per_frame": int(per_frame("inputs_scanned")[0]),
        "layer_inputs": layer.inputs,
        "cycles": int(report["cycles"]), "sim_seconds": report["sim_seconds"],
        "cycles_per_second": report["cycles_per_second"],
        "frames_per_second": len(frames) / max(report["sim_seconds"], 1e-9),
        "failed": mismatches != 0 or len(report["outputs"]) != len(frames),
        **{k: report[k] for k in ("build_seconds", "build_cached") if k in report},
    }
