"""LSTM unit: the elementwise part of an LSTM cell, after its gate layer (docs/design.md,
paper IV-D).

The gate layer is a reuse FC layer over [x_t ; h_{t-1}] whose output unit requantizes the four
gates of every hidden unit to int8 with ``GATE_FRAC`` fractional bits. This unit looks them up
in integer sigmoid and tanh tables (Q0.7 results, 127 = 1.0) and updates the cell state, int32
with ``CELL_FRAC`` fractional bits:

    c_t = (f * c_{t-1} >> 7) + (i * g >> (14 - CELL_FRAC)),   saturated to int32
    h_t = (o * tanh[requantize(c_t, CELL_FRAC - GATE_FRAC, 8)] + 64) >> 7,   saturated to int8

h_t (Q0.7) is the cell's output and the next step's recurrent input.
"""

import functools

import numpy as np

from .output_unit import requantize

__all__ = ["GATE_FRAC", "CELL_FRAC", "CELL_WIDTH", "GATES", "sigmoid_table", "tanh_table",
           "lstm_unit"]

GATE_FRAC = 4
CELL_FRAC = 10
CELL_WIDTH = 32
GATES = 4            # i, f, g, o


@functools.lru_cache(maxsize=None)
def sigmoid_table(in_frac, out_bits=8):
    """Integer sigmoid: index = gate value * 2**in_frac (int8), output in Q0.(out_bits-1)."""
    x = np.arange(-128, 128) / 2.0 ** in_frac
    return _read_only(np.round((1 / (1 + np.exp(-x))) * (2 ** (out_bits - 1) - 1)))


@functools.lru_cache(maxsize=None)
def tanh_table(in_frac, out_bits=8):
    x = np.arange(-128, 128) / 2.0 ** in_frac
    return _read_only(np.round(np.tanh(x) * (2 ** (out_bits - 1) - 1)))


def _read_only(values):
    """The tables are cached and shared: int64, not writable."""
    table = values.astype(np.int64)
    table.flags.writeable = False
    return table


def lstm_unit(i, f, g, o, c, gate_frac=GATE_FRAC, cell_frac=CELL_FRAC):
    """One step of every hidden unit: int8 gates (``gate_frac`` fractional bits) and the
    previous cell state ``c``; returns ``(h, c_new)``."""
    sigmoid, tanh = sigmoid_table(gate_frac), tanh_table(gate_frac)
    i, f, o = (sigmoid[np.asarray(v, dtype=np.int64) + 128] for v in (i, f, o))
    g = tanh[np.asarray(g, dtype=np.int64) + 128]
    c = np.asarray(c, dtype=np.int64)
    # Q0.7 * Q0.7 = Q0.14
    c = ((f * c) >> 7) + ((i * g) >> (14 - cell_frac))
    c = np.clip(c, -(1 << (CELL_WIDTH - 1)), (1 << (CELL_WIDTH - 1)) - 1)
    # tanh(c): the cell state requantized to the table's input format
    c8 = requantize(c, cell_frac - gate_frac, 8)
    h = np.clip((o * tanh[c8 + 128] + 64) >> 7, -128, 127)
    return h, c
