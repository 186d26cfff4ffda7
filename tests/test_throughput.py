"""deja bench throughput: the cycle model's cycles split by term, reuse against baseline."""

import json
import subprocess
import sys

import numpy as np
import pytest

from golden import EngineConfig, LayerConfig, golden_network_run, linear_centroids, similar_frames
from golden.evaluation.throughput import TERMS, network_throughput
from golden.network.engine_network import EngineNetwork


def small_network(seed=3):
    rng = np.random.default_rng(seed)
    layers = []
    for n, m in [(29, 40), (40, 17), (17, 9)]:
        layer = LayerConfig(n, m, linear_centroids(-128, 127, 8, 8), activation="relu", shift=7)
        layers.append((layer, rng.integers(-128, 128, (n, m)), rng.integers(-999, 999, m)))
    return EngineNetwork("small", layers)


@pytest.mark.parametrize("width", [1, 4])
def test_losses_add_up_to_the_cycle_model(width):
    """Ideal + losses = the golden engine's cycles per frame; the scan term is ceil(N / W) per
    layer, LOAD/STORE one per block and the layer's first LOAD, and the baseline is the same
    engine without reuse."""
    network = small_network()
    engine = network.engine_config(lanes=8, scan_width=width)
    frames = similar_frames(12, 29, 0.8, network.layers[0][0].centroids, 8, seed=1)
    result = network_throughput("small", network, frames, engine)
    run = golden_network_run(engine, network.layers, frames, trace=False)
    base = golden_network_run(engine.replace(reuse=False), network.layers, frames, trace=False)
    assert result.cycles == pytest.approx(np.mean([c.cycles + c.stall_cycles
                                                   for c in run.counters]))
    assert result.baseline_cycles == pytest.approx(np.mean([c.cycles for c in base.counters]))
    assert result.ideal + sum(result.losses.values()) == pytest.approx(result.cycles)
    assert result.losses["scan"] == sum(-(-layer.inputs // width) for layer, _, _ in
                                        network.layers)
    assert result.losses["load_store"] == sum(1 + -(-layer.outputs // 8) for layer, _, _ in
                                              network.layers)
    assert result.dense_macs == pytest.approx(np.mean([c.macs for c in base.counters]))
    assert result.fraction == pytest.approx(result.speedup / result.mac_ratio)
    assert set(result.losses) == set(TERMS)


def test_a_wider_scan_only_saves_scan_cycles():
    network = small_network()
    frames = similar_frames(12, 29, 0.8, network.layers[0][0].centroids, 8, seed=1)
    narrow, wide = (network_throughput("small", network, frames,
                                       network.engine_config(lanes=8, scan_width=w))
                    for w in (1, 8))
    assert wide.cycles < narrow.cycles and wide.baseline_cycles < narrow.baseline_cycles
    assert wide.macs == narrow.macs
    for term in TERMS:
        if term not in ("scan", "drain"):
            assert wide.losses[term] == pytest.approx(narrow.losses[term]), term


def test_network_engine_scan_width():
    """A network's engine scans the widest of 8 or less its lanes and LSTM inputs allow."""
    network = small_network()
    assert network.engine_config(lanes=16).scan_width == 8
    assert network.engine_config(lanes=4).scan_width == 4
    assert network.engine_config(lanes=12).scan_width == 4
    assert network.engine_config(lanes=5).scan_width == 1
    assert EngineConfig().scan_width == 1


@pytest.mark.slow
def test_bench_throughput_json():
    """The command on every built-in network (few frames): the JSON the issue specifies,
    self-consistent figures."""
    r = subprocess.run([sys.executable, "-m", "deja", "bench", "throughput", "--frames", "8",
                        "--json"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    names = [(n["name"], n["band_rows"]) for n in result["networks"]]
    assert names == [("kaldi-mlp", None), ("speech-lstm", None), ("silero", None),
                     ("silero-all", None), ("video-cnn", None), ("video-conv", None),
                     ("video-conv", 2), ("video-conv", 4), ("video-conv", 8)]
    for n in result["networks"]:
        assert set(n["losses"]) == set(TERMS)
        assert n["fraction"] == pytest.approx(n["speedup"] / n["mac_ratio"], rel=1e-3)
        assert n["ideal_cycles"] + sum(n["losses"].values()) == pytest.approx(n["cycles"],
                                                                               abs=1)
        assert (n["losses"]["transfers"] > 0) == (n["band_rows"] is not None)
    assert [n["scan_width"] for n in result["networks"][:2]] == [8, 8]
