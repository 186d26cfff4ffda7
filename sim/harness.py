"""Run the reuse engine in Amaranth's simulator like a function, with golden's result type.

``rtl_run(config, layer, weights, bias, frames)`` (or ``rtl_network_run(config, layers,
frames)`` for a network of ``(layer, weights, bias)``) loads the layers through the
configuration port, pulses start-of-sequence, streams the frames in (with the bubbles of
``input_valid``), drains the outputs (with the backpressure of ``output_ready``), and returns a
:class:`golden.RunResult` whose trace is sampled from the DUT's own memory ports. Comparing it
with :func:`golden.golden_run` on the same patterns is the cycle-by-cycle check.

``interrupted`` runs sequences before that one, each cut by a reset at a chosen cycle (in the
configuration writes, the scan, the correct phase, a layer switch), optionally with input beats
whose ``last`` is wrong: what the engine does after a reset is then checked like any run.
"""

import numpy as np
from amaranth.hdl import ClockDomain, Module, Value
from amaranth.sim import Simulator

from golden import Counters, Pattern, RunResult, network_writes
from golden.programme import input_beats
from hw import ReuseEngine

from .blocked_host import BlockedHost, configure, unpack_lanes

__all__ = ["rtl_run", "rtl_network_run", "rtl_blocked_run", "SimulationTimeout",
           "unpack_lanes"]


class SimulationTimeout(RuntimeError):
    pass


def _counters(ctx, perf):
    return Counters(**{name: ctx.get(getattr(perf, name)) for name in Counters.FIELDS})


def rtl_run(config, layer, weights, bias, frames, **options):
    """Simulate ``frames`` (F x N) as one sequence on the RTL of ``config``; see module doc."""
    return rtl_network_run(config, [(layer, weights, bias)], frames, **options)


