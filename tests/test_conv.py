"""1-D convolutions on the engine (paper IV-C, docs/design.md "Layers beyond FC"): golden against
golden.network.layers' im2col convolution, RTL against golden cycle by cycle, and the
configuration's errors."""

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
    quantize,
    similar_frames,
)
from golden.network.layers import FC, Conv, ReuseLinear
from sim import rtl_network_run

C16 = linear_centroids(-128, 127, 16, 8)


def make_conv_network(length, channels, convs, fc_outputs, seed, reuse_flags=None):
    """Conv layers ``convs = [(filters, kernel, stride, padding), ...]`` on ``length`` positions
    (1-D; a pair ``(rows, columns)``: 2-D) of ``channels`` values, then an FC layer
    (``fc_outputs``, 0 for none). Returns the engine's layers and golden.network.layers references
    (channel-major tensors, PyTorch weight layout)."""
    rng = np.random.default_rng(seed)
    layers, references = [], []
    flags = reuse_flags or [True] * (len(convs) + 1)
    spatial = tuple(int(v) for v in np.atleast_1d(length))
    for k, (filters, kernel, stride, padding) in enumerate(convs):
        w = rng.integers(-40, 40, (filters, channels, *[kernel] * len(spatial)))
        b = rng.integers(-600, 600, filters)
        activation = ["relu", "none"][k % 2]
        conv = Conv(w, (channels, *spatial), stride=stride, padding=padding)
        positions = int(np.prod(conv.out_shape[1:]))
        layer = LayerConfig(int(np.prod(spatial)) * channels, positions * filters, C16,
                            activation, 7, reuse=flags[k], kind="conv", channels=channels,
                            kernel=kernel, stride=stride, padding=padding,
                            columns=spatial[1] if len(spatial) == 2 else 0)
        # engine weights: row t * channels + c (tap t = dy * kernel + dx of channel c)
        taps = w.transpose(*range(2, w.ndim), 1, 0)
        layers.append((layer, taps.reshape(-1, filters), b))
        references.append(ReuseLinear(conv, b, C16 if flags[k] else None, activation, 7))
        spatial, channels = tuple(conv.out_shape[1:]), filters
        length = int(np.prod(spatial))
    if fc_outputs:
        n = length * channels
        w = rng.integers(-40, 40, (n, fc_outputs))
        b = rng.integers(-600, 600, fc_outputs)
        layers.append((LayerConfig(n, fc_outputs, C16, "none", 7, reuse=flags[-1]), w, b))
        references.append(ReuseLinear(FC(w), b, C16 if flags[-1] else None, "none", 7))
    return layers, references


def reference(layers, references, frames, reuse=True):
    """The network through golden.network.layers (im2col convolutions on channel-major tensors, with
    their own reuse), converted from and to the engine's position-major order."""
    out = []
    for x in frames:
        for (layer, _, _), ref in zip(layers, references):
            if not reuse:
                ref.centroids = None
            if layer.kind == "conv":
                spatial = (layer.map_rows, layer.columns) if layer.columns else (layer.length,)
                tensor = np.moveaxis(np.asarray(x).reshape(*spatial, layer.channels), -1, 0)
                y, _ = ref(tensor)
                x = np.moveaxis(y, 0, -1).reshape(-1)     # (filters, ...) -> position-major
            else:
                x, _ = ref(x)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("reuse", [True, False])
@pytest.mark.parametrize("convs", [[(8, 3, 1, 1), (4, 3, 2, 1)], [(4, 4, 2, 1)], [(8, 2, 2, 0)]],
                         ids=["k3s1p1-k3s2p1", "k4s2p1", "k2s2p0"])
def test_golden_conv_network_equals_im2col(convs, reuse):
    layers, references = make_conv_network(10, 3, convs, 5, seed=len(convs))
    config = EngineConfig(lanes=4, max_inputs=96, max_outputs=96, max_layers=3, conv=True,
                          reuse=reuse)
    frames = similar_frames(300, 30, 0.8, C16, 8, seed=4)
    got = golden_network_run(config, layers, frames, trace=False)
    assert np.array_equal(got.outputs, reference(layers, references, frames, reuse))
    # a block runs the changed inputs of its window only: fewer weight words than FC would
    conv = got.layers[0]
    blocks = layers[0][0].blocks(4)
    assert sum(c.weight_words for c in conv.counters) < \
        sum(c.inputs_changed for c in conv.counters) * blocks


CASES = [
    # lanes, length, channels, convs, fc outputs, per-layer reuse, reuse engine, stalls
    (4, 10, 3, [(8, 3, 1, 1), (4, 3, 2, 1)], 5, None, True, True),
    (8, 12, 2, [(8, 4, 2, 1)], 0, None, True, False),
    (4, 9, 3, [(4, 3, 2, 1), (8, 2, 1, 0)], 6, [True, False, True], True, True),
    (4, 10, 3, [(8, 3, 1, 1)], 5, None, False, True),
    (16, 6, 5, [(16, 1, 1, 0)], 3, None, True, True),
]


