"""Assertions the RTL tests share (pytest puts tests/ on the import path)."""

import numpy as np


def assert_same_network_run(expected, got):
    """A network's RTL run equals golden's: outputs, the frame's and every layer's counters
    (frame by frame: the engine publishes them per layer), and the cycle-stamped trace event
    by event."""
    assert np.array_equal(got.outputs, expected.outputs)
    assert got.counters == expected.counters
    assert [r.counters for r in got.layers] == [r.counters for r in expected.layers]
    for k, (e, g) in enumerate(zip(expected.trace, got.trace)):
        assert e == g, f"trace event {k}: golden {e}, RTL {g}"
    assert len(got.trace) == len(expected.trace)
