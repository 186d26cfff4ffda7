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

from golden.blocking import BlockedResult, Traffic, band_programme, conv_bands, index_words
from golden.fc_engine import Counters

__all__ = ["BlockedHost", "SETTLE_CYCLES", "TRAFFIC_FIELDS", "unpack_lanes"]

# a register write must come at least four cycles before the first input beat relying on it
SETTLE_CYCLES = 4
TRAFFIC_FIELDS = ("index_reads", "index_writes", "output_reads", "output_writes",
                  "config_writes")


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


def _pack(values, width):
    word = 0
    for lane, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (lane * width)
    return word


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

    async def _tick(self, pins):
        if self.cycles >= self.max_cycles:
            raise TimeoutError(f"blocked run: no progress after {self.cycles} cycles")
        await pins.tick()
        self.cycles += 1

    async def _configure(self, pins, writes):
        for addr, value in writes:
            pins.set("cfg_addr", addr)
            pins.set("cfg_data", value)
            pins.set("cfg_en", 1)
            await self._tick(pins)
        pins.set("cfg_en", 0)

    async def _move(self, pins, area, count, words=None):
        """Write ``words`` into words 0 .. count-1 of ``area`` (0: index area, 1: output area)
        through the buffer port, or read them (``words`` None), one per cycle."""
        pins.set("buf_select", 1)
        pins.set("buf_area", area)
        got = []
        for a in range(count):
            pins.set("buf_addr", a)
            if words is not None:
                pins.set("buf_wdata", int(words[a]))
                pins.set("buf_write", 1)
            await self._tick(pins)
            if words is None:
                got.append(pins.get("buf_rdata"))
        pins.set("buf_write", 0)
        pins.set("buf_select", 0)
        return got

    def arrays(self):
        """What the host saw, as arrays: ``outputs``, ``preactivations``, ``counters`` (frames
        x bands x Counters.FIELDS), ``traffic`` (frames x bands x :data:`TRAFFIC_FIELDS`),
        ``index_map``, ``output_map`` and ``frame_cycles``."""
        result = self.result
        return {
            "outputs": result.outputs, "preactivations": result.preactivations,
            "counters": np.array([[[getattr(c, name) for name in Counters.FIELDS]
                                   for c in frame] for frame in result.counters], np.int64),
            "traffic": np.array([[[getattr(t, name) for name in TRAFFIC_FIELDS]
                                  for t in frame] for frame in result.traffic], np.int64),
            "index_map": self.index_map, "output_map": self.output_map[:self.layer.outputs],
            "frame_cycles": np.array(self.frame_cycles, dtype=np.int64),
        }

    def _counters(self, pins):
        perf = pins.get("perf")
        return Counters(*[(perf >> (32 * i)) & 0xFFFFFFFF for i in range(len(Counters.FIELDS))])

    async def run(self, pins):
        cfg, lanes = self.config, self.config.lanes
        act_mask = (1 << cfg.act_width) - 1
        for name in ("cfg_en", "start", "in_valid"):
            pins.set(name, 0)
        pins.set("out_ready", 1)
        if self.reuse:
            for name in ("buf_select", "buf_write"):
                pins.set(name, 0)
        await self._configure(pins, self.load)
        frames_seen = pins.get("frames")
        result = self.result
        for f, frame in enumerate(self.frames):
            frame_start = self.cycles
            for b, band in enumerate(self.bands):
                blocks = band.layer.blocks(lanes)
                block_lo = band.out_lo * band.row_outputs // lanes
                traffic = result.traffic[f][b]
                if f or b:
                    await self._configure(pins, self.per_band[b])
                    traffic.config_writes = len(self.per_band[b]) if len(self.bands) > 1 else 0
                for _ in range(SETTLE_CYCLES):
                    await self._tick(pins)
                if f == 0:
                    # a first execution: every input changed, outputs from the bias
                    pins.set("start", 1)
                    await self._tick(pins)
                    pins.set("start", 0)
                elif self.reuse:
                    n = band.layer.inputs
                    indices = self.index_map[band.inputs]
                    words = index_words(n, cfg)
                    await self._move(pins, 0, words, [
                        _pack(indices[k * lanes:(k + 1) * lanes], cfg.index_width)
                        for k in range(words)])
                    outputs = self.output_map[block_lo * lanes:(block_lo + blocks) * lanes]
                    await self._move(pins, 1, blocks, [_pack(outputs[k * lanes:(k + 1) * lanes],
                                                             cfg.acc_width)
                                                       for k in range(blocks)])
                    traffic.index_reads, traffic.output_reads = words, blocks
                x = frame[band.inputs]
                sent, beats = 0, 0
                while beats < blocks:
                    if sent < len(x):
                        pins.set("in_payload", (int(x[sent]) & act_mask)
                                 | (int(sent == len(x) - 1) << cfg.act_width))
                    pins.set("in_valid", int(sent < len(x)))
                    if sent < len(x) and pins.get("in_ready"):
                        sent += 1
                    if pins.get("out_valid"):
                        o = (block_lo + beats) * lanes
                        result.outputs[f, o:o + lanes] = unpack_lanes(
                            pins.get("out_payload"), lanes, cfg.act_width)
                        beats += 1
                    await self._tick(pins)
                pins.set("in_valid", 0)
                # the counters are published after the last STORE, before its beat goes out
                while pins.get("frames") == frames_seen:
                    await self._tick(pins)
                frames_seen = pins.get("frames")
                result.counters[f][b] = self._counters(pins)
                if self.reuse:
                    own = band.owned
                    owned = own.stop - own.start
                    got = await self._move(pins, 0, index_words(owned, cfg))
                    self.index_map[own] = np.concatenate([
                        unpack_lanes(word, lanes, cfg.index_width, signed=False)
                        for word in got])[:owned] if got else []
                    for k, word in enumerate(await self._move(pins, 1, blocks)):
                        o = (block_lo + k) * lanes
                        self.output_map[o:o + lanes] = unpack_lanes(word, lanes, cfg.acc_width)
                    result.preactivations[f, band.outputs] = self.output_map[band.outputs]
                    traffic.index_writes = index_words(owned, cfg)
                    traffic.output_writes = blocks
            self.frame_cycles.append(self.cycles - frame_start)
        if pins.get("framing_error"):
            raise AssertionError("framing_error is set")
        return self.result
