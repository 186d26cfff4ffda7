"""Whole networks: a float reference graph, and its integer version with computation reuse.

A :class:`Graph` is a list of :class:`Node` in topological order over named tensors, as the
importers (golden/evaluation/importers/) produce it. ``Graph.run_float`` is the float reference
(what the imported model computes). :func:`quantize_graph` turns it into an :class:`IntNetwork`:

- every tensor gets a power-of-two scale (value = int * 2**-frac, int within ``act_width``
  bits) calibrated on a calibration sequence, so requantization is the output unit's shift;
- every linear layer (conv, fc, the gates of an LSTM) becomes a
  :class:`golden.network.layers.ReuseLinear` whose weights get the largest power-of-two scale
  that fits ``weight_width`` bits;
- the layers chosen for reuse get ``clusters`` linear centroids over their profiled input range
  (paper section III), the others run without quantization (baseline semantics).
"""

import dataclasses
import hashlib
import math

import numpy as np

from ..output_unit import requantize
from ..quantizer import linear_centroids
from .layers import FC, Conv, LSTMCell, ReuseLinear, magnitude

__all__ = ["Node", "Graph", "IntNetwork", "quantize_graph", "LINEAR_OPS", "UnsupportedOperator"]

LINEAR_OPS = ("conv", "fc", "lstm")


class UnsupportedOperator(ValueError):
    """An operator deja cannot map onto its layers; the message names the operator and node."""


@dataclasses.dataclass
class Node:
    """One operation: ``op`` over input tensor names, producing ``output``.

    ops and params:
      conv: weight (C_out, C_in/g, *k), bias, stride, padding (begin..., end...), groups
      fc: weight (N, M), bias (M,)
      lstm: w_x (4H, X), w_h (4H, H), bias (4H,), gates in order i, f, g, o; output h_t
      relu, sigmoid, tanh, magnitude (first half of channels real, second imaginary),
      add, max_pool (kernel, stride), pad (widths), reshape (shape), slice (axis, start, end),
      concat (axis)
    """
    name: str
    op: str
    inputs: list
    output: str
    params: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Graph:
    nodes: list
    input: str
    input_shape: tuple
    outputs: list

    def linear_nodes(self):
        return [n for n in self.nodes if n.op in LINEAR_OPS]

    def run_float(self, frames, record=None):
        """Float reference over a frame sequence; returns {output name: (F, ...) array}.

        ``record``: optional dict filled with every tensor's values per frame (for calibration).
        """
        state = {}
        outs = {name: [] for name in self.outputs}
        for x in frames:
            env = {self.input: np.asarray(x, dtype=np.float64).reshape(self.input_shape)}
            for node in self.nodes:
                args = [env[i] for i in node.inputs]
                env[node.output] = _float_op(node, args, state)
            for name in self.outputs:
                outs[name].append(env[name])
            if record is not None:
                for k, v in env.items():
                    record.setdefault(k, []).append(v)
        return {k: np.array(v) for k, v in outs.items()}


def _sigmoid(v):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(v)))      # no overflow for large |v|


def _float_conv(x, p):
    w = p["weight"]
    dims = w.ndim - 2
    return _conv_float(x, w, p.get("stride", 1), p.get("padding", 0), p.get("groups", 1), dims) \
        + p["bias"].reshape((-1,) + (1,) * dims)


def _conv_float(x, w, stride, padding, groups, dims):
    """Float convolution through the same im2col as the integer one (exact same indexing)."""
    conv = Conv(np.zeros(w.shape, dtype=np.int64), x.shape, stride=stride, padding=padding,
                groups=groups)
    padded = np.concatenate([x.reshape(x.shape[0], -1), np.zeros((x.shape[0], 1))], axis=1)
    cols = padded[:, conv._cols]
    c_in_g = x.shape[0] // groups
    p = cols.shape[1]
    cols = cols.reshape(groups, c_in_g, p, -1).transpose(0, 2, 1, 3).reshape(groups, p, -1)
    wg = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
    out = np.einsum("gpk,gko->gop", cols, wg)
    return out.reshape(conv.out_shape)


