"""Simulated cycles per second of the Amaranth simulator and of Verilator on one workload, and
Verilator frames per wall-clock second of a whole network on its real input."""

import golden
from golden import similar_frames

from .demo import demo_layer
from .simulate import simulate, simulate_network

__all__ = ["bench_sim", "bench_network"]


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


def bench_network(name="kaldi-mlp", frames=300, lanes=16, stall=0.0, seed=1):
    """Run a built-in network on Verilator, checked against golden, in one run: frames per
    wall-clock second of the simulation (``go`` to the last output frame) and of the whole
    simulator process (cocotb start-up and golden model included, build excluded)."""
    from golden.network.builtin import load_network
    network, x = load_network(name, frames)
    config = network.engine_config(lanes=lanes)
    r = simulate_network(network, x, config, simulator="verilator", stall=stall, seed=seed)
    return {
        "network": network.name,
        "shape": r["shape"],
        "engine": config.to_dict(),
        "frames": r["frames"],
        "stall": stall,
        "mismatches": r["mismatches"],
        "cycles": r["cycles"],
        "cycles_per_frame_mean": r["cycles_per_frame_mean"],
        "baseline_cycles_per_frame_mean": r["baseline_cycles_per_frame_mean"],
        "speedup": r["speedup"],
        "macs_avoided_percent": r["macs_avoided_percent"],
        "verilator_cycles_per_second": r["cycles_per_second"],
        "verilator_frames_per_second": r["frames_per_second"],
        "verilator_frames_per_second_process": r["frames_per_second_process"],
        "verilator_seconds": r["sim_seconds"],
        "verilator_process_seconds": r["wall_seconds"],
        "verilator_build_seconds": r["build_seconds"],
        "verilator_build_cached": r["build_cached"],
        "failed": r["failed"],
    }
