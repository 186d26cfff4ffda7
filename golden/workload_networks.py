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


def fbank_workload(frames=None):
    raise WorkloadUnavailable("fbank: workload loaders are not available yet")


def blazeface_workload(frames=None):
    raise WorkloadUnavailable("blazeface: workload loaders are not available yet")