@pytest.mark.parametrize("lanes, length, channels, convs, fc, flags, reuse, stalls", CASES,
                         ids=[f"lanes{c[0]}-{len(c[3])}conv" + ("-fc" if c[4] else "")
                              + ("-mixed" if c[5] else "") + ("" if c[6] else "-baseline")
                              + ("-stalls" if c[7] else "") for c in CASES])
def test_conv_network_trace_matches_golden(lanes, length, channels, convs, fc, flags, reuse,
                                           stalls):
    """Verification level 2 with conv layers: every index, output-area and bank write and
    every output beat at the cycle golden's cycle model says (each block's MACs are the
    changed inputs of its window)."""
    layers, _ = make_conv_network(length, channels, convs, fc, seed=lanes, reuse_flags=flags)
    config = EngineConfig(lanes=lanes, max_inputs=96, max_outputs=96, max_layers=3, conv=True,
                          reuse=reuse)
    frames = similar_frames(6, length * channels, 0.7, C16, 8, seed=3)
    patterns = dict(input_valid=Pattern(0.6, seed=1), output_ready=Pattern(0.5, seed=2)) \
        if stalls else {}
    expected = golden_network_run(config, layers, frames, **patterns)
    got = rtl_network_run(config, layers, frames, **patterns)
    assert_same_network_run(expected, got)


CONVS_2D = [
    # (rows, columns), channels, convs
    ((5, 6), 3, [(8, 3, 1, 1), (4, 3, 2, 1)]),
    ((4, 4), 2, [(8, 2, 2, 0)]),
    ((6, 5), 1, [(4, 3, 2, 0), (4, 1, 1, 0)]),
]


@pytest.mark.parametrize("reuse", [True, False])
@pytest.mark.parametrize("shape, channels, convs", CONVS_2D,
                         ids=["5x6-k3s1p1-k3s2p1", "4x4-k2s2p0", "6x5-k3s2p0-k1"])
