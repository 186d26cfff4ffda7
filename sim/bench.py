"""Simulated cycles per second of the Amaranth simulator and of Verilator on one workload."""

import golden
from golden import similar_frames
from .demo import demo_layer
from .simulate import simulate

__all__ = ["bench_sim"]


def bench_sim(frames=100, similarity=0.5, seed=1, config=None):
    """Run the same checked sequence on both simulators (default configuration, demo layer).

    Rates are simulated cycles over the wall time of the simulation itself: for Verilator from
    ``go`` to the last output frame inside the cocotb process (build and process start-up are
    reported separately), for Amaranth the whole ``rtl_run`` call.
    """
    config = config or golden.DEFAULT
    layer, weights, bias = demo_layer(config, seed=seed)
    x = similar_frames(frames, layer.inputs, similarity, layer.centroids, config.act_width,
                       seed=seed)
    runs = {name: simulate(config, layer, weights, bias, x, simulator=name, seed=seed)
            for name in ("amaranth", "verilator")}
    a, v = runs["amaranth"], runs["verilator"]
    return {
        "engine": config.to_dict(),
        "layer": f"FC {layer.inputs}x{layer.outputs}, {layer.clusters} clusters",
        "frames": frames,
        "similarity_requested": similarity,
        "cycles": v["cycles"],
        "amaranth_cycles_per_second": a["cycles_per_second"],
        "verilator_cycles_per_second": v["cycles_per_second"],
        "ratio_verilator_over_amaranth": v["cycles_per_second"] / a["cycles_per_second"],
        "amaranth_seconds": a["sim_seconds"],
        "verilator_seconds": v["sim_seconds"],
        "verilator_process_seconds": v["wall_seconds"],
        "verilator_build_seconds": v["build_seconds"],
        "verilator_build_cached": v["build_cached"],
        "mismatches": {"amaranth": a["mismatches"], "verilator": v["mismatches"]},
        "same_cycles": a["cycles"] == v["cycles"],
        "failed": a["failed"] or v["failed"] or a["cycles"] != v["cycles"],
    }
