"""Performance and energy of a whole network from its per-layer event counts.

Cycles come from the engine's cycle model (golden/cycle_model.py), the one the RTL matches. A
network the engine runs whole is lowered to it (golden/network/lowering.py), and each layer's
busy cycles per frame are the cycle model's for its engine layer, with the changed inputs the
integer network counted: the same figures as the golden engine on the same frames. A layer
of a network the engine does not run whole is its own engine layer where it maps to one;
otherwise (grouped or dilated convolutions) its blocks run the changed inputs that touch them.
The baseline accelerator runs the same datapath with every input changed.

Energy is the counts times per-event energies. deja uses the CACTI figures of synth/ when they
exist; otherwise the documented table :data:`ENERGY_45NM_PJ` below: Horowitz, "Computing's
energy problem", ISSCC 2014 (45 nm): 8-bit multiply 0.2 pJ, 32-bit add 0.1 pJ, 64-bit read of
an 8 KB SRAM 10 pJ, of a 1 MB SRAM 100 pJ. The weight buffer and the I/O buffer are MB-sized,
so a byte costs 100 / 8 = 12.5 pJ; the centroid table and quantizer are register files.
"""

import dataclasses

import numpy as np

from ..config import ConfigError
from ..cycle_model import (
    CONV_DRAIN,
    LAYER_SWITCH,
    LSTM_LATENCY,
    block_entries,
    layer_cycles,
    scan_beats,
    scan_drain,
    switch_cycles,
)
from ..layer_config import LayerConfig
from ..network.layers import Conv
from ..network.lowering import conv_engine_layer, from_int_network, lstm_engine_layer

__all__ = ["ENERGY_45NM_PJ", "LayerPerf", "layer_perf", "network_perf", "engine_layers",
           "frame_cycles", "memory_overhead"]

ENERGY_45NM_PJ = {
    "mac": 0.2 + 0.1,                 # 8x9-bit multiply + 32-bit accumulate
    "weight_byte": 12.5,              # weight buffer (MB-sized SRAM / eDRAM)
    "io_byte": 12.5,                  # I/O buffer: activations, indices, stored outputs
    "quantize": 0.03 * 5,             # ~C/ 2 comparisons of 8-bit values (0.03 pJ per 8-bit add)
}


@dataclasses.dataclass
class LayerPerf:
    name: str
    kind: str
    frames: int
    inputs: int               # per frame
    outputs: int
    changed: float            # mean changed inputs per frame
    macs: int                 # totals over the frames
    macs_dense: int
    cycles: int
    cycles_baseline: int
    energy_pj: float
    energy_baseline_pj: float
    reuse: bool

    @property
    def similarity(self):
        return 1 - self.changed / self.inputs

    @property
    def reuse_fraction(self):
        return 1 - self.macs / self.macs_dense if self.macs_dense else 0.0


