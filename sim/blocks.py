"""Each hardware block run like its golden twin: ``rtl_quantize(...) == golden.quantize(...)``.

One simulation per call, many operands per simulation, so property-based tests stay fast.
"""

import numpy as np
from amaranth.hdl import Value
from amaranth.sim import Simulator

from hw.quantizer import Quantizer
from hw.centroid_table import CentroidTable
from hw.delta_subtractor import DeltaSubtractor
from hw.skip_logic import SkipLogic
from hw.mac_array import MACArray
from hw.output_unit import OutputUnit
from .harness import unpack_lanes

__all__ = ["rtl_quantize", "rtl_centroid_table", "rtl_delta", "rtl_changed", "rtl_mac",
           "rtl_output_unit"]


def _run(dut, testbench, clocked=False):
    sim = Simulator(dut)
    if clocked:
        sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()


def rtl_quantize(config, centroids, xs, latency=0):
    """Quantizer with the thresholds of ``centroids`` (golden.centroid_table layout); with
    ``latency=1`` one operand per clock, each index read one cycle after its operand."""
    from golden.centroid_table import centroid_table
    _, thresholds = centroid_table(centroids, config.max_clusters)
    dut = Quantizer(config, latency=latency)
    out = []

    async def tb(ctx):
        for k, t in enumerate(thresholds):
            ctx.set(dut.thresholds[k], int(t))
        ctx.set(dut.clusters, len(centroids))
        for x in xs:
            ctx.set(dut.x, int(x))
            if latency:
                await ctx.tick()
            out.append(ctx.get(dut.index))
    _run(dut, tb, clocked=bool(latency))
    return np.array(out, dtype=np.int64)


def rtl_centroid_table(config, centroids, indices):
    """Write the table through its write port, then read c[index] on both read ports."""
    from golden.quantizer import thresholds as golden_thresholds
    dut = CentroidTable(config)
    out = []
    thresholds_read = []

    async def tb(ctx):
        ctx.set(dut.write_centroid, 1)
        for k, c in enumerate(centroids):
            ctx.set(dut.write_addr, k)
            ctx.set(dut.write_data, int(c))
            await ctx.tick()
        ctx.set(dut.write_centroid, 0)
        ctx.set(dut.write_threshold, 1)
        for k, t in enumerate(golden_thresholds(centroids)):
            ctx.set(dut.write_addr, k)
            ctx.set(dut.write_data, int(t))
            await ctx.tick()
        ctx.set(dut.write_threshold, 0)
        for k in range(len(centroids) - 1):
            thresholds_read.append(ctx.get(dut.thresholds[k]))
        for a, b in zip(indices, indices[::-1]):
            ctx.set(dut.index_a, int(a))
            ctx.set(dut.index_b, int(b))
            out.append((ctx.get(dut.centroid_a), ctx.get(dut.centroid_b)))
    _run(dut, tb, clocked=True)
    return np.array(out, dtype=np.int64).reshape(-1, 2), np.array(thresholds_read, dtype=np.int64)


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
        await ctx.tick()   # the last product is added one cycle after its multiply
        result.extend(unpack_lanes(ctx.get(Value.cast(dut.acc)), config.lanes, config.acc_width))
    _run(dut, tb, clocked=True)
    return np.array(result, dtype=np.int64)


def rtl_output_unit(config, acc_words, activation, shift):
    dut = OutputUnit(config)
    out = []

    async def tb(ctx):
        ctx.set(dut.relu, activation == "relu")
        ctx.set(dut.shift, shift)
        for word in acc_words:
            for lane, v in enumerate(word):
                ctx.set(dut.acc[lane], int(v))
            out.append(unpack_lanes(ctx.get(Value.cast(dut.y)), config.lanes, config.act_width))
    _run(dut, tb)
    return np.array(out, dtype=np.int64)
