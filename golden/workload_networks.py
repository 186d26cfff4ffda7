"""The built-in evaluation workloads: a real network on a real sequence (paper section V).

Each builder fetches its model and data through golden/workloads (cached after the first use),
and splits the sequence into a calibration part (scales, reuse policy, cluster search) and a
separate evaluation part.
"""

import numpy as np

from .evaluate import Workload, decision_agreement, argmax_agreement

__all__ = ["WORKLOAD_NAMES", "build_workload", "WorkloadUnavailable"]

try:
    from .workloads import WorkloadUnavailable
except ImportError:                        # pragma: no cover - the loaders are a sibling package
    class WorkloadUnavailable(RuntimeError):
        pass

WORKLOAD_NAMES = ("blazeface", "fbank", "silero")


def build_workload(name, frames=None):
    builders = {"silero": silero_workload, "fbank": fbank_workload, "blazeface": blazeface_workload}
    if name not in builders:
        raise KeyError(f"unknown workload {name!r}: allowed {', '.join(WORKLOAD_NAMES)}")
    return builders[name](frames)


def silero_workload(frames=None):
    raise WorkloadUnavailable("silero: workload loaders are not available yet")


def kaldi_mlp(seed=0, senones=3482):
    """An MLP of the paper's Kaldi shape (Table I): FC1 360x360, FC2 360x2000, then p-norm
    groups of 5 (here max over the group) to 400, FC3-FC5 400x2000, FC6 400 x senones.

    No trained Kaldi model can be fetched from a package registry, so the weights are seeded
    random (scaled 1 / sqrt(fan-in)); the figures this workload is for are the input similarity
    and computation reuse of real speech features, which do not depend on training.
    """
    from .network import Graph, Node
    rng = np.random.default_rng(seed)

    def fc(name, x, n, m, out, relu=True):
        w = rng.normal(0, 1 / np.sqrt(n), (n, m))
        return Node(name, "fc", [x], out, {"weight": w, "bias": rng.normal(0, 0.1, m), "relu": relu})

    nodes = [fc("FC1", "features", 360, 360, "h1", relu=False), fc("FC2", "h1", 360, 2000, "h2")]
    x = "h2"
    for k in (3, 4, 5, 6):
        nodes += [Node(f"pnorm{k - 1}", "reshape", [x], f"g{k}", {"shape": (400, 5)}),
                  Node(f"pool{k - 1}", "max_pool", [f"g{k}"], f"p{k}", {"kernel": 5, "stride": 5}),
                  Node(f"flat{k - 1}", "reshape", [f"p{k}"], f"in{k}", {"shape": (400,)})]
        out = senones if k == 6 else 2000
        nodes.append(fc(f"FC{k}", f"in{k}", 400, out, f"h{k}", relu=k != 6))
        x = f"h{k}"
    return Graph(nodes, "features", (360,), [x])


def fbank_workload(frames=None):
    raise WorkloadUnavailable("fbank: workload loaders are not available yet")


def blazeface_workload(frames=None):
    raise WorkloadUnavailable("blazeface: workload loaders are not available yet")
