"""The host of a blocked conv layer (golden/blocking.py), for any simulator.

:class:`BlockedHost` is the host programme and main memory of paper IV-C's blocking: for every
frame it runs the layer's bands in order, rewriting the registers and window entries that
differ from the band before (golden.blocking.band_programme), moving each band's indices and
previous outputs into the engine through its buffer port and back out after the band, and
streaming the band's input rows in and its output blocks out. It drives the engine's ports
through ``pins`` (``set(name, value)``, ``get(name)``, ``await tick()``), so the same host
runs the engine in Amaranth's simulator (sim/harness.py) and its Verilog under cocotb
(sim/tb_blocked.py). Values set before a tick are what the engine sees at that clock edge;
values got after it are the engine's state after the edge.

Pin names: ``cfg_addr cfg_data cfg_en start in_valid in_payload in_ready out_valid out_payload
out_ready frames perf framing_error`` and, on reuse engines, ``buf_select buf_area buf_addr
buf_write buf_wdata buf_rdata``.

Imports neither Amaranth nor cocotb.
"""

import numpy as np

from golden.blocking import BlockedResult, Traffic, band_programme, conv_bands
from golden.perf_counters import Counters
from golden.programme import input_beats, pack_lanes

__all__ = ["BlockedHost", "SETTLE_CYCLES", "configure", "unpack_lanes"]

# a register write must come at least four cycles before the first input beat relying on it
SETTLE_CYCLES = 4


def unpack_lanes(word, lanes, width, signed=True):
    """Split a packed integer into ``lanes`` values of ``width`` bits (lane 0 = LSBs)."""
    mask = (1 << width) - 1
    sign = 1 << (width - 1) if signed else 1 << width
    out = []
    for _ in range(lanes):
        v = word & mask
        out.append(v - (1 << width) if v & sign else v)
        word >>= width
    return tuple(out)


async def configure(pins, writes):
    """The host programme ``writes`` (golden.network_writes) through the configuration port,
    one write per cycle."""
    for addr, value in writes:
        pins.set("cfg_addr", addr)
        pins.set("cfg_data", value)
        pins.set("cfg_en", 1)
        await pins.tick()
    pins.set("cfg_en", 0)


class _Clocked:
    """``pins`` whose ticks the host counts (``host.cycles``), with its cycle budget."""

    def __init__(self, pins, host):
        self.pins, self.host = pins, host
        self.set, self.get = pins.set, pins.get

    async def tick(self):
        if self.host.cycles >= self.host.max_cycles:
            raise TimeoutError(f"blocked run: no progress after {self.host.cycles} cycles")
        await self.pins.tick()
        self.host.cycles += 1


