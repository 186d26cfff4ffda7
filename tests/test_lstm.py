"""LSTM cells on the engine (docs/design.md "Layers beyond FC"): golden against the LSTM equations
written out in plain NumPy, RTL against golden cycle by cycle, and the configuration's errors."""

import dataclasses

import numpy as np
import pytest
from checks import assert_same_network_run

from golden import (
    ConfigError,
    EngineConfig,
    LayerConfig,
    Pattern,
    golden_network_run,
    linear_centroids,
    network_writes,
    similar_frames,
)
from golden.network.layers import FC, LSTMCell, ReuseLinear
from golden.network.lowering import lstm_engine_layer
from sim import rtl_network_run

C16 = linear_centroids(-128, 127, 16, 8)


def make_lstm_network(x, m0, hidden, m2, lanes, seed, gate_reuse=True, last="fc", front=True,
                      relu=False):
    """[FC(x -> m0, ReLU) ->] LSTM(hidden) [-> FC(hidden -> m2)]: the engine's layers and the
    natural-layout parameters for the reference. Without the front FC layer the LSTM is layer
    0 and takes x_t (m0 = x values) from the input stream."""
    if not front:
        m0 = x
    rng = np.random.default_rng(seed)
    w0, b0 = rng.integers(-40, 40, (x, m0)), rng.integers(-800, 800, m0)
    w1, b1 = rng.integers(-40, 40, (m0 + hidden, 4 * hidden)), rng.integers(-800, 800, 4 * hidden)
    w2, b2 = rng.integers(-60, 60, (hidden, m2)), rng.integers(-800, 800, m2)
    cell = LSTMCell(ReuseLinear(FC(w1), b1, C16 if gate_reuse else None, shift=8), hidden)
    x_inputs = -(-m0 // lanes) * lanes if front else x
    layers = [(LayerConfig(x, m0, C16, "relu", 6), w0, b0)] if front else []
    lstm, w, b = lstm_engine_layer(cell, x_inputs)
    layers.append((dataclasses.replace(lstm, activation="relu" if relu else "none"), w, b))
    if last == "fc":
        layers.append((LayerConfig(hidden, m2, C16, "none", 5), w2, b2))
    natural = dict(w0=w0, b0=b0, w1=w1, b1=b1, w2=w2, b2=b2, gate_reuse=gate_reuse, last=last,
                   front=front, relu=relu)
    return layers, natural


def reference(p, hidden, frames, reuse=True, cell_inputs=None):
    """The network from scratch every frame, in plain NumPy: quantized inputs c[q(x)]
    (docs/design.md thresholds) times the weights plus the bias, ReLU, rounding shift,
    saturation; the LSTM cell's gates in their natural order (i, f, g, o blocks) and its
    equations with the sigmoid and tanh tables built here from their definition. A list
    ``cell_inputs`` receives the cell's inputs [x_t, h_{t-1}] of every frame."""
    c = np.asarray(C16)
    t = (c[:-1] + c[1:] + 1) >> 1
    quant = (lambda v: c[(v[..., None] >= t).sum(axis=-1)]) if reuse else (lambda v: v)

    def requant(z, shift):
        return np.clip((z + (1 << (shift - 1))) >> shift, -128, 127)

    grid = np.arange(-128, 128) / 16.0
    sig = np.round(127 / (1 + np.exp(-grid))).astype(np.int64)
    tanh = np.round(127 * np.tanh(grid)).astype(np.int64)
    h = np.zeros(hidden, dtype=np.int64)
    cell = np.zeros(hidden, dtype=np.int64)
    out = []
    for x in np.asarray(frames, dtype=np.int64):
        y0 = requant(np.maximum(p["b0"] + quant(x) @ p["w0"], 0), 6) if p["front"] else x
        xh = np.concatenate([y0, h])
        if cell_inputs is not None:
            cell_inputs.append(xh)
        gates = requant(p["b1"] + (quant(xh) if reuse and p["gate_reuse"] else xh) @ p["w1"], 8)
        i, f, g, o = gates.reshape(4, hidden) + 128
        cell = ((sig[f] * cell) >> 7) + ((sig[i] * tanh[g]) >> 4)      # c: Q.10
        c8 = np.clip((cell + 32) >> 6, -128, 127)                        # Q.4 for the table
        h = np.clip((sig[o] * tanh[c8 + 128] + 64) >> 7, -128, 127)
        seen = np.maximum(h, 0) if p["relu"] else h         # the recurrent input is raw h
        out.append(requant(p["b2"] + quant(seen) @ p["w2"], 5) if p["last"] == "fc" else seen)
    return np.array(out)


@pytest.mark.parametrize("relu", [False, True], ids=["h", "relu-h"])
@pytest.mark.parametrize("front", [True, False], ids=["fc-first", "lstm-first"])
@pytest.mark.parametrize("last", ["fc", "lstm"])
@pytest.mark.parametrize("reuse", [True, False])
def test_golden_lstm_network_equals_the_equations(last, reuse, front, relu):
    layers, natural = make_lstm_network(20, 21, 13, 10, 8, seed=1, last=last, front=front,
                                        relu=relu)
    config = EngineConfig(lanes=8, max_inputs=64, max_outputs=64, max_layers=3, lstm=True,
                          reuse=reuse)
    frames = similar_frames(200, 20, 0.8, C16, 8, seed=2)
    got = golden_network_run(config, layers, frames, trace=False)
    expected = reference(natural, 13, frames, reuse)
    assert np.array_equal(got.outputs, expected)
    # the LSTM layer skips work: h and x_t repeat their clusters often enough
    if reuse:
        lstm = got.layers[1 if front else 0].counters
        assert (sum(c.inputs_changed for c in lstm[1:])
                < 0.9 * sum(c.inputs_scanned for c in lstm[1:]))


@pytest.mark.parametrize("front, width", [(True, 1), (False, 1), (True, 4)],
                         ids=["fc-first", "lstm-first", "fc-first-W4"])
def test_lstm_network_cycles_per_layer_by_the_formula(front, width):
    """docs/design.md "Busy cycles" restated for an LSTM network (an lstm engine: S = 18):
    every layer, every frame, S + ceil(N / W) + D + 1 + B (n + 1) busy cycles, D = 3 (4 with
    W > 1); the LSTM layer scans x_t then h_{t-1} (N = x inputs + hidden) and n counts the
    ones whose nearest centroid moved, from the cell's inputs of the plain-NumPy reference
    (x_t padded to whole words by zeros, which never move)."""
    lanes, x, m0, hidden, m2 = 8, 16, 21, 13, 10
    layers, natural = make_lstm_network(x, m0, hidden, m2, lanes, seed=5, front=front)
    config = EngineConfig(lanes=lanes, max_inputs=64, max_outputs=64, max_layers=3, lstm=True,
                          scan_width=width)
    frames = similar_frames(10, x, 0.7, C16, 8, seed=6)
    got = golden_network_run(config, layers, frames, trace=False)
    cell_inputs = []
    assert np.array_equal(got.outputs, reference(natural, hidden, frames, cell_inputs=cell_inputs))
    c = np.asarray(C16)
    nearest = [len(c) - 1 - int(np.argmin(np.abs(v - c)[::-1]))     # ties: the upper one
               for v in np.concatenate(cell_inputs)]
    q = np.array(nearest).reshape(len(frames), -1)
    lstm_moved = np.concatenate([[-1], (q[1:] != q[:-1]).sum(axis=1)])
    lstm_at = 1 if front else 0
    switch, drain = 18, 3 if width == 1 else 4
    for k, (layer, _, _) in enumerate(layers):
        n_in = (x + hidden if not front else -(-m0 // lanes) * lanes + hidden) \
            if k == lstm_at else layer.inputs
        assert layer.inputs == n_in
        blocks = -(-layer.outputs // lanes)
        counters = got.layers[k].counters
        for f, counter in enumerate(counters):
            n = counter.inputs_changed
            if k == lstm_at:
                assert n == (n_in if f == 0 else lstm_moved[f]), f"frame {f}"
            want = switch + -(-n_in // width) + drain + 1 + blocks * (n + 1)
            assert counter.cycles == want, f"layer {k} frame {f}"
        if k == lstm_at:
            assert 0 < sum(c.inputs_changed for c in counters[1:]) < n_in * (len(frames) - 1)


CASES = [
    # lanes, (x, m0, hidden, m2), gate layer reuses, last layer, reuse engine, stalls, front FC
    (8, (20, 21, 13, 10), True, "fc", True, True, True),
    (8, (20, 21, 13, 10), True, "fc-relu", True, False, True),
    (4, (9, 6, 5, 3), False, "lstm", True, False, True),
    (16, (12, 16, 8, 5), True, "lstm", True, True, True),
    (8, (20, 21, 13, 10), True, "fc", False, True, True),
    (8, (11, 11, 6, 7), True, "fc", True, True, False),
    (4, (5, 5, 3, 2), True, "lstm", True, False, False),
]


@pytest.mark.parametrize("lanes, shape, gate_reuse, last, reuse, stalls, front", CASES,
                         ids=[("" if c[6] else "lstm-first-") + f"lanes{c[0]}-{c[3]}-"
                              f"{'reuse' if c[4] else 'baseline'}" + ("-stalls" if c[5] else "")
                              for c in CASES])
def test_lstm_network_trace_matches_golden(lanes, shape, gate_reuse, last, reuse, stalls, front):
    """Verification level 2 with an LSTM layer: every index, output-area and bank write (h_t
    words included) and every output beat at the cycle golden's cycle model says; an LSTM
    layer 0 scans x_t from the input stream (with its bubbles) and then h_{t-1}."""
    x, m0, hidden, m2 = shape
    layers, _ = make_lstm_network(x, m0, hidden, m2, lanes, seed=lanes, gate_reuse=gate_reuse,
                                  last=last.split("-")[0], front=front, relu="relu" in last)
    config = EngineConfig(lanes=lanes, max_inputs=48, max_outputs=64, max_layers=3, lstm=True,
                          reuse=reuse)
    frames = similar_frames(7, x, 0.7, C16, 8, seed=3)
    patterns = dict(input_valid=Pattern(0.6, seed=1), output_ready=Pattern(0.5, seed=2)) \
        if stalls else {}
    expected = golden_network_run(config, layers, frames, **patterns)
    got = rtl_network_run(config, layers, frames, **patterns)
    assert_same_network_run(expected, got)
    assert any(kind in ("bank_write", "beat") for _, kind, _, _ in expected.trace)


@pytest.mark.parametrize("lanes, width, x, front, stalls", [
    (8, 4, 20, True, True), (8, 8, 16, False, True), (16, 2, 20, True, False),
    (4, 4, 12, False, False)])
def test_wide_scan_lstm_network_trace_matches_golden(lanes, width, x, front, stalls):
    """An LSTM network on a wide scan: x_t in beats of W (from the stream or a bank), then
    h_{t-1} from the recurrent area W at a time, its last beat partial."""
    layers, _ = make_lstm_network(x, 21, 13, 10, lanes, seed=width, gate_reuse=True,
                                  last="fc", front=front, relu=False)
    config = EngineConfig(lanes=lanes, max_inputs=48, max_outputs=64, max_layers=3, lstm=True,
                          scan_width=width)
    frames = similar_frames(7, x, 0.7, C16, 8, seed=3)
    patterns = dict(input_valid=Pattern(0.6, seed=1), output_ready=Pattern(0.5, seed=2)) \
        if stalls else {}
    expected = golden_network_run(config, layers, frames, **patterns)
    got = rtl_network_run(config, layers, frames, **patterns)
    assert_same_network_run(expected, got)
    narrow = golden_network_run(config.replace(scan_width=1), layers, frames, **patterns)
    assert np.array_equal(narrow.outputs, expected.outputs)
    assert sum(c.cycles for c in expected.counters) < sum(c.cycles for c in narrow.counters)


def test_lstm_configuration_errors():
    with pytest.raises(ConfigError, match=r"lstm = true needs lanes a multiple of 4, not 6"):
        EngineConfig(lanes=6, max_layers=2, lstm=True)
    with pytest.raises(ConfigError, match=r"lstm = true needs max_layers >= 2, not 1"):
        EngineConfig(lstm=True)
    with pytest.raises(ConfigError, match=r"outputs = 20 must be 4 \* hidden = 16"):
        LayerConfig(12, 20, C16, "none", kind="lstm", hidden=4)
    with pytest.raises(ConfigError,
                       match=r"activation = 'magnitude' is for conv layers, not 'lstm'"):
        LayerConfig(12, 16, C16, "magnitude", kind="lstm", hidden=4)
    with pytest.raises(ConfigError, match=r"kind = 'gru' is not supported: allowed fc, lstm"):
        LayerConfig(12, 16, C16, kind="gru")
    layers, _ = make_lstm_network(20, 21, 13, 10, 8, seed=1)
    with pytest.raises(ConfigError, match=r"kind = 'lstm' needs an engine with lstm = true"):
        network_writes(EngineConfig(lanes=8, max_inputs=64, max_outputs=64, max_layers=3), layers)
    lstm_config = EngineConfig(lanes=8, max_inputs=64, max_outputs=64, max_layers=3, lstm=True)
    with pytest.raises(ConfigError, match=r"layer 1: inputs - hidden = 24 must equal the "
                                          r"outputs of layer 0 \(21\) rounded up to lanes = 16"):
        network_writes(lstm_config.replace(lanes=16), layers)
    with pytest.raises(ConfigError, match=r"layer 1: inputs - hidden = 24 must equal the "
                                          r"outputs of layer 0 \(10\) rounded up to lanes = 8"):
        network_writes(lstm_config, [layers[2], layers[1]])
    with pytest.raises(ConfigError, match=r"a network can hold one lstm layer"):
        network_writes(lstm_config.replace(max_layers=4), [layers[0], layers[1], layers[1]])
    first, _ = make_lstm_network(20, 21, 13, 10, 8, seed=1, front=False)
    with pytest.raises(ConfigError, match=r"layer 0: inputs - hidden = 20 must be a multiple of "
                                          r"scan_width = 8 \(x_t fills whole beats"):
        network_writes(lstm_config.replace(scan_width=8), first)
