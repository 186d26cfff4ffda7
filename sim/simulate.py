"""Run a frame sequence on a chosen simulator and report it the same way for all of them.

``simulate(config, layer, weights, bias, frames, simulator=...)`` returns frames, mismatches
(0, or the first one with frame, what, index, expected, got), cycles per frame, counters and
simulated cycles per second. ``amaranth`` runs sim/harness.py in-process; ``verilator`` and
``icarus`` run the cocotb testbench (sim/tb_engine.py) on the generated Verilog. Both compare
against the same golden model and cycle model (:class:`sim.tb_engine.Model`, ``Checker``).
"""

import time

import numpy as np

from golden import Counters, Pattern
from .harness import rtl_run
from .runner import run_case, available, SimulatorMissing, SIMULATORS as COCOTB_SIMULATORS
from .tb_engine import Model, Checker, Frame, pattern_spec, make_pattern

__all__ = ["SIMULATORS", "simulate", "stall_specs", "SimulatorMissing", "check_simulator"]

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


def _amaranth(config, layer, weights, bias, frames, valid_spec, ready_spec, waves):
    if waves is not None and not str(waves).lower().endswith(".vcd"):
        raise ValueError(f"waveform file {waves}: the Amaranth simulator writes .vcd only")
    valid, ready = make_pattern(valid_spec), make_pattern(ready_spec)
    model = Model(config, layer, weights, bias, frames, valid, ready)
    checker = Checker(model.frames)
    start = time.perf_counter()
    got = rtl_run(config, layer, weights, bias, frames, input_valid=valid, output_ready=ready,
                  vcd=waves, trace=True)
    seconds = time.perf_counter() - start
    blocks = layer.blocks(config.lanes)
    beats = [t for t, kind, _, _ in got.trace if kind == "beat"]
    for f in range(len(frames)):
        # the harness itself raises on a wrong o_stream.last, so the flags it saw were right
        checker.frame(Frame(got.outputs[f], got.counters[f], beats[f * blocks:(f + 1) * blocks],
                            [b == blocks - 1 for b in range(blocks)]))
    cycles = beats[-1] + 1 if beats else 0
    return {"frames": checker.received, "mismatches": checker.mismatches,
            "first_mismatch": checker.first, "cycles": cycles, "sim_seconds": seconds,
            "cycles_per_second": cycles / seconds, "cycles_per_frame": checker.cycles,
            "counters": checker.counters, "simulator": "amaranth"}


def simulate(config, layer, weights, bias, frames, *, simulator="verilator", stall=0.0, seed=1,
             waves=None, build_root=None):
    """Run ``frames`` as one sequence on ``simulator``, checked against golden; see module doc."""
    check_simulator(simulator)
    frames = np.asarray(frames, dtype=np.int64)
    valid_spec, ready_spec = stall_specs(stall, seed)
    if simulator == "amaranth":
        report = _amaranth(config, layer, weights, bias, frames, valid_spec, ready_spec, waves)
    else:
        case = {"layer": layer, "weights": weights, "bias": bias,
                "phases": [{"frames": frames, "input_valid": valid_spec,
                            "output_ready": ready_spec}]}
        report = run_case(config, case, simulator, waves=waves, build_root=build_root)
    report["totals"] = {name: int(sum(c[name] for c in report["counters"]))
                        for name in Counters.FIELDS}
    report["failed"] = report["mismatches"] != 0 or report["frames"] != len(frames)
    return report
