"""Networks of FC layers on the engine's layer table: golden against independent references,
RTL against golden cycle by cycle (verification levels 2 and 4 for multi-layer engines)."""

import numpy as np
import pytest
from checks import assert_same_network_run

from golden import (
    ConfigError,
    EngineConfig,
    LayerConfig,
    Pattern,
    cycle_bound,
    golden_network_run,
    linear_centroids,
    similar_frames,
)
from golden.network.builtin import network_workload
from golden.network.engine_network import EngineNetwork
from golden.network.lowering import from_int_network
from sim import rtl_network_run


def make_network(shapes, reuse_flags, seed, lanes=4, reuse=True, max_layers=None, scan_width=1):
    rng = np.random.default_rng(seed)
    layers = []
    for k, ((n, m), flag) in enumerate(zip(shapes, reuse_flags)):
        layer = LayerConfig(n, m, linear_centroids(-128, 127, [16, 4, 32][k % 3], 8),
                            activation=["relu", "none"][(seed + k) % 2],
                            shift=int(rng.integers(6, 10)), reuse=flag)
        layers.append((layer, rng.integers(-128, 128, (n, m)), rng.integers(-3000, 3000, m)))
    config = EngineConfig(lanes=lanes, max_inputs=32, max_outputs=32, reuse=reuse,
                          max_layers=max_layers or len(shapes), scan_width=scan_width)
    return config, layers


def chain_reference(layers, frames, reuse=True):
    """Independent reference: each layer from scratch, b + c[q(x)] W (reuse layers) or b + x W
    (baseline layers), ReLU, rounding shift and saturation written out in plain NumPy."""
    x = np.asarray(frames, dtype=np.int64)
    for layer, w, b in layers:
        if reuse and layer.reuse:
            c = np.asarray(layer.centroids)
            t = (c[:-1] + c[1:] + 1) >> 1                   # docs/design.md thresholds
            x = c[(x[..., None] >= t).sum(axis=-1)]
        z = b + x @ w
        if layer.activation == "relu":
            z = np.maximum(z, 0)
        if layer.shift:
            z = (z + (1 << (layer.shift - 1))) >> layer.shift
        x = np.clip(z, -128, 127)
    return x


CASES = [
    # lanes, shapes, per-layer reuse, reuse engine, stalls
    (4, [(13, 19), (19, 7), (7, 10)], [True, False, True], True, True),
    (1, [(5, 6), (6, 3)], [True, True], True, False),
    (16, [(20, 32), (32, 17), (17, 9), (9, 3)], [False, True, True, True], True, True),
    (5, [(11, 12), (12, 13)], [True, True], True, True),
    (4, [(13, 19), (19, 7), (7, 10)], [True, True, True], False, True),
]


@pytest.mark.parametrize("lanes, shapes, flags, reuse, stalls", CASES,
                         ids=[f"L{c[0]}-{len(c[1])}layers-{'reuse' if c[3] else 'base'}"
                              f"{'-stall' if c[4] else ''}" for c in CASES])
def test_network_trace_matches_golden(lanes, shapes, flags, reuse, stalls):
    """Index, output-area and hidden-bank writes of every layer and every output beat happen
    in the cycle golden's cycle model says, with golden's values; counters agree per frame."""
    seed = lanes + len(shapes)
    config, layers = make_network(shapes, flags, seed, lanes=lanes, reuse=reuse)
    x = similar_frames(5, shapes[0][0], 0.5, layers[0][0].centroids, 8, seed=seed)
    options = (dict(input_valid=Pattern(0.6, seed), output_ready=Pattern(0.4, seed + 1))
               if stalls else {})
    expected = golden_network_run(config, layers, x, **options)
    assert np.array_equal(expected.outputs, chain_reference(layers, x, reuse))
    assert any(kind == "bank_write" for _, kind, _, _ in expected.trace)
    got = rtl_network_run(config, layers, x, **options)
    assert_same_network_run(expected, got)
    for f, total in enumerate(expected.counters):
        assert total.cycles <= sum(cycle_bound(config, layer, r.counters[f].inputs_changed)
                                   for (layer, _, _), r in zip(layers, expected.layers))


WIDE = [
    # lanes, scan width, shapes, per-layer reuse, reuse engine, stalls
    (4, 2, [(13, 19), (19, 7), (7, 10)], [True, False, True], True, True),
    (8, 8, [(20, 32), (32, 17), (17, 9)], [False, True, True], True, True),
    (8, 4, [(21, 32), (32, 17)], [True, True], False, True),
    (4, 4, [(5, 6), (6, 3)], [True, True], True, False),
    (16, 16, [(32, 20), (20, 32)], [True, True], True, True),
]