class BlockedHost:
    """Runs ``frames`` through ``layer`` blocked in bands of ``rows`` output rows on the engine
    ``config`` (sized for one band). After :meth:`run`: ``result`` (a
    :class:`golden.blocking.BlockedResult` whose ``traffic`` counts the words this host moved),
    ``index_map`` and ``output_map`` (main memory), and ``frame_cycles`` (clock cycles the host
    spent on each frame, its transfers and waits included)."""

    def __init__(self, config, layer, weights, bias, frames, rows, max_cycles=None):
        self.config = config
        self.layer = layer
        self.bands = conv_bands(layer, rows)
        self.frames = np.asarray(frames, dtype=np.int64).reshape(-1, layer.inputs)
        self.load, self.per_band = band_programme(config, self.bands, weights, bias)
        self.reuse = config.reuse and layer.reuse
        lanes, n = config.lanes, len(self.frames)
        if max_cycles is None:
            worst = sum(b.layer.inputs + 64 + b.layer.blocks(lanes) * (b.layer.inputs + 2)
                        + 2 * (b.layer.inputs + b.layer.blocks(lanes)) + len(p)
                        for b, p in zip(self.bands, self.per_band))
            max_cycles = len(self.load) + 256 + n * worst * 4
        self.max_cycles = max_cycles
        self.cycles = 0
        self.frame_cycles = []
        self.result = BlockedResult(
            np.zeros((n, layer.outputs), dtype=np.int64),
            np.zeros((n, layer.outputs), dtype=np.int64),
            [[None] * len(self.bands) for _ in range(n)],
            [[Traffic() for _ in self.bands] for _ in range(n)], self.bands)
        self.index_map = np.zeros(layer.inputs, dtype=np.int64)
        self.output_map = np.zeros(-(-layer.outputs // lanes) * lanes, dtype=np.int64)

    async def _write(self, pins, area, values, width):
        """Write ``values`` (``width`` bits, ``lanes`` per word) into words 0, 1, ... of
        ``area`` (0: the index area, 1: the output area) through the buffer port, one word per
        cycle; returns the words written."""
        lanes = self.config.lanes
        words = [pack_lanes(values[k:k + lanes], width) for k in range(0, len(values), lanes)]
        pins.set("buf_select", 1)
        pins.set("buf_area", area)
        pins.set("buf_write", 1)
        for a, word in enumerate(words):
            pins.set("buf_addr", a)
            pins.set("buf_wdata", word)
            await pins.tick()
        pins.set("buf_write", 0)
        pins.set("buf_select", 0)
        return len(words)

    async def _read(self, pins, area, count, width):
        """The first ``count`` values of ``area`` (see :meth:`_write`) and the words read."""
        lanes = self.config.lanes
        pins.set("buf_select", 1)
        pins.set("buf_area", area)
        values = []
        for a in range(-(-count // lanes)):
            pins.set("buf_addr", a)
            await pins.tick()
            values.extend(unpack_lanes(pins.get("buf_rdata"), lanes, width, signed=area == 1))
        pins.set("buf_select", 0)
        return np.array(values[:count], dtype=np.int64), -(-count // lanes)

    def arrays(self):
        """What the host saw, as arrays: those of :meth:`BlockedResult.arrays`, ``index_map``,
        ``output_map`` and ``frame_cycles``."""
        return {**self.result.arrays(), "index_map": self.index_map,
                "output_map": self.output_map[:self.layer.outputs],
                "frame_cycles": np.array(self.frame_cycles, dtype=np.int64)}

    async def run(self, pins):
        pins = _Clocked(pins, self)
        cfg, lanes = self.config, self.config.lanes
        for name in ("cfg_en", "start", "in_valid"):
            pins.set(name, 0)
        pins.set("out_ready", 1)
        if self.reuse:
            for name in ("buf_select", "buf_write"):
                pins.set(name, 0)
        await configure(pins, self.load)
        frames_seen = pins.get("frames")
        result = self.result
        for f, frame in enumerate(self.frames):
            frame_start = self.cycles
            # a band's outputs and blocks: words of lanes in main memory's output map
            for b, band in enumerate(self.bands):
                blocks = band.layer.blocks(lanes)
                block_lo = band.out_lo * band.row_outputs // lanes
                area = slice(block_lo * lanes, (block_lo + blocks) * lanes)
                traffic = result.traffic[f][b]
                if f or b:
                    await configure(pins, self.per_band[b])
                    traffic.config_writes = len(self.per_band[b])
                for _ in range(SETTLE_CYCLES):
                    await pins.tick()
                if f == 0:
                    # a first execution: every input changed, outputs from the bias
                    pins.set("start", 1)
                    await pins.tick()
                    pins.set("start", 0)
                elif self.reuse:
                    traffic.index_reads = await self._write(
                        pins, 0, self.index_map[band.inputs], cfg.index_width)
                    traffic.output_reads = await self._write(
                        pins, 1, self.output_map[area], cfg.acc_width)
                x = input_beats(cfg, frame[band.inputs][None, :])
                sent, beats = 0, 0
                while beats < blocks:
                    if sent < len(x):
                        pins.set("in_payload", x[sent])
                    pins.set("in_valid", int(sent < len(x)))
                    if sent < len(x) and pins.get("in_ready"):
                        sent += 1
                    if pins.get("out_valid"):
                        o = (block_lo + beats) * lanes
                        result.outputs[f, o:o + lanes] = unpack_lanes(
                            pins.get("out_payload"), lanes, cfg.act_width)
                        beats += 1
                    await pins.tick()
                pins.set("in_valid", 0)
                # the counters are published after the last STORE, before its beat goes out
                while pins.get("frames") == frames_seen:
                    await pins.tick()
                frames_seen = pins.get("frames")
                result.counters[f][b] = Counters.from_word(pins.get("perf"))
                if self.reuse:
                    own = band.owned
                    self.index_map[own], traffic.index_writes = await self._read(
                        pins, 0, own.stop - own.start, cfg.index_width)
                    self.output_map[area], traffic.output_writes = await self._read(
                        pins, 1, blocks * lanes, cfg.acc_width)
                    result.preactivations[f, band.outputs] = self.output_map[band.outputs]
            self.frame_cycles.append(self.cycles - frame_start)
        if pins.get("framing_error"):
            raise AssertionError("framing_error is set")
        return self.result
