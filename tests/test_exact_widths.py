"""Reuse is exact at every allowed width: golden's engine against a plain int64 recompute at
the widest activations, weights and accumulators (golden/issue_unit.py computes the products
through float BLAS; these configurations need float64)."""

import numpy as np
import pytest

from golden import EngineConfig, LayerConfig, ReuseEngine, quantize
from golden.issue_unit import exact_product_rows, product_type
from golden.output_unit import output_unit

WIDEST = EngineConfig(lanes=8, act_width=12, weight_width=18, acc_width=48, max_clusters=64,
                      max_inputs=1024, max_outputs=64)
WIDE_WEIGHTS = EngineConfig(lanes=8, act_width=8, weight_width=18, acc_width=36,
                            max_inputs=1024, max_outputs=64)


def int64_recompute(config, layer, weights, bias, frames):
    """bias + x W from scratch every frame, in int64: x quantized to its nearest centroid with
    reuse, the raw activations without."""
    x = np.asarray(frames, dtype=np.int64)
    if config.reuse:
        x = np.asarray(layer.centroids, dtype=np.int64)[quantize(x, layer.centroids)]
    return np.asarray(bias, dtype=np.int64) + x @ np.asarray(weights, dtype=np.int64)


def extreme_layer(config, inputs, outputs, clusters, rng):
    """A layer whose products reach the bound: centroids at both ends of the activation range,
    weights mostly at the ends of theirs."""
    inner = rng.choice(np.arange(config.act_min + 1, config.act_max), clusters - 2, replace=False)
    centroids = tuple(sorted({config.act_min, config.act_max, *inner.tolist()}))
    ends = rng.choice([config.weight_min, config.weight_max], (inputs, outputs))
    weights = np.where(rng.random((inputs, outputs)) < 0.8, ends,
                       rng.integers(config.weight_min, config.weight_max + 1, (inputs, outputs)))
    bias = rng.integers(-(1 << 40), 1 << 40, outputs) if config.acc_width == 48 else \
        rng.integers(-1000, 1000, outputs)
    return LayerConfig(inputs, outputs, centroids, shift=config.acc_width - config.act_width - 2), \
        weights, bias


def extreme_frames(config, inputs, frames, rng):
    """Frames alternating all-lowest and all-highest (every delta the largest, in both signs),
    then random frames, then random frames of which a random half keeps the previous value."""
    lo = np.full(inputs, config.act_min)
    hi = np.full(inputs, config.act_max)
    alternating = np.array([lo, hi] * (frames // 2))
    random = rng.integers(config.act_min, config.act_max + 1, (frames, inputs))
    held = random.copy()
    for f in range(1, frames):
        keep = rng.random(inputs) < 0.5
        held[f, keep] = held[f - 1, keep]
    return np.concatenate([alternating, random, alternating, held])


@pytest.mark.parametrize("config", [WIDEST, WIDE_WEIGHTS, WIDEST.replace(reuse=False)],
                         ids=["act12-w18-acc48", "act8-w18-acc36", "act12-w18-acc48-baseline"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_extreme_widths_equal_int64_recompute(config, seed):
    rng = np.random.default_rng(seed)
    inputs = min(config.max_inputs, 1000)
    layer, weights, bias = extreme_layer(config, inputs, 24, min(config.max_clusters, 64), rng)
    x = extreme_frames(config, inputs, 60, rng)
    expected = int64_recompute(config, layer, weights, bias, x)
    model = ReuseEngine(config, layer, weights, bias)
    result, _ = model.run(x)
    assert np.array_equal(result.preactivations, expected)
    assert np.array_equal(result.outputs,
                          output_unit(expected, layer.activation, layer.shift, config.act_width))
    # the frame-by-frame path (a change list at a time) too
    model.start_sequence()
    for f, frame in enumerate(x[:80]):
        _, z, _, _ = model.step(frame)
        assert np.array_equal(z, expected[f]), f"frame {f}"


def test_the_widest_products_need_float64():
    """What made the float32-only products wrong: at 12-bit activations and 18-bit weights a
    single product is beyond float32's 24-bit integers."""
    bound = ((1 << WIDEST.act_width) - 1) * WIDEST.weight_max_abs
    assert product_type(bound, 1) is np.float64
    assert product_type(bound, 65536) is np.float64          # every allowed width: float64
    default = EngineConfig()
    assert product_type(((1 << default.act_width) - 1) * default.weight_max_abs, 512) \
        is np.float32


@pytest.mark.parametrize("bound, path", [(1 << 10, np.float32), (1 << 30, np.float64),
                                         (1 << 45, "float64 chunks"), (1 << 54, np.int64)])
def test_exact_product_rows_in_every_type(bound, path):
    """The float32, float64, chunked float64 and integer paths against int64 arithmetic, with
    products at the bound (300 terms: beyond 2**53 from 2**45 on, within int64 up to 2**54)."""
    rng = np.random.default_rng(7)
    terms = 300
    a = 1 << (bound.bit_length() // 2)
    b = bound // a
    d = rng.choice([-a, a, a - 1], (5, terms))
    w = rng.choice([-b, b, b - 1, 0], (terms, 7))
    assert product_type(bound, terms) is (np.int64 if isinstance(path, str) else path)
    assert np.array_equal(exact_product_rows(d, w, bound), d @ w)


def drift(frames, inputs=24, outputs=8, seed=5):
    """A bounded random walk at the widest configuration: the reuse engine's accumulators
    against the int64 recompute after every frame."""
    rng = np.random.default_rng(seed)
    layer, weights, bias = extreme_layer(WIDEST, inputs, outputs, 64, rng)
    walk = np.cumsum(rng.integers(-300, 301, (frames, inputs)), axis=0)
    span = 1 << WIDEST.act_width
    x = (walk - WIDEST.act_min) % span + WIDEST.act_min        # wraps: full-range jumps too
    model = ReuseEngine(WIDEST, layer, weights, bias)
    got = np.concatenate([model.run(part)[0].preactivations
                          for part in np.array_split(x, max(1, frames // 10_000))])
    expected = int64_recompute(WIDEST, layer, weights, bias, x)
    mismatched = np.flatnonzero((got != expected).any(axis=1))
    assert mismatched.size == 0, f"{mismatched.size} frames differ, first {mismatched[:5]}"


def test_no_drift_at_the_widest_configuration():
    drift(3_000)


@pytest.mark.slow
def test_no_drift_after_100000_frames_at_the_widest_configuration():
    drift(100_000)
