"""What one layer writes into the engine: :class:`LayerConfig`, its conv geometry, and the
checks of a layer's weights and of a network's chaining.

A layer is checked on its own on construction; :func:`check_weights` checks it against an
engine (golden/config.py) with its weights, :func:`check_network` a whole chain of layers.
"""

import dataclasses
import json

import numpy as np

from .config import ConfigError, check_bool, check_int, from_fields

__all__ = ["LayerConfig", "ACTIVATIONS", "LAYER_KINDS", "check_weights", "check_network",
           "check_chain"]

ACTIVATIONS = ("none", "relu", "magnitude")
LAYER_KINDS = ("fc", "lstm", "conv")


@dataclasses.dataclass(frozen=True)
class LayerConfig:
    """What one layer writes into the engine's layer registers and centroid table.

    Parameters
    ----------
    inputs, outputs : int
        N and M of the layer.
    centroids : tuple of int
        Strictly increasing centroid values (C = len(centroids)), on the activation scale.
    activation : str
        ``"none"`` or ``"relu"``, applied to the pre-activation output before requantization;
        an LSTM layer's ``"relu"`` applies to h_t as the next layer sees it (not to its
        recurrent input). ``"magnitude"`` (conv layers): the requantized outputs are pairs
        (re, im) of filters 2k and 2k + 1, and the layer's results are their magnitudes
        (golden/magnitude_unit.py), requantized by ``magnitude_shift``.
    shift : int
        Requantization: rounding arithmetic right shift of the activated output.
    reuse : bool
        ``False`` runs the layer in baseline mode on a reuse engine: every input changed,
        d_i = x_i, outputs from the bias (the paper's layers that are not quantized).
    kind : str
        ``"fc"``, or ``"lstm"``: the gate layer of an LSTM cell over [x_t ; h_{t-1}] followed
        by the LSTM unit. Its ``inputs`` are x_t's (a multiple of the engine's lanes) and then
        ``hidden`` recurrent ones; its ``outputs`` are the 4 * hidden gates, interleaved (output
        4u + k is gate k of hidden unit u, gates i, f, g, o) so that a block of outputs holds
        whole units; ``activation`` is ``"none"`` and ``shift`` requantizes the gates to the
        LSTM unit's format (golden/lstm_unit.py). The layer's results are h_t (``hidden``).
    hidden : int
        H of an LSTM layer (0 for FC layers).
    channels, kernel, stride, padding : int
        A ``"conv"`` layer is a 1-D convolution (paper IV-C) of ``inputs / channels``
        positions of ``channels`` values each, position-major (input x * channels + c), with
        ``kernel`` taps, ``stride`` and ``padding`` zeros on both ends. Its outputs are
        position-major too: ``positions`` x ``filters`` (output p * filters + f), so a block of
        outputs is ``lanes`` filters at one position; ``filters`` must be a multiple of the
        engine's lanes (pad with zero filters). A changed input updates only the outputs whose
        window holds it: the correct phase runs, for each block, the change-list entries in its
        window.
    columns : int
        Non-zero: the conv is 2-D, over ``inputs / channels / columns`` rows of ``columns``
        positions (row-major: position y * columns + x), with a ``kernel`` x ``kernel`` window
        and the same ``stride`` and ``padding`` in both dimensions; output positions are
        row-major too. Weights are (kernel x kernel x channels, filters), row (dy * kernel +
        dx) * channels + c. A block's window is one segment of input positions per kernel row
        inside the map (:meth:`segments`), so a changed input updates the k x k outputs it
        touches in every filter.
    outer_padding : tuple
        ``(before, after)``: a conv's padding along its outer dimension (rows of a 2-D conv,
        positions of a 1-D one) when it is not ``padding`` on both ends. A band of a blocked
        layer (golden/blocking.py) is padded only on the map's edges it reaches.
    """
    inputs: int
    outputs: int
    centroids: tuple
    activation: str = "relu"
    shift: int = 0
    reuse: bool = True
    kind: str = "fc"
    hidden: int = 0
    channels: int = 0
    kernel: int = 0
    stride: int = 1
    padding: int = 0
    magnitude_shift: int = 0
    columns: int = 0
    outer_padding: tuple = ()

    def __post_init__(self):
        check_int("inputs", self.inputs, 1, 1 << 20)
        check_int("outputs", self.outputs, 1, 1 << 20)
        c = tuple(int(v) for v in self.centroids)
        object.__setattr__(self, "centroids", c)
        if len(c) < 2:
            raise ConfigError(f"clusters = {len(c)} is out of range: allowed 2..max_clusters")
        bad = [k for k in range(len(c) - 1) if c[k] >= c[k + 1]]
        if bad:
            k = bad[0]
            raise ConfigError(f"centroids must be strictly increasing: centroids[{k}] = {c[k]} "
                              f">= centroids[{k + 1}] = {c[k + 1]}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation = {self.activation!r} is not supported: "
                              f"allowed {', '.join(ACTIVATIONS)}")
        check_int("shift", self.shift, 0, 47)
        check_bool("reuse", self.reuse)
        if self.kind not in LAYER_KINDS:
            raise ConfigError(f"kind = {self.kind!r} is not supported: allowed "
                              f"{', '.join(LAYER_KINDS)}")
        object.__setattr__(self, "outer_padding", tuple(int(v) for v in self.outer_padding))
        if self.kind != "conv" and (self.channels or self.kernel or self.stride != 1 or
                                    self.padding or self.columns or self.outer_padding):
            raise ConfigError("channels, kernel, stride, padding, columns and outer_padding are "
                              "conv layer parameters")
        if self.activation == "magnitude" and self.kind != "conv":
            raise ConfigError(f"activation = 'magnitude' is for conv layers, not {self.kind!r}")
        if self.activation != "magnitude" and self.magnitude_shift:
            raise ConfigError("magnitude_shift is a parameter of activation = 'magnitude'")
        check_int("magnitude_shift", self.magnitude_shift, 0, 15)
        if self.kind == "conv":
            if self.hidden != 0:
                raise ConfigError(f"hidden = {self.hidden}: only lstm layers have hidden units")
            check_int("channels", self.channels, 1, self.inputs)
            if self.inputs % self.channels:
                raise ConfigError(f"conv layer: inputs = {self.inputs} must be positions x "
                                  f"channels = {self.channels}")
            check_int("kernel", self.kernel, 1, 1 << 16)
            check_int("stride", self.stride, 1, 1 << 16)
            check_int("padding", self.padding, 0, self.kernel - 1, " (below the kernel)")
            if self.outer_padding:
                if len(self.outer_padding) != 2:
                    raise ConfigError(f"outer_padding = {self.outer_padding} must be (before, "
                                      f"after)")
                for name, v in zip(("before", "after"), self.outer_padding):
                    check_int(f"outer_padding {name}", v, 0, self.kernel - 1,
                               " (below the kernel)")
            check_int("columns", self.columns, 0, self.length)
            if self.columns and self.length % self.columns:
                raise ConfigError(f"conv layer: {self.length} positions are not rows of "
                                  f"columns = {self.columns}")
            # each dimension with its padding: the outer one (rows; 1-D: positions), columns
            sides = [(self.map_rows if self.columns else self.length, *self.edge_padding)]
            if self.columns:
                sides.append((self.columns, self.padding, self.padding))
            for side, before, after in sides:
                if side + before + after < self.kernel:
                    raise ConfigError(f"conv layer: kernel = {self.kernel} is longer than the "
                                      f"padded input ({side} + {before} + {after})")
            if self.outputs % self.positions:
                raise ConfigError(f"conv layer: outputs = {self.outputs} must be positions = "
                                  f"{self.positions} x filters")
        elif self.kind == "fc":
            if self.hidden != 0:
                raise ConfigError(f"hidden = {self.hidden}: only lstm layers have hidden units")
        else:
            check_int("hidden", self.hidden, 1, self.inputs - 1, " (inputs = x_t's + hidden)")
            if self.outputs != 4 * self.hidden:
                raise ConfigError(f"lstm layer: outputs = {self.outputs} must be 4 * hidden = "
                                  f"{4 * self.hidden} (the gates i, f, g, o)")

    @property
    def clusters(self):
        return len(self.centroids)

    @property
    def length(self):
        """Input positions of a conv layer."""
        return self.inputs // self.channels

    @property
    def map_rows(self):
        """Input rows of a 2-D conv layer (1 for a 1-D one)."""
        return self.length // self.columns if self.columns else 1

    @property
    def edge_padding(self):
        """``(before, after)`` padding of the outer dimension (rows of a 2-D conv, positions
        of a 1-D one): ``outer_padding``, or ``padding`` on both ends."""
        return self.outer_padding or (self.padding, self.padding)

    def _out(self, n, pads):
        return (n + sum(pads) - self.kernel) // self.stride + 1

    @property
    def out_shape(self):
        """Output rows and columns of a 2-D conv layer, ``(1, positions)`` for a 1-D one."""
        if self.columns:
            return (self._out(self.map_rows, self.edge_padding),
                    self._out(self.columns, (self.padding,) * 2))
        return 1, self._out(self.length, self.edge_padding)

    @property
    def positions(self):
        """Output positions of a conv layer."""
        rows, cols = self.out_shape
        return rows * cols

    @property
    def kernel_rows(self):
        """Window segments of a block: the kernel's rows of a 2-D conv, else 1."""
        return self.kernel if self.kind == "conv" and self.columns else 1

    @property
    def filters(self):
        return self.outputs // self.positions

    def weight_shape(self):
        """Shape of the layer's weights: (inputs, outputs), or a conv layer's (kernel x
        channels, filters) (row t * channels + c: tap t of channel c; 2-D: kernel x kernel x
        channels, row (dy * kernel + dx) * channels + c)."""
        if self.kind == "conv":
            return (self.kernel_rows * self.kernel * self.channels, self.filters)
        return (self.inputs, self.outputs)

    def bias_shape(self):
        return (self.filters,) if self.kind == "conv" else (self.outputs,)

    def segments(self, block, lanes):
        """A conv layer's block ``block`` (output position p, filter block fb): its window as
        segments ``(x_lo, x_hi, base)``, one per kernel row inside the map (1-D: one), each the
        input positions ``[x_lo, x_hi)`` it reads and the weight address offset ``base`` such
        that input i's weight word is at ``base + i`` (relative to the layer's first word)."""
        filter_blocks = self.filters // lanes
        p, fb = divmod(block, filter_blocks)
        k, c = self.kernel, self.channels
        oy, ox = divmod(p, self.out_shape[1])
        before = self.edge_padding[0]
        x0 = ox * self.stride - (self.padding if self.columns else before)
        width = self.columns or self.length
        lo, hi = max(0, x0), min(width, x0 + k)
        if not self.columns:
            return [(lo, hi, fb * k * c - x0 * c)]
        y0 = oy * self.stride - before
        taps = k * k * c
        return [(y * width + lo, y * width + hi, fb * taps + ((y - y0) * k - y * width - x0) * c)
                for y in range(max(0, y0), min(self.map_rows, y0 + k))]

    def fc_weights(self, weights):
        """The layer as an FC weight matrix (inputs, outputs): a conv layer's taps placed in
        every output position's window, zero elsewhere."""
        w = np.asarray(weights, dtype=np.int64)
        if self.kind != "conv":
            return w
        full = np.zeros((self.inputs, self.outputs), dtype=np.int64)
        c, f, k = self.channels, self.filters, self.kernel
        rows, cols = self.out_shape
        width = self.columns or self.length
        before = self.edge_padding[0]
        for p in range(self.positions):
            oy, ox = divmod(p, cols)
            y0 = oy * self.stride - before
            x0 = ox * self.stride - (self.padding if self.columns else before)
            for dy in range(self.kernel_rows):
                y = y0 + dy if self.columns else 0
                if not 0 <= y < self.map_rows:
                    continue
                for dx in range(k):
                    if 0 <= x0 + dx < width:
                        i = (y * width + x0 + dx) * c
                        t = (dy * k + dx) * c
                        full[i:i + c, p * f:(p + 1) * f] = w[t:t + c]
        return full

    @property
    def x_inputs(self):
        """Inputs that come from the previous layer (all but an LSTM layer's h_{t-1})."""
        return self.inputs - self.hidden

    @property
    def results(self):
        """Values the layer passes on: its outputs, an LSTM layer's h_t, or a magnitude
        layer's magnitudes (one per pair of outputs)."""
        if self.kind == "lstm":
            return self.hidden
        return self.outputs // 2 if self.activation == "magnitude" else self.outputs

    @property
    def blocks_per_word(self):
        """Blocks whose results fill one activation-bank word: 4 for an LSTM layer (lanes / 4
        units per block), 2 for a magnitude layer, else 1."""
        return 4 if self.kind == "lstm" else 2 if self.activation == "magnitude" else 1

    def blocks(self, lanes):
        return -(-self.outputs // lanes)

    def result_words(self, lanes):
        """Activation-bank words (``lanes`` values each) the layer's results fill."""
        return -(-self.results // lanes)

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["centroids"] = list(self.centroids)
        return d

    @classmethod
    def from_dict(cls, d):
        return from_fields(cls, d, "layer parameter")

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))


