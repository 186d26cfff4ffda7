"""Each hardware block run like its golden twin: ``rtl_quantize(...) == golden.quantize(...)``.

One simulation per call, many operands per simulation, so property-based tests stay fast.
"""

import numpy as np
from amaranth.hdl import Value
from amaranth.sim import Simulator

from hw.centroid_table import CentroidTable
from hw.delta_subtractor import DeltaSubtractor
from hw.lstm_unit import LSTMUnit
from hw.mac_array import MACArray
from hw.magnitude_unit import MagnitudeUnit
from hw.output_unit import OutputUnit
from hw.quantizer import Quantizer
from hw.skip_logic import SkipLogic

from .harness import unpack_lanes

__all__ = ["rtl_quantize", "rtl_centroid_table", "rtl_delta", "rtl_changed", "rtl_mac",
           "rtl_output_unit", "rtl_lstm_unit", "rtl_magnitude_unit"]


def _run(dut, testbench, clocked=False):
    sim = Simulator(dut)
    if clocked:
        sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()


async def _write_tables(ctx, dut, config, centroids, layer, other, table_of, shift):
    """Write ``table_of(centroids)`` into ``layer`` and ``table_of(other)`` into every other
    layer of a layer-table engine (so a wrong layer address reads the wrong table)."""
    ctx.set(dut.write_en, 1)
    for k in range(config.max_layers):
        values = table_of(centroids if k == layer else other)
        for address, v in enumerate(values):
            ctx.set(dut.write_addr, (k << shift) | address)
            ctx.set(dut.write_data, int(v))
            await ctx.tick()
    ctx.set(dut.write_en, 0)


def rtl_quantize(config, centroids, xs, *, layer=0, other=(-1, 1)):
    """The quantizer with golden.quantization_table(centroids) written through its write port
    (``other``'s table in the other layers); one operand per clock, each index read one cycle
    after its operand."""
    from golden import quantization_table
    dut = Quantizer(config)
    out = []

    async def tb(ctx):
        await _write_tables(ctx, dut, config, centroids, layer, other,
                            lambda c: quantization_table(c, config.act_width), config.act_width)
        if config.max_layers > 1:
            ctx.set(dut.layer, layer)
        for x in xs:
            ctx.set(dut.x, int(x))
            await ctx.tick()
            out.append(ctx.get(dut.index))
    _run(dut, tb, clocked=True)
    return np.array(out, dtype=np.int64)


def rtl_centroid_table(config, centroids, indices, *, layer=0, other=(-1, 1)):
    """Write the table through its write port, then read c[index] on both read ports (index_b
    gets the indices in reverse order), one pair per clock, data one cycle later."""
    dut = CentroidTable(config)
    out = []

    async def tb(ctx):
        await _write_tables(ctx, dut, config, centroids, layer, other, lambda c: c,
                            config.index_width)
        if config.max_layers > 1:
            ctx.set(dut.layer, layer)
        for a, b in zip(indices, indices[::-1]):
            ctx.set(dut.index_a, int(a))
            ctx.set(dut.index_b, int(b))
            await ctx.tick()
            out.append((ctx.get(dut.centroid_a), ctx.get(dut.centroid_b)))
    _run(dut, tb, clocked=True)
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def rtl_delta(config, new, old, first):
    dut = DeltaSubtractor(config)
    out = []

    async def tb(ctx):
        ctx.set(dut.first, int(first))
        for a, b in zip(new, old):
            ctx.set(dut.new, int(a))
            ctx.set(dut.old, int(b))
            out.append(ctx.get(dut.delta))
    _run(dut, tb)
    return np.array(out, dtype=np.int64)


def rtl_changed(config, q_new, q_old, first):
    dut = SkipLogic(config)
    out = []

    async def tb(ctx):
        ctx.set(dut.first, int(first))
        for a, b in zip(q_new, q_old):
            ctx.set(dut.q_new, int(a))
            ctx.set(dut.q_old, int(b))
            out.append(bool(ctx.get(dut.changed)))
    _run(dut, tb)
    return np.array(out, dtype=bool)


