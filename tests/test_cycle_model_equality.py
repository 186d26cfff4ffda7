"""One cycle model: for every built-in network the engine runs, the evaluation's cycles and
speedup (golden/evaluation/perf.py, from the integer network ``deja eval`` runs) equal the
golden engine's (golden/engine.py) on the same integer network and frames."""

import pytest

from golden import golden_network_run
from golden.evaluation.perf import network_perf
from golden.network.builtin import NETWORK_NAMES, build_workload, network_workload

FRAMES = 12
LANES = 16


def engine_cycles(engine, network, x):
    """Per-layer busy cycles of the golden engine over the frames."""
    run = golden_network_run(engine, network.layers, x, trace=False)
    return [sum(c.cycles for c in layer.counters) for layer in run.layers]


@pytest.mark.parametrize("name", NETWORK_NAMES)
def test_evaluation_cycles_equal_the_golden_engine(name):
    network, x, int_network = network_workload(name, frames=FRAMES, lanes=LANES)
    workload = build_workload(name, frames=FRAMES)
    int_network.start_sequence()
    _, stats = int_network.run(workload.evaluation)
    layers, total = network_perf(int_network, stats, lanes=LANES, lower=workload.lower)

    engine = network.engine_config(lanes=LANES)
    reuse = engine_cycles(engine, network, x)
    baseline = engine_cycles(engine.replace(reuse=False), network, x)
    assert [l.cycles for l in layers] == reuse
    assert [l.cycles_baseline for l in layers] == baseline
    assert total["cycles"] == sum(reuse)
    assert total["speedup"] == sum(baseline) / sum(reuse)
