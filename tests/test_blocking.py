"""Blocking (paper IV-C): a conv layer larger than the buffers runs band by band.

Golden's blocked run against the unblocked layer and golden.network.layers' im2col convolution, each
band's layer against the whole layer's FC-equivalent weights, and the RTL (the testbench as the
host and main memory, the state moved through the buffer port) against golden, band by band.
"""

import numpy as np
import pytest
from checks import assert_same_network_run
from test_conv import C16, make_conv_network, reference

from golden import (
    ConfigError,
    EngineConfig,
    LayerConfig,
    Pattern,
    golden_network_run,
    quantize,
    similar_frames,
)
from golden.blocking import band_programme, band_rows_for, blocked_conv_run, conv_bands
from golden.programme import Region
from sim.harness import rtl_blocked_run, rtl_network_run

# shape ((rows, columns): 2-D), channels, (filters, kernel, stride, padding)
LAYERS = [
    ((9, 6), 2, (8, 3, 1, 1)),
    ((10, 5), 1, (4, 3, 2, 1)),
    ((8, 5), 3, (4, 2, 2, 0)),
    ((11, 4), 1, (4, 3, 3, 1)),
    ((7, 7), 1, (4, 1, 3, 0)),         # stride above the kernel: rows no band reads
    ((8, 5), 1, (4, 1, 3, 0)),         # ... and after the last band's
    (23, 2, (8, 5, 1, 2)),
    (20, 3, (4, 3, 2, 1)),
]
IDS = ["9x6-k3s1p1", "10x5-k3s2p1", "8x5-k2s2p0", "11x4-k3s3p1", "7x7-k1s3", "8x5-k1s3",
       "1d23-k5s1p2", "1d20-k3s2p1"]


def conv_layer(shape, channels, conv, seed=3):
    layers, references = make_conv_network(shape, channels, [conv], 0, seed=seed)
    return layers[0], references


