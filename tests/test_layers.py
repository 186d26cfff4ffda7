"""Network layers: reuse == full recompute over long sequences; conv against a direct loop."""

import numpy as np
import pytest

from golden import EngineConfig, LayerConfig, ReuseEngine, linear_centroids, similar_frames
from golden.network.layers import (
    FC,
    Conv,
    LSTMCell,
    ReuseLinear,
    magnitude,
    max_pool,
    prelu,
    sigmoid_table,
    tanh_table,
)

C16 = linear_centroids(-128, 127, 16, 8)


def direct_conv(x, w, stride, padding, groups):
    """Naive nested-loop convolution (1-D or 2-D), the independent reference."""
    x = np.asarray(x, dtype=np.int64)
    dims = x.ndim - 1
    x = np.pad(x, [(0, 0)] + [(padding, padding)] * dims)
    c_out, c_in_g = w.shape[:2]
    k = w.shape[2:]
    out_sp = [(x.shape[1 + d] - k[d]) // stride + 1 for d in range(dims)]
    out = np.zeros((c_out, *out_sp), dtype=np.int64)
    per_group = c_out // groups
    for o in range(c_out):
        g = o // per_group
        for pos in np.ndindex(*out_sp):
            window = tuple(slice(p * stride, p * stride + kk) for p, kk in zip(pos, k))
            out[(o, *pos)] = (x[(slice(g * c_in_g, (g + 1) * c_in_g), *window)] * w[o]).sum()
    return out


@pytest.mark.parametrize("shape, kernel, stride, padding, groups", [
    ((3, 20), (5,), 1, 0, 1),
    ((4, 17), (3,), 2, 1, 1),
    ((4, 9, 8), (3, 3), 1, 1, 1),
    ((6, 10, 7), (3, 3), 2, 1, 6),     # depthwise, strided
    ((4, 6, 6), (1, 1), 1, 0, 2),
])
def test_conv_against_direct_loop(shape, kernel, stride, padding, groups):
    rng = np.random.default_rng(sum(shape))
    c_out = shape[0] if groups > 1 else 5
    w = rng.integers(-128, 128, (c_out, shape[0] // groups, *kernel))
    x = rng.integers(-128, 128, shape)
    conv = Conv(w, shape, stride=stride, padding=padding, groups=groups)
    expected = direct_conv(x, w, stride, padding, groups)
    assert np.array_equal(conv.apply(x), expected)
    # touches: each input's number of (output, filter) contributions, by brute force
    touches = np.zeros(shape, dtype=np.int64)
    for idx in np.ndindex(*shape):
        e = np.zeros(shape, dtype=np.int64)
        e[idx] = 1
        touches[idx] = np.count_nonzero(direct_conv(e, np.ones_like(w), stride, padding, groups))
    assert np.array_equal(conv.touches(), touches)


def sequence(shape, frames, similarity, seed):
    return similar_frames(frames, int(np.prod(shape)), similarity, C16, 8,
                          seed=seed).reshape(frames, *shape)


@pytest.mark.parametrize("kind", ["fc", "conv1d", "conv2d", "depthwise"])
def test_reuse_equals_recompute_long_sequence(kind):
    rng = np.random.default_rng(7)
    if kind == "fc":
        shape, linear = (40,), FC(rng.integers(-128, 128, (40, 12)))
    elif kind == "conv1d":
        shape = (4, 30)
        linear = Conv(rng.integers(-128, 128, (6, 4, 3)), shape, stride=2, padding=1)
    elif kind == "conv2d":
        shape = (3, 8, 8)
        linear = Conv(rng.integers(-128, 128, (4, 3, 3, 3)), shape, padding=1)
    else:
        shape = (4, 8, 8)
        linear = Conv(rng.integers(-128, 128, (4, 1, 3, 3)), shape, padding=1, groups=4)
    bias = rng.integers(-1000, 1000, linear.out_shape[0])
    layer = ReuseLinear(linear, bias, C16, activation="relu", shift=8)
    frames = sequence(shape, 1500, 0.8, seed=3)
    total = dense = 0
    for x in frames:
        z, stats = layer.preactivation(x)
        assert np.array_equal(z, layer.recompute(x))
        total += stats.macs
        dense += stats.macs_dense
    assert 0.1 < total / dense < 0.4, "about 20 % of inputs change, so about 20 % of MACs remain"


def test_reuse_fc_matches_reuse_engine():
    """The network FC layer and the engine's golden model are the same computation."""
    rng = np.random.default_rng(1)
    w, b = rng.integers(-128, 128, (30, 9)), rng.integers(-500, 500, 9)
    layer = ReuseLinear(FC(w), b, C16, activation="relu", shift=7)
    engine = ReuseEngine(EngineConfig(lanes=4, max_inputs=64, max_outputs=64),
                      LayerConfig(30, 9, C16, activation="relu", shift=7), w, b)
    for x in sequence((30,), 50, 0.6, seed=2):
        y, stats = layer(x)
        y2, z2, counters, _ = engine.step(x)
        assert np.array_equal(y, y2)
        assert stats.changed == counters.inputs_changed and stats.macs == counters.macs


def test_baseline_layer_uses_raw_inputs():
    rng = np.random.default_rng(2)
    w, b = rng.integers(-128, 128, (10, 4)), rng.integers(-500, 500, 4)
    layer = ReuseLinear(FC(w), b, None)
    x = rng.integers(-128, 128, 10)
    z, stats = layer.preactivation(x)
    assert np.array_equal(z, b + x @ w) and stats.macs == 40 and stats.changed == 10


def test_lstm_cell_reuse_and_reference():
    """LSTM: gates by reuse equal gates recomputed; the cell follows the float LSTM closely."""
    rng = np.random.default_rng(5)
    X, H = 12, 8
    wf = rng.normal(0, 0.3, (X + H, 4 * H))
    w = np.round(wf * 64).astype(np.int64)            # weights Q.6
    # x,h Q.7 -> gates Q.4
    gates = ReuseLinear(FC(w), np.zeros(4 * H, dtype=np.int64), C16, shift=9)
    cell = LSTMCell(gates, H, gate_frac=4)
    frames = sequence((X,), 300, 0.7, seed=4)
    h_f = np.zeros(H)
    c_f = np.zeros(H)
    def sig(v):
        return 1 / (1 + np.exp(-v))

    errors = []
    for x in frames:
        xh = np.concatenate([x, cell.h])
        expected_gates = gates.recompute(xh)
        h, stats = cell(x)
        assert np.array_equal(cell.gates.accumulator, expected_gates)
        # float LSTM on the same quantized inputs
        xq = gates.quantized(xh)[:X] / 128
        z = np.concatenate([xq, h_f]) @ (w / 64)
        i, f, g, o = sig(z[:H]), sig(z[H:2 * H]), np.tanh(z[2 * H:3 * H]), sig(z[3 * H:])
        c_f = f * c_f + i * g
        h_f = o * np.tanh(c_f)
        errors.append(np.abs(h / 127 - h_f).max())
    assert np.median(errors) < 0.1


def test_activation_tables():
    s, t = sigmoid_table(4), tanh_table(4)
    assert s[128] == 64 and s[0] == 0 and s[-1] == 127      # sigmoid(0) = 0.5
    assert t[128] == 0 and t[0] == -127 and t[-1] == 127
    assert (np.diff(s) >= 0).all() and (np.diff(t) >= 0).all()


def test_glue():
    x = np.arange(2 * 4 * 4).reshape(2, 4, 4) - 10
    assert np.array_equal(max_pool(x, 2, 2), x.reshape(2, 2, 2, 2, 2).max(axis=(2, 4)))
    re, im = np.arange(-50, 50), np.arange(100, 0, -1)
    assert np.array_equal(magnitude(re, im), np.floor(np.hypot(re, im) + 1e-12).astype(int))
    assert np.array_equal(prelu(np.array([-8, 8]), np.array([3, 3]), 2), np.array([-6, 8]))