@pytest.mark.parametrize("lanes, width, shapes, flags, reuse, stalls", WIDE,
                         ids=[f"L{c[0]}-W{c[1]}-{len(c[2])}layers-{'reuse' if c[4] else 'base'}"
                              f"{'-stall' if c[5] else ''}" for c in WIDE])
def test_wide_scan_network_trace_matches_golden(lanes, width, shapes, flags, reuse, stalls):
    """A scan of ``scan_width`` inputs a cycle (input beats of W activations, hidden banks
    read W at a time, partial last beats): every write and beat at golden's cycle, the same
    outputs as the plain-NumPy chain, and each layer's scan ceil(N / W) cycles."""
    seed = lanes + width
    config, layers = make_network(shapes, flags, seed, lanes=lanes, reuse=reuse,
                                  scan_width=width)
    x = similar_frames(5, shapes[0][0], 0.6, layers[0][0].centroids, 8, seed=seed)
    options = (dict(input_valid=Pattern(0.6, seed), output_ready=Pattern(0.4, seed + 1))
               if stalls else {})
    expected = golden_network_run(config, layers, x, **options)
    assert np.array_equal(expected.outputs, chain_reference(layers, x, reuse))
    got = rtl_network_run(config, layers, x, **options)
    assert_same_network_run(expected, got)
    narrow = golden_network_run(config.replace(scan_width=1), layers, x, **options)
    assert np.array_equal(narrow.outputs, expected.outputs)
    for f, (wide_total, narrow_total) in enumerate(zip(expected.counters, narrow.counters)):
        # only the scan's cycles differ: ceil(N / W) instead of N, and one more drain cycle
        saved = sum(layer.inputs - -(-layer.inputs // width) - 1 for layer, _, _ in layers)
        assert narrow_total.cycles - wide_total.cycles == saved
        assert narrow_total.macs == wide_total.macs
        assert wide_total.cycles <= sum(cycle_bound(config, layer, r.counters[f].inputs_changed)
                                        for (layer, _, _), r in zip(layers, expected.layers))


def test_one_layer_network_on_a_layer_table_engine():
    """An engine with a layer table runs a one-layer network too (with the layer switch)."""
    config, layers = make_network([(9, 6)], [True], seed=3, max_layers=3)
    x = similar_frames(4, 9, 0.5, layers[0][0].centroids, 8, seed=3)
    options = dict(input_valid=Pattern(0.5, 1), output_ready=Pattern(0.5, 2))
    expected = golden_network_run(config, layers, x, **options)
    assert np.array_equal(expected.outputs, chain_reference(layers, x))
    assert_same_network_run(expected, rtl_network_run(config, layers, x, **options))


def test_network_long_run_has_no_drift():
    """2,000 frames of a random walk through three reuse layers: golden equals recomputing
    every layer from scratch on every frame."""
    config, layers = make_network([(24, 20), (20, 16), (16, 8)], [True, True, True], seed=7)
    x = similar_frames(2000, 24, 0.8, layers[0][0].centroids, 8, seed=7)
    result = golden_network_run(config, layers, x, trace=False)
    assert np.array_equal(result.outputs, chain_reference(layers, x))
    changed = [sum(c.inputs_changed for c in r.counters[1:]) for r in result.layers]
    assert all(0 < c < 1999 * layer.inputs for c, (layer, _, _) in zip(changed, layers))


def test_kaldi_mlp_golden_equals_the_evaluated_integer_network():
    """The engine's golden model of the built-in Kaldi-shaped MLP gives exactly the outputs of
    the integer network ``deja eval`` evaluates (golden/network/graph.py, a separate
    implementation), on real filterbank frames."""
    network, x, int_network = network_workload("kaldi-mlp", frames=60)
    config = network.engine_config(lanes=16)
    result = golden_network_run(config, network.layers, x, trace=False)
    int_network.start_sequence()
    floats, _ = int_network.run(x / 2.0 ** int_network.input_frac)
    frac = int_network.layers[-1].frac
    reference = np.round(floats[int_network.graph.outputs[0]] * 2.0 ** frac).astype(np.int64)
    assert np.array_equal(result.outputs, reference)
    assert result.outputs.shape == (60, 32)
    # real speech: the later frames reuse part of every layer's work
    for layer_result in result.layers:
        changed = np.mean([c.inputs_changed / c.inputs_scanned for c in layer_result.counters[1:]])
        assert 0.05 < changed < 0.95


def test_network_file_round_trip_and_errors(tmp_path):
    config, layers = make_network([(6, 5), (5, 4)], [True, False], seed=2)
    network = EngineNetwork("two", tuple(layers), input_frac=3, description="test")
    path = tmp_path / "net.npz"
    network.save(path)
    loaded = EngineNetwork.load(path)
    assert [l for l, _, _ in loaded.layers] == [l for l, _, _ in layers]
    for (_, w, b), (_, w2, b2) in zip(layers, loaded.layers):
        assert np.array_equal(w, w2) and np.array_equal(b, b2)
    assert loaded.input_frac == 3 and loaded.engine_config(lanes=4).max_layers == 2
    with pytest.raises(ConfigError) as e:
        EngineNetwork.load(tmp_path / "missing.npz")
    assert str(e.value) == f"network file {tmp_path / 'missing.npz'} does not exist"
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError) as e:
        EngineNetwork.load(tmp_path / "bad.npz")
    assert str(e.value).startswith(f"network file {tmp_path / 'bad.npz'} is not a deja network")
    with pytest.raises(ConfigError) as e:
        EngineNetwork("bad", (layers[1], layers[0]))
    assert str(e.value) == "layer 1: inputs = 6 must equal the outputs of layer 0 (4)"


def test_networks_beyond_fc_chains_are_refused():
    from golden.network.graph import Graph, Node, quantize_graph
    rng = np.random.default_rng(0)
    graph = Graph([Node("FC1", "fc", ["x"], "h", {"weight": rng.normal(0, 1, (4, 4)),
                                                  "bias": np.zeros(4)}),
                   Node("pool", "max_pool", ["h"], "p", {"kernel": 2, "stride": 2})],
                  "x", (4,), ["p"])
    int_network = quantize_graph(graph, rng.normal(0, 1, (20, 4)))
    with pytest.raises(ConfigError) as e:
        from_int_network(int_network)
    assert str(e.value) == ("node 'pool' is a 'max_pool': the engine runs chains of conv "
                            "layers, FC layers and an LSTM cell")
    depthwise = Graph([Node("DW", "conv", ["x"], "h", {"weight": rng.normal(0, 1, (4, 1, 3)),
                                                       "bias": np.zeros(4), "groups": 4})],
                      "x", (4, 8), ["h"])
    with pytest.raises(ConfigError, match=r"a conv with groups 4, .* no groups \(depthwise\) "
                                          r"or dilation"):
        from_int_network(quantize_graph(depthwise, rng.normal(0, 1, (20, 4, 8))))
    pooled = Graph([Node("C", "conv", ["x"], "h", {"weight": rng.normal(0, 1, (4, 4, 3)),
                                                   "bias": np.zeros(4)}),
                    Node("pool", "max_pool", ["h"], "p", {"kernel": 2, "stride": 2})],
                   "x", (4, 8), ["p"])
    with pytest.raises(ConfigError, match=r"node 'pool' is a 'max_pool' after a conv: the engine "
                                          r"runs a conv, or a flatten and an FC layer, there"):
        from_int_network(quantize_graph(pooled, rng.normal(0, 1, (20, 4, 8))))


@pytest.mark.parametrize("dims", [1, 2])
def test_imported_conv_network_equals_the_evaluated_integer_network(dims):
    """A conv, conv, flatten, FC graph (filters not a multiple of the lanes, so the engine
    pads them with zero filters, and the FC's channel-major rows are reordered position-major)
    imported by from_int_network gives exactly the integer network's outputs."""
    from golden.network.graph import Graph, Node, quantize_graph
    from golden.network.lowering import engine_input
    rng = np.random.default_rng(dims)
    spatial = (7,) * dims
    k = (3,) * dims
    out = (4,) * dims
    graph = Graph([
        Node("C1", "conv", ["x"], "h1", {"weight": rng.normal(0, 0.4, (6, 3, *k)),
                                          "bias": rng.normal(0, 0.1, 6), "padding": 1,
                                          "relu": True}),
        Node("C2", "conv", ["h1"], "h2", {"weight": rng.normal(0, 0.3, (5, 6, *k)),
                                           "bias": rng.normal(0, 0.1, 5), "stride": 2,
                                           "padding": 1}),
        Node("F", "reshape", ["h2"], "h3", {"shape": (5 * int(np.prod(out)),)}),
        Node("FC", "fc", ["h3"], "y", {"weight": rng.normal(0, 0.2, (5 * int(np.prod(out)), 7)),
                                        "bias": rng.normal(0, 0.1, 7)})], "x", (3, *spatial), ["y"])
    frames = rng.normal(0, 1, (30, 3, *spatial))
    frames[1::2] = frames[::2] + rng.normal(0, 0.05, frames[::2].shape)     # some reuse
    int_network = quantize_graph(graph, frames[:10])
    network = from_int_network(int_network, lanes=4)
    conv1, conv2, fc = (layer for layer, _, _ in network.layers)
    assert conv1.filters == 8 and conv2.channels == 8 and fc.inputs == conv2.positions * 8
    assert conv1.columns == (7 if dims == 2 else 0)
    config = network.engine_config(lanes=4)
    got = golden_network_run(config, network.layers, engine_input(int_network, frames),
                             trace=False)
    int_network.start_sequence()
    floats, _ = int_network.run(frames)
    reference = np.round(floats["y"] * 2.0 ** int_network.layers[-1].frac).astype(np.int64)
    assert np.array_equal(got.outputs, reference)


@pytest.mark.slow
def test_video_cnn_golden_equals_the_evaluated_integer_network():
    """The built-in 2-D CNN on real video frames: the engine's golden model gives exactly the
    integer network's outputs, and consecutive frames let both convs skip most of their
    inputs."""
    network, x, int_network = network_workload("video-cnn", frames=40)
    config = network.engine_config(lanes=16)
    assert config.max_kernel_rows == 3 and [l.columns for l, _, _ in network.layers] == [16, 16, 0]
    got = golden_network_run(config, network.layers, x, trace=False)
    int_network.start_sequence()
    floats, _ = int_network.run(x.reshape(-1, 1, 16, 16) / 2.0 ** int_network.input_frac)
    frac = int_network.layers[-1].frac
    assert np.array_equal(got.outputs, np.round(floats["out"] * 2.0 ** frac).astype(np.int64))
    for layer_result in got.layers[:2]:
        counters = layer_result.counters[1:]
        assert sum(c.inputs_changed for c in counters) < 0.7 * sum(c.inputs_scanned
                                                                   for c in counters)


@pytest.mark.slow
def test_silero_engine_network_equals_the_evaluated_integer_network():
    """The engine's Silero VAD (golden model: STFT conv + magnitude, convs, LSTM, FC) gives
    exactly the speech probabilities of the integer network ``deja eval`` evaluates (im2col
    convolutions on channel-major tensors, golden.network.layers' LSTM cell, its own magnitude)."""
    from golden.network.builtin import silero_workload
    from golden.network.graph import _sigmoid
    network, x, int_network = network_workload("silero", frames=60)
    config = network.engine_config(lanes=16)
    assert config.conv and config.lstm and config.weight_width == 16
    got = golden_network_run(config, network.layers, x, trace=False)
    outs, _ = int_network.run(silero_workload(60).evaluation)
    frac = next(l.frac for l in int_network.layers if l.node.name == "decoder")
    assert np.array_equal(_sigmoid(got.outputs[:, 0] / 2.0 ** frac), outs["speech"].reshape(-1))
    # the STFT's input (new audio every frame) barely repeats; the later layers do
    stft, lstm = got.layers[0].counters[1:], got.layers[5].counters[1:]
    assert sum(c.inputs_changed for c in lstm) < 0.6 * sum(c.inputs_scanned for c in lstm)
    assert sum(c.inputs_changed for c in stft) > 0.3 * sum(c.inputs_scanned for c in stft)


def nearest_index(x, centroids):
    """Paper Eq. 9 from its definition: the index of the nearest centroid, a tie going to the
    upper one (no thresholds)."""
    c = np.asarray(centroids, dtype=np.int64)
    d = np.abs(np.asarray(x, dtype=np.int64)[..., None] - c)
    return len(c) - 1 - np.argmin(d[..., ::-1], axis=-1)


@pytest.mark.parametrize("width, shapes, flags", [
    (1, [(13, 19), (19, 7), (7, 10)], [True, False, True]),
    (4, [(20, 32), (32, 17), (17, 9)], [True, True, False]),
])
def test_network_cycles_per_layer_by_the_formula(width, shapes, flags):
    """docs/design.md "Busy cycles" restated for FC layers on a layer-table engine: each
    layer's busy cycles every frame are S + ceil(N / W) + D + 1 + B (n + 1), S = 13, D = 3
    (4 with W > 1), with n the inputs whose nearest centroid changed, counted here from each
    layer's inputs (recomputed in plain NumPy) and all N on a first frame or a baseline layer."""
    config, layers = make_network(shapes, flags, seed=3, lanes=4, scan_width=width)
    x = similar_frames(12, shapes[0][0], 0.6, layers[0][0].centroids, 8, seed=4)
    got = golden_network_run(config, layers, x, trace=False)
    switch, drain = 13, 3 if width == 1 else 4
    inputs = x
    for k, (layer, w, b) in enumerate(layers):
        q = nearest_index(inputs, layer.centroids)
        changed = np.concatenate([[layer.inputs], (q[1:] != q[:-1]).sum(axis=1)])
        if not layer.reuse:
            changed[:] = layer.inputs
        blocks = -(-layer.outputs // 4)
        want = [switch + -(-layer.inputs // width) + drain + 1 + blocks * (n + 1)
                for n in changed]
        assert [c.cycles for c in got.layers[k].counters] == want, f"layer {k}"
        assert [c.inputs_changed for c in got.layers[k].counters] == changed.tolist()
        inputs = chain_reference([(layer, w, b)], inputs)
    assert [c.cycles for c in got.counters] == [
        sum(r.counters[f].cycles for r in got.layers) for f in range(len(x))]