def rtl_network_run(config, layers, frames, *, input_valid=None, output_ready=None, vcd=None,
                    trace=True, max_cycles=None, block_ram_slices=False, interrupted=()):
    """Simulate ``frames`` (F x N of the first layer) through a network; see module doc.
    ``block_ram_slices`` simulates the ECP5 flow's netlist (hw.ReuseEngine).

    ``interrupted`` is a list of dicts, each a sequence run first and cut by a reset:
    ``layers``, ``frames``, ``reset_at`` (the cycle, counted from its first configuration
    write, in which reset is asserted for one cycle) and optionally ``flip_last`` (input beat
    numbers whose ``last`` bit is inverted) and ``cut_by_reset`` (False: no reset, the next
    sequence follows directly). Its configuration, start strobe and streams are
    played as for the checked sequence (same stall patterns, t = 0 the cycle after start).
    The harness adds to each dict ``accepted`` (the cycle t each input beat was accepted),
    ``framing_error`` (the cycle t at whose end the flag first rose, or None; -1 if it rose
    in the configuration) and ``framing_error_dropped`` (True if it fell again before the
    reset), and ``framing_error_after_reset``."""
    writes = network_writes(config, layers)
    first_layer, layer = layers[0][0], layers[-1][0]
    frames = np.asarray(frames, dtype=np.int64).reshape(-1, first_layer.x_inputs)
    valid = input_valid or Pattern.always()
    ready = output_ready or Pattern.always()
    lanes, n_frames = config.lanes, len(frames)
    blocks = layer.blocks(lanes)
    words = layer.result_words(lanes)         # output beats per frame
    # the last layer's blocks in the output area (layers are placed one after another)
    last_block_base = sum(l.blocks(lanes) for l, _, _ in layers[:-1])
    if max_cycles is None:
        worst = sum(l.inputs + 16 + l.blocks(lanes) * (l.inputs + 2) + 8 for l, _, _ in layers)
        max_cycles = 64 + n_frames * worst * 40

    dut = ReuseEngine(config, block_ram_slices=block_ram_slices)
    top, sync = dut, None
    if interrupted:             # an explicit clock domain: its reset is the testbench's
        top = Module()
        top.domains.sync = sync = ClockDomain("sync")
        top.submodules.engine = dut
    multi = config.max_layers > 1
    layer_counters = [[] for _ in layers]
    result = RunResult(np.zeros((n_frames, layer.results), dtype=np.int64),
                       np.zeros((n_frames, layer.outputs), dtype=np.int64), [], [])
    events = result.trace

    beats_in = input_beats(config, frames)

    async def testbench(ctx):
        for run in interrupted:
            await _interrupted_run(ctx, dut, sync.rst, config, run, valid, ready)
        await configure(_AmaranthPins(ctx, dut), writes)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)

        io = dut.io_buffer
        taps = []
        if trace and config.reuse:
            taps = [("index_write", io.index_write, 1, config.index_width, False),
                    ("output_write", io.output_write, lanes, config.acc_width, True)]
        block_mask = (1 << io.block_bits) - 1
        player = _InputPlayer(dut, beats_in)
        out_payload = dut.o_stream.payload.as_value()
        out_data_bits = lanes * config.act_width
        t, beats, frames_seen, layers_seen = 0, 0, 0, 0
        total_beats = n_frames * words
        outputs = np.zeros((n_frames, words * lanes), dtype=np.int64)
        while beats < total_beats:
            if t >= max_cycles:
                raise SimulationTimeout(f"no progress after {t} cycles: {player.sent} inputs sent, "
                                        f"{beats} of {total_beats} output beats received")
            player.step(ctx, valid[t])
            ctx.set(dut.o_stream.ready, ready[t])
            for kind, port, n, width, signed in taps:
                enable = ctx.get(port.en)
                if enable and kind == "index_write" and io.index_lanes > 1:
                    # a word of index_lanes indices, the lanes of its enable written: index
                    # word * index_lanes + lane
                    values = unpack_lanes(ctx.get(Value.cast(port.data)), io.index_lanes, width,
                                          signed)
                    events.extend((t, kind, ctx.get(port.addr) * io.index_lanes + lane,
                                   (values[lane],))
                                  for lane in range(io.index_lanes) if enable >> lane & 1)
                elif enable:
                    events.append((t, kind, ctx.get(port.addr),
                                   unpack_lanes(ctx.get(Value.cast(port.data)), n, width, signed)))
            if trace and ctx.get(io.bank_write.en):
                address = ctx.get(io.bank_write.addr)
                if address >> io.block_bits >= 2:         # a hidden bank: a layer's outputs
                    events.append((t, "bank_write", address & block_mask, unpack_lanes(
                        ctx.get(Value.cast(io.bank_write.data)), lanes, config.act_width)))
            if ctx.get(dut.o_stream.valid) and ready[t]:
                word = ctx.get(out_payload)
                values = unpack_lanes(word, lanes, config.act_width)
                f, b = divmod(beats, words)
                outputs[f, b * lanes:(b + 1) * lanes] = values
                if trace:
                    events.append((t, "beat", b, values))
                if bool(word >> out_data_bits) != (b == words - 1):
                    raise AssertionError(f"frame {f} block {b}: o_stream.last is wrong")
                beats += 1
            if multi:
                done = ctx.get(dut.layers_done)
                if done != layers_seen:
                    layer_counters[ctx.get(dut.layer_index)].append(
                        _counters(ctx, dut.layer_perf))
                    layers_seen = done
            frames_done = ctx.get(dut.frames)
            if frames_done != frames_seen:
                result.counters.append(_counters(ctx, dut.perf))
                frames_seen = frames_done
            await ctx.tick()
            t += 1
        if ctx.get(dut.framing_error):
            raise AssertionError("framing_error is set")
        result.outputs[:] = outputs[:, :layer.results]
        if trace and config.reuse:
            # the output area is written once per block per frame, in order
            stored = [values for _, kind, address, values in sorted(events)
                      if kind == "output_write" and address >= last_block_base]
            if stored:      # the last layer reuses
                z = np.array(stored, dtype=np.int64).reshape(n_frames, blocks * lanes)
                result.preactivations[:] = z[:, :layer.outputs]

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    if vcd:
        with sim.write_vcd(str(vcd)):
            sim.run()
    else:
        sim.run()
    events.sort()
    if multi:
        empty = np.zeros((n_frames, 0), dtype=np.int64)
        result.layers = [RunResult(empty, empty, counters) for counters in layer_counters]
    return result