def rtl_mac(config, start, deltas, weight_words):
    """LOAD ``start``, then one MAC per (delta, word), back to back; returns the final acc."""
    dut = MACArray(config)
    result = []

    async def tb(ctx):
        for lane, v in enumerate(start):
            ctx.set(dut.load_data[lane], int(v))
        ctx.set(dut.load, 1)
        await ctx.tick()
        ctx.set(dut.load, 0)
        ctx.set(dut.mul, 1)
        for d, word in zip(deltas, weight_words):
            ctx.set(dut.delta, int(d))
            for lane, w in enumerate(word):
                ctx.set(dut.weights[lane], int(w))
            await ctx.tick()
        ctx.set(dut.mul, 0)
        await ctx.tick().repeat(2)   # the last product is added two cycles after its multiply
        result.extend(unpack_lanes(ctx.get(Value.cast(dut.acc)), config.lanes, config.acc_width))
    _run(dut, tb, clocked=True)
    return np.array(result, dtype=np.int64)


def rtl_output_unit(config, acc_words, activation, shift, latency=0):
    """``y`` for each word of ``acc_words``; with ``latency=3`` one word per cycle through the
    pipelined unit (``relu`` and ``shift`` set two cycles ahead, as it requires)."""
    dut = OutputUnit(config, latency=latency)
    out = []

    async def tb(ctx):
        ctx.set(dut.relu, activation == "relu")
        ctx.set(dut.shift, shift)
        if latency:
            await ctx.tick().repeat(2)
        for k in range(len(acc_words) + latency):
            if k < len(acc_words):
                for lane, v in enumerate(acc_words[k]):
                    ctx.set(dut.acc[lane], int(v))
            if k >= latency:
                out.append(unpack_lanes(ctx.get(Value.cast(dut.y)), config.lanes,
                                        config.act_width))
            if latency:
                await ctx.tick()
    _run(dut, tb, clocked=bool(latency))
    return np.array(out, dtype=np.int64)


def rtl_lstm_unit(config, steps, gap=2):
    """h of every step of a sequence: ``steps`` is (T, blocks, lanes) int8 gates (lane 4u + k
    is gate k of unit u); each step's blocks enter one every ``gap`` cycles (the engine's
    fastest is 2: a LOAD and a STORE per block), the first step with ``first`` set. Returns
    (T, blocks * lanes / 4)."""
    dut = LSTMUnit(config)
    steps = np.asarray(steps, dtype=np.int64)
    units = config.lanes // 4
    out = np.zeros((steps.shape[0], steps.shape[1] * units), dtype=np.int64)
    entries = [(t, b) for t in range(steps.shape[0]) for b in range(steps.shape[1])]

    async def tb(ctx):
        pending = []                  # (cycle h is due, step, block)
        cycle = 0
        while entries or pending:
            if entries and cycle % gap == 0:
                t, b = entries.pop(0)
                ctx.set(dut.valid, 1)
                ctx.set(dut.first, t == 0)
                ctx.set(dut.addr, b)
                for lane, g in enumerate(steps[t, b]):
                    ctx.set(dut.gates[lane], int(g))
                pending.append((cycle + dut.latency, t, b))
            else:
                ctx.set(dut.valid, 0)
            if pending and pending[0][0] == cycle:
                _, t, b = pending.pop(0)
                assert ctx.get(dut.h_valid)
                out[t, b * units:(b + 1) * units] = unpack_lanes(
                    ctx.get(Value.cast(dut.h)), units, 8)
            await ctx.tick()
            cycle += 1
    _run(dut, tb, clocked=True)
    return out


def rtl_magnitude_unit(config, words, shift):
    """``m`` for each block of ``words`` ((n, lanes) int8, lane pairs re, im), one per cycle."""
    dut = MagnitudeUnit(config)
    out = []

    async def tb(ctx):
        ctx.set(dut.shift, shift)
        for k in range(len(words) + dut.latency):
            ctx.set(dut.valid, k < len(words))
            if k < len(words):
                for lane, v in enumerate(words[k]):
                    ctx.set(dut.y[lane], int(v))
            if k >= dut.latency:
                out.append(unpack_lanes(ctx.get(Value.cast(dut.m)), config.lanes // 2,
                                        config.act_width))
            await ctx.tick()
    _run(dut, tb, clocked=True)
    return np.array(out, dtype=np.int64)