def _float_op(node, args, state):
    op, p = node.op, node.params
    if op == "conv":
        y = _float_conv(args[0], p)
        return np.maximum(y, 0) if p.get("relu") else y
    if op == "fc":
        y = args[0].reshape(-1) @ p["weight"] + p["bias"]
        return np.maximum(y, 0) if p.get("relu") else y
    if op == "lstm":
        h, c = state.get(node.name, (np.zeros(p["hidden"]), np.zeros(p["hidden"])))
        z = p["w_x"] @ args[0].reshape(-1) + p["w_h"] @ h + p["bias"]
        H = p["hidden"]
        i, f, g, o = (_sigmoid(z[:H]), _sigmoid(z[H:2 * H]), np.tanh(z[2 * H:3 * H]),
                      _sigmoid(z[3 * H:]))
        c = f * c + i * g
        h = o * np.tanh(c)
        state[node.name] = (h, c)
        return h
    if op == "relu":
        return np.maximum(args[0], 0)
    if op == "sigmoid":
        return _sigmoid(args[0])
    if op == "tanh":
        return np.tanh(args[0])
    if op == "magnitude":
        half = args[0].shape[0] // 2
        return np.sqrt(args[0][:half] ** 2 + args[0][half:] ** 2)
    if op == "add":
        return args[0] + args[1]
    if op == "max_pool":
        return _float_max_pool(args[0], p)
    if op == "pad":
        return np.pad(args[0], p["widths"], mode=p.get("mode", "constant"))
    if op == "reshape":
        return _reshape(args[0], p)
    if op == "slice":
        sl = [slice(None)] * args[0].ndim
        sl[p["axis"]] = slice(p["start"], p["end"])
        return args[0][tuple(sl)]
    if op == "concat":
        return np.concatenate(args, axis=p["axis"])
    raise UnsupportedOperator(f"operator {op!r} (node {node.name!r}) is not supported")


def _reshape(x, p):
    """Reshape; a feature map imported from an NHWC model is read in NHWC order."""
    if p.get("from_chw"):
        x = np.moveaxis(x, 0, -1)
    return x.reshape(p["shape"])


