"""Verification level 2: the reuse engine, cycle by cycle, against golden's trace and counters."""

import itertools

import numpy as np
import pytest

from golden import (
    EngineConfig,
    LayerConfig,
    Pattern,
    baseline_layer,
    cycle_bound,
    full_recompute,
    golden_run,
    linear_centroids,
    similar_frames,
)
from sim import rtl_run


def make_case(lanes, clusters, reuse, inputs, outputs, seed, max_clusters=32):
    config = EngineConfig(lanes=lanes, max_inputs=32, max_outputs=32, max_clusters=max_clusters,
                          reuse=reuse)
    rng = np.random.default_rng(seed)
    layer = LayerConfig(inputs, outputs, linear_centroids(-128, 127, clusters, 8),
                        activation=["relu", "none"][seed % 2], shift=int(rng.integers(4, 12)))
    weights = rng.integers(-128, 128, (inputs, outputs))
    bias = rng.integers(-20000, 20000, outputs)
    return config, layer, weights, bias


def assert_same(expected, got):
    assert np.array_equal(got.outputs, expected.outputs)
    assert got.counters == expected.counters
    for k, (e, g) in enumerate(zip(expected.trace, got.trace)):
        assert e == g, f"trace event {k}: golden {e}, RTL {g}"
    assert len(got.trace) == len(expected.trace)


MATRIX = list(itertools.product([1, 4, 16], [2, 16, 32], [True, False], [0.0, 0.5, 0.95, 1.0]))


@pytest.mark.parametrize("lanes, clusters, reuse, similarity", MATRIX,
                         ids=[f"L{l}-C{c}-{'reuse' if r else 'base'}-S{int(s * 100)}"
                              for l, c, r, s in MATRIX])
def test_engine_trace_matches_golden(lanes, clusters, reuse, similarity):
    seed = lanes * 100 + clusters + int(similarity * 10)
    config, layer, weights, bias = make_case(lanes, clusters, reuse, 13, 19, seed)
    x = similar_frames(6, layer.inputs, similarity, layer.centroids, 8, seed=seed)
    # every other case with seeded bubbles on the input and backpressure on the output
    stalls = {}
    if (lanes + clusters + int(similarity * 100)) % 2:
        stalls = dict(input_valid=Pattern(0.6, seed), output_ready=Pattern(0.3, seed + 1))
    expected = golden_run(config, layer, weights, bias, x, **stalls)
    got = rtl_run(config, layer, weights, bias, x, **stalls)
    assert_same(expected, got)
    for c in expected.counters:
        assert c.cycles <= cycle_bound(config, layer, c.inputs_changed), \
            "docs/design.md cycle contract"
    if reuse:
        assert np.array_equal(got.preactivations, full_recompute(layer, weights, bias, x))
    else:
        assert np.array_equal(expected.preactivations, baseline_layer(weights, bias, x))


@pytest.mark.parametrize("lanes, inputs, outputs", [(16, 1, 1), (4, 1, 9), (4, 9, 1), (5, 32, 32)])
def test_engine_edge_shapes(lanes, inputs, outputs):
    config, layer, weights, bias = make_case(lanes, 16, True, inputs, outputs,
                                             seed=inputs + outputs)
    x = similar_frames(5, inputs, 0.5, layer.centroids, 8, seed=1)
    stalls = dict(input_valid=Pattern(0.5, 3), output_ready=Pattern(0.5, 4))
    assert_same(golden_run(config, layer, weights, bias, x, **stalls),
                rtl_run(config, layer, weights, bias, x, **stalls))


@pytest.mark.parametrize("lanes, max_inputs, max_outputs, reuse",
                         [(16, 32, 16, True), (4, 1, 4, True), (4, 1, 4, False)])
def test_engine_one_word_buffers(lanes, max_inputs, max_outputs, reuse):
    """Engines whose buffers hold one word (one output block, one input) elaborate and agree."""
    config = EngineConfig(lanes=lanes, max_inputs=max_inputs, max_outputs=max_outputs, reuse=reuse)
    rng = np.random.default_rng(lanes + max_inputs)
    layer = LayerConfig(max_inputs, max_outputs, linear_centroids(-128, 127, 8, 8), shift=6)
    weights = rng.integers(-128, 128, (max_inputs, max_outputs))
    bias = rng.integers(-2000, 2000, max_outputs)
    x = similar_frames(4, max_inputs, 0.5, layer.centroids, 8, seed=2)
    stalls = dict(input_valid=Pattern(0.3, 5), output_ready=Pattern(0.3, 6))
    assert_same(golden_run(config, layer, weights, bias, x, **stalls),
                rtl_run(config, layer, weights, bias, x, **stalls))


