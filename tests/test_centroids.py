"""Irregular centroids (odd steps, uneven gaps, drawn by hypothesis) through the FC engine and a
two-layer network: golden against a plain-int64 recompute whose quantizer is the paper's
definition (the nearest centroid, a tie to the upper one, no thresholds), and the RTL against
golden. Every other engine test uses evenly spaced ``linear_centroids``, and inputs drawn inside
the clusters; here the frames hit every half-way point between two centroids."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import EngineConfig, LayerConfig, Pattern, golden_network_run, golden_run
from sim import rtl_network_run, rtl_run


@st.composite
def irregular_centroids(draw, max_size=12):
    """Sorted distinct 8-bit centroids whose gaps are drawn one by one (1..60, odd and even)."""
    size = draw(st.integers(2, max_size))
    gaps = draw(st.lists(st.integers(1, 60), min_size=size - 1, max_size=size - 1))
    span = sum(gaps)
    start = draw(st.integers(-128, max(-128, 127 - span)))
    values = np.clip(start + np.concatenate([[0], np.cumsum(gaps)]), -128, 127)
    return tuple(int(v) for v in np.unique(values))


def nearest(x, centroids):
    """Paper Eq. 9 from its definition: the index of the nearest centroid, a tie to the upper."""
    c = np.asarray(centroids, dtype=np.int64)
    distance = np.abs(np.asarray(x, dtype=np.int64)[..., None] - c)
    return len(c) - 1 - np.argmin(distance[..., ::-1], axis=-1)


def edge_frames(centroids, frames, inputs, seed):
    """Frames drawn from the centroids, both integers around each half-way point between two
    neighbours, the range's ends and random values, so every threshold is hit exactly."""
    c = np.asarray(centroids, dtype=np.int64)
    pool = np.unique(np.concatenate([c, (c[:-1] + c[1:]) >> 1, (c[:-1] + c[1:] + 1) >> 1,
                                     [-128, 127]]))
    rng = np.random.default_rng(seed)
    x = rng.choice(pool, (frames, inputs))
    noise = rng.random((frames, inputs)) < 0.2
    return np.where(noise, rng.integers(-128, 128, (frames, inputs)), x)


def plain_layer(layer, weights, bias, x):
    """b + c[q(x)] W (or b + x W on a baseline layer), ReLU, rounding shift, saturation."""
    x = np.asarray(x, dtype=np.int64)
    if layer.reuse:
        x = np.asarray(layer.centroids, dtype=np.int64)[nearest(x, layer.centroids)]
    z = np.asarray(bias, dtype=np.int64) + x @ np.asarray(weights, dtype=np.int64)
    y = np.maximum(z, 0) if layer.activation == "relu" else z
    if layer.shift:
        y = (y + (1 << (layer.shift - 1))) >> layer.shift
    return z, np.clip(y, -128, 127)


def changes(layer, x):
    """Inputs whose nearest centroid moved, every frame (all of them on the first)."""
    q = nearest(x, layer.centroids)
    return [layer.inputs] + (q[1:] != q[:-1]).sum(axis=1).tolist()


def make_layer(centroids, inputs, outputs, seed, activation="relu", reuse=True):
    rng = np.random.default_rng(seed)
    layer = LayerConfig(inputs, outputs, centroids, activation, int(rng.integers(4, 9)),
                        reuse=reuse)
    return layer, rng.integers(-128, 128, (inputs, outputs)), rng.integers(-3000, 3000, outputs)


@settings(max_examples=40, deadline=None)
@given(irregular_centroids(), st.integers(0, 2 ** 16))
def test_golden_fc_engine_with_irregular_centroids(centroids, seed):
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32)
    layer, w, b = make_layer(centroids, 23, 10, seed, ["relu", "none"][seed % 2])
    x = edge_frames(centroids, 8, 23, seed)
    got = golden_run(config, layer, w, b, x, trace=False)
    z, y = plain_layer(layer, w, b, x)
    assert np.array_equal(got.preactivations, z)
    assert np.array_equal(got.outputs, y)
    assert [c.inputs_changed for c in got.counters] == changes(layer, x)


@settings(max_examples=25, deadline=None)
@given(irregular_centroids(), irregular_centroids(), st.booleans(), st.integers(0, 2 ** 16))
def test_golden_network_with_irregular_centroids(first, second, second_reuses, seed):
    """Two FC layers with their own irregular centroids: the second quantizes the first's
    outputs, which land on its half-way points too."""
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_layers=2)
    layers = [make_layer(first, 17, 13, seed), make_layer(second, 13, 6, seed + 1, "none",
                                                          reuse=second_reuses)]
    x = edge_frames(first, 8, 17, seed)
    got = golden_network_run(config, layers, x, trace=False)
    h = plain_layer(*layers[0], x)[1]
    z, y = plain_layer(*layers[1], h)
    assert np.array_equal(got.outputs, y)
    if second_reuses:
        assert np.array_equal(got.preactivations, z)
    for k, inputs in enumerate((x, h)):
        counted = [c.inputs_changed for c in got.layers[k].counters]
        assert counted == (changes(layers[k][0], inputs) if layers[k][0].reuse
                           else [layers[k][0].inputs] * len(x))


# odd gaps, uneven spacing, both range ends; and a set drawn by irregular_centroids' rule
# from a seeded generator (no hypothesis here: shrinking a failing RTL run takes minutes)
RTL_CENTROIDS = [(-128, -101, -100, -37, -2, 0, 5, 26, 99, 127), (-9, -6, 1, 4, 17, 50),
                 tuple(int(v) for v in -120 + np.cumsum(
                     np.random.default_rng(21).integers(1, 30, 16)))]


@pytest.mark.parametrize("centroids", RTL_CENTROIDS, ids=["ends", "narrow", "drawn"])
def test_rtl_fc_engine_with_irregular_centroids(centroids):
    """The RTL (its quantization table loaded from golden) cycle by cycle against golden, and
    its pre-activations against the plain recompute, with stalls."""
    seed = len(centroids)
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_clusters=16)
    layer, w, b = make_layer(centroids, 13, 9, seed)
    x = edge_frames(centroids, 5, 13, seed)
    stalls = dict(input_valid=Pattern(0.6, seed), output_ready=Pattern(0.5, seed + 1))
    expected = golden_run(config, layer, w, b, x, **stalls)
    got = rtl_run(config, layer, w, b, x, **stalls)
    assert np.array_equal(got.outputs, expected.outputs)
    assert got.counters == expected.counters
    assert got.trace == expected.trace
    assert np.array_equal(got.preactivations, plain_layer(layer, w, b, x)[0])


def test_rtl_network_with_irregular_centroids():
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_layers=2)
    layers = [make_layer(RTL_CENTROIDS[0], 11, 9, 3), make_layer(RTL_CENTROIDS[1], 9, 5, 4)]
    x = edge_frames(RTL_CENTROIDS[0], 5, 11, 5)
    stalls = dict(input_valid=Pattern(0.6, 1), output_ready=Pattern(0.5, 2))
    expected = golden_network_run(config, layers, x, **stalls)
    got = rtl_network_run(config, layers, x, **stalls)
    assert np.array_equal(got.outputs, expected.outputs)
    assert got.counters == expected.counters
    assert got.trace == expected.trace
    assert np.array_equal(got.outputs, plain_layer(*layers[1], plain_layer(*layers[0], x)[1])[1])