def check_weights(engine, layer, weights, bias):
    """Validate a layer's weights (N x M) and bias (M,) and return them as int64 arrays.

    Besides shapes and ranges, this applies the exact width rule of docs/design.md:
    ``|b[o]| + max|input| * sum_i |W[i, o]|`` must fit ``acc_width`` for every output, so the
    accumulator (and every intermediate state of a reuse update) never overflows.
    """
    engine.check_layer(layer)
    w = np.asarray(weights)
    b = np.asarray(bias)
    if w.shape != layer.weight_shape():
        what = ("(inputs, outputs)" if layer.kind != "conv" else
                "(kernel x kernel x channels, filters)" if layer.columns else
                "(kernel x channels, filters)")
        raise ConfigError(f"weights have shape {w.shape}: expected {what} = "
                          f"{layer.weight_shape()}")
    if b.shape != layer.bias_shape():
        what = "(filters,)" if layer.kind == "conv" else "(outputs,)"
        raise ConfigError(f"bias has shape {b.shape}: expected {what} = {layer.bias_shape()}")
    for name, a in (("weights", w), ("bias", b)):
        if not np.issubdtype(a.dtype, np.integer):
            raise ConfigError(f"{name} must be integers, not {a.dtype}")
    w = w.astype(np.int64)
    b = b.astype(np.int64)
    if w.min(initial=0) < engine.weight_min or w.max(initial=0) > engine.weight_max:
        raise ConfigError(f"weights must be weight_width = {engine.weight_width} bit values: "
                          f"found {int(w.min())}..{int(w.max())}, allowed "
                          f"{engine.weight_min}..{engine.weight_max}")
    worst = np.abs(b) + engine.act_max_abs * np.abs(w).sum(axis=0)   # a conv's window: all taps
    if worst.max() > engine.acc_max:
        o = int(worst.argmax())
        raise ConfigError(f"output {o} can reach {int(worst[o])}, which does not fit "
                          f"acc_width = {engine.acc_width} (max {engine.acc_max})")
    return w, b


