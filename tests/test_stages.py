"""The engine's stages alone, each against its golden twin or a plain reference, with random
bubbles and backpressure (the engine-level tests then check them together, cycle by cycle)."""

import numpy as np
import pytest
from amaranth.hdl import Module, Value
from amaranth.lib import wiring
from amaranth.sim import Simulator

from golden import EngineConfig, LayerConfig, Pattern, linear_centroids, network_writes
from golden.delta_subtractor import delta
from golden.perf_counters import Counters
from golden.quantizer import quantize
from golden.skip_logic import change_list
from hw.io_buffer import IOBuffer
from hw.output_streamer import OutputStreamer
from hw.perf_counters import PerfCounters
from hw.scan_unit import ScanUnit
from sim.harness import unpack_lanes


def _run(module, testbench, deadline=20_000):
    sim = Simulator(module)
    sim.add_clock(1e-6)
    sim.add_testbench(testbench)
    sim.run_until(deadline * 1e-6)


class _ScanBench(wiring.Component):
    """A scan unit on its own I/O buffer (the index area and the change list)."""

    def __init__(self, config):
        self.io = IOBuffer(config)
        self.scan = ScanUnit(config, {name: self.io.signature.members[name].flip()
                                      for name in ("index_read", "index_write", "change_write")})
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.io, m.submodules.scan = self.io, self.scan
        for name in ("index_read", "index_write", "change_write"):
            wiring.connect(m, getattr(self.io, name), getattr(self.scan, name))
        return m


@pytest.mark.parametrize("clusters, similarity, bubbles", [(4, 0.0, 0.0), (16, 0.7, 0.5),
                                                           (32, 0.95, 0.3)])
