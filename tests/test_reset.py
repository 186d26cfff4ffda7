"""Framing errors and reset in every phase, on Amaranth's simulator with random stalls.

The engine flags ``framing_error`` (sticky) in the cycle it accepts an input beat whose ``last``
disagrees with the layer's N (hw/scan_unit.py); only a reset clears it (neither a new
configuration nor ``start`` does). A sequence cut by a reset anywhere (configuration writes,
scan, scan drain, correct phase, layer switch) leaves nothing behind: after reconfiguration a
new sequence equals golden, output by output, counter by counter and cycle by cycle
(sim.harness.rtl_network_run's ``interrupted``)."""

import dataclasses

import numpy as np
import pytest
from checks import assert_same_network_run

from golden import (
    EngineConfig,
    LayerConfig,
    Pattern,
    golden_network_run,
    linear_centroids,
    network_writes,
    similar_frames,
)
from sim import rtl_network_run

C16 = linear_centroids(-128, 127, 16, 8)
STALLS = dict(input_valid=Pattern(0.6, 7), output_ready=Pattern(0.5, 8))


def fc_network(shapes, seed):
    rng = np.random.default_rng(seed)
    return [(LayerConfig(n, m, C16, "relu", int(rng.integers(6, 9))),
             rng.integers(-128, 128, (n, m)), rng.integers(-3000, 3000, m)) for n, m in shapes]


ENGINES = {
    "one-layer": (EngineConfig(lanes=4, max_inputs=32, max_outputs=32), [(13, 10)]),
    "wide-scan": (EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_layers=2,
                               scan_width=4), [(14, 9), (9, 6)]),
    "network": (EngineConfig(lanes=4, max_inputs=32, max_outputs=32, max_layers=3),
                [(13, 19), (19, 7), (7, 10)]),
}


def beat_cycle(run, beat):
    return run["accepted"][beat]


def assert_equals_golden(config, layers, frames, got):
    expected = golden_network_run(config, layers, frames, **STALLS)
    if config.max_layers == 1:          # a one-layer engine has no per-layer counters
        expected.layers = []
    assert_same_network_run(expected, got)


@pytest.mark.parametrize("where", ["early", "late"])
@pytest.mark.parametrize("name", ENGINES)
def test_framing_error_rises_at_the_bad_beat_and_reset_recovers(name, where):
    """A frame's ``last`` one beat early (on its second-to-last beat) or late (missing on its
    last beat): the flag rises in the cycle that beat is accepted, not before, stays set through
    the following frames, and a reset clears it; the next sequence equals golden."""
    config, shapes = ENGINES[name]
    layers = fc_network(shapes, seed=1)
    beats = -(-shapes[0][0] // config.scan_width)          # input beats a frame
    x = similar_frames(4, shapes[0][0], 0.5, C16, 8, seed=2)
    bad = 2 * beats - (2 if where == "early" else 1)        # in frame 1
    horizon = golden_network_run(config, layers, x, **STALLS).timing.frames[-1].beats[-1]
    run = dict(layers=layers, frames=x, flip_last=[bad],
               reset_at=len(network_writes(config, layers)) + horizon + 20)
    y = similar_frames(5, shapes[0][0], 0.7, C16, 8, seed=3)
    got = rtl_network_run(config, layers, y, interrupted=[run], **STALLS)
    assert len(run["accepted"]) == 4 * beats               # the engine kept running
    assert run["framing_error"] == beat_cycle(run, bad)
    assert not run["framing_error_dropped"] and not run["framing_error_after_reset"]
    assert_equals_golden(config, layers, y, got)


def test_framing_error_survives_reconfiguration_and_start():
    """Only a reset clears the flag: the next sequence's configuration and start do not."""
    config, shapes = ENGINES["one-layer"]
    layers = fc_network(shapes, seed=1)
    x = similar_frames(2, shapes[0][0], 0.5, C16, 8, seed=2)
    run = dict(layers=layers, frames=x, flip_last=[0], cut_by_reset=False,
               reset_at=len(network_writes(config, layers)) + 60)
    with pytest.raises(AssertionError, match="framing_error is set"):
        rtl_network_run(config, layers, x, interrupted=[run])
    assert run["framing_error"] == run["accepted"][0]


def phase_cycle(config, layers, frames, phase):
    """A cycle (counted from the first configuration write) inside ``phase`` of frame 1,
    from golden's schedule of the interrupted sequence."""
    writes = len(network_writes(config, layers))
    if phase == "configuration":
        return writes // 2
    timing = golden_network_run(config, layers, frames, **STALLS).timing.frames[1].layers
    t = {"scan": lambda: timing[0].accepts[len(timing[0].accepts) // 2],
         "drain": lambda: timing[0].accepts[-1] + 2,
         "correct": lambda: timing[-1].correct_start + 3,
         "switch": lambda: timing[1].scan_start - 4}[phase]()
    return writes + 1 + int(t)


PHASES = [("one-layer", p) for p in ("configuration", "scan", "drain", "correct")] + \
         [("network", p) for p in ("configuration", "scan", "drain", "correct", "switch")] + \
         [("wide-scan", p) for p in ("scan", "switch")]


@pytest.mark.parametrize("name, phase", PHASES, ids=[f"{n}-{p}" for n, p in PHASES])
def test_reset_in_every_phase_then_a_new_sequence_equals_golden(name, phase):
    """Reset asserted inside a phase of a sequence with other weights and centroids; then
    reconfiguration and a new sequence: outputs, counters (per frame and per layer) and every
    write and output beat at golden's cycle."""
    config, shapes = ENGINES[name]
    before = [(dataclasses.replace(layer, centroids=linear_centroids(-100, 90, 8, 8)), w, b)
              for layer, w, b in fc_network(shapes, seed=5)]
    x = similar_frames(3, shapes[0][0], 0.3, before[0][0].centroids, 8, seed=6)
    run = dict(layers=before, frames=x, reset_at=phase_cycle(config, before, x, phase))
    layers = fc_network(shapes, seed=7)
    y = similar_frames(5, shapes[0][0], 0.7, C16, 8, seed=8)
    got = rtl_network_run(config, layers, y, interrupted=[run], **STALLS)
    assert not run["framing_error"]
    assert_equals_golden(config, layers, y, got)


@pytest.mark.parametrize("front", [True, False], ids=["fc-first", "lstm-first"])
def test_reset_during_an_lstm_layer_then_a_new_sequence_equals_golden(front):
    """Reset while the LSTM layer corrects (its cell state and h_{t-1} mid-update): the next
    sequence starts from h = c = 0, as golden's."""
    from test_lstm import make_lstm_network
    config = EngineConfig(lanes=4, max_inputs=48, max_outputs=64, max_layers=3, lstm=True)
    before, _ = make_lstm_network(9, 6, 5, 3, 4, seed=9, front=front)
    layers, _ = make_lstm_network(9, 6, 5, 3, 4, seed=4, front=front)
    x = similar_frames(3, 9, 0.3, C16, 8, seed=1)
    lstm = golden_network_run(config, before, x, **STALLS).timing.frames[1].layers[int(front)]
    run = dict(layers=before, frames=x,
               reset_at=len(network_writes(config, before)) + 1 + lstm.correct_start + 3)
    y = similar_frames(4, 9, 0.7, C16, 8, seed=2)
    got = rtl_network_run(config, layers, y, interrupted=[run], **STALLS)
    assert_equals_golden(config, layers, y, got)
