"""Which layers reuse, and with how many clusters (paper section III; Mquans for the search).

The paper enables reuse from the last layer backwards while the accuracy loss stays within a
budget (later layers tolerate input quantization best, and each enabled layer only adds error
for the layers after it). ``cluster_search`` then picks, per reusing layer, the smallest cluster
count from the candidates that keeps the loss within the same budget (fewer clusters, more
reuse), as Mquans does per layer.

Accuracy is measured on the calibration (tuning) sequence only; the evaluation sequence is never
used to choose anything.
"""

from ..network.graph import quantize_graph

__all__ = ["choose_reuse_layers", "cluster_search"]


def _loss(graph, calibration, accuracy, reference, **kw):
    return reference - accuracy(quantize_graph(graph, calibration, **kw))


def choose_reuse_layers(graph, calibration, accuracy, budget, clusters=16, log=None, **quant):
    """Enable reuse from the last linear layer backwards while the loss <= ``budget``.

    ``accuracy(network) -> float`` scores an integer network (1.0 = agrees with the float model).
    Returns (reusing layer names, reference accuracy without reuse). ``quant``: further
    arguments of :func:`quantize_graph` (``weight_width``, ``act_width``).
    """
    reference = accuracy(quantize_graph(graph, calibration, reuse=[], clusters=clusters, **quant))
    chosen = []
    for node in reversed(graph.linear_nodes()):
        trial = chosen + [node.name]
        loss = _loss(graph, calibration, accuracy, reference, reuse=trial, clusters=clusters,
                     **quant)
        if log:
            log(f"reuse {node.name}: loss {loss:.4f}")
        if loss > budget:
            break
        chosen = trial
    return chosen, reference


def cluster_search(graph, calibration, accuracy, budget, layers, candidates=(8, 16, 32),
                   default=32, log=None, **quant):
    """Per-layer cluster counts: smallest candidate keeping the loss <= ``budget``."""
    reference = accuracy(quantize_graph(graph, calibration, reuse=[], clusters=default, **quant))
    choice = {name: default for name in layers}
    for name in reversed(layers):
        for c in sorted(candidates):
            trial = dict(choice, **{name: c})
            loss = _loss(graph, calibration, accuracy, reference, reuse=layers, clusters=trial,
                         **quant)
            if log:
                log(f"{name}: C = {c} loss {loss:.4f}")
            if loss <= budget:
                choice = trial
                break
    return choice, reference