def video_like(layer, n=6, seed=1):
    """Frames that mostly repeat: a random first frame, then a few inputs moved per frame."""
    rng = np.random.default_rng(seed)
    frames = np.repeat(rng.integers(-128, 128, (1, layer.inputs)), n, axis=0)
    for f in range(1, n):
        moved = rng.choice(layer.inputs, layer.inputs // 6, replace=False)
        frames[f:, moved] = np.clip(frames[f - 1, moved] + rng.integers(-60, 60, moved.size),
                                    -128, 127)
    return frames


def engine_for(layer, rows, lanes=4, reuse=True, scan_width=1):
    """An engine sized for the largest band of ``rows`` output rows."""
    bands = conv_bands(layer, rows)
    return EngineConfig(lanes=lanes, max_layers=2, conv=True, max_kernel_rows=layer.kernel_rows,
                        max_inputs=max(b.layer.inputs for b in bands),
                        max_outputs=max(b.layer.outputs for b in bands), reuse=reuse,
                        blocking=reuse, scan_width=scan_width)


@pytest.mark.parametrize("shape, channels, conv", LAYERS, ids=IDS)
def test_band_layers_are_slices_of_the_layer(shape, channels, conv):
    """Every band, as a conv layer of its own (padded on the map edges it reaches), is the
    block of the whole layer's FC-equivalent weights at its inputs and outputs, and zero
    outside them: so its outputs are the layer's."""
    (layer, w, _), _ = conv_layer(shape, channels, conv)
    full = layer.fc_weights(w)
    outer = layer.out_shape[0] if layer.columns else layer.out_shape[1]
    for rows in range(1, outer + 1):
        bands = conv_bands(layer, rows)
        covered = np.zeros(layer.outputs, dtype=bool)
        for band in bands:
            assert band.layer.out_shape[0 if layer.columns else 1] == band.out_hi - band.out_lo
            np.testing.assert_array_equal(band.layer.fc_weights(w),
                                          full[band.inputs, band.outputs])
            outside = np.ones(layer.inputs, dtype=bool)
            outside[band.inputs] = False
            assert not full[outside][:, band.outputs].any()
            covered[band.outputs] = True
        assert covered.all() and bands[0].out_lo == 0
        # the rows written back partition the rows read: each written by one band, and no
        # band reads a row an earlier band wrote back in the same frame
        owned = [r for b in bands for r in range(b.in_lo, b.owned_hi)]
        assert len(owned) == len(set(owned))
        assert set(owned) == {r for b in bands for r in range(b.in_lo, b.in_hi)}
        for k, band in enumerate(bands):
            assert all(later.in_lo >= band.owned_hi for later in bands[k + 1:])


@pytest.mark.parametrize("reuse", [True, False], ids=["reuse", "baseline"])
@pytest.mark.parametrize("shape, channels, conv", LAYERS, ids=IDS)
def test_golden_blocked_equals_unblocked_and_im2col(shape, channels, conv, reuse):
    """For every band size: the outputs and pre-activations of the unblocked layer, which are
    golden.network.layers' im2col convolution's, and the same MACs per frame (every output's window
    is scanned by its band)."""
    (layer, w, b), references = conv_layer(shape, channels, conv)
    frames = video_like(layer)
    big = EngineConfig(lanes=4, max_layers=2, conv=True, max_kernel_rows=layer.kernel_rows,
                       max_inputs=layer.inputs, max_outputs=layer.outputs, reuse=reuse)
    full = golden_network_run(big, [(layer, w, b)], frames, trace=False)
    np.testing.assert_array_equal(full.outputs,
                                  reference([(layer, w, b)], references, frames, reuse))
    outer = layer.out_shape[0] if layer.columns else layer.out_shape[1]
    for rows in range(1, outer + 1):
        result = blocked_conv_run(engine_for(layer, rows, reuse=reuse), layer, w, b, frames,
                                  rows)
        np.testing.assert_array_equal(result.outputs, full.outputs)
        np.testing.assert_array_equal(result.preactivations, full.preactivations)
        for f in range(len(frames)):
            assert sum(c.macs for c in result.counters[f]) == full.counters[f].macs
            scanned = sum(c.inputs_scanned for c in result.counters[f])
            assert scanned == sum(b.in_hi - b.in_lo for b in result.bands) * \
                result.bands[0].row_inputs


def test_bands_fit_where_the_layer_does_not():
    """The engine refuses the whole layer; band_rows_for finds the most rows whose bands fit,
    and one more row does not fit."""
    (layer, w, b), _ = conv_layer((12, 8), 2, (8, 3, 1, 1))
    engine = EngineConfig(lanes=4, max_layers=2, conv=True, max_kernel_rows=3, max_inputs=96,
                          max_outputs=256, blocking=True)
    with pytest.raises(ConfigError, match=r"inputs = 192 is out of range: allowed 1..96"):
        engine.check_layer(layer)
    rows = band_rows_for(engine, layer)
    assert rows == 4          # 4 output rows x 8 x 8 = 256 outputs, 6 input rows x 16 = 96
    for band in conv_bands(layer, rows):
        engine.check_layer(band.layer)
    with pytest.raises(ConfigError):
        for band in conv_bands(layer, rows + 1):
            engine.check_layer(band.layer)
    tiny = engine.replace(max_inputs=16)
    with pytest.raises(ConfigError, match=r"one band of the layer does not fit the engine: "):
        band_rows_for(tiny, layer)


def test_band_programme_rewrites_only_what_changes():
    """Between bands the host rewrites layer registers and window entries only, and only
    those that differ: interior bands of the same height need none."""
    (layer, w, b), _ = conv_layer((12, 8), 2, (8, 3, 1, 1))
    engine = engine_for(layer, 2)
    bands = conv_bands(layer, 2)
    load, per_band = band_programme(engine, bands, w, b)
    shift = engine.cfg_offset_width
    assert {a >> shift for a, _ in load} >= {Region.WEIGHT, Region.BIAS, Region.CENTROID}
    for writes in per_band:
        assert {a >> shift for a, _ in writes} <= {Region.REGISTER, Region.WINDOW}
    # bands 1 .. 4 are interior (no padding) and of the same height: identical programmes
    assert [len(p) for p in per_band[2:5]] == [0, 0, 0]
    assert per_band[1] and per_band[5] and per_band[0]


def test_blocking_errors():
    (layer, w, b), _ = conv_layer((9, 6), 2, (8, 3, 1, 1))
    with pytest.raises(ConfigError, match=r"blocking = true needs conv = true"):
        EngineConfig(blocking=True)
    with pytest.raises(ConfigError, match=r"band rows = 0 is out of range: allowed 1..9 "
                                          r"\(output rows of the layer\)"):
        conv_bands(layer, 0)
    with pytest.raises(ConfigError, match=r"blocking is for conv layers, not kind = 'fc'"):
        conv_bands(LayerConfig(8, 8, C16), 1)
    magnitude = LayerConfig(12, 24, C16, "magnitude", kind="conv", channels=2, kernel=3,
                            padding=1)
    with pytest.raises(ConfigError, match=r"blocking a magnitude layer is not supported"):
        conv_bands(magnitude, 2)
    with pytest.raises(ConfigError, match=r"a blocked layer needs an engine with blocking = "
                                          r"true"):
        blocked_conv_run(engine_for(layer, 3).replace(blocking=False), layer, w, b,
                         video_like(layer, 2), 3)


RTL_CASES = [
    # shape, channels, conv, rows, lanes, reuse, scan width
    ((9, 6), 2, (8, 3, 1, 1), 3, 4, True, 1),
    (23, 2, (8, 5, 1, 2), 5, 8, True, 1),
    ((10, 5), 1, (4, 3, 2, 1), 2, 4, True, 1),
    ((9, 6), 2, (8, 3, 1, 1), 4, 4, False, 1),
    ((8, 5), 1, (4, 1, 3, 0), 2, 4, True, 1),
    # a wide scan: beats of a word of ``lanes`` indices, beats across positions and bands
    ((9, 6), 2, (8, 3, 1, 1), 3, 4, True, 4),
    (23, 2, (8, 5, 1, 2), 5, 8, True, 2),
    ((10, 5), 1, (4, 3, 2, 1), 2, 4, True, 2),
]


@pytest.mark.parametrize("shape, channels, conv, rows, lanes, reuse, width", RTL_CASES,
                         ids=["9x6-k3s1p1-rows3", "1d23-k5s1p2-rows5-lanes8",
                              "10x5-k3s2p1-rows2", "9x6-rows4-baseline", "8x5-k1s3-rows2",
                              "9x6-k3s1p1-rows3-W4", "1d23-k5s1p2-rows5-lanes8-W2",
                              "10x5-k3s2p1-rows2-W2"])
def test_rtl_blocked_equals_golden(shape, channels, conv, rows, lanes, reuse, width):
    """The RTL of an engine sized for one band, run band by band with the testbench as host and
    main memory: every frame's outputs and pre-activations, each band's counters (stalls
    include the host's transfers, so they are left out) and the words moved equal golden's;
    after the last frame, main memory holds the unblocked layer's pre-activations and the
    last frame's cluster indices."""
    (layer, w, b), _ = conv_layer(shape, channels, conv)
    frames = video_like(layer, 4)
    engine = engine_for(layer, rows, lanes, reuse, width)
    with pytest.raises(ConfigError):
        engine.check_layer(layer)           # the layer itself does not fit
    expected = blocked_conv_run(engine, layer, w, b, frames, rows)
    host = rtl_blocked_run(engine, layer, w, b, frames, rows)
    got, index_map, output_map = host.result, host.index_map, host.output_map[:layer.outputs]
    np.testing.assert_array_equal(got.outputs, expected.outputs)
    for f in range(len(frames)):
        for k in range(len(expected.bands)):
            want, have = expected.counters[f][k].as_dict(), got.counters[f][k].as_dict()
            want.pop("stall_cycles")
            have.pop("stall_cycles")
            assert have == want, f"frame {f} band {k}"
            assert got.traffic[f][k] == expected.traffic[f][k], f"frame {f} band {k}"
    if reuse:
        np.testing.assert_array_equal(got.preactivations, expected.preactivations)
        big = engine.replace(max_inputs=layer.inputs, max_outputs=layer.outputs)
        full = golden_network_run(big, [(layer, w, b)], frames, trace=False)
        np.testing.assert_array_equal(output_map, full.preactivations[-1])
        read = np.zeros(layer.inputs, dtype=bool)
        for band in expected.bands:
            read[band.inputs] = True
        np.testing.assert_array_equal(index_map[read],
                                      quantize(frames[-1], layer.centroids)[read])


@pytest.mark.parametrize("width", [1, 2])
def test_blocking_engine_runs_networks_cycle_for_cycle(width):
    """A blocking engine's index area holds ``lanes`` indices per word: the scan reads a word
    and picks a lane, and writes one lane. Unblocked networks (layer bases not multiples of the
    lanes, random stalls) still run exactly as golden's cycle model says, every index write
    event at its cycle and address."""
    layers, _ = make_conv_network((5, 6), 3, [(8, 3, 1, 1), (4, 3, 2, 1)], 5, seed=4)
    config = EngineConfig(lanes=4, max_inputs=256, max_outputs=256, max_layers=3, conv=True,
                          max_kernel_rows=3, blocking=True, scan_width=width)
    frames = similar_frames(5, layers[0][0].inputs, 0.7, C16, 8, seed=3)
    patterns = dict(input_valid=Pattern(0.6, seed=1), output_ready=Pattern(0.5, seed=2))
    expected = golden_network_run(config, layers, frames, **patterns)
    got = rtl_network_run(config, layers, frames, **patterns)
    assert any(kind == "index_write" and address % 4 for _, kind, address, _ in got.trace)
    assert_same_network_run(expected, got)
