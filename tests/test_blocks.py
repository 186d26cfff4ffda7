"""Verification level 1: every hardware block against its golden twin (Amaranth simulator)."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden import EngineConfig, quantize
from golden.centroid_table import centroid_table, lookup
from golden.delta_subtractor import delta
from golden.lstm_unit import lstm_unit
from golden.mac_array import mac
from golden.magnitude_unit import magnitude_unit
from golden.output_unit import output_unit
from golden.skip_logic import changed
from sim.blocks import (
    rtl_centroid_table,
    rtl_changed,
    rtl_delta,
    rtl_lstm_unit,
    rtl_mac,
    rtl_magnitude_unit,
    rtl_output_unit,
    rtl_quantize,
)

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIGS = [EngineConfig(lanes=1, max_inputs=16, max_outputs=16, max_clusters=2),
           EngineConfig(lanes=4, max_inputs=16, max_outputs=16, max_clusters=16),
           EngineConfig(lanes=5, max_inputs=16, max_outputs=16, max_clusters=32),
           EngineConfig(lanes=4, max_inputs=16, max_outputs=16, max_clusters=8, max_layers=3)]


@st.composite
def centroids_for(draw, config, min_size=2):
    size = draw(st.integers(min_size, config.max_clusters))
    values = draw(st.lists(st.integers(config.act_min, config.act_max), min_size=size,
                           max_size=size, unique=True))
    return tuple(sorted(values))


def extremes(config):
    return [config.act_min, config.act_min + 1, -1, 0, 1, config.act_max - 1, config.act_max]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"C{c.max_clusters}-L{c.max_layers}")
@SETTINGS
@given(data=st.data())
def test_quantizer(config, data):
    """Any increasing centroids: the table lookup gives golden's nearest-centroid index, one
    operand per clock, from the table of the selected layer."""
    centroids = data.draw(centroids_for(config))
    xs = (data.draw(st.lists(st.integers(config.act_min, config.act_max), max_size=40))
          + extremes(config))
    layer = data.draw(st.integers(0, config.max_layers - 1))
    assert list(rtl_quantize(config, centroids, xs, layer=layer)) == list(quantize(xs, centroids))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"C{c.max_clusters}-L{c.max_layers}")
def test_quantizer_saturates_at_both_ends(config):
    # the most centroids the table holds, spread over the activation range
    c = config.max_clusters
    centroids = (-10, 10) if c == 2 else tuple(range(-4 * c, 4 * c, 8))
    q = rtl_quantize(config, centroids, [config.act_min, config.act_max])
    assert list(q) == [0, len(centroids) - 1]


def test_quantization_table_is_the_threshold_count():
    """Independent check of golden.quantization_table: entry x mod 2**act_width is the number
    of docs/design.md thresholds t[k] = (c[k] + c[k+1] + 1) >> 1 at or below x."""
    from golden import quantization_table
    centroids = (-100, -7, 0, 3, 60, 127)
    table = quantization_table(centroids, 8)
    t = [(a + b + 1) >> 1 for a, b in zip(centroids, centroids[1:])]
    for address in range(256):
        x = address - 256 if address >= 128 else address
        assert table[address] == sum(x >= tk for tk in t)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"C{c.max_clusters}-L{c.max_layers}")
@SETTINGS
@given(data=st.data())
def test_centroid_table(config, data):
    centroids = data.draw(centroids_for(config))
    indices = data.draw(st.lists(st.integers(0, len(centroids) - 1), min_size=1, max_size=20))
    layer = data.draw(st.integers(0, config.max_layers - 1))
    pairs = rtl_centroid_table(config, centroids, indices, layer=layer)
    table = centroid_table(centroids, config.max_clusters)
    assert list(pairs[:, 0]) == list(lookup(table, indices))
    assert list(pairs[:, 1]) == list(lookup(table, indices[::-1]))


@pytest.mark.parametrize("first", [False, True])
@SETTINGS
@given(data=st.data())
def test_delta_subtractor(first, data):
    config = CONFIGS[1]
    values = st.integers(config.act_min, config.act_max)
    new = data.draw(st.lists(values, min_size=1, max_size=30)) + [config.act_max, config.act_min]
    old = data.draw(st.lists(values, min_size=len(new), max_size=len(new)))
    old[-2:] = [config.act_min, config.act_max]          # widest deltas: +255 and -255
    centroids = np.arange(config.act_min, config.act_max + 1)
    q_new, q_old = np.array(new) - config.act_min, np.array(old) - config.act_min
    assert list(rtl_delta(config, new, old, first)) == list(delta(q_new, q_old, centroids, first))


@pytest.mark.parametrize("first", [False, True])
@SETTINGS
@given(data=st.data())
def test_skip_logic(first, data):
    config = CONFIGS[2]
    index = st.integers(0, config.max_clusters - 1)
    q_new = data.draw(st.lists(index, min_size=1, max_size=30))
    q_old = [q if data.draw(st.booleans()) else data.draw(index) for q in q_new]
    assert list(rtl_changed(config, q_new, q_old, first)) == list(changed(q_new, q_old, first))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"L{c.lanes}")
@SETTINGS
@given(data=st.data())
def test_mac_array(config, data):
    lanes = config.lanes
    n = data.draw(st.integers(0, 12))
    start = data.draw(st.lists(st.integers(-2 ** 20, 2 ** 20), min_size=lanes, max_size=lanes))
    deltas = data.draw(st.lists(st.integers(-255, 255), min_size=n, max_size=n))
    words = [data.draw(st.lists(st.integers(config.weight_min, config.weight_max),
                                min_size=lanes, max_size=lanes)) for _ in range(n)]
    expected = np.array(start)
    for d, w in zip(deltas, words):
        expected = mac(expected, d, w)
    assert list(rtl_mac(config, start, deltas, words)) == list(expected)


@pytest.mark.parametrize("latency", [0, 3])
@pytest.mark.parametrize("activation", ["none", "relu"])
@SETTINGS
@given(data=st.data())
def test_output_unit(activation, latency, data):
    config = CONFIGS[2]
    shift = data.draw(st.integers(0, config.acc_width - 1))
    acc = st.integers(config.acc_min, config.acc_max)
    words = [data.draw(st.lists(acc, min_size=config.lanes, max_size=config.lanes))
             for _ in range(4)]
    words.append([config.acc_min, config.acc_max, -1, 0, 1])   # saturation and rounding edges
    # z at and next to the saturation boundaries R(z) = act_max + 1/2 and act_min - 1/2
    aw = config.act_width
    edges = [((2 ** aw - 1) << shift) // 2, (-(2 ** aw + 1) << shift) // 2]
    edges = [min(max(e + d, config.acc_min), config.acc_max) for e in edges for d in (-1, 0, 1)]
    edges += [0] * (-len(edges) % config.lanes)
    words += [edges[k:k + config.lanes] for k in range(0, len(edges), config.lanes)]
    got = rtl_output_unit(config, words, activation, shift, latency)
    assert np.array_equal(got, output_unit(np.array(words), activation, shift, config.act_width))


@pytest.mark.parametrize("gap", [2, 3])
@SETTINGS
@given(data=st.data())
def test_lstm_unit(gap, data):
    """The LSTM unit against golden.lstm_unit over a sequence: random gates, then gates held at
    the table ends so the cell state grows to its steady state and tanh(c) saturates."""
    config = EngineConfig(lanes=8, max_outputs=32, max_layers=2, lstm=True)
    blocks, units = 3, config.lanes // 4
    gate = st.integers(-128, 127)
    steps = [[data.draw(st.lists(gate, min_size=config.lanes, max_size=config.lanes))
              for _ in range(blocks)] for _ in range(4)]
    for held in (127, -128, 127):
        steps += [[[held] * config.lanes] * blocks] * 6
    steps = np.array(steps)
    got = rtl_lstm_unit(config, steps, gap)
    c = np.zeros(blocks * units, dtype=np.int64)
    for t, step in enumerate(steps):
        i, f, g, o = step.reshape(blocks * units, 4).T
        h, c = lstm_unit(i, f, g, o, c)
        assert np.array_equal(got[t], h), f"step {t}"


@pytest.mark.parametrize("shift", [0, 1, 3, 8])
@SETTINGS
@given(data=st.data())
def test_magnitude_unit(shift, data):
    """The magnitude unit against golden.magnitude_unit, with the corners (-128, -128): the
    largest sum of squares, and exact squares (3, 4), (0, 127)."""
    config = EngineConfig(lanes=8)
    act = st.integers(-128, 127)
    words = [data.draw(st.lists(act, min_size=8, max_size=8)) for _ in range(6)]
    words += [[-128, -128, 127, 127, 3, 4, 0, 127], [0, 0, -1, 0, 90, -91, -128, 0]]
    got = rtl_magnitude_unit(config, words, shift)
    assert np.array_equal(got, magnitude_unit(np.array(words), shift, 8))


def _squares_corners(act_width):
    """(re, im) pairs whose sums of squares are the square-root corners for ``act_width``-bit
    operands: 0, 1, every perfect square k^2 (re = -k, im = 0 up to the most negative value),
    every k^2 - 1 and k^2 + 1 that is a sum of two squares in range, and the largest input."""
    lo, hi = -(1 << (act_width - 1)), (1 << (act_width - 1)) - 1
    v = np.arange(lo, hi + 1)
    re, im = (a.ravel() for a in np.meshgrid(v, v))
    s = re * re + im * im
    top = math.isqrt(2 * lo * lo)
    wanted = {0, 1, 2 * lo * lo} | {k * k + d for k in range(top + 2) for d in (-1, 0, 1)}
    sums, first = np.unique(s, return_index=True)
    keep = np.isin(sums, list(wanted))
    return re[first[keep]], im[first[keep]], sums


def test_golden_magnitude_is_isqrt():
    """golden.magnitude is floor(sqrt(re^2 + im^2)) (math.isqrt): exhaustively for 8-bit
    operands, at the corners (k^2 - 1, k^2, k^2 + 1, the largest input) of 10-bit ones, and
    by its defining inequality r^2 <= s < (r + 1)^2 on a grid over a 12-bit quadrant."""
    from golden.magnitude_unit import magnitude
    v = np.arange(-128, 128)
    re, im = (a.ravel() for a in np.meshgrid(v, v))
    s = (re * re + im * im).tolist()
    assert magnitude(re, im).tolist() == [math.isqrt(int(x)) for x in s]
    for width in (8, 10):
        re, im, _ = _squares_corners(width)
        got = magnitude(re, im).tolist()
        assert got == [math.isqrt(int(a) ** 2 + int(b) ** 2) for a, b in zip(re, im)], width
    v = np.concatenate([np.arange(-2048, 1, 5), [-2047, -1]])
    re, im = np.meshgrid(v, v)
    s, r = re * re + im * im, magnitude(re, im)
    assert (r * r <= s).all() and ((r + 1) * (r + 1) > s).all()


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_magnitude_unit_is_isqrt_at_every_sum(shift):
    """The hardware unit against math.isqrt, at every distinct sum of squares of 8-bit
    operands (5,924: the corners 0, 1, k^2, k^2 +- 1 and the largest, (-128, -128), among them),
    requantized here by a rounding shift and saturation written out (shift 0 shows roots up to
    127 as they are; shifts 1 and 2 show the larger ones' bits above the shift)."""
    v = np.arange(-128, 128)
    re, im = (a.ravel() for a in np.meshgrid(v, v))
    sums, first = np.unique(re * re + im * im, return_index=True)
    re, im = re[first], im[first]
    squares = {k * k for k in range(182)}
    assert {0, 1, 32768} | {k * k for k in range(129)} <= set(sums.tolist())
    assert len({s + 1 for s in sums.tolist()} & squares) == 14     # the k^2 - 1 in range
    lanes = 8
    pairs = np.stack([re, im], axis=1)
    pairs = np.concatenate([pairs, np.zeros((-len(pairs) % (lanes // 2), 2), np.int64)])
    words = pairs.reshape(-1, lanes).tolist()
    got = rtl_magnitude_unit(EngineConfig(lanes=lanes), words, shift).ravel()[:len(sums)]
    roots = np.array([math.isqrt(int(s)) for s in sums])
    rounded = roots if shift == 0 else (roots + (1 << (shift - 1))) >> shift
    assert np.array_equal(got, np.minimum(rounded, 127))
