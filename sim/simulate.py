"""Run a frame sequence on a chosen simulator and report it the same way for all of them.

``simulate(config, layer, weights, bias, frames, simulator=...)`` (one layer) and
``simulate_network(config, layers, frames, simulator=...)`` (a list of ``(LayerConfig, weights,
bias)``) return frames, mismatches (0, or the first one with frame, what, index, expected,
got), cycles per frame, counters (per frame, totals over the layers) and simulated cycles per
second. ``amaranth`` runs sim/harness.py in-process; ``verilator`` and
``icarus`` run the cocotb testbench (sim/tb_engine.py) on the generated Verilog. Both compare
against the same golden model and cycle model (:class:`sim.tb_engine.Model`, ``Checker``).
"""

import time

import numpy as np

from golden import Counters, Pattern
from .harness import rtl_network_run
from .runner import run_case, available, SimulatorMissing, SIMULATORS as COCOTB_SIMULATORS
from .tb_engine import Model, Checker, Frame, pattern_spec, make_pattern

__all__ = ["SIMULATORS", "simulate", "simulate_network", "simulate_fc_network", "stall_specs",
           "SimulatorMissing", "check_simulator"]

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
    from .tb_top import IN_DEPTH, PATTERN_WORDS
    from .runner import SimulationError
    if frames.size > IN_DEPTH:
        raise SimulationError(f"{len(frames)} frames of {layers[0][0].x_inputs} inputs: the Verilog "
                              f"stimulus player holds {IN_DEPTH} input beats (at most "
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
    return simulate_network(config, [(layer, weights, bias)], frames, **options)


def simulate_network(config, layers, frames, *, simulator="verilator", stall=0.0, seed=1,
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


def simulate_fc_network(network, frames, config=None, **options):
    """:func:`simulate_network` of a :class:`golden.fc_network.FCNetwork`, with the figures of
    ``deja sim --network``: RTL cycles per frame against the golden cycle model's baseline
    (the same network on ``config.replace(reuse=False)``, same stall patterns), the RTL speedup,
    MACs avoided and frames per wall-clock second. ``config`` defaults to
    ``network.engine_config()``; ``options`` are those of :func:`simulate_network`.
    """
    from golden import golden_network_run
    config = config or network.engine_config()
    frames = np.asarray(frames, dtype=np.int64)
    layers = list(network.layers)
    report = simulate_network(config, layers, frames, **options)
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
        report["layer_totals"] = [{name: int(sum(frame[l][name] for frame in report["layer_counters"]))
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