def test_scan_unit_writes_golden_change_list(clusters, similarity, bubbles):
    """Frame by frame, the change list the scan unit writes (index, delta) equals golden's
    quantize -> skip logic -> delta subtractor, each entry lands ``ScanUnit.latency`` cycles
    after its input is accepted, and the index area keeps the frame's indices."""
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=8, max_clusters=32)
    rng = np.random.default_rng(clusters)
    n = 29
    layer = LayerConfig(n, 8, linear_centroids(-100, 100, clusters, 8))
    writes = network_writes(config, [(layer, np.zeros((n, 8), np.int64), np.zeros(8, np.int64))])
    frames = [rng.integers(-128, 128, n)]
    for _ in range(5):
        keep = rng.random(n) < similarity
        frames.append(np.where(keep, frames[-1], rng.integers(-128, 128, n)))
    valid = Pattern(bubbles, seed=clusters) if bubbles else Pattern.always()
    bench = _ScanBench(config)
    scan = bench.scan
    got = []

    async def testbench(ctx):
        offset_mask = (1 << config.cfg_offset_width) - 1
        for addr, value in writes:       # the scan's tables, as the layer table decodes them
            region, offset = addr >> config.cfg_offset_width, addr & offset_mask
            port = {1: scan.centroid_write, 2: scan.quantization_write}.get(region)
            if port is not None:
                ctx.set(port.en, 1)
                ctx.set(port.addr, offset)
                ctx.set(port.data, value & ((1 << len(port.data)) - 1))
                await ctx.tick()
                ctx.set(port.en, 0)
        ctx.set(scan.current.inputs, n)
        ctx.set(scan.current.reuse, 1)
        ctx.set(scan.upcoming_inputs, n)
        ctx.set(scan.first, 1)
        await ctx.tick().repeat(3)       # the scan's bound registers follow N
        t = 0
        for x in frames:
            accepted, entries, sent = {}, [], 0
            while True:
                present = sent < n and valid[t]
                ctx.set(scan.i_stream.valid, present)
                if present:
                    ctx.set(scan.i_stream.payload.data, int(x[sent]))
                    ctx.set(scan.i_stream.payload.last, sent == n - 1)
                done = ctx.get(scan.scan_done)
                if present and ctx.get(scan.i_stream.ready):
                    accepted[sent] = t
                    sent += 1
                if ctx.get(scan.appending):
                    entries.append((t, ctx.get(scan.change_write.data.index),
                                    ctx.get(scan.change_write.data.delta)))
                await ctx.tick()
                t += 1
                if done:
                    break
            ctx.set(scan.i_stream.valid, 0)
            for _ in range(ScanUnit.latency + 1):    # the last input reaches the list
                if ctx.get(scan.appending):
                    entries.append((t, ctx.get(scan.change_write.data.index),
                                    ctx.get(scan.change_write.data.delta)))
                await ctx.tick()
                t += 1
            assert ctx.get(scan.n_changed) == len(entries)
            got.append((accepted, entries))
            ctx.set(scan.layer_end, 1)       # the correct phase ends: a new scan starts
            await ctx.tick()
            t += 1
            ctx.set(scan.layer_end, 0)
            ctx.set(scan.first, 0)

    _run(bench, testbench, deadline=200_000)
    assert len(got) == len(frames)
    q_old = np.zeros(n, np.int64)
    for f, (x, (accepted, entries)) in enumerate(zip(frames, got)):
        q = quantize(x, layer.centroids)
        idx, deltas = change_list(q, q_old, f == 0, delta(q, q_old, layer.centroids, f == 0))
        assert [(i, d) for _, i, d in entries] == list(zip(idx.tolist(), deltas.tolist())), f
        assert [t for t, _, _ in entries] == [accepted[i] + ScanUnit.latency for i in idx]
        # docs/design.md's quantizer in plain integers: q(x) = #{k : x >= (c[k] + c[k+1] + 1) >> 1}
        c = [int(v) for v in layer.centroids]
        t = [(c[k] + c[k + 1] + 1) // 2 for k in range(len(c) - 1)]
        assert q.tolist() == [sum(int(v) >= tk for tk in t) for v in x]
        q_old = q


def test_perf_counters_publish_the_sum_of_their_increments():
    """Every frame's published counters are the sum of the increments of its cycles, from the
    cycle after the previous publication's frame end (or the start) to its own frame end."""
    config = EngineConfig(lanes=4, max_inputs=16, max_outputs=8, max_layers=2)
    dut = PerfCounters(config)
    rng = np.random.default_rng(7)
    cycles = 400
    inc = {name: rng.integers(0, config.lanes + 1 if name == "macs" else 2, cycles)
           for name in Counters.FIELDS}
    ends = np.zeros(cycles, bool)
    ends[rng.choice(np.arange(5, cycles - 5), 12, replace=False)] = True
    published = []

    async def testbench(ctx):
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        frames = 0
        for t in range(cycles + 3):
            for name in Counters.FIELDS:
                ctx.set(getattr(dut.increments, name), int(inc[name][t]) if t < cycles else 0)
            ctx.set(dut.frame_end, bool(ends[t]) if t < cycles else 0)
            ctx.set(dut.layer_end, bool(ends[t]) if t < cycles else 0)
            await ctx.tick()
            if ctx.get(dut.frames) != frames:
                frames = ctx.get(dut.frames)
                published.append({n: ctx.get(getattr(dut.perf, n)) for n in Counters.FIELDS})
                assert ctx.get(dut.layers_done) == frames

    _run(dut, testbench)
    bounds = [0] + [t + 1 for t in np.flatnonzero(ends)]
    expected = [{n: int(inc[n][a:b].sum()) for n in Counters.FIELDS}
                for a, b in zip(bounds, bounds[1:])]
    assert published == expected


class _StreamBench(wiring.Component):
    def __init__(self, config):
        self.io = IOBuffer(config)
        self.out = OutputStreamer(config, {"bank_read": self.io.signature.members["bank_read"]
                                           .flip()})
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.io, m.submodules.out = self.io, self.out
        wiring.connect(m, self.io.bank_read, self.out.bank_read)
        return m


@pytest.mark.parametrize("ready_probability", [1.0, 0.4])
def test_output_streamer_sends_complete_banks_in_order(ready_probability):
    """Frames written alternately to the two banks come out whole, in order, with ``last`` on
    each frame's last beat, under random backpressure; the first beat is visible
    ``OutputStreamer.latency`` cycles after its bank completes."""
    config = EngineConfig(lanes=4, max_inputs=16, max_outputs=24)
    blocks, frames = 5, 6
    rng = np.random.default_rng(3)
    words = rng.integers(-128, 128, (frames, blocks, config.lanes))
    ready = Pattern(1 - ready_probability, seed=5) if ready_probability < 1 else Pattern.always()
    bench = _StreamBench(config)
    io, out = bench.io, bench.out
    beats, first_beat, completed = [], {}, {}

    async def testbench(ctx):
        ctx.set(out.stream_blocks, blocks)
        await ctx.tick().repeat(3)
        t = 0

        async def step():
            nonlocal t
            ctx.set(out.o_stream.ready, ready[t])
            if ctx.get(out.o_stream.valid):
                first_beat.setdefault(len(beats) // blocks, t)
                if ready[t]:
                    beats.append(ctx.get(Value.cast(out.o_stream.payload)))
            await ctx.tick()
            t += 1

        for f in range(frames):
            bank = f % 2
            ctx.set(out.bank, bank)
            while ctx.get(out.bank_busy):      # the bank still holds an earlier frame
                await step()
            ctx.set(out.claim, 1 << bank)
            for b in range(blocks):
                ctx.set(io.bank_write.en, 1)
                ctx.set(io.bank_write.addr, (bank << (len(io.bank_write.addr) - 1)) | b)
                ctx.set(io.bank_write.data, [int(v) for v in words[f, b]])
                ctx.set(out.set_complete, (1 << bank) if b == blocks - 1 else 0)
                if b == blocks - 1:
                    completed[f] = t
                await step()
                ctx.set(out.claim, 0)
            ctx.set(io.bank_write.en, 0)
            ctx.set(out.set_complete, 0)
        while len(beats) < frames * blocks and t < 5000:
            await step()

    _run(bench, testbench)
    bits = config.lanes * config.act_width
    assert len(beats) == frames * blocks
    for k, word in enumerate(beats):
        f, b = divmod(k, blocks)
        assert (unpack_lanes(word & ((1 << bits) - 1), config.lanes, 8)
                == tuple(words[f, b].tolist()))
        assert bool(word >> bits) == (b == blocks - 1)
    # the bank is complete a cycle after its last write, read the next, visible after latency
    assert first_beat[0] == completed[0] + 1 + OutputStreamer.latency


def test_layer_table_decodes_the_network_programme_and_switches_layers():
    """After golden's programme (network_writes), the layer table holds each layer's N, M,
    blocks, shift, activation and its areas' bases, placed one after another (stated here in
    plain integers); a start switches to layer 0 and each layer's end to the next, back to 0
    after the last, every switch ``switch_cycles`` long."""
    from golden.cycle_model import switch_cycles
    from golden.weight_buffer import weight_words
    from hw.layer_table import LayerTable
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_clusters=8, max_layers=3)
    rng = np.random.default_rng(11)
    shapes = [(20, 12), (12, 30), (30, 5)]
    layers = [(LayerConfig(n, m, linear_centroids(-64, 63, 8, 8), shift=int(rng.integers(0, 16)),
                           activation=["relu", "none"][k % 2], reuse=k != 1),
               rng.integers(-128, 128, (n, m)), rng.integers(-999, 999, m))
              for k, (n, m) in enumerate(shapes)]
    writes = network_writes(config, layers)
    dut = LayerTable(config, weight_addr_width=10, bias_addr_width=4)
    seen = []

    async def testbench(ctx):
        for addr, value in writes:
            ctx.set(dut.cfg.addr, addr)
            ctx.set(dut.cfg.data, value)
            ctx.set(dut.cfg.en, 1)
            await ctx.tick()
        ctx.set(dut.cfg.en, 0)
        await ctx.tick().repeat(3)
        ctx.set(dut.start, 1)
        ctx.set(dut.sequence_start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        ctx.set(dut.sequence_start, 0)
        assert ctx.get(dut.first)
        for _ in range(2 * len(layers)):
            waited = 0
            while not ctx.get(dut.switch_done):
                await ctx.tick()
                waited += 1
            await ctx.tick()
            cur = dut.current
            seen.append((waited + 1, ctx.get(dut.layer), ctx.get(dut.last_layer),
                         {f: ctx.get(getattr(cur, f)) for f in (
                             "inputs", "outputs", "blocks", "shift", "relu", "reuse",
                             "weight_base", "block_base", "index_base")}))
            await ctx.tick().repeat(5)
            ctx.set(dut.layer_end, 1)
            await ctx.tick()
            ctx.set(dut.layer_end, 0)

    _run(dut, testbench)
    weight_base = block_base = index_base = 0
    expected = []
    for k, (layer, w, _) in enumerate(layers):
        blocks = -(-layer.outputs // config.lanes)
        expected.append((k, k == len(layers) - 1, {
            "inputs": layer.inputs, "outputs": layer.outputs, "blocks": blocks,
            "shift": layer.shift, "relu": int(layer.activation == "relu"),
            "reuse": int(layer.reuse), "weight_base": weight_base, "block_base": block_base,
            "index_base": index_base}))
        weight_base += len(weight_words(w, config.lanes))
        block_base += blocks
        index_base += layer.inputs
    assert [s[1:] for s in seen] == expected * 2
    assert {s[0] for s in seen} == {switch_cycles(config)}