def check_network(engine, layers):
    """Validate a network ``[(LayerConfig, weights, bias), ...]`` for ``engine`` (layer count,
    each layer's weights, and the chaining of outputs to inputs); return it with the weights
    and biases as int64 arrays."""
    layers = list(layers)
    check_int("layers", len(layers), 1, engine.max_layers, " (engine max_layers)")
    if sum(layer.kind == "lstm" for layer, _, _ in layers) > 1:
        raise ConfigError("a network can hold one lstm layer (the engine keeps one recurrent "
                          "state)")
    checked = []
    for k, (layer, w, b) in enumerate(layers):
        try:
            w, b = check_weights(engine, layer, w, b)
        except ConfigError as e:
            raise (ConfigError(f"layer {k}: {e}") if len(layers) > 1 else e) from None
        if k:
            check_chain(k, layers[k - 1][0], layer, engine.lanes)
        checked.append((layer, w, b))
    return checked


def check_chain(k, previous, layer, lanes=None):
    """Layer k takes layer k-1's results (an LSTM layer's are h_t): all its inputs, or an LSTM
    layer's x_t, which is padded to whole bank words (``lanes`` values; the padding lanes of a
    block compute 0)."""
    results = f"the outputs of layer {k - 1} ({previous.results}" + (
        " values of h_t)" if previous.kind == "lstm" else ")")
    if layer.kind == "lstm":
        if layer.x_inputs < previous.results or (
                lanes is not None and layer.x_inputs != -(-previous.results // lanes) * lanes):
            padded = "" if lanes is None else f" rounded up to lanes = {lanes}"
            raise ConfigError(f"layer {k}: inputs - hidden = {layer.x_inputs} must equal "
                              f"{results}{padded}")
    elif layer.inputs != previous.results:
        raise ConfigError(f"layer {k}: inputs = {layer.inputs} must equal {results}")
