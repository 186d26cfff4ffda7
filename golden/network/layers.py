"""Integer layers of a whole network, with computation reuse (paper sections III and IV-C/D).

Every linear layer (FC, CONV 1-D/2-D, depthwise CONV, the gates of an LSTM cell) is a
:class:`ReuseLinear`: it quantizes its inputs to the layer's centroids, finds the inputs whose
index changed since the previous frame, and corrects the stored outputs by the linear map of the
deltas only. Because the map is linear and the arithmetic is integer, the result is exactly
``bias + linear(c[q])``, a full recompute on the quantized inputs: each layer has a
``recompute`` method that computes that independently, and the tests check the two agree over
long sequences.

Layers without reuse (the baseline, or layers the policy leaves unquantized) run the same linear
map on the raw inputs from the bias every frame.

Counts per frame (for the cycle and energy models): ``inputs``, ``changed``, ``macs`` (the
multiply-accumulates actually needed: every (changed input, output it touches) pair) and
``macs_dense`` (what the baseline does).
"""

import dataclasses

import numpy as np

from ..lstm_unit import lstm_unit, sigmoid_table, tanh_table
from ..magnitude_unit import magnitude
from ..output_unit import output_unit
from ..quantizer import quantize

__all__ = ["LayerStats", "Linear", "FC", "Conv", "ReuseLinear", "LSTMCell", "sigmoid_table",
           "tanh_table", "relu", "prelu", "max_pool", "add", "pad", "magnitude"]


@dataclasses.dataclass
class LayerStats:
    inputs: int = 0
    changed: int = 0
    macs: int = 0
    macs_dense: int = 0
    outputs: int = 0
    # a reusing conv layer: changed inputs per input position (position-major, as the engine
    # counts its blocks' window entries); None for other layers
    position_changes: np.ndarray = None


