"""Where the engine's cycles go: reuse against the baseline engine on every built-in network,
from golden's cycle model alone (the one the RTL matches, cycle for cycle).

A frame's cycles are the ideal, MACs performed / lanes, plus the cycles lost to each term of
the schedule (golden/cycle_model.py):

- ``scan``: one cycle per beat of ``scan_width`` inputs, every layer;
- ``switch``: the layer switch a layer starts with (engines with a layer table);
- ``drain``: from a layer's last beat to its first LOAD;
- ``load_store``: a STORE per output block (which issues the next block's LOAD), and the
  layer's first LOAD;
- ``partial_lanes``: MAC cycles whose block has fewer outputs than lanes (a layer's last
  block, a conv layer's filters not a multiple of lanes);
- ``transfers``, ``config_writes``: a blocked layer's main-memory words and band programmes,
  serialized with the bands (golden/blocking.py);
- ``stalls``: waiting for a free output bank (the benchmark's streams never stall).

The decomposition is exact: the terms add up to the cycle model's cycles, and
:func:`network_throughput` checks it.
"""

import dataclasses

import numpy as np

from ..cycle_model import block_cycles, entry_count, scan_beats, scan_drain, switch_cycles

__all__ = ["TERMS", "Throughput", "network_throughput", "blocked_throughput",
           "throughput_report", "BAND_ROWS"]

BAND_ROWS = (2, 4, 8)           # video-conv's bands, besides the unblocked layer

TERMS = ("scan", "switch", "drain", "load_store", "partial_lanes", "transfers", "config_writes",
         "stalls")


@dataclasses.dataclass
class Throughput:
    """One network on one engine, per frame (means over the frames)."""
    name: str
    band_rows: int | None
    frames: int
    cycles: float
    baseline_cycles: float
    macs: float                 # MACs performed by the reuse engine
    dense_macs: float           # the baseline engine's
    lanes: int
    scan_width: int
    losses: dict                # cycles lost per term (TERMS)

    @property
    def ideal(self):
        return self.macs / self.lanes

    @property
    def speedup(self):
        return self.baseline_cycles / self.cycles

    @property
    def mac_ratio(self):
        """The ideal speedup: dense MACs over MACs performed."""
        return self.dense_macs / self.macs if self.macs else float("inf")

    @property
    def fraction(self):
        """The fraction of the ideal speedup the engine turns into speed."""
        return self.speedup / self.mac_ratio

    def to_dict(self):
        return {"name": self.name, "band_rows": self.band_rows, "frames": self.frames,
                "scan_width": self.scan_width, "cycles": round(self.cycles, 1),
                "baseline_cycles": round(self.baseline_cycles, 1),
                "ideal_cycles": round(self.ideal, 1), "speedup": round(self.speedup, 4),
                "mac_ratio": round(self.mac_ratio, 4), "fraction": round(self.fraction, 4),
                "losses": {k: round(v, 1) for k, v in self.losses.items()}}


def layer_losses(engine, layer, counters, entries):
    """One layer's cycles in one frame by term, and its MAC cycles (``entries``: the
    change-list entries of each block, golden/cycle_model.block_entries)."""
    width = engine.scan_width
    mac_cycles = sum(entry_count(e) for e in entries)
    losses = dict.fromkeys(TERMS, 0.0)
    losses.update(
        scan=scan_beats(layer.inputs, width), switch=switch_cycles(engine),
        drain=scan_drain(layer, width),
        load_store=1 + sum(block_cycles(e) - entry_count(e) for e in entries),
        partial_lanes=mac_cycles - counters.macs / engine.lanes,
        stalls=counters.stall_cycles)
    busy = sum(losses.values()) - losses["stalls"] - losses["partial_lanes"] + mac_cycles
    if busy != counters.cycles:
        raise AssertionError(f"{layer.kind} layer: terms add up to {busy} cycles, the cycle "
                             f"model counts {counters.cycles}")
    return losses


def _add_losses(losses, engine, layer, counters, entries):
    for term, value in layer_losses(engine, layer, counters, entries).items():
        losses[term] += value


