"""cocotb testbench of the generated reuse engine Verilog (top level: sim/tb_top.py).

:class:`TB` owns the clock, the reset, the configuration loader and input-stream driver (both
bulk: the whole programme and every input beat are handed to the Verilog stimulus player at
once), the output-stream monitor (wakes once per output frame), a model fed from golden/
(:func:`golden.golden_network_run` and :func:`golden.schedule_network`) and an in-order checker.
Idle and backpressure are :class:`golden.Pattern` generators (none, a fixed cycle, seeded
random), the same objects golden's cycle model reads, materialized into bit patterns for the
player. The design under test runs a network: a list of ``(LayerConfig, weights, bias)`` (one
layer is the one-element list), loaded by :func:`golden.network_writes`.

Every frame is checked for its outputs (the last layer's), its ``o_stream.last`` flags, its ten
performance counters (totals over the layers; cycles and stall cycles included), on engines with
a layer table every layer's counters too, the cycle of every output beat against golden's cycle
model and, on reuse engines, the pre-activation outputs every reuse layer writes to the output
area. The case comes from ``$DEJA_CASE`` (written by sim/runner.py) and the report goes to
``$DEJA_REPORT``; the cocotb test fails on any mismatch.
"""

import dataclasses
import json
import os
import pathlib
import time

import numpy as np

from golden import Counters, EngineConfig, LayerConfig, Pattern, golden_network_run, network_writes
from golden.programme import input_beats

from .tb_top import (
    IN_DEPTH,
    PATTERN_WORDS,
    PERF_DEPTH,
    PERIOD_NS,
    STIMULUS_FILES,
    capture_depth,
    layer_depth,
    tap_depth,
)

__all__ = ["pattern_spec", "make_pattern", "pattern_words", "tapped_layers", "Model", "Checker",
           "Frame", "TB", "PERIOD_NS"]



# ---- idle / backpressure generators --------------------------------------------------------

def pattern_spec(kind, seed=0, probability=0.5, bits=(1, 1, 1, 0)):
    """A JSON-able description of a stream pattern: ``none``, ``fixed`` or ``random``."""
    if kind == "none":
        return {"kind": "none"}
    if kind == "fixed":
        return {"kind": "fixed", "bits": [int(b) for b in bits]}
    if kind == "random":
        return {"kind": "random", "probability": float(probability), "seed": int(seed)}
    raise ValueError(f"pattern kind = {kind!r} is not supported: allowed none, fixed, random")


def make_pattern(spec):
    """The :class:`golden.Pattern` of a spec (``None`` for no bubbles)."""
    kind = (spec or {"kind": "none"})["kind"]
    if kind == "none":
        return None
    if kind == "fixed":
        return Pattern.cycle(spec["bits"])
    return Pattern(spec["probability"], spec["seed"])