def _exact_matmul(a, b, bound):
    """a @ b for integer matrices, exactly, on the BLAS: chunks of the inner dimension whose
    partial sums stay below the mantissa of b's float type (2**24 or 2**53)."""
    a = np.asarray(a)
    mantissa = 24 if b.dtype == np.float32 else 53
    chunk = max(1, (1 << mantissa) // max(1, bound))
    if chunk >= a.shape[-1]:
        return (a.astype(b.dtype) @ b).astype(np.int64)
    total = np.zeros(a.shape[:-1] + (b.shape[1],), dtype=np.int64)
    for s in range(0, a.shape[-1], chunk):
        total += (a[..., s:s + chunk].astype(b.dtype) @ b[s:s + chunk]).astype(np.int64)
    return total


def _float_weights(weights, bound):
    """float32 while a float32 chunk holds at least 16 products (8-bit weights: 258), else
    float64 (16-bit weights would make float32 chunks of one product)."""
    return weights.astype(np.float32 if bound < 1 << 20 else np.float64)


class Linear:
    """A linear map of an integer input tensor (no bias): the part reuse corrects."""

    in_shape = ()
    out_shape = ()

    def apply(self, x):
        raise NotImplementedError

    def touches(self):
        """For every input element, how many output elements it contributes to."""
        raise NotImplementedError


class FC(Linear):
    """y = x @ W for x of shape (N,), W of shape (N, M)."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.int64)
        self.in_shape = (self.weights.shape[0],)
        self.out_shape = (self.weights.shape[1],)
        self._bound = int(np.abs(self.weights).max(initial=1)) * 512
        self._wf = _float_weights(self.weights, self._bound)

    def apply(self, x):
        return _exact_matmul(x.reshape(-1), self._wf, self._bound)

    def apply_rows(self, rows):
        """The map applied to a subset of input rows only (the changed inputs)."""
        idx, values = rows
        return _exact_matmul(values, self._wf[idx], self._bound)

    def touches(self):
        return np.full(self.in_shape, self.out_shape[0], dtype=np.int64)


class Conv(Linear):
    """N-d convolution (1-D or 2-D) of a (C_in, *spatial) tensor, PyTorch/ONNX semantics.

    ``weights`` has shape (C_out, C_in / groups, *kernel); zero padding; ``groups = C_in = C_out``
    is a depthwise convolution. Implemented as an im2col gather and one integer matmul per group.
    """

    def __init__(self, weights, in_shape, stride=1, padding=0, dilation=1, groups=1):
        self.weights = np.asarray(weights, dtype=np.int64)
        c_out, c_in_g = self.weights.shape[:2]
        kernel = self.weights.shape[2:]
        dims = len(kernel)
        if dims not in (1, 2):
            raise ValueError(f"convolution must be 1-D or 2-D, not {dims}-D")
        def as_tuple(v):
            return tuple(v) if np.ndim(v) else (int(v),) * dims

        stride, dilation = as_tuple(stride), as_tuple(dilation)
        padding = tuple(padding) if np.ndim(padding) else (int(padding),) * (2 * dims)
        if len(padding) == dims:
            padding = padding * 2                  # symmetric: (begin..., end...)
        self.in_shape = tuple(int(v) for v in in_shape)
        c_in = self.in_shape[0]
        if c_in != c_in_g * groups or c_out % groups:
            raise ValueError(f"convolution channels do not match: input {c_in}, weights "
                             f"{self.weights.shape}, groups {groups}")
        spatial = self.in_shape[1:]
        padded = [spatial[d] + padding[d] + padding[dims + d] for d in range(dims)]
        out_sp = [(padded[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1
                  for d in range(dims)]
        if min(out_sp) < 1:
            raise ValueError(f"convolution output is empty for input {self.in_shape}")
        self.out_shape = (c_out, *out_sp)
        self.groups = groups
        self.stride, self.padding, self.dilation = stride, padding, dilation
        # index of the input element read by (output position, tap); -1 reads a padding zero
        grids = np.meshgrid(*[np.arange(n) for n in out_sp], indexing="ij")
        taps = np.meshgrid(*[np.arange(k) for k in kernel], indexing="ij")
        flat_index = np.zeros((int(np.prod(out_sp)), int(np.prod(kernel))), dtype=np.int64)
        valid = np.ones_like(flat_index, dtype=bool)
        for d in range(dims):
            pos = (grids[d].reshape(-1, 1) * stride[d] + taps[d].reshape(1, -1) * dilation[d]
                   - padding[d])
            valid &= (pos >= 0) & (pos < spatial[d])
            flat_index = flat_index * spatial[d] + np.clip(pos, 0, spatial[d] - 1)
        flat_index[~valid] = -1
        self._cols = flat_index                   # (P, K) over one channel's spatial plane
        self._plane = int(np.prod(spatial))
        k = int(np.prod(kernel))
        # weights as (groups, C_in_g * K, C_out_g) for the per-group matmul
        w = self.weights.reshape(groups, c_out // groups, c_in_g * k)
        self._bound = int(np.abs(self.weights).max(initial=1)) * 512
        self._wf = _float_weights(w.transpose(0, 2, 1), self._bound)

    def apply(self, x):
        x = np.asarray(x, dtype=np.int64).reshape(self.in_shape[0], self._plane)
        padded = np.concatenate([x, np.zeros((x.shape[0], 1), dtype=np.int64)], axis=1)
        cols = padded[:, self._cols]               # (C_in, P, K); index -1 -> the zero column
        c_in_g = self.in_shape[0] // self.groups
        p = cols.shape[1]
        cols = (cols.reshape(self.groups, c_in_g, p, -1).transpose(0, 2, 1, 3)
                .reshape(self.groups, p, -1))
        mantissa = 24 if self._wf.dtype == np.float32 else 53
        if cols.shape[2] * self._bound < 1 << mantissa:
            # all groups at once (depthwise: hundreds of one-filter groups)
            cf = cols.astype(self._wf.dtype)
            if self._wf.shape[2] == 1:
                out = np.einsum("gpk,gk->gp", cf, self._wf[:, :, 0])[:, :, None].astype(np.int64)
            else:
                out = (cf @ self._wf).astype(np.int64)
        else:
            out = np.empty((self.groups, p, self._wf.shape[2]), dtype=np.int64)
            for g in range(self.groups):
                out[g] = _exact_matmul(cols[g], self._wf[g], self._bound)
        # (groups, P, C_out_g) -> (C_out, *spatial)
        return out.transpose(0, 2, 1).reshape(self.out_shape)

    def touches(self):
        counts = np.bincount(self._cols[self._cols >= 0], minlength=self._plane)
        c_out_g = self.out_shape[0] // self.groups
        return (np.broadcast_to(counts * c_out_g, (self.in_shape[0], self._plane))
                .reshape(self.in_shape).copy())


class ReuseLinear:
    """A linear layer with (or without) computation reuse, plus the output unit.

    Parameters
    ----------
    linear : :class:`FC` or :class:`Conv`
    bias : integer array of the output shape (broadcast over spatial positions for Conv)
    centroids : tuple of int or None
        The layer's quantization; ``None`` runs the layer without reuse (baseline semantics).
    activation, shift, act_width : the output unit (golden/output_unit.py)
    """

    def __init__(self, linear, bias, centroids=None, activation="none", shift=0, act_width=8):
        self.linear = linear
        bias = np.asarray(bias, dtype=np.int64)
        if bias.shape != linear.out_shape:
            bias = (bias.reshape((-1,) + (1,) * (len(linear.out_shape) - 1))
                    * np.ones(linear.out_shape, dtype=np.int64))
        self.bias = bias
        self.centroids = None if centroids is None else tuple(int(c) for c in centroids)
        self.activation, self.shift, self.act_width = activation, shift, act_width
        self._touches = linear.touches()
        if self.centroids is not None:
            lo = -(1 << (act_width - 1))
            self._table = quantize(np.arange(lo, -lo), self.centroids)
            self._lo = lo
            self._c = np.asarray(self.centroids, dtype=np.int64)
        self.start_sequence()

    @property
    def reuse(self):
        return self.centroids is not None

    def start_sequence(self):
        self.first = True
        self.index = None
        self.accumulator = None

    def quantized(self, x):
        """c[q(x)]: the values the reuse layer effectively computes on."""
        return self._c[self._table[np.asarray(x, dtype=np.int64) - self._lo]]

    def preactivation(self, x):
        """One frame: the accumulator (bias + linear map), with reuse when configured."""
        x = np.asarray(x, dtype=np.int64).reshape(self.linear.in_shape)
        stats = LayerStats(inputs=x.size, outputs=int(np.prod(self.linear.out_shape)),
                           macs_dense=int(self._touches.sum()))
        if not self.reuse:
            stats.changed = x.size
            stats.macs = stats.macs_dense
            return self.bias + self.linear.apply(x), stats
        q = self._table[x - self._lo]
        if self.first:
            changed = np.ones(x.shape, dtype=bool)
            delta = self._c[q]
            start = self.bias
        else:
            changed = q != self.index
            delta = np.where(changed, self._c[q] - self._c[self.index], 0)
            start = self.accumulator
        stats.changed = int(changed.sum())
        stats.macs = int(self._touches[changed].sum())
        if isinstance(self.linear, Conv):
            stats.position_changes = changed.reshape(len(changed), -1).sum(axis=0,
                                                                         dtype=np.int32)
        if isinstance(self.linear, FC) and not self.first:
            idx = np.flatnonzero(changed)
            z = start + self.linear.apply_rows((idx, delta[idx]))
        elif stats.changed:
            z = start + self.linear.apply(delta)
        else:
            z = start.copy()
        self.index, self.accumulator, self.first = q, z, False
        return z, stats

    def __call__(self, x):
        z, stats = self.preactivation(x)
        return output_unit(z, self.activation, self.shift, self.act_width), stats

    def recompute(self, x):
        """Independent reference: bias + linear(c[q(x)]) from scratch (no state)."""
        x = np.asarray(x, dtype=np.int64).reshape(self.linear.in_shape)
        values = self.quantized(x) if self.reuse else x
        return self.bias + self.linear.apply(values)


# ---- LSTM cell ------------------------------------------------------------------------------

class LSTMCell:
    """LSTM cell as docs/design.md: one reuse FC over [x_t ; h_{t-1}] with M = 4H (gates i, f, g, o,
    ONNX order i, o, f, c is reordered by the importer), then the LSTM unit
    (golden/lstm_unit.py): integer sigmoid/tanh tables and the cell state, kept here.

    The gate layer's output unit requantizes the gates to int8 with ``gate_frac`` fractional
    bits; the cell state is int32 with ``cell_frac`` fractional bits; h_t is int8 Q0.7 and is
    also the cell's output activation.
    """

    def __init__(self, gates, hidden, gate_frac=4, cell_frac=10):
        self.gates = gates                        # ReuseLinear, activation none, output int8
        self.hidden = hidden
        self.gate_frac, self.cell_frac = gate_frac, cell_frac
        self.start_sequence()

    def start_sequence(self):
        self.gates.start_sequence()
        self.h = np.zeros(self.hidden, dtype=np.int64)
        self.c = np.zeros(self.hidden, dtype=np.int64)

    def __call__(self, x):
        xh = np.concatenate([np.asarray(x, dtype=np.int64).reshape(-1), self.h])
        g8, stats = self.gates(xh)                # int8 gate values, gate_frac fractional bits
        i, f, g, o = g8.reshape(4, self.hidden)
        self.h, self.c = lstm_unit(i, f, g, o, self.c, self.gate_frac, self.cell_frac)
        return self.h.copy(), stats


# ---- glue (no reuse, integer) -----------------------------------------------------------------

def relu(x):
    return np.maximum(np.asarray(x, dtype=np.int64), 0)


def prelu(x, slope_q, frac):
    """PReLU with slopes in fixed point (slope_q / 2**frac), rounding half up."""
    x = np.asarray(x, dtype=np.int64)
    neg = ((x * np.asarray(slope_q, dtype=np.int64) + (1 << (frac - 1))) >> frac if frac
           else x * slope_q)
    return np.where(x < 0, neg, x)


def max_pool(x, kernel, stride):
    """Max pooling over the trailing spatial dims of a (C, *spatial) tensor, no padding."""
    x = np.asarray(x, dtype=np.int64)
    dims = x.ndim - 1
    kernel = (kernel,) * dims if np.isscalar(kernel) else tuple(kernel)
    stride = (stride,) * dims if np.isscalar(stride) else tuple(stride)
    out = None
    for offs in np.ndindex(*kernel):
        sl = (slice(None),) + tuple(slice(o, o + s * ((x.shape[1 + d] - k) // s) + 1, s)
                                    for d, (o, k, s) in enumerate(zip(offs, kernel, stride)))
        out = x[sl] if out is None else np.maximum(out, x[sl])
    return out


def add(a, b, shift_a=0, shift_b=0, act_width=8):
    """Sum of two integer tensors on a common scale (left shifts align them), requantized."""
    s = (np.asarray(a, dtype=np.int64) << shift_a) + (np.asarray(b, dtype=np.int64) << shift_b)
    return s


def pad(x, widths):
    return np.pad(np.asarray(x, dtype=np.int64), widths)
