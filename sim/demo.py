"""The demo: one FC layer, a frame sequence, golden vs Amaranth-simulated RTL, reuse vs baseline."""

import numpy as np

import golden
from golden import LayerConfig, golden_run, linear_centroids, similar_frames

from .harness import rtl_run

__all__ = ["demo_layer", "run_demo"]


def demo_layer(config, inputs=96, outputs=64, clusters=16, seed=1):
    """A reproducible layer: linear centroids over the full activation range, random weights."""
    rng = np.random.default_rng(seed)
    layer = LayerConfig(
        inputs, outputs,
        linear_centroids(config.act_min, config.act_max, clusters, config.act_width),
        activation="relu", shift=9)
    weights = rng.integers(config.weight_min, config.weight_max + 1, (inputs, outputs))
    bias = rng.integers(-4096, 4096, outputs)
    return layer, weights, bias


def run_demo(config=None, frames=24, similarity=0.9, stall=0.0, seed=1):
    """Run golden and RTL, reuse and baseline; return a summary dict (all counts measured)."""
    config = config or golden.DEFAULT
    layer, weights, bias = demo_layer(config, seed=seed)
    x = similar_frames(frames, layer.inputs, similarity, layer.centroids, config.act_width,
                       seed=seed)
    patterns = {}
    if stall:
        patterns = dict(input_valid=golden.Pattern(1 - stall, seed),
                        output_ready=golden.Pattern(1 - stall, seed + 1))
    rows = {}
    for name, cfg in (("reuse", config.replace(reuse=True)),
                      ("baseline", config.replace(reuse=False))):
        ref = golden_run(cfg, layer, weights, bias, x, **patterns)
        rtl = rtl_run(cfg, layer, weights, bias, x, **patterns)
        agree = (np.array_equal(ref.outputs, rtl.outputs) and ref.counters == rtl.counters
                 and ref.trace == rtl.trace)
        total = {k: sum(getattr(c, k) for c in ref.counters) for k in golden.Counters.FIELDS}
        rows[name] = {"agree": bool(agree), "trace_events": len(ref.trace), **total}
    reuse, base = rows["reuse"], rows["baseline"]
    recompute = golden.full_recompute(layer, weights, bias, x)
    ref = golden_run(config.replace(reuse=True), layer, weights, bias, x, trace=False)
    return {
        "frames": frames,
        "layer": layer.to_dict(),
        "engine": config.to_dict(),
        "similarity_requested": similarity,
        "inputs_scanned": reuse["inputs_scanned"],
        "inputs_changed": reuse["inputs_changed"],
        "macs_reuse": reuse["macs"],
        "macs_baseline": base["macs"],
        "macs_avoided": 1 - reuse["macs"] / base["macs"],
        "cycles_reuse": reuse["cycles"],
        "cycles_baseline": base["cycles"],
        "speedup": base["cycles"] / reuse["cycles"],
        "rtl_matches_golden": reuse["agree"] and base["agree"],
        "reuse_matches_full_recompute": bool(np.array_equal(ref.preactivations, recompute)),
        "trace_events": reuse["trace_events"] + base["trace_events"],
        "failed": not (reuse["agree"] and base["agree"]),
    }