def pattern_words(pattern, cycles):
    """Bits 0..cycles-1 of ``pattern`` packed 32 per word, LSB first (empty for no pattern)."""
    if pattern is None:
        return np.zeros(0, dtype=np.uint32)
    words = -(-cycles // 32)
    if words > PATTERN_WORDS:
        raise ValueError(f"{cycles} cycles of stream pattern: "
                         f"the player holds {PATTERN_WORDS * 32}")
    bits = np.fromiter((pattern[t] for t in range(words * 32)), dtype=np.uint64, count=words * 32)
    return (bits.reshape(words, 32) << np.arange(32, dtype=np.uint64)).sum(axis=1).astype(np.uint32)


def _write_hex(path, values, digits):
    path.write_text("".join(f"{int(v):0{digits}x}\n" for v in values))


# ---- model and checker ---------------------------------------------------------------------

@dataclasses.dataclass
class Frame:
    """One frame as seen on the output stream (or as golden expects it)."""
    outputs: np.ndarray
    counters: Counters
    beats: list                 # cycle of each output beat
    lasts: list = None          # o_stream.last of each beat
    preactivations: np.ndarray = None   # output-area writes (reuse engines with the tap)
    layer_counters: list = None         # (layer index, Counters) of each layer (layer tables)


def tapped_layers(engine, layers):
    """Indices of the layers that write the output area (reuse layers on a reuse engine):
    the pre-activation tap sees their blocks, layer after layer, every frame."""
    return [k for k, (layer, _, _) in enumerate(layers) if engine.reuse and layer.reuse]


class Model:
    """Expected frames of a sequence through ``layers``: golden outputs, counters and the
    pre-activations of every tapped layer (concatenated), golden cycle model beats."""

    def __init__(self, engine, layers, frames, input_valid, output_ready):
        layers = list(layers)
        result = golden_network_run(engine, layers, frames, input_valid=input_valid,
                                    output_ready=output_ready, trace=False)
        timing = result.timing
        blocks = layers[-1][0].blocks(engine.lanes)
        tapped = tapped_layers(engine, layers)
        z = (np.concatenate([result.layers[k].preactivations for k in tapped], axis=1)
             if tapped else None)
        self.frames = [Frame(result.outputs[f], result.counters[f], timing.frames[f].beats,
                             [b == blocks - 1 for b in range(blocks)],
                             z[f] if z is not None else None,
                             [(l, r.counters[f]) for l, r in enumerate(result.layers)]
                             if engine.max_layers > 1 else None)
                       for f in range(len(result.counters))]
        self.last_cycle = timing.frames[-1].beats[-1] if self.frames else 0


class Checker:
    """In-order scoreboard: each received frame against the head of the expected queue."""

    def __init__(self, expected):
        self.expected = list(expected)
        self.received = 0
        self.mismatches = 0
        self.first = None
        self.cycles = []            # busy + stall cycles of each frame (DUT counters)
        self.counters = []
        self.layer_counters = []
        self.outputs = []
        self.preactivations = []

    def _fail(self, frame, what, index, expected, got):
        self.mismatches += 1
        if self.first is None:
            self.first = {"frame": frame, "what": what, "index": index,
                          "expected": expected, "got": got}

    def frame(self, got):
        f = self.received
        self.received += 1
        self.cycles.append(got.counters.cycles + got.counters.stall_cycles)
        self.counters.append(got.counters.as_dict())
        if got.layer_counters is not None:
            self.layer_counters.append([c.as_dict() for _, c in got.layer_counters])
        self.outputs.append(got.outputs)
        if got.preactivations is not None:
            self.preactivations.append(got.preactivations)
        if not self.expected:
            self._fail(f, "unexpected frame", None, None, None)
            return
        exp = self.expected.pop(0)
        bad = np.flatnonzero(exp.outputs != got.outputs)
        for o in bad:
            self._fail(f, "output", int(o), int(exp.outputs[o]), int(got.outputs[o]))
        for name in Counters.FIELDS:
            e, g = getattr(exp.counters, name), getattr(got.counters, name)
            if e != g:
                self._fail(f, f"counter {name}", None, int(e), int(g))
        if exp.layer_counters is not None and got.layer_counters is not None:
            for (el, ec), (gl, gc) in zip(exp.layer_counters, got.layer_counters):
                if el != gl:
                    self._fail(f, "layer index", el, el, gl)
                    continue
                for name in Counters.FIELDS:
                    e, g = getattr(ec, name), getattr(gc, name)
                    if e != g:
                        self._fail(f, f"layer {el} counter {name}", None, int(e), int(g))
        for b, (e, g) in enumerate(zip(exp.beats, got.beats)):
            if e != g:
                self._fail(f, "beat cycle", b, int(e), int(g))
        if exp.preactivations is not None and got.preactivations is not None:
            for o in np.flatnonzero(exp.preactivations != got.preactivations):
                self._fail(f, "preactivation", int(o), int(exp.preactivations[o]),
                           int(got.preactivations[o]))
        for b, (e, g) in enumerate(zip(exp.lasts, got.lasts)):
            if e != g:
                self._fail(f, "o_stream.last", b, bool(e), bool(g))


# ---- the testbench -------------------------------------------------------------------------

def _resolved(value):
    """An int, or the bit string when X/Z bits make it unresolvable (four-state simulators)."""
    try:
        return int(value)
    except ValueError:
        return str(value)


def _signed_lanes(word, lanes, width):
    mask, sign = (1 << width) - 1, 1 << (width - 1)
    values = []
    for _ in range(lanes):
        v = word & mask
        values.append(v - (1 << width) if v & sign else v)
        word >>= width
    return values


class TB:
    """Testbench of ``deja_tb_top`` (which generates its own clock): reset, loaders, driver,
    monitor, model, checker."""

    def __init__(self, dut, engine, workdir="."):
        import cocotb
        self.dut = dut
        self.engine = engine
        self.workdir = pathlib.Path(workdir)
        self.cap = capture_depth(engine)
        self.tap_cap = tap_depth(engine)
        self.layer_cap = layer_depth(engine)
        self.log = dut._log
        for name in ("rst", "load", "go"):
            getattr(dut, name).value = 0
        for name in ("n_cfg", "n_in", "n_valid_words", "n_ready_words"):
            getattr(dut, name).value = 0
        try:
            self.z_tap = dut.cap_z
        except AttributeError:
            self.z_tap = None
        self._cocotb = cocotb

    async def cycles(self, n):
        from cocotb.triggers import ClockCycles
        await ClockCycles(self.dut.clk, n)

    async def reset(self, cycles=2):
        self.dut.rst.value = 1
        await self.cycles(cycles)
        self.dut.rst.value = 0
        await self.cycles(1)

    async def load(self, layers, frames, valid_words, ready_words, flip_last=()):
        """Bulk-load the configuration programme, the input beats (``flip_last``: beat numbers
        whose ``last`` bit is inverted) and both stream patterns."""
        e = self.engine
        writes = network_writes(e, layers)
        n_inputs = layers[0][0].x_inputs           # inputs per frame on the input stream
        beats = input_beats(e, np.asarray(frames, dtype=np.int64).reshape(-1, n_inputs))
        if len(beats) > IN_DEPTH:
            raise ValueError(f"{len(beats)} input beats: the player holds {IN_DEPTH}")
        for k in flip_last:
            beats[k] ^= 1 << e.scan_width * e.act_width
        dw, aw = e.cfg_data_width, e.cfg_addr_width
        w = self.workdir
        _write_hex(w / STIMULUS_FILES["cfg"], ((a << dw) | d for a, d in writes),
                   -(-(aw + dw) // 4))
        _write_hex(w / STIMULUS_FILES["in"], beats, -(-(e.scan_width * e.act_width + 1) // 4))
        _write_hex(w / STIMULUS_FILES["valid"], valid_words.tolist() or [0], 8)
        _write_hex(w / STIMULUS_FILES["ready"], ready_words.tolist() or [0], 8)
        self.programme_length = len(writes)
        self.dut.n_cfg.value = len(writes)
        self.dut.n_in.value = len(beats)
        self.dut.n_valid_words.value = len(valid_words)
        self.dut.n_ready_words.value = len(ready_words)
        self.dut.load.value = 1
        await self.cycles(1)
        self.dut.load.value = 0
        await self.cycles(1)

    async def go(self):
        self.dut.go.value = 1
        await self.cycles(1)
        self.dut.go.value = 0

    async def monitor(self, layers, checker, n_frames, done):
        """Output monitor: per completed output frame, read its beats, its counters and the
        output-area writes of its tapped layers."""
        dut, e = self.dut, self.engine
        layer = layers[-1][0]
        blocks, lanes, width = layer.blocks(e.lanes), e.lanes, e.act_width
        data_bits = lanes * width
        tapped = [layers[k][0] for k in tapped_layers(e, layers)]
        z_blocks = sum(l.blocks(lanes) for l in tapped)
        seen = 0
        while seen < n_frames:
            await dut.out_frames.value_change
            ready = int(dut.out_frames.value)
            while seen < ready:
                first = seen * blocks
                values, beats, lasts = [], [], []
                for k in range(first, first + blocks):
                    word = dut.cap_data[k % self.cap].value.to_unsigned()
                    values.extend(_signed_lanes(word, lanes, width))
                    lasts.append(bool(word >> data_bits))
                    beats.append(int(dut.cap_t[k % self.cap].value))
                perf = dut.perf_mem[seen % PERF_DEPTH].value.to_unsigned()
                counters = Counters.from_word(perf)
                z = None
                if self.z_tap is not None and tapped:
                    k = seen * z_blocks
                    z = []
                    for l in tapped:
                        layer_z = []
                        for _ in range(l.blocks(lanes)):
                            word = self.z_tap[k % self.tap_cap].value.to_unsigned()
                            layer_z.extend(_signed_lanes(word, lanes, e.acc_width))
                            k += 1
                        z.extend(layer_z[:l.outputs])
                    z = np.array(z, dtype=np.int64)
                per_layer = None
                if e.max_layers > 1:
                    per_layer = []
                    for k in range(seen * len(layers), (seen + 1) * len(layers)):
                        word = dut.layer_mem[k % self.layer_cap].value.to_unsigned()
                        per_layer.append((word >> (32 * len(Counters.FIELDS)),
                                          Counters.from_word(word)))
                checker.frame(Frame(np.array(values[:layer.outputs], dtype=np.int64), counters,
                                    beats, lasts, z, per_layer))
                seen += 1
        done.set()

    async def framing_watch(self, seen):
        """Record the input beats accepted (``sent``) when ``framing_error`` first rises."""
        while not int(self.dut.framing_error.value):
            await self.dut.framing_error.value_change
        seen.append(int(self.dut.sent.value))

    async def run_phase(self, layers, frames, input_valid=None, output_ready=None,
                        reset_after=None, inject=None, flip_last=()):
        """One sequence through ``layers``: load, go, check every frame; returns ``(checker,
        cycles, seconds)``.

        With ``reset_after = (k, extra)``, reset is asserted ``extra`` cycles after the k-th
        frame's counters appear (mid-frame), and only the frames received until then are checked.
        ``flip_last`` inverts the ``last`` bit of those input beats; the beats accepted when
        ``framing_error`` rose are then in ``checker.framing``.
        ``inject`` (tests of the testbench itself) makes the DUT see something other than the
        model: ``{"bias": (o, delta)}`` adds delta to bias o of the first layer (``(o, delta,
        l)``: of layer l), ``{"output_ready": spec}`` replaces the DUT's backpressure pattern.
        """
        from cocotb.triggers import Event, SimTimeoutError, with_timeout
        inject = inject or {}
        layers = [(layer, np.asarray(w, dtype=np.int64), np.array(b, dtype=np.int64))
                  for layer, w, b in layers]
        model = Model(self.engine, layers, frames, input_valid, output_ready)
        horizon = model.last_cycle + 64
        dut_layers = list(layers)
        if "bias" in inject:
            o, delta, l = (list(inject["bias"]) + [0])[:3]
            layer, w, b = dut_layers[l]
            b = b.copy()
            b[o] += delta
            dut_layers[l] = (layer, w, b)
        dut_ready = output_ready
        if "output_ready" in inject:
            dut_ready = make_pattern(inject["output_ready"])
        await self.load(dut_layers, frames, pattern_words(input_valid, horizon),
                        pattern_words(dut_ready, horizon), flip_last)
        checker = Checker(model.frames)
        checker.framing = []
        watch = self._cocotb.start_soon(self.framing_watch(checker.framing))
        done = Event()
        n_frames = len(frames) if reset_after is None else reset_after[0]
        monitor = self._cocotb.start_soon(self.monitor(layers, checker, len(frames), done))
        start = time.perf_counter()
        await self.go()
        timed_out = False
        budget = self.programme_length + 2 * horizon + 1000
        if reset_after is None:
            try:
                await with_timeout(done.wait(), budget * PERIOD_NS, "ns")
            except SimTimeoutError:
                timed_out = True
        else:
            async def reach():
                while int(self.dut.perf_frames.value) < n_frames:
                    await self.dut.perf_frames.value_change
            try:
                await with_timeout(reach(), budget * PERIOD_NS, "ns")
            except SimTimeoutError:
                timed_out = True
            await self.cycles(reset_after[1])
        cycles = int(self.dut.t.value)
        seconds = time.perf_counter() - start
        monitor.cancel()
        if not watch.done():
            watch.cancel()
        if timed_out:
            state = {name: _resolved(getattr(self.dut, name).value)
                     for name in ("t", "sent", "beats", "out_frames", "perf_frames", "frames")}
            checker._fail(checker.received, f"timeout ({state})", None, n_frames,
                          checker.received)
        if reset_after is not None:
            checker.framing_before_reset = int(self.dut.framing_error.value)
            await self.reset()
            checker.expected = []           # frames cut off by the reset are not expected
        else:
            if int(self.dut.framing_error.value):
                checker._fail(None, "framing_error", None, 0, 1)
        return checker, cycles, seconds


def _load_case(path):
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        arrays = {k: z[k] for k in z.files if k != "meta"}
    return meta, arrays


async def _engine_sequence(dut):
    """Run every phase of the case and write the report; fail on any mismatch."""
    meta, arrays = _load_case(os.environ["DEJA_CASE"])
    engine = EngineConfig.from_dict(meta["engine"])
    layers = [(LayerConfig.from_dict(d), arrays[f"weights{k}"], arrays[f"bias{k}"])
              for k, d in enumerate(meta["layers"])]
    outputs = layers[-1][0].outputs
    z_width = sum(layers[k][0].outputs for k in tapped_layers(engine, layers))
    tb = TB(dut, engine, workdir=pathlib.Path(os.environ["DEJA_CASE"]).parent)
    await tb.reset()
    report = {"phases": [], "frames": 0, "mismatches": 0, "first_mismatch": None,
              "cycles": 0, "sim_seconds": 0.0, "cycles_per_frame": [], "counters": [],
              "layer_counters": []}
    received = {}
    for k, phase in enumerate(meta["phases"]):
        checker, cycles, seconds = await tb.run_phase(
            layers, arrays[f"frames{k}"],
            make_pattern(phase.get("input_valid")), make_pattern(phase.get("output_ready")),
            phase.get("reset_after"), phase.get("inject"), phase.get("flip_last", ()))
        report["phases"].append({"frames": checker.received, "mismatches": checker.mismatches,
                                 "first_mismatch": checker.first, "cycles": cycles,
                                 "expected_left": len(checker.expected),
                                 "framing_error_sent": checker.framing[:1] or None,
                                 "framing_error_before_reset": getattr(
                                     checker, "framing_before_reset", None)})
        report["frames"] += checker.received
        report["mismatches"] += checker.mismatches
        if checker.first and report["first_mismatch"] is None:
            report["first_mismatch"] = dict(checker.first, phase=k)
        report["cycles"] += cycles
        report["sim_seconds"] += seconds
        report["cycles_per_frame"].extend(checker.cycles)
        report["counters"].extend(checker.counters)
        report["layer_counters"].extend(checker.layer_counters)
        tb.log.info("phase %d: %d frames, %d mismatches, %d cycles in %.3f s", k,
                    checker.received, checker.mismatches, cycles, seconds)
        received[f"out{k}"] = np.array(checker.outputs, dtype=np.int64).reshape(-1, outputs)
        received[f"z{k}"] = (np.array(checker.preactivations, dtype=np.int64).reshape(-1, z_width)
                             if z_width else np.zeros((checker.received, 0), dtype=np.int64))
    np.savez(pathlib.Path(os.environ["DEJA_REPORT"]).with_suffix(".npz"), **received)
    report["preactivation_tap"] = tb.z_tap is not None
    report["cycles_per_second"] = report["cycles"] / max(report["sim_seconds"], 1e-9)
    pathlib.Path(os.environ["DEJA_REPORT"]).write_text(json.dumps(report))
    assert report["mismatches"] == 0, f"first mismatch: {report['first_mismatch']}"
    assert all(p["expected_left"] == 0 for p in report["phases"]), "frames were never received"


try:        # the test exists only inside a cocotb simulation
    import cocotb
    if cocotb.is_simulation:
        engine_sequence = cocotb.test()(_engine_sequence)
except ImportError:
    pass