class _InputPlayer:
    """Plays input beats in order: each is presented when the valid pattern allows and held
    until the engine accepts it."""

    def __init__(self, dut, beats):
        self.dut, self.beats = dut, beats
        self.payload = dut.i_stream.payload.as_value()
        self.sent, self.pending = 0, False

    def step(self, ctx, allowed):
        """Drive this cycle's input; True if a beat is accepted in it."""
        if not self.pending and self.sent < len(self.beats) and allowed:
            self.pending = True
            ctx.set(self.payload, self.beats[self.sent])
        ctx.set(self.dut.i_stream.valid, self.pending)
        if self.pending and ctx.get(self.dut.i_stream.ready):
            self.pending = False
            self.sent += 1
            return True
        return False


async def _interrupted_run(ctx, dut, reset, config, run, valid, ready):
    """One sequence of ``rtl_network_run``'s ``interrupted``, cut by a reset (see there)."""
    writes = network_writes(config, run["layers"])
    first = run["layers"][0][0]
    beats = input_beats(config, np.asarray(run["frames"], np.int64).reshape(-1, first.x_inputs))
    last_bit = 1 << config.scan_width * config.act_width
    for k in run.get("flip_last", ()):
        beats[k] ^= last_bit
    player = _InputPlayer(dut, beats)
    run.update(accepted=[], framing_error=None, framing_error_dropped=False)
    for c in range(run["reset_at"]):
        configuring = c < len(writes)
        ctx.set(dut.cfg.en, configuring)
        ctx.set(dut.cfg.addr, writes[c][0] if configuring else 0)
        ctx.set(dut.cfg.data, writes[c][1] if configuring else 0)
        ctx.set(dut.start, c == len(writes))
        t = c - len(writes) - 1                 # the checked sequence's time base
        if t >= 0:
            if player.step(ctx, valid[t]):
                run["accepted"].append(t)
            ctx.set(dut.o_stream.ready, ready[t])
        await ctx.tick()
        if ctx.get(dut.framing_error):
            if run["framing_error"] is None:
                run["framing_error"] = max(t, -1)
        elif run["framing_error"] is not None:
            run["framing_error_dropped"] = True
    for signal in (dut.cfg.en, dut.start, dut.i_stream.valid, dut.o_stream.ready):
        ctx.set(signal, 0)
    if run.get("cut_by_reset", True):
        ctx.set(reset, 1)
        await ctx.tick()
        ctx.set(reset, 0)
    run["framing_error_after_reset"] = bool(ctx.get(dut.framing_error))


class _AmaranthPins:
    """sim.blocked_host's pins on the Amaranth engine, in a testbench context."""

    def __init__(self, ctx, dut):
        self.ctx = ctx
        self.signals = {
            "cfg_addr": dut.cfg.addr, "cfg_data": dut.cfg.data, "cfg_en": dut.cfg.en,
            "start": dut.start, "in_valid": dut.i_stream.valid,
            "in_payload": dut.i_stream.payload.as_value(), "in_ready": dut.i_stream.ready,
            "out_valid": dut.o_stream.valid, "out_payload": dut.o_stream.payload.as_value(),
            "out_ready": dut.o_stream.ready, "frames": dut.frames,
            "perf": dut.perf.as_value(), "framing_error": dut.framing_error,
        }
        if hasattr(dut, "buffer"):
            self.signals.update({
                "buf_select": dut.buffer.select, "buf_area": dut.buffer.area,
                "buf_addr": dut.buffer.addr, "buf_write": dut.buffer.write,
                "buf_wdata": dut.buffer.write_data, "buf_rdata": dut.buffer.read_data})

    def set(self, name, value):
        self.ctx.set(self.signals[name], value)

    def get(self, name):
        return self.ctx.get(self.signals[name])

    async def tick(self):
        await self.ctx.tick()


def rtl_blocked_run(config, layer, weights, bias, frames, rows, *, max_cycles=None):
    """Simulate a conv layer blocked in bands of ``rows`` output rows on the RTL of ``config``
    (an engine sized for one band), the testbench acting as the host and its main memory
    (:class:`sim.blocked_host.BlockedHost`). Returns the host: its ``result`` (a
    :class:`golden.blocking.BlockedResult`), ``index_map``, ``output_map`` and
    ``frame_cycles``."""
    host = BlockedHost(config, layer, weights, bias, frames, rows, max_cycles)
    dut = ReuseEngine(config)

    async def testbench(ctx):
        try:
            await host.run(_AmaranthPins(ctx, dut))
        except TimeoutError as e:
            raise SimulationTimeout(str(e)) from None

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    return host