def _entries(result, layer, lanes, f):
    if result.entries:
        return result.entries[f]
    return [result.counters[f].inputs_changed] * layer.blocks(lanes)


def _run_losses(engine, layers, frames):
    """Per-frame mean cycles, MACs and losses of a golden run of ``layers``."""
    from ..engine import golden_network_run
    run = golden_network_run(engine, layers, frames, trace=False)
    losses = dict.fromkeys(TERMS, 0.0)
    for f in range(len(frames)):
        for (layer, _, _), result in zip(layers, run.layers):
            _add_losses(losses, engine, layer, result.counters[f],
                        _entries(result, layer, engine.lanes, f))
    n = len(frames)
    cycles = sum(c.cycles + c.stall_cycles for c in run.counters) / n
    macs = sum(c.macs for c in run.counters) / n
    return cycles, macs, {k: v / n for k, v in losses.items()}


def network_throughput(name, network, frames, engine):
    """Reuse (``engine``) against the baseline engine (the same with ``reuse = False``) on a
    network (:class:`golden.network.engine_network.EngineNetwork`)."""
    cycles, macs, losses = _run_losses(engine, network.layers, frames)
    base_cycles, dense, _ = _run_losses(engine.replace(reuse=False), network.layers, frames)
    total = macs / engine.lanes + sum(losses.values())
    if not np.isclose(total, cycles):
        raise AssertionError(f"{name}: ideal + losses = {total}, cycles = {cycles}")
    return Throughput(name, None, len(frames), cycles, base_cycles, macs, dense, engine.lanes,
                      engine.scan_width, losses)


def blocked_throughput(name, network, frames, rows, **params):
    """A one-conv-layer network blocked in bands of ``rows`` output rows, reuse against the
    baseline engine blocked the same way (golden/blocking.py); ``params``: the band engine's
    (lanes, scan_width)."""
    from ..blocking import band_engine, blocked_conv_run
    (layer, weights, bias), = network.layers
    results = {}
    for reuse in (True, False):
        engine = band_engine(network, rows, reuse=reuse, **params)
        run = blocked_conv_run(engine, layer, weights, bias, frames, rows)
        losses = dict.fromkeys(TERMS, 0.0)
        for f in range(len(frames)):
            for band, counters, traffic, entries in zip(run.bands, run.counters[f],
                                                         run.traffic[f], run.entries[f]):
                _add_losses(losses, engine, band.layer, counters, entries)
                losses["transfers"] += traffic.words
                losses["config_writes"] += traffic.config_writes
        n = len(frames)
        cycles = sum(run.frame_cycles(f) + sum(c.stall_cycles for c in run.counters[f])
                     for f in range(n)) / n
        macs = sum(c.macs for frame in run.counters for c in frame) / n
        results[reuse] = (cycles, macs, {k: v / n for k, v in losses.items()}, engine)
    (cycles, macs, losses, engine), (base_cycles, dense, _, _) = results[True], results[False]
    return Throughput(name, rows, len(frames), cycles, base_cycles, macs, dense, engine.lanes,
                      engine.scan_width, losses)


def throughput_report(frames=300, scan_width=None, lanes=16):
    """Every built-in network the engine runs, on its real sequence, at ``lanes`` lanes and
    ``scan_width`` (default: the network's engine's, EngineNetwork.scan_width): silero with deja
    eval's reusing layers and with every layer reusing, video-conv unblocked and in bands of
    :data:`BAND_ROWS` output rows."""
    from ..network.builtin import NETWORK_NAMES, network_workload
    rows = []
    for name in NETWORK_NAMES:
        variants = [(name, False)] + ([("silero-all", True)] if name == "silero" else [])
        for label, every_layer in variants:
            network, x, _ = network_workload(name, frames, lanes=lanes, every_layer=every_layer)
            params = {"lanes": lanes, **({} if scan_width is None else
                                         {"scan_width": scan_width})}
            engine = network.engine_config(**params)
            rows.append(network_throughput(label, network, x, engine))
            if name == "video-conv":
                rows += [blocked_throughput(label, network, x, r, **params) for r in BAND_ROWS]
    return rows
