"""Performance and energy of a whole network from its per-layer event counts.

Cycles follow the engine's cycle model (golden/cycle_model.py): a layer scans its N inputs one
per cycle, then, per output block of ``lanes`` outputs (for a CONV: per output position and
block of ``lanes`` filters), loads the block, runs one cycle per changed input that touches it
and stores it back. The baseline accelerator runs the same datapath with every input changed.

Energy is the counts times per-event energies. deja uses the CACTI figures of synth/ when they
exist; otherwise the documented table :data:`ENERGY_45NM_PJ` below: Horowitz, "Computing's
energy problem", ISSCC 2014 (45 nm): 8-bit multiply 0.2 pJ, 32-bit add 0.1 pJ, 64-bit read of
an 8 KB SRAM 10 pJ, of a 1 MB SRAM 100 pJ. The weight buffer and the I/O buffer are MB-sized,
so a byte costs 100 / 8 = 12.5 pJ; the centroid table and quantizer are register files.
"""

import dataclasses

import numpy as np

from ..cycle_model import SCAN_DRAIN

__all__ = ["ENERGY_45NM_PJ", "LayerPerf", "layer_perf", "network_perf"]

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


def layer_perf(name, layer, stats, lanes=16, energy=None, weight_bytes=1, act_bytes=1, acc_bytes=4):
    """Totals of one linear layer over a sequence from its per-frame LayerStats."""
    energy = energy or ENERGY_45NM_PJ
    linear = layer.gates.linear if hasattr(layer, "gates") else layer.linear
    reuse = (layer.gates if hasattr(layer, "gates") else layer).reuse
    out_shape = linear.out_shape
    filters = out_shape[0]
    groups = getattr(linear, "groups", 1)
    per_group = filters // groups
    positions = int(np.prod(out_shape[1:])) if len(out_shape) > 1 else 1
    if len(out_shape) == 1:                  # FC: lanes across outputs
        blocks, per_block = _blocks(filters, lanes), filters
    else:                                    # CONV: lanes across the filters of a group
        blocks, per_block = positions * groups * _blocks(per_group, lanes), per_group
    cycles = cycles_base = 0
    e = e_base = 0.0
    n_in = stats[0].inputs
    for s in stats:
        # a changed input contributes (macs / per_block) cycles per block of lanes filters
        correct = (s.macs // per_block) * _blocks(per_block, lanes)
        correct_base = (s.macs_dense // per_block) * _blocks(per_block, lanes)
        cycles += s.inputs + SCAN_DRAIN + correct + 2 * blocks
        cycles_base += s.inputs + SCAN_DRAIN + correct_base + 2 * blocks
        # weights: one per MAC; I/O: read inputs, write outputs (+ index and stored outputs)
        e_base += (s.macs_dense * (energy["mac"] + weight_bytes * energy["weight_byte"])
                   + (s.inputs * act_bytes + s.outputs * act_bytes) * energy["io_byte"])
        e += (s.macs * (energy["mac"] + weight_bytes * energy["weight_byte"])
              + (s.inputs * act_bytes + s.outputs * act_bytes) * energy["io_byte"])
        if reuse:
            e += s.inputs * energy["quantize"]
            e += (s.inputs + s.changed) * energy["io_byte"]            # index read, writes
            e += 2 * s.outputs * acc_bytes * energy["io_byte"]         # stored output read + write
    return LayerPerf(name, "lstm" if hasattr(layer, "gates") else ("fc" if len(out_shape) == 1 else "conv"),
                     len(stats), n_in, int(np.prod(out_shape)),
                     float(np.mean([s.changed for s in stats])),
                     int(sum(s.macs for s in stats)), int(sum(s.macs_dense for s in stats)),
                     int(cycles), int(cycles_base), e, e_base, reuse)


def network_perf(network, stats, lanes=16, energy=None, weight_bytes=1):
    """Per-layer :class:`LayerPerf` and network totals."""
    layers = [layer_perf(l.node.name, l.layer, stats[l.node.name], lanes, energy, weight_bytes=weight_bytes)
              for l in network.linear_layers() if stats[l.node.name]]
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
    total["ideal_speedup"] = 1 / (1 - total["macs_avoided"]) if total["macs_avoided"] < 1 else float("inf")
    total["normalized_energy"] = total["energy_pj"] / total["energy_baseline_pj"] if total["energy_baseline_pj"] else 1.0
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
        layer = l.layer.gates if hasattr(l.layer, "gates") else l.layer
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
        "weight_bytes": int(sum(np.prod((l.layer.gates if hasattr(l.layer, "gates") else l.layer).linear.weights.shape)
                                for l in network.linear_layers())),
    }
