"""Evaluate computation reuse on a whole network and a real sequence (paper Table I, Fig. 5, 9,
10, Table III), producing one JSON-able dict.

A :class:`Workload` bundles a float graph, a calibration sequence (used for scales, the reuse
policy and the cluster search) and a separate evaluation sequence, plus the accuracy metric
that compares the integer network with the float model.
"""

import dataclasses
import time
from typing import Callable

import numpy as np

from ..network.graph import quantize_graph
from ..network.lowering import from_int_network
from .paper import PAPER
from .perf import memory_overhead, network_perf
from .policy import choose_reuse_layers, cluster_search

__all__ = ["Workload", "evaluate", "decision_agreement", "argmax_agreement"]


@dataclasses.dataclass
class Workload:
    name: str
    description: str
    graph: object
    calibration: np.ndarray
    evaluation: np.ndarray
    accuracy_name: str
    accuracy: Callable
    paper_network: str
    frame_seconds: float = None
    # operand widths of the integer network (activations are act_width = 8 throughout)
    weight_width: int = 8
    # False: every linear layer reuses (for networks whose accuracy figure means nothing,
    # e.g. untrained weights); True: the paper's policy under the accuracy budget
    policy: bool = True
    notes: list = dataclasses.field(default_factory=list)
    # the network on the engine, for its cycles (golden/network/lowering.py)
    lower: Callable = from_int_network


def decision_agreement(output, threshold=0.5):
    """Fraction of frames where the integer and float models take the same binary decision."""
    def score(got, ref):
        g = np.asarray(got[output]).reshape(len(got[output]), -1)
        r = np.asarray(ref[output]).reshape(len(ref[output]), -1)
        return float(((g > threshold) == (r > threshold)).mean())
    return score


def argmax_agreement(output):
    """Fraction of frames where the integer and float models pick the same class."""
    def score(got, ref):
        g = np.asarray(got[output]).reshape(len(got[output]), -1)
        r = np.asarray(ref[output]).reshape(len(ref[output]), -1)
        return float((g.argmax(axis=1) == r.argmax(axis=1)).mean())
    return score


def evaluate(workload, clusters=16, budget=0.01, lanes=16, progress=None, log=None,
             candidates=(8, 16, 32), weight_width=None, energy=None,
             energy_model="Horowitz 45 nm table (golden/evaluation/perf.py)"):
    """Choose the reusing layers (and clusters with ``clusters="auto"``), run the evaluation
    sequence, and report similarity, reuse, accuracy, cycles, energy and memory per layer."""
    started = time.perf_counter()
    graph, cal = workload.graph, workload.calibration
    quant = {"weight_width": weight_width or workload.weight_width}
    cal_ref = graph.run_float(cal)

    def accuracy(net):
        out, _ = net.run(cal)
        return workload.accuracy(out, cal_ref)

    if not workload.policy:
        layers = [n.name for n in graph.linear_nodes()]
        cluster_map = {name: 16 if clusters == "auto" else int(clusters) for name in layers}
    elif clusters == "auto":
        layers, _ = choose_reuse_layers(graph, cal, accuracy, budget, clusters=max(candidates),
                                        log=log, **quant)
        cluster_map, _ = cluster_search(graph, cal, accuracy, budget, layers, candidates=candidates,
                                        default=max(candidates), log=log, **quant)
    else:
        layers, _ = choose_reuse_layers(graph, cal, accuracy, budget, clusters=int(clusters),
                                        log=log, **quant)
        cluster_map = {name: int(clusters) for name in layers}
    net = quantize_graph(graph, cal, reuse=layers, clusters=dict(cluster_map), **quant)
    run_started = time.perf_counter()
    out, stats = net.run(workload.evaluation, progress=progress)
    run_seconds = time.perf_counter() - run_started
    ref = graph.run_float(workload.evaluation)
    plain = quantize_graph(graph, cal, reuse=[], clusters=16, **quant)
    out_plain, _ = plain.run(workload.evaluation)
    per_layer, total = network_perf(net, stats, lanes=lanes, energy=energy,
                                    weight_bytes=-(-quant["weight_width"] // 8),
                                    lower=workload.lower)
    rows = []
    for lp in per_layer:
        rows.append({
            "name": lp.name, "kind": lp.kind, "inputs": lp.inputs, "outputs": lp.outputs,
            "reuse_enabled": lp.reuse, "clusters": cluster_map.get(lp.name),
            "input_similarity": lp.similarity, "computation_reuse": lp.reuse_fraction,
            "macs": lp.macs, "macs_dense": lp.macs_dense,
            "cycles": lp.cycles, "cycles_baseline": lp.cycles_baseline,
            "speedup": lp.cycles_baseline / lp.cycles if lp.cycles else 1.0,
            "energy_pj": lp.energy_pj, "energy_baseline_pj": lp.energy_baseline_pj,
        })
    frames = len(workload.evaluation)
    inputs_total = sum(r["inputs"] for r in rows)
    similarity = ((sum(r["input_similarity"] * r["inputs"] for r in rows) / inputs_total)
                  if inputs_total else 0.0)
    return {
        "workload": workload.name,
        "description": workload.description,
        "notes": workload.notes,
        "frames": frames,
        "seconds_of_input": frames * workload.frame_seconds if workload.frame_seconds else None,
        "calibration_frames": len(cal),
        "budget": budget,
        "clusters": cluster_map,
        "reuse_layers": layers,
        "lanes": lanes,
        "weight_width": quant["weight_width"],
        "energy_model": energy_model,
        "accuracy": {
            "metric": workload.accuracy_name,
            "with_reuse": workload.accuracy(out, ref),
            "without_reuse": workload.accuracy(out_plain, ref),
        },
        "input_similarity": similarity,
        "layers": rows,
        "total": total,
        "memory": memory_overhead(net),
        "paper": {"network": workload.paper_network, **PAPER[workload.paper_network],
                  "average": PAPER["average"]},
        "network_seconds": run_seconds,
        "elapsed_seconds": time.perf_counter() - started,
    }
