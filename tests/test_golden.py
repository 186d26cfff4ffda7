"""golden/ against independent references: the paper's equations and plain NumPy recomputes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import golden
from golden import (
    EngineConfig,
    LayerConfig,
    Pattern,
    ReuseEngine,
    baseline_layer,
    cycle_bound,
    full_recompute,
    golden_run,
    linear_centroids,
    quantize,
    similar_frames,
)
from golden.output_unit import output_unit
from golden.weight_buffer import weight_words


def increasing_centroids(act_width=8, min_size=2, max_size=32):
    lo, hi = -(1 << (act_width - 1)), (1 << (act_width - 1)) - 1
    return st.lists(st.integers(lo, hi), min_size=min_size, max_size=max_size, unique=True).map(
        lambda v: tuple(sorted(v)))


@settings(max_examples=200, deadline=None)
@given(increasing_centroids(), st.lists(st.integers(-128, 127), min_size=1, max_size=50))
def test_quantizer_is_nearest_centroid(centroids, xs):
    """Paper Eq. 9: the index of the nearest centroid; a tie goes to the upper one."""
    c = np.array(centroids)
    for x, q in zip(xs, quantize(xs, centroids)):
        dist = np.abs(c - x)
        best = np.flatnonzero(dist == dist.min())
        assert q == best.max()


@settings(max_examples=200, deadline=None)
@given(st.integers(-128, 127), st.integers(-128, 127), st.integers(2, 64))
def test_linear_centroids(a, b, clusters):
    lo, hi = min(a, b), max(a, b)
    c = linear_centroids(lo, hi, clusters, 8)
    assert len(c) == clusters
    assert 0 in c, "zero is always a centroid"
    assert all(-128 <= v <= 127 for v in c)
    steps = np.diff(c)
    assert (steps > 0).all() and (steps == steps[0]).all(), "linear: one constant step"


def test_linear_centroids_cover_the_range():
    c = linear_centroids(-100, 100, 16, 8)
    assert c[0] <= -90 and c[-1] >= 90
    assert linear_centroids(0, 50, 2, 8) == (0, 50)


@pytest.mark.parametrize("activation", ["none", "relu"])
@pytest.mark.parametrize("shift", [0, 1, 5, 12])
def test_output_unit_against_float_rounding(activation, shift):
    z = np.random.default_rng(shift).integers(-2 ** 31, 2 ** 31, 5000)
    z = np.concatenate([z, np.arange(-300, 300)])
    y = output_unit(z, activation, shift, 8)
    a = np.maximum(z, 0) if activation == "relu" else z
    expected = np.clip(np.floor(a / 2.0 ** shift + 0.5), -128, 127)   # round half up
    assert np.array_equal(y, expected.astype(np.int64))


def test_weight_words_layout():
    w = np.arange(3 * 5).reshape(3, 5)
    words = weight_words(w, 2)
    assert words.shape == (3 * 3, 2)
    for b in range(3):
        for i in range(3):
            for lane in range(2):
                o = b * 2 + lane
                assert words[b * 3 + i, lane] == (w[i, o] if o < 5 else 0)


def make_layer(config, inputs, outputs, clusters, seed=0, activation="relu", shift=8):
    rng = np.random.default_rng(seed)
    layer = LayerConfig(
        inputs, outputs,
        linear_centroids(config.act_min, config.act_max, clusters, config.act_width),
        activation=activation, shift=shift)
    weights = rng.integers(config.weight_min, config.weight_max + 1, (inputs, outputs))
    bias = rng.integers(-5000, 5000, outputs)
    return layer, weights, bias


def test_no_drift_after_10000_frames():
    """The reuse layer is bit-identical to a full recompute after a long random walk."""
    config = EngineConfig(lanes=8, max_inputs=64, max_outputs=64)
    layer, weights, bias = make_layer(config, 40, 24, 32, seed=3)
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.integers(-6, 7, (10_000, 40)), axis=0)
    x = np.clip(x % 256 - 128, -128, 127)          # a bounded random walk
    model = ReuseEngine(config, layer, weights, bias)
    result, changed = model.run(x)
    expected = full_recompute(layer, weights, bias, x)
    assert np.array_equal(result.preactivations, expected)
    assert 0.2 < changed[1:].mean() < 0.9, "the walk exercises both reuse and change"
    # the frame-by-frame path agrees with the sequence path at the end of the walk
    model.start_sequence()
    for frame in x[:500]:
        y, z, _, _ = model.step(frame)
    assert np.array_equal(z, expected[499])


@pytest.mark.parametrize("reuse", [True, False])
def test_step_and_run_agree(reuse):
    config = EngineConfig(lanes=4, max_inputs=64, max_outputs=64, reuse=reuse)
    layer, weights, bias = make_layer(config, 17, 9, 16)
    x = similar_frames(30, 17, 0.7, layer.centroids, 8, seed=1)
    seq, _ = ReuseEngine(config, layer, weights, bias).run(x)
    model = ReuseEngine(config, layer, weights, bias)
    for f, frame in enumerate(x):
        y, z, counters, _ = model.step(frame)
        assert np.array_equal(y, seq.outputs[f]) and np.array_equal(z, seq.preactivations[f])
        assert counters == seq.counters[f]


def test_baseline_is_plain_matmul():
    config = EngineConfig(lanes=4, max_inputs=64, max_outputs=64, reuse=False)
    layer, weights, bias = make_layer(config, 33, 10, 16)
    x = np.random.default_rng(2).integers(-128, 128, (20, 33))
    result, _ = ReuseEngine(config, layer, weights, bias).run(x)
    z = baseline_layer(weights, bias, x)
    assert np.array_equal(result.preactivations, z)
    assert np.array_equal(result.outputs, output_unit(z, "relu", 8, 8))


@pytest.mark.parametrize("similarity", [0.0, 0.5, 0.95, 1.0])
def test_counters_against_independent_count(similarity):
    config = EngineConfig(lanes=4, max_inputs=64, max_outputs=64)
    layer, weights, bias = make_layer(config, 30, 11, 16)
    x = similar_frames(12, 30, similarity, layer.centroids, 8, seed=5)
    result = golden_run(config, layer, weights, bias, x, trace=False)
    q = quantize(x, layer.centroids)
    changes = np.concatenate([[30], (q[1:] != q[:-1]).sum(axis=1)])
    blocks = 3
    for f, c in enumerate(result.counters):
        assert c.inputs_changed == changes[f]
        assert c.macs == changes[f] * 11
        assert c.weight_words == changes[f] * blocks
        assert c.index_writes == changes[f] and c.index_reads == 30
        assert c.output_reads == (0 if f == 0 else blocks) and c.output_writes == blocks
        # N + SCAN_DRAIN + the first LOAD + B(n + 1): a STORE loads the next block
        assert c.cycles == 30 + 3 + 1 + blocks * (changes[f] + 1)
        assert c.cycles <= cycle_bound(config, layer, int(changes[f]))
    if similarity == 1.0:
        assert (changes[1:] == 0).all()
    if similarity == 0.0:
        assert (changes == 30).all()


def test_cycle_model_stalls_add_up():
    """With bubbles and backpressure, busy cycles are unchanged and the stall count is exactly
    the extra time between the starts of consecutive scans."""
    config = EngineConfig(lanes=4, max_inputs=64, max_outputs=64)
    layer, weights, bias = make_layer(config, 12, 9, 8)
    x = similar_frames(20, 12, 0.5, layer.centroids, 8, seed=6)
    calm = golden_run(config, layer, weights, bias, x, trace=False)
    busy = golden_run(config, layer, weights, bias, x, input_valid=Pattern(0.4, 1),
                      output_ready=Pattern(0.1, 2), trace=False)
    timing = golden.schedule(config, layer, [c.inputs_changed for c in busy.counters],
                             input_valid=Pattern(0.4, 1), output_ready=Pattern(0.1, 2))
    starts = [f.scan_start for f in timing.frames]
    for f in range(len(starts) - 1):
        assert starts[f + 1] - starts[f] == busy.counters[f].cycles + busy.counters[f].stall_cycles
    assert [c.cycles for c in calm.counters] == [c.cycles for c in busy.counters]
    assert sum(c.stall_cycles for c in busy.counters) > 0
    assert all(c.stall_cycles == 0 for c in calm.counters)


def test_similar_frames_hits_the_requested_similarity():
    c = linear_centroids(-128, 127, 16, 8)
    x = similar_frames(200, 100, 0.8, c, 8, seed=0)
    q = quantize(x, c)
    assert abs((q[1:] == q[:-1]).mean() - 0.8) < 0.02


def test_frame_errors():
    config = EngineConfig(lanes=4, max_inputs=64, max_outputs=64)
    layer, weights, bias = make_layer(config, 5, 3, 4)
    model = ReuseEngine(config, layer, weights, bias)
    with pytest.raises(ValueError, match=r"frames have shape \(2, 4\): "
                                         r"expected \(frames, inputs\) = \(F, 5\)"):
        model.run(np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="frame values must be act_width = 8 bit"):
        model.run(np.full((2, 5), 300))