def test_golden_conv2d_network_equals_im2col(shape, channels, convs, reuse):
    """2-D convolutions: golden's outputs against golden.network.layers' im2col convolution, and
    each block runs only the changed inputs of its k x k window (one segment per kernel row)."""
    layers, references = make_conv_network(shape, channels, convs, 5, seed=2)
    config = EngineConfig(lanes=4, max_inputs=256, max_outputs=256, max_layers=3, conv=True,
                          reuse=reuse, max_kernel_rows=3)
    frames = similar_frames(60, layers[0][0].inputs, 0.8, C16, 8, seed=5)
    got = golden_network_run(config, layers, frames, trace=False)
    assert np.array_equal(got.outputs, reference(layers, references, frames, reuse))
    # recount each block's entries from the window's definition: the changed inputs under
    # each kernel row (frames after the first: the quantized inputs that moved; baseline: all)
    layer = layers[0][0]
    q = quantize(frames, C16)
    rows, cols = layer.out_shape
    for f in range(1, len(frames)):
        changed = q[f] != q[f - 1] if reuse else np.ones(layer.inputs, bool)
        changed = changed.reshape(layer.map_rows, layer.columns, layer.channels).sum(axis=2)
        macs = 0
        for block, segments in enumerate(got.layers[0].entries[f]):
            oy, ox = divmod(block // (layer.filters // 4), cols)
            y0, x0 = oy * layer.stride - layer.padding, ox * layer.stride - layer.padding
            want = [int(changed[y, max(0, x0):x0 + layer.kernel].sum())
                    for y in range(max(0, y0), min(layer.map_rows, y0 + layer.kernel))]
            assert list(segments) == want
            macs += sum(want)
        # the cycle contract (docs/design.md), restated: an 18-cycle switch, one scan cycle per
        # input, a 5-cycle drain, the first LOAD, and per block its window's entries back to
        # back and a STORE (which loads the next block)
        blocks = rows * cols * layer.filters // 4
        assert got.layers[0].counters[f].cycles == 18 + layer.inputs + 5 + 1 + blocks + macs


def test_segments_address_the_weights():
    """Every window segment's weight offset points each input in it at the weight word of its
    tap: the words read through the segments are the layer's FC-equivalent matrix."""
    from golden.weight_buffer import weight_words
    lanes = 4
    for shape, channels, convs in CONVS_2D + [(10, 3, [(8, 3, 2, 1)])]:
        for layer, w, _ in make_conv_network(shape, channels, convs, 0, seed=1)[0]:
            words = np.asarray(weight_words(w, lanes))
            full = layer.fc_weights(w)
            for block in range(layer.blocks(lanes)):
                seen = np.zeros(layer.inputs, bool)
                for x_lo, x_hi, base in layer.segments(block, lanes):
                    for i in range(x_lo * layer.channels, x_hi * layer.channels):
                        assert np.array_equal(words[base + i],
                                              full[i, block * lanes:(block + 1) * lanes])
                        seen[i] = True
                # inputs outside the segments have no weight for this block
                assert not full[~seen, block * lanes:(block + 1) * lanes].any()


CASES_2D = [
    # lanes, shape, channels, convs, fc outputs, per-layer reuse, reuse engine, stalls, W
    (4, (5, 6), 3, [(8, 3, 1, 1), (4, 3, 2, 1)], 5, None, True, True, 1),
    (8, (4, 4), 2, [(8, 2, 2, 0)], 0, None, True, False, 1),
    (4, (6, 5), 1, [(4, 3, 2, 0), (4, 1, 1, 0)], 6, [True, False, True], True, True, 1),
    (4, (5, 6), 3, [(8, 3, 1, 1)], 5, None, False, True, 1),
    # a wide scan: beats across positions (3 channels in beats of 4; 1 channel in beats of 2)
    (4, (5, 6), 3, [(8, 3, 1, 1), (4, 3, 2, 1)], 5, None, True, True, 4),
    (8, (4, 4), 2, [(8, 2, 2, 0)], 0, None, True, False, 8),
    (4, (6, 5), 1, [(4, 3, 2, 0), (4, 1, 1, 0)], 6, [True, False, True], True, True, 2),
    (4, (5, 6), 3, [(8, 3, 1, 1)], 5, None, False, True, 4),
]


@pytest.mark.parametrize("lanes, shape, channels, convs, fc, flags, reuse, stalls, width",
                         CASES_2D,
                         ids=[f"lanes{c[0]}-{c[1][0]}x{c[1][1]}-{len(c[3])}conv"
                              + ("-fc" if c[4] else "") + ("-mixed" if c[5] else "")
                              + ("" if c[6] else "-baseline") + ("-stalls" if c[7] else "")
                              + (f"-W{c[8]}" if c[8] > 1 else "")
                              for c in CASES_2D])
def test_conv2d_network_trace_matches_golden(lanes, shape, channels, convs, fc, flags, reuse,
                                             stalls, width):
    """Verification level 2 with 2-D conv layers: each block runs its window's segments back
    to back (empty ones cost nothing), every event at the cycle
    golden's cycle model says; with a wide scan (``width`` inputs a beat, beats that span
    positions), the same outputs as an input a cycle, and only the scan's cycles fewer."""
    layers, _ = make_conv_network(shape, channels, convs, fc, seed=lanes, reuse_flags=flags)
    config = EngineConfig(lanes=lanes, max_inputs=256, max_outputs=256, max_layers=3, conv=True,
                          reuse=reuse, max_kernel_rows=3, scan_width=width)
    frames = similar_frames(5, layers[0][0].inputs, 0.7, C16, 8, seed=3)
    patterns = dict(input_valid=Pattern(0.6, seed=1), output_ready=Pattern(0.5, seed=2)) \
        if stalls else {}
    expected = golden_network_run(config, layers, frames, **patterns)
    got = rtl_network_run(config, layers, frames, **patterns)
    assert_same_network_run(expected, got)
    if width > 1:
        narrow = golden_network_run(config.replace(scan_width=1), layers, frames, **patterns)
        assert np.array_equal(narrow.outputs, expected.outputs)
        saved = sum(layer.inputs - -(-layer.inputs // width) - 1 for layer, _, _ in layers)
        for wide_total, narrow_total in zip(expected.counters, narrow.counters):
            assert narrow_total.macs == wide_total.macs
            if not stalls:
                assert narrow_total.cycles - wide_total.cycles == saved


def test_conv_configuration_errors():
    conv = dict(kind="conv", channels=3, kernel=3, stride=1, padding=1)
    with pytest.raises(ConfigError, match=r"conv layer: inputs = 10 must be positions x "
                                          r"channels = 3"):
        LayerConfig(10, 8, C16, **conv)
    with pytest.raises(ConfigError, match=r"padding = 3 is out of range: allowed 0..2"):
        LayerConfig(9, 8, C16, **{**conv, "padding": 3})
    with pytest.raises(ConfigError, match=r"conv layer: outputs = 10 must be positions = 3 x "
                                          r"filters"):
        LayerConfig(9, 10, C16, **conv)
    with pytest.raises(ConfigError, match=r"channels, kernel, stride, padding, columns and "
                                          r"outer_padding are conv layer parameters"):
        LayerConfig(9, 8, C16, kernel=3)
    with pytest.raises(ConfigError, match=r"outer_padding after = 3 is out of range: allowed "
                                          r"0..2 \(below the kernel\)"):
        LayerConfig(9, 8, C16, **conv, outer_padding=(0, 3))
    with pytest.raises(ConfigError, match=r"outer_padding = \(1,\) must be \(before, after\)"):
        LayerConfig(9, 8, C16, **conv, outer_padding=(1,))
    with pytest.raises(ConfigError, match=r"conv layer: 9 positions are not rows of columns = 4"):
        LayerConfig(27, 8 * 4, C16, **{**conv, "columns": 4})
    with pytest.raises(ConfigError, match=r"kernel = 3 is longer than the padded input "
                                          r"\(1 \+ 0 \+ 0\)"):
        LayerConfig(27, 8, C16, **{**conv, "padding": 0, "columns": 9})
    with pytest.raises(ConfigError, match=r"max_kernel_rows = 3 needs conv = true"):
        EngineConfig(max_layers=2, max_kernel_rows=3)
    layers2d, _ = make_conv_network((3, 3), 3, [(8, 3, 1, 1)], 5, seed=1)
    with pytest.raises(ConfigError, match=r"layer 0: 2-D conv layer: kernel = 3 needs an engine "
                                          r"with max_kernel_rows >= 3, not 2"):
        network_writes(EngineConfig(lanes=4, max_inputs=96, max_outputs=96, max_layers=2,
                                    conv=True, max_kernel_rows=2), layers2d)
    with pytest.raises(ConfigError, match=r"conv = true needs max_layers >= 2"):
        EngineConfig(conv=True)
    layers, _ = make_conv_network(10, 3, [(8, 3, 1, 1)], 5, seed=1)
    config = EngineConfig(lanes=4, max_inputs=64, max_outputs=96, max_layers=2, conv=True)
    with pytest.raises(ConfigError, match=r"kind = 'conv' needs an engine with conv = true"):
        network_writes(config.replace(conv=False), layers)
    with pytest.raises(ConfigError, match=r"conv layer: filters = 8 must be a multiple of "
                                          r"lanes = 16"):
        network_writes(config.replace(lanes=16), layers)
    layer, w, b = layers[0]
    with pytest.raises(ConfigError, match=r"weights have shape \(3, 8\): expected \(kernel x "
                                          r"channels, filters\) = \(9, 8\)"):
        network_writes(config, [(layer, w[:3], b), layers[1]])


@pytest.mark.parametrize("stalls", [False, True])
def test_magnitude_conv_network(stalls):
    """An STFT-like conv (one channel, filters interleaved re, im) whose results are the
    magnitudes of its filter pairs, then a conv on those and an FC layer: golden equals
    golden.network.layers (im2col, magnitude, requantize), and the RTL equals golden cycle by
    cycle."""
    from golden.magnitude_unit import magnitude
    from golden.output_unit import requantize
    rng = np.random.default_rng(21)
    w0, b0 = rng.integers(-60, 60, (8, 1, 8)), np.zeros(8, dtype=np.int64)
    w1, b1 = rng.integers(-40, 40, (4, 4, 3)), rng.integers(-600, 600, 4)
    w2, b2 = rng.integers(-40, 40, (12, 5)), rng.integers(-600, 600, 5)
    layers = [
        (LayerConfig(16, 24, C16, "magnitude", 7, kind="conv", channels=1, kernel=8, stride=4,
                     magnitude_shift=1), w0.transpose(2, 1, 0).reshape(8, 8), b0),
        (LayerConfig(12, 12, C16, "relu", 7, kind="conv", channels=4, kernel=3, padding=1),
         w1.transpose(2, 1, 0).reshape(12, 4), b1),
        (LayerConfig(12, 5, C16, "none", 7), w2, b2),
    ]
    config = EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_layers=3, conv=True)
    frames = similar_frames(8 if stalls else 60, 16, 0.7, C16, 8, seed=6)
    refs = [ReuseLinear(Conv(w0, (1, 16), stride=4), b0, C16, "none", 7),
            ReuseLinear(Conv(w1, (4, 3), padding=1), b1, C16, "relu", 7),
            ReuseLinear(FC(w2), b2, C16, "none", 7)]
    expected_outputs = []
    for x in frames:
        y = refs[0](x.reshape(1, 16))[0]                      # (8, 3), channel-major
        mag = requantize(magnitude(y[0::2], y[1::2]), 1, 8)   # (4, 3)
        h = refs[1](mag)[0]                                   # (4, 3)
        expected_outputs.append(refs[2](h.T.reshape(-1))[0])
    patterns = dict(input_valid=Pattern(0.6, seed=1), output_ready=Pattern(0.5, seed=2)) \
        if stalls else {}
    expected = golden_network_run(config, layers, frames, **patterns)
    assert np.array_equal(expected.outputs, np.array(expected_outputs))
    assert_same_network_run(expected, rtl_network_run(config, layers, frames, **patterns))