def test_engine_fixed_backpressure_pattern():
    config, layer, weights, bias = make_case(4, 16, True, 7, 11, seed=9)
    x = similar_frames(6, 7, 0.6, layer.centroids, 8, seed=2)
    stalls = dict(input_valid=Pattern.cycle([1, 1, 1, 0]), output_ready=Pattern.cycle([0, 1]))
    assert_same(golden_run(config, layer, weights, bias, x, **stalls),
                rtl_run(config, layer, weights, bias, x, **stalls))


@pytest.mark.slow
def test_engine_200_frames_bit_identical():
    """Long run: RTL == golden == full recompute for 200 frames, with random stalls."""
    config, layer, weights, bias = make_case(4, 32, True, 24, 10, seed=11)
    x = similar_frames(200, 24, 0.8, layer.centroids, 8, seed=3)
    stalls = dict(input_valid=Pattern(0.7, 5), output_ready=Pattern(0.5, 6))
    got = rtl_run(config, layer, weights, bias, x, **stalls)
    expected = golden_run(config, layer, weights, bias, x, **stalls)
    assert_same(expected, got)
    assert np.array_equal(got.preactivations, full_recompute(layer, weights, bias, x))
    assert len(got.counters) == 200


def test_engine_vcd(tmp_path):
    config, layer, weights, bias = make_case(4, 16, True, 5, 6, seed=1)
    x = similar_frames(2, 5, 0.5, layer.centroids, 8, seed=1)
    rtl_run(config, layer, weights, bias, x, vcd=tmp_path / "engine.vcd")
    text = (tmp_path / "engine.vcd").read_text()
    assert "$enddefinitions" in text and "i_stream__valid" in text


@pytest.mark.parametrize("block_ram_slices", [False, True])
def test_engine_with_banked_weight_buffer(monkeypatch, block_ram_slices):
    """A weight buffer of more than WEIGHT_BANK_DEPTH words is built of banks with registered
    outputs, for ECP5 each cut into bit slices; a layer whose weights span two banks agrees
    with golden cycle for cycle. (The bank depth is lowered to 1024 words, 18-bit slices, to
    keep the simulation small.)"""
    import hw.weight_buffer
    WEIGHT_BANK_DEPTH = 1024
    monkeypatch.setattr(hw.weight_buffer, "WEIGHT_BANK_DEPTH", WEIGHT_BANK_DEPTH)
    assert hw.weight_buffer.slice_width(WEIGHT_BANK_DEPTH) < 4 * 8    # two slices per word
    config = EngineConfig(lanes=4, max_inputs=128, max_outputs=64)
    assert config.weight_depth == 2 * WEIGHT_BANK_DEPTH
    rng = np.random.default_rng(11)
    layer = LayerConfig(100, 60, linear_centroids(-128, 127, 16, 8), shift=9)
    assert layer.blocks(4) * 100 > WEIGHT_BANK_DEPTH
    weights = rng.integers(-128, 128, (100, 60))
    bias = rng.integers(-2000, 2000, 60)
    x = similar_frames(4, 100, 0.5, layer.centroids, 8, seed=3)
    stalls = dict(input_valid=Pattern(0.7, 8), output_ready=Pattern(0.5, 9))
    expected = golden_run(config, layer, weights, bias, x, **stalls)
    assert np.array_equal(expected.preactivations, full_recompute(layer, weights, bias, x))
    assert_same(expected, rtl_run(config, layer, weights, bias, x, **stalls,
                                  block_ram_slices=block_ram_slices))
    from amaranth.back import rtlil

    from hw import ReuseEngine
    text = rtlil.convert(ReuseEngine(config, block_ram_slices=block_ram_slices))
    assert ("weights_bank1_slice1" in text) == block_ram_slices