def _float_max_pool(x, p):
    out = None
    dims = x.ndim - 1
    kernel = p["kernel"] if np.ndim(p["kernel"]) else (p["kernel"],) * dims
    stride = p["stride"] if np.ndim(p["stride"]) else (p["stride"],) * dims
    for offs in np.ndindex(*kernel):
        sl = (slice(None),) + tuple(slice(o, o + s * ((x.shape[1 + d] - k) // s) + 1, s)
                                    for d, (o, k, s) in enumerate(zip(offs, kernel, stride)))
        out = x[sl] if out is None else np.maximum(out, x[sl])
    return out


# ---- the integer network -----------------------------------------------------------------------

def _frac_for(maxabs, bits):
    """Largest f with maxabs * 2**f <= 2**(bits-1) - 1 (power-of-two scale)."""
    if maxabs <= 0:
        return bits - 1
    return int(math.floor(math.log2((2 ** (bits - 1) - 1) / maxabs)))


@dataclasses.dataclass
class IntLayer:
    """One integer node: ``kind`` and the callable state it needs."""
    node: Node
    frac: int                       # output tensor scale
    layer: object = None            # ReuseLinear or LSTMCell for linear ops
    extra: dict = dataclasses.field(default_factory=dict)


class IntNetwork:
    """The integer network with reuse; run frame by frame, state kept across frames."""

    def __init__(self, graph, layers, input_frac, act_width):
        self.graph = graph
        self.layers = layers
        self.input_frac = input_frac
        self.act_width = act_width

    def start_sequence(self):
        for layer in self.layers:
            if layer.layer is not None:
                layer.layer.start_sequence()

    def quantize_input(self, x):
        lo, hi = -(1 << (self.act_width - 1)), (1 << (self.act_width - 1)) - 1
        return np.clip(np.round(np.asarray(x, dtype=np.float64) * 2.0 ** self.input_frac),
                       lo, hi).astype(np.int64)

    def linear_layers(self):
        return [l for l in self.layers if l.layer is not None]

    def run(self, frames, progress=None):
        """Run a sequence: returns ({output: (F, ...) float values}, per-layer list of stats)."""
        outs = {name: [] for name in self.graph.outputs}
        stats = {l.node.name: [] for l in self.linear_layers()}
        for f, x in enumerate(frames):
            env = {self.graph.input: (
                self.quantize_input(np.asarray(x).reshape(self.graph.input_shape)),
                self.input_frac)}
            for layer in self.layers:
                value, st = self._int_op(layer, [env[i] for i in layer.node.inputs])
                env[layer.node.output] = (value, layer.frac)
                if st is not None:
                    stats[layer.node.name].append(st)
            for name in self.graph.outputs:
                v, frac = env[name]
                outs[name].append(v / 2.0 ** frac if frac is not None else v)
            if progress:
                progress(f + 1)
        return {k: np.array(v) for k, v in outs.items()}, stats

    def _int_op(self, layer, args):
        node, p = layer.node, layer.node.params
        op = node.op
        aw = self.act_width
        if op in ("conv", "fc"):
            y, st = layer.layer(args[0][0])
            return y.reshape(layer.layer.linear.out_shape), st
        if op == "lstm":
            h, st = layer.layer(args[0][0])
            return h, st
        (x, fx) = args[0]
        if op == "relu":
            return np.maximum(x, 0), None
        if op in ("sigmoid", "tanh"):
            # the final nonlinearity is the host's: return the dequantized float
            v = x / 2.0 ** fx
            return (_sigmoid(v) if op == "sigmoid" else np.tanh(v)), None
        if op == "magnitude":
            half = x.shape[0] // 2
            m = magnitude(x[:half], x[half:])
            return (requantize(m, fx - layer.frac, aw) if fx >= layer.frac
                    else m << (layer.frac - fx)), None
        if op == "add":
            (y, fy) = args[1]
            f = max(fx, fy)
            s = (x << (f - fx)) + (y << (f - fy))
            return _rescale(s, f, layer.frac, aw), None
        if op == "max_pool":
            return _float_max_pool(x, p).astype(np.int64), None
        if op == "pad":
            return np.pad(x, p["widths"], mode=p.get("mode", "constant")), None
        if op == "reshape":
            return _reshape(x, p), None
        if op == "slice":
            sl = [slice(None)] * x.ndim
            sl[p["axis"]] = slice(p["start"], p["end"])
            return x[tuple(sl)], None
        if op == "concat":
            f = layer.frac
            parts = [_rescale(v, fv, f, aw) for v, fv in args]
            return np.concatenate(parts, axis=p["axis"]), None
        raise UnsupportedOperator(f"operator {op!r} (node {node.name!r}) is not supported")


def _rescale(x, f_in, f_out, act_width):
    if f_in >= f_out:
        return requantize(x, f_in - f_out, act_width)
    return requantize(x << (f_out - f_in), 0, act_width)


# frac of tensors whose scale is fixed by the hardware
LSTM_H_FRAC = 7


def _profile(graph, calibration, percentile):
    """The float run of the calibration frames and each tensor's range, computed once per
    (graph, calibration, percentile): the reuse policy quantizes the same graph many times."""
    calibration = np.ascontiguousarray(calibration, dtype=np.float64)
    key = (hashlib.sha1(calibration.tobytes()).hexdigest(), calibration.shape, percentile)
    cache = graph.__dict__.setdefault("_profiles", {})
    if key not in cache:
        record = {}
        graph.run_float(calibration, record=record)
        amax = {k: float(np.percentile(np.abs(np.array(v)), percentile)) for k, v in record.items()}
        peak = {k: float(np.abs(np.array(v)).max()) for k, v in record.items()}
        cache.clear()                        # keep one profile: they are large
        cache[key] = (record, amax, peak)
    return cache[key]


def quantize_graph(graph, calibration, *, reuse=None, clusters=16, act_width=8, weight_width=8,
                   percentile=99.9, gate_frac=4):
    """Calibrate on ``calibration`` frames and build the integer network.

    ``reuse``: names of linear nodes that reuse (default: all); ``clusters``: an int or a
    {node name: C} dict (per-layer cluster counts, see golden/evaluation/policy.py).
    """
    record, amax, peak = _profile(graph, calibration, percentile)
    fracs = {k: _frac_for(max(a, 1e-9), act_width) for k, a in amax.items()}
    reuse = set(n.name for n in graph.linear_nodes()) if reuse is None else set(reuse)
    wmax = 2 ** (weight_width - 1) - 1
    layers = []
    tensor_frac = {graph.input: fracs[graph.input]}
    for node in graph.nodes:
        p = node.params
        frac = fracs.get(node.output)
        c = clusters.get(node.name, 16) if isinstance(clusters, dict) else clusters
        if node.op in ("conv", "fc"):
            fx = tensor_frac[node.inputs[0]]
            w = p["weight"]
            fw = _frac_for(np.abs(w).max(), weight_width)
            # accumulator scale 2**-(fx+fw): the output's scale cannot be finer than that
            frac = min(frac, fx + fw)
            wi = np.clip(np.round(w * 2.0 ** fw), -wmax - 1, wmax).astype(np.int64)
            bi = np.round(p["bias"] * 2.0 ** (fx + fw)).astype(np.int64)
            in_shape = np.asarray(record[node.inputs[0]][0]).shape
            if node.op == "conv":
                linear = Conv(wi, in_shape, stride=p.get("stride", 1), padding=p.get("padding", 0),
                              groups=p.get("groups", 1))
            else:
                linear = FC(wi)
            activation = "relu" if p.get("relu") else "none"
            centroids = (_centroids(record[node.inputs[0]], fx, c, act_width)
                         if node.name in reuse else None)
            layer = ReuseLinear(linear, bi, centroids, activation=activation,
                                shift=fx + fw - frac, act_width=act_width)
            layers.append(IntLayer(node, frac, layer))
        elif node.op == "lstm":
            fx = tensor_frac[node.inputs[0]]
            fh = LSTM_H_FRAC
            # one accumulator scale F for both parts of [x ; h]
            fwx = _frac_for(np.abs(p["w_x"]).max(), weight_width)
            fwh = _frac_for(np.abs(p["w_h"]).max(), weight_width)
            F = min(fx + fwx, fh + fwh)
            wx = np.clip(np.round(p["w_x"] * 2.0 ** (F - fx)), -wmax - 1, wmax).astype(np.int64)
            wh = np.clip(np.round(p["w_h"] * 2.0 ** (F - fh)), -wmax - 1, wmax).astype(np.int64)
            bi = np.round(p["bias"] * 2.0 ** F).astype(np.int64)
            w = np.concatenate([wx, wh], axis=1).T          # (X + H, 4H)
            xs = np.array(record[node.inputs[0]]).reshape(len(calibration), -1)
            hs = np.array(record[node.output]).reshape(len(calibration), -1)
            if node.name in reuse:
                joint = np.concatenate([np.round(xs * 2.0 ** fx), np.round(hs * 2.0 ** fh)], axis=1)
                centroids = _centroids(joint, 0, c, act_width)
            else:
                centroids = None
            gates = ReuseLinear(FC(w), bi, centroids, activation="none", shift=F - gate_frac,
                                act_width=act_width)
            layers.append(IntLayer(node, fh, LSTMCell(gates, p["hidden"], gate_frac=gate_frac)))
            frac = fh
        elif node.op == "magnitude":
            frac = min(frac, tensor_frac[node.inputs[0]])
            layers.append(IntLayer(node, frac))
        elif node.op in ("relu", "max_pool", "pad", "reshape", "slice"):
            frac = tensor_frac[node.inputs[0]]
            layers.append(IntLayer(node, frac))
        elif node.op in ("add", "concat"):
            frac = min([frac] + [tensor_frac[i] for i in node.inputs])
            layers.append(IntLayer(node, frac))
        elif node.op in ("sigmoid", "tanh"):
            frac = None
            layers.append(IntLayer(node, None))
        else:
            raise UnsupportedOperator(f"operator {node.op!r} (node {node.name!r}) is not supported")
        tensor_frac[node.output] = frac
    return IntNetwork(graph, layers, fracs[graph.input], act_width)


def _centroids(values, frac, clusters, act_width):
    """Linear centroids over the profiled integer range of a layer's input (0 a centroid)."""
    v = np.round(np.asarray(values, dtype=np.float64) * 2.0 ** frac)
    lo, hi = np.percentile(v, 0.1), np.percentile(v, 99.9)
    return linear_centroids(int(math.floor(lo)), int(math.ceil(hi)), clusters, act_width)
