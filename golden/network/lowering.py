"""Lowering: the engine's layers for an integer network (golden/network/graph.py IntNetwork).

:func:`from_int_network` lowers a chain of conv layers, flattens, FC layers and at most one
LSTM cell; :func:`silero_engine_network` lowers Silero VAD, whose STFT and magnitude the
engine runs as a conv layer with the magnitude unit. Feature maps are position-major on the
engine (:func:`engine_input` for the input frames).
"""

import dataclasses

import numpy as np

from ..config import ConfigError
from ..layer_config import LayerConfig
from ..lstm_unit import CELL_FRAC, GATE_FRAC, GATES
from .engine_network import EngineNetwork
from .layers import FC, Conv, LSTMCell

__all__ = ["from_int_network", "silero_engine_network", "engine_input", "silero_engine_input",
           "engine_centroids", "lstm_engine_layer", "conv_engine_layer"]



def engine_centroids(reuse_linear):
    """A golden.network.layers ReuseLinear's centroids on the engine; a layer without reuse runs in
    baseline mode, its centroids unused (any valid pair)."""
    return reuse_linear.centroids if reuse_linear.reuse else (0, 1)


def lstm_engine_layer(cell, x_inputs):
    """The engine's layer for a :class:`golden.network.layers.LSTMCell`: its gate layer with x_t
    padded to ``x_inputs`` (inputs of zero weight) and the gates interleaved (output 4u + k is gate
    k of unit u), so that a block of outputs holds whole hidden units."""
    if (cell.gate_frac, cell.cell_frac) != (GATE_FRAC, CELL_FRAC):
        raise ConfigError(f"LSTM cell with gate_frac = {cell.gate_frac}, cell_frac = "
                          f"{cell.cell_frac}: the LSTM unit implements gate_frac = {GATE_FRAC}, "
                          f"cell_frac = {CELL_FRAC}")
    gates = cell.gates
    hidden = cell.hidden
    w = gates.linear.weights                       # (X + H, 4H), gates in blocks i, f, g, o
    x = w.shape[0] - hidden
    if x_inputs < x:
        raise ConfigError(f"x_inputs = {x_inputs} is less than the cell's {x} inputs")
    order = np.arange(GATES * hidden).reshape(GATES, hidden).T.reshape(-1)
    weights = np.zeros((x_inputs + hidden, GATES * hidden), dtype=np.int64)
    weights[:x] = w[:x, order]
    weights[x_inputs:] = w[x:, order]
    bias = gates.bias.reshape(-1)[order]
    layer = LayerConfig(x_inputs + hidden, GATES * hidden, engine_centroids(gates),
                        activation="none",
                        shift=gates.shift, reuse=gates.reuse, kind="lstm", hidden=hidden)
    return layer, weights, bias