def _blocks(n, lanes):
    return -(-n // lanes)


def _gates(layer):
    """The ReuseLinear of a linear layer (an LSTM cell's gates)."""
    return layer.gates if hasattr(layer, "gates") else layer


def engine_layers(network, lanes=16, lower=from_int_network):
    """The engine's view of every linear layer of ``network``: ``(layers, switch, scan_width)``,
    with ``layers`` one LayerConfig (or None) per linear layer, ``scan_width`` the engine's
    (1 where each layer is its own engine layer) and ``switch`` the cycles each layer
    starts with. A network the engine runs whole (``lower``) gives its engine layers and its
    engine's switch; otherwise each layer is its own engine layer where it maps to one (None
    where it does not), on an engine with a layer table."""
    try:
        lowered = lower(network, lanes=lanes)
        engine = lowered.engine_config(lanes=lanes)
        return [layer for layer, _, _ in lowered.layers], switch_cycles(engine), engine.scan_width
    except ConfigError:
        pass
    layers = []
    for l in network.linear_layers():
        linear = _gates(l.layer).linear
        try:
            if hasattr(l.layer, "gates"):
                layer, _, _ = lstm_engine_layer(l.layer, linear.in_shape[0] - l.layer.hidden)
            elif isinstance(linear, Conv):
                layer, _, _ = conv_engine_layer(l.layer, linear.in_shape[0], lanes)
            else:
                layer = LayerConfig(int(np.prod(linear.in_shape)), int(np.prod(linear.out_shape)),
                                    (0, 1))
        except ConfigError:
            layer = None
        layers.append(layer)
    recurrent = any(layer is None or layer.kind != "fc" for layer in layers)
    switch = LAYER_SWITCH + LSTM_LATENCY if recurrent else LAYER_SWITCH if len(layers) > 1 else 0
    return layers, switch, 1


def frame_cycles(engine_layer, switch, lanes, s, first, reuse, linear=None, scan_width=1):
    """Busy cycles of one layer in one frame (the cycle model's) from the frame's stats ``s``:
    on a first execution, or without reuse, every engine input is changed (the engine's
    padding inputs included); otherwise the inputs the integer layer found changed."""
    if engine_layer is None:
        # a grouped or dilated conv: each changed input's MACs run in lanes across the filters
        # of its group, a block per output position and group
        out_shape = linear.out_shape
        groups = getattr(linear, "groups", 1)
        per_group = out_shape[0] // groups
        blocks = int(np.prod(out_shape[1:])) * groups * _blocks(per_group, lanes)
        macs = s.macs_dense if first or not reuse else s.macs
        entries = [(macs // per_group) * _blocks(per_group, lanes)] + [0] * (blocks - 1)
        return layer_cycles(switch, s.inputs, CONV_DRAIN, entries)
    if first or not reuse:
        n, changed = engine_layer.inputs, np.ones(engine_layer.inputs, dtype=bool)
    else:
        n = s.changed
        changed = s.position_changes if s.position_changes is not None else n
    entries = block_entries(engine_layer, lanes, changed)
    return layer_cycles(switch, scan_beats(engine_layer.inputs, scan_width),
                        scan_drain(engine_layer, scan_width), entries)


def layer_perf(name, layer, stats, lanes=16, energy=None, weight_bytes=1, act_bytes=1, acc_bytes=4,
               engine_layer=None, switch=0, scan_width=1):
    """Totals of one linear layer over a sequence from its per-frame LayerStats; cycles from
    the cycle model for ``engine_layer`` (:func:`engine_layers`)."""
    energy = energy or ENERGY_45NM_PJ
    linear = _gates(layer).linear
    reuse = _gates(layer).reuse
    out_shape = linear.out_shape
    cycles = cycles_base = 0
    e = e_base = 0.0
    n_in = stats[0].inputs
    for f, s in enumerate(stats):
        cycles += frame_cycles(engine_layer, switch, lanes, s, f == 0, reuse, linear, scan_width)
        cycles_base += frame_cycles(engine_layer, switch, lanes, s, True, False, linear,
                                    scan_width)
        # weights: one per MAC; I/O: read inputs, write outputs (+ index and stored outputs)
        e_base += (s.macs_dense * (energy["mac"] + weight_bytes * energy["weight_byte"])
                   + (s.inputs * act_bytes + s.outputs * act_bytes) * energy["io_byte"])
        e += (s.macs * (energy["mac"] + weight_bytes * energy["weight_byte"])
              + (s.inputs * act_bytes + s.outputs * act_bytes) * energy["io_byte"])
        if reuse:
            e += s.inputs * energy["quantize"]
            e += (s.inputs + s.changed) * energy["io_byte"]            # index read, writes
            e += 2 * s.outputs * acc_bytes * energy["io_byte"]         # stored output read + write
    return LayerPerf(name,
                     "lstm" if hasattr(layer, "gates")
                     else ("fc" if len(out_shape) == 1 else "conv"),
                     len(stats), n_in, int(np.prod(out_shape)),
                     float(np.mean([s.changed for s in stats])),
                     int(sum(s.macs for s in stats)), int(sum(s.macs_dense for s in stats)),
                     int(cycles), int(cycles_base), e, e_base, reuse)


def network_perf(network, stats, lanes=16, energy=None, weight_bytes=1, lower=from_int_network):
    """Per-layer :class:`LayerPerf` and network totals; ``lower`` maps the network onto the
    engine (:func:`engine_layers`)."""
    views, switch, scan_width = engine_layers(network, lanes, lower)
    layers = [layer_perf(l.node.name, l.layer, stats[l.node.name], lanes, energy,
                         weight_bytes=weight_bytes, engine_layer=view, switch=switch,
                         scan_width=scan_width)
              for l, view in zip(network.linear_layers(), views) if stats[l.node.name]]
    total = {
        "macs": sum(l.macs for l in layers),
        "macs_dense": sum(l.macs_dense for l in layers),
        "cycles": sum(l.cycles for l in layers),
        "cycles_baseline": sum(l.cycles_baseline for l in layers),
        "energy_pj": sum(l.energy_pj for l in layers),
        "energy_baseline_pj": sum(l.energy_baseline_pj for l in layers),
    }
    total["macs_avoided"] = 1 - total["macs"] / total["macs_dense"] if total["macs_dense"] else 0.0
    total["speedup"] = total["cycles_baseline"] / total["cycles"] if total["cycles"] else 1.0
    total["ideal_speedup"] = (1 / (1 - total["macs_avoided"]) if total["macs_avoided"] < 1
                              else float("inf"))
    total["normalized_energy"] = (total["energy_pj"] / total["energy_baseline_pj"]
                                  if total["energy_baseline_pj"] else 1.0)
    return layers, total


def memory_overhead(network, index_bits=5, act_bytes=1, acc_bytes=4):
    """I/O buffer storage (bytes), baseline vs reuse, as the paper's Table III counts it.

    Baseline: the two ping-pong activation banks must hold the largest layer input and output.
    Reuse adds, for every reusing layer, its inputs' indices and its stored outputs (an LSTM
    stores its four gates), kept from one frame to the next.
    """
    largest = 0
    extra_index = extra_outputs = 0
    for l in network.linear_layers():
        layer = _gates(l.layer)
        n_in = int(np.prod(layer.linear.in_shape))
        n_out = int(np.prod(layer.linear.out_shape))
        largest = max(largest, n_in, n_out)
        if layer.reuse:
            extra_index += n_in * index_bits / 8
            extra_outputs += n_out * acc_bytes
    baseline = 2 * largest * act_bytes
    return {
        "io_buffer_baseline_bytes": int(baseline),
        "io_buffer_reuse_bytes": int(baseline + extra_index + extra_outputs),
        "index_bytes": int(extra_index),
        "stored_output_bytes": int(extra_outputs),
        "weight_bytes": int(sum(np.prod(_gates(l.layer).linear.weights.shape)
                                for l in network.linear_layers())),
    }