def conv_engine_layer(reuse_conv, channels, lanes):
    """The engine's conv layer for a golden.network.layers ReuseLinear(Conv) (1-D or 2-D, square
    kernel, the same stride and symmetric padding in every dimension, no groups or
    dilation) whose input has ``channels`` channels on the engine (its own, or more: the
    previous conv's zero filters). Filters are padded with zero filters to a multiple of
    ``lanes``; the weights become taps (dy * k + dx) * channels + c."""
    conv = reuse_conv.linear
    w = conv.weights
    filters, real_channels = w.shape[:2]
    kernel = w.shape[2:]
    dims = len(kernel)
    if (conv.groups != 1 or set(conv.dilation) != {1} or len(set(kernel)) != 1 or
            len(set(conv.stride)) != 1 or len(set(conv.padding)) != 1):
        raise ConfigError(f"a conv with groups {conv.groups}, dilation {conv.dilation}, kernel "
                          f"{kernel}, stride {conv.stride}, padding {conv.padding}: the engine "
                          f"runs square kernels with one stride and symmetric padding, no "
                          f"groups (depthwise) or dilation")
    spatial = conv.in_shape[1:]
    padded = -(-filters // lanes) * lanes
    taps = np.zeros((*kernel, channels, padded), dtype=np.int64)
    taps[..., :real_channels, :filters] = np.moveaxis(w, (0, 1), (-1, -2))
    bias = np.zeros(padded, dtype=np.int64)
    bias[:filters] = reuse_conv.bias.reshape(filters, -1)[:, 0]     # (filters, positions)
    positions = int(np.prod(conv.out_shape[1:]))
    layer = LayerConfig(int(np.prod(spatial)) * channels, positions * padded,
                        engine_centroids(reuse_conv),
                        activation=reuse_conv.activation, shift=reuse_conv.shift,
                        reuse=reuse_conv.reuse, kind="conv", channels=channels, kernel=kernel[0],
                        stride=conv.stride[0], padding=conv.padding[0],
                        columns=spatial[1] if dims == 2 else 0)
    return layer, taps.reshape(-1, padded), bias


def engine_input(network, frames):
    """The input stream of an integer network's frames: quantized, and a (channels, ...)
    feature map position-major (channels last), as the engine's conv layers read it."""
    x = network.quantize_input(np.asarray(frames).reshape(len(frames), *network.graph.input_shape))
    if x.ndim > 2:
        x = np.moveaxis(x, 1, -1)
    return x.reshape(len(frames), -1)


def from_int_network(network, name="network", description="", lanes=16):
    """The engine's layers for an integer network that is a chain of conv layers (1-D or 2-D,
    :func:`conv_engine_layer`), flattens and FC layers (the ReLU, if any, folded into each
    layer's output unit) with at most one LSTM cell, as :func:`golden.network.graph.quantize_graph`
    builds it; an LSTM layer's x_t is padded to whole words of ``lanes`` values. Feature maps
    are position-major on the engine (:func:`engine_input` for the input frames): an FC layer
    after a flatten gets its weight rows in that order. Anything else is one clear error naming
    the node."""
    layers = []
    previous = network.graph.input
    feature_map = None          # (channels on the engine, real channels, positions) of a conv
    flattened = None            # that map, flattened channel-major by a reshape node
    for int_layer in network.layers:
        node = int_layer.node
        linear = int_layer.layer
        if list(node.inputs) != [previous]:
            raise ConfigError(f"node {node.name!r} does not take the previous layer's output: "
                              f"the engine runs a chain of layers")
        if node.op == "reshape" and feature_map is not None and flattened is None and \
                len(node.params["shape"]) == 1 and not node.params.get("from_chw"):
            flattened, feature_map = feature_map, None
            previous = node.output
            continue
        if flattened is not None and node.op != "fc":
            raise ConfigError(f"node {node.name!r} is a {node.op!r} after a flatten: the engine "
                              f"runs an FC layer there")
        if node.op == "conv" and isinstance(getattr(linear, "linear", None), Conv):
            conv = linear.linear
            channels = feature_map[0] if feature_map else conv.in_shape[0]
            if feature_map and feature_map[1] != conv.in_shape[0]:
                raise ConfigError(f"node {node.name!r}: a conv on {conv.in_shape[0]} channels "
                                  f"after one of {feature_map[1]}")
            layer = conv_engine_layer(linear, channels, lanes)
            feature_map = (layer[0].filters, conv.out_shape[0], layer[0].positions)
            layers.append(layer)
            previous = node.output
            continue
        if feature_map is not None:
            raise ConfigError(f"node {node.name!r} is a {node.op!r} after a conv: the engine "
                              f"runs a conv, or a flatten and an FC layer, there")
        if node.op == "lstm" and isinstance(linear, LSTMCell):
            # x_t from the input stream, or padded to whole bank words of the previous layer
            x_inputs = (-(-layers[-1][0].results // lanes) * lanes if layers else
                        linear.gates.linear.weights.shape[0] - linear.hidden)
            layer = lstm_engine_layer(linear, x_inputs)
        elif node.op == "fc" and isinstance(getattr(linear, "linear", None), FC):
            w = linear.linear.weights
            n, m = w.shape
            if flattened is not None:
                # channel-major rows c * P + p -> the engine's position-major p * C' + c
                engine_channels, channels, positions = flattened
                rows = np.zeros((positions, engine_channels, m), dtype=np.int64)
                rows[:, :channels] = w.reshape(channels, positions, m).transpose(1, 0, 2)
                w, n, flattened = rows.reshape(-1, m), positions * engine_channels, None
            layer = (LayerConfig(n, m, engine_centroids(linear), activation=linear.activation,
                                 shift=linear.shift, reuse=linear.reuse),
                     w, linear.bias.reshape(m))
        else:
            raise ConfigError(f"node {node.name!r} is a {node.op!r}: the engine runs chains of "
                              f"conv layers, FC layers and an LSTM cell")
        layers.append(layer)
        previous = node.output
    return EngineNetwork(name, tuple(layers), network.input_frac, description)


def silero_engine_network(int_network, lanes=16, name="silero", description=""):
    """The engine's layers for the integer Silero VAD network (golden.evaluation.importers.silero,
    as quantize_graph builds it), with the host's share stated:

    - the host streams each frame's 576 samples with their 64-sample reflection (the model's
      reflect padding): 640 inputs of one channel;
    - the STFT is a conv layer (kernel 256, stride 128) whose filters are interleaved (2k: the
      real part of bin k, 2k + 1: its imaginary part, padded with zero filters to lanes), with
      the magnitude unit after it: 4 positions of (filters / 2) magnitudes;
    - the four encoder convs (kernel 3, padding 1, ReLU) read those, zero weights for the
      padding channels; the flatten of one position is the identity;
    - the LSTM cell (H = 128) with the decoder's ReLU on h_t, then the decoder FC (128 -> 1);
    - the host applies the final sigmoid to the logit.
    """
    by_name = {l.node.name: l for l in int_network.layers}
    stft = by_name["stft"].layer
    w = stft.linear.weights                          # (258, 1, 256)
    bins = w.shape[0] // 2
    filters = -(-w.shape[0] // lanes) * lanes
    taps = w.shape[2]
    weights = np.zeros((taps, filters), dtype=np.int64)
    weights[:, 0:2 * bins:2] = w[:bins, 0].T
    weights[:, 1:2 * bins:2] = w[bins:2 * bins, 0].T
    bias = np.zeros(filters, dtype=np.int64)
    bias[0:2 * bins:2] = stft.bias[:bins, 0]
    bias[1:2 * bins:2] = stft.bias[bins:2 * bins, 0]
    length = stft.linear.in_shape[1]
    positions = stft.linear.out_shape[1]
    magnitude_shift = by_name["stft"].frac - by_name["magnitude"].frac

    layers = [(LayerConfig(length, positions * filters, engine_centroids(stft), "magnitude",
                           stft.shift, reuse=stft.reuse, kind="conv", channels=1, kernel=taps,
                           stride=by_name["stft"].node.params["stride"],
                           magnitude_shift=magnitude_shift), weights, bias)]
    channels = filters // 2                         # the magnitudes, zero-padded bins included
    for k in range(4):
        layer = conv_engine_layer(by_name[f"encoder{k}"].layer, channels, lanes)
        layers.append(layer)
        channels, length = layer[0].filters, layer[0].positions
    if length != 1:
        raise ConfigError(f"the Silero encoder ends with {length} positions: the engine's "
                          f"flatten is the identity for one")
    cell = by_name["lstm"].layer
    if not isinstance(cell, LSTMCell):
        raise ConfigError("node 'lstm' is not an LSTM cell")
    lstm, w, b = lstm_engine_layer(cell, -(-channels // lanes) * lanes)
    layers.append((dataclasses.replace(lstm, activation="relu"), w, b))
    decoder = by_name["decoder"].layer
    w = decoder.linear.weights
    layers.append((LayerConfig(w.shape[0], w.shape[1], engine_centroids(decoder),
                               decoder.activation, decoder.shift, reuse=decoder.reuse),
                   w, decoder.bias.reshape(-1)))
    return EngineNetwork(name, tuple(layers), int_network.input_frac, description)


def silero_engine_input(int_network, frames):
    """The host's share of a Silero frame: quantized samples with their reflection."""
    x = int_network.quantize_input(np.asarray(frames).reshape(len(frames), -1))
    return np.pad(x, ((0, 0), (0, 64)), mode="reflect")
