"""The one configuration of deja: engine parameters, layer parameters, and the host programme.

:class:`EngineConfig` carries every architectural parameter of the hardware; :class:`LayerConfig`
carries what one layer writes into the engine's configuration registers. Both are frozen and
validated on construction, with a message that names the parameter, its value and the allowed
range. hw/, sim/ and synth/ take these objects and never re-derive a parameter on their own.
"""

import dataclasses
import json
import math

import numpy as np

__all__ = [
    "ConfigError", "EngineConfig", "LayerConfig", "ACTIVATIONS", "LAYER_KINDS",
    "Region", "Register", "config_writes", "network_writes", "check_network", "check_chain",
    "check_weights",
    "DEFAULT",
]


class ConfigError(ValueError):
    """An invalid configuration: the message names the parameter, the value and what is allowed."""


ACTIVATIONS = ("none", "relu", "magnitude")
LAYER_KINDS = ("fc", "lstm", "conv")


def _check_int(name, value, lo, hi, why=""):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer, not {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} = {value} is out of range: allowed {lo}..{hi}{why}")


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, not {value!r}")


def ceil_log2(n):
    return max(0, (int(n) - 1).bit_length())


@dataclasses.dataclass(frozen=True)
class EngineConfig:
    """Architectural parameters of one reuse engine.

    Parameters
    ----------
    lanes : int
        MAC lanes; one lane per output neuron of the current output block.
    act_width, weight_width, acc_width : int
        Signed widths of activations (and centroids), weights, and accumulators/biases.
    max_clusters, max_inputs, max_outputs : int
        Largest C, N and M of one layer: the centroid table, the change list, the output block
        count.
    max_layers : int
        Entries of the layer table: FC layers run in order for every frame, the activation
        banks carrying one layer's outputs to the next. The weight buffer, index area and
        output area hold ``max_layers`` layers of the largest size.
    scan_width : int
        Inputs scanned per cycle (only 1 is implemented).
    reuse : bool
        ``False`` elaborates the baseline accelerator (no quantizer, index area or skip logic).
    lstm : bool
        Elaborates the LSTM unit (golden/lstm_unit.py: sigmoid and tanh tables, the cell-state
        area) and the recurrent area h_{t-1} is scanned from, so the layer table can hold an
        LSTM layer. Needs ``max_layers > 1``, ``lanes`` a multiple of 4 (a block holds the four
        gates of ``lanes / 4`` hidden units) and ``act_width = 8`` (the tables' index).
    conv : bool
        Elaborates the window table and the position table, so that the layer table can hold
        convolutions (``LayerConfig(kind="conv")``). Needs ``max_layers > 1``.
    max_kernel_rows : int
        Window-table entries per output block: a 2-D conv block's window is one segment per
        kernel row, so 2-D convs need ``max_kernel_rows >= kernel`` (1: 1-D convs only).
    blocking : bool
        Elaborates the buffer port (``hw.FCEngine.buffer``): between frames the host moves
        words of the index and output areas to and from main memory, so a conv layer larger
        than the buffers runs band by band on an engine sized for one band (paper IV-C,
        golden/blocking.py). Needs ``conv = true``.
    weight_words : int
        Words of the weight buffer; 0 (the default) holds ``max_layers`` layers of
        ``max_inputs`` x ``max_outputs``. A network's engine is sized to its weights.
    """
    lanes: int = 16
    act_width: int = 8
    weight_width: int = 8
    acc_width: int = 32
    max_clusters: int = 32
    max_inputs: int = 512
    max_outputs: int = 512
    max_layers: int = 1
    scan_width: int = 1
    reuse: bool = True
    lstm: bool = False
    conv: bool = False
    weight_words: int = 0
    max_kernel_rows: int = 1
    blocking: bool = False

    def __post_init__(self):
        _check_int("lanes", self.lanes, 1, 64)
        _check_int("act_width", self.act_width, 2, 12,
                   " (the quantizer is a table of 2**act_width entries per layer)")
        _check_int("weight_width", self.weight_width, 2, 18)
        _check_int("acc_width", self.acc_width, self.act_width + self.weight_width + 1, 48,
                   " (at least act_width + weight_width + 1 so one product fits)")
        _check_int("max_clusters", self.max_clusters, 2, min(64, 2 ** self.act_width),
                   " (at most 2**act_width distinct centroids)" if 2 ** self.act_width < 64 else "")
        _check_int("max_inputs", self.max_inputs, 1, 65536)
        _check_int("max_outputs", self.max_outputs, 1, 65536)
        _check_int("max_layers", self.max_layers, 1, 64)
        _check_int("scan_width", self.scan_width, 1, 1, " (wider scans are not implemented)")
        for name in ("reuse", "lstm", "conv", "blocking"):
            _check_bool(name, getattr(self, name))
        _check_int("weight_words", self.weight_words, 0, 1 << 24)
        _check_int("max_kernel_rows", self.max_kernel_rows, 1, 16)
        if self.max_kernel_rows > 1 and not self.conv:
            raise ConfigError(f"max_kernel_rows = {self.max_kernel_rows} needs conv = true "
                              f"(it sizes the window table)")
        if self.blocking and not self.conv:
            raise ConfigError("blocking = true needs conv = true (conv layers are blocked)")
        if self.conv and self.max_layers < 2:
            raise ConfigError(f"conv = true needs max_layers >= 2, not {self.max_layers} "
                              f"(the window table is addressed by the layer's blocks)")
        if self.conv and self.window_entry_width > self.cfg_data_width:
            raise ConfigError(f"conv = true: a window (two positions of max_inputs = "
                              f"{self.max_inputs} and flags) does not fit the configuration "
                              f"data width {self.cfg_data_width}")
        if self.lstm:
            if self.max_layers < 2:
                raise ConfigError(f"lstm = true needs max_layers >= 2, not {self.max_layers} "
                                  f"(an LSTM layer reads its inputs from the activation banks)")
            if self.lanes % 4:
                raise ConfigError(f"lstm = true needs lanes a multiple of 4, not {self.lanes} "
                                  f"(a block holds the four gates of lanes / 4 hidden units)")
            if self.act_width != 8:
                raise ConfigError(f"lstm = true needs act_width = 8, not {self.act_width} "
                                  f"(the sigmoid and tanh tables are indexed by int8 gates)")
        # The static width rule: N inputs of the largest magnitude times the largest weight
        # must fit the accumulator, so no layer the engine accepts can overflow.
        worst = self.max_inputs * self.act_max_abs * self.weight_max_abs
        if worst > self.acc_max:
            raise ConfigError(
                f"acc_width = {self.acc_width} is too narrow for max_inputs = {self.max_inputs}: "
                f"worst case {worst} needs acc_width >= {worst.bit_length() + 1}")

    # Derived parameters (one place, so hw and golden never disagree on them).
    @property
    def index_width(self):
        return max(1, ceil_log2(self.max_clusters))

    @property
    def delta_width(self):
        return self.act_width + 1

    @property
    def max_blocks(self):
        return -(-self.max_outputs // self.lanes)

    @property
    def layer_bits(self):
        return ceil_log2(self.max_layers)

    @property
    def weight_depth(self):
        """Words of the weight buffer (one word: ``lanes`` weights of one input, one block):
        ``weight_words``, or by default ``max_layers`` layers of the largest size."""
        return self.weight_words or self.max_layers * self.max_blocks * self.max_inputs

    @property
    def index_depth(self):
        """Entries of the index area."""
        return self.max_layers * self.max_inputs

    @property
    def block_depth(self):
        """Blocks of the output area and of the bias memory."""
        return self.max_layers * self.max_blocks

    @property
    def input_index_width(self):
        return max(1, ceil_log2(self.max_inputs))

    @property
    def act_min(self):
        return -(1 << (self.act_width - 1))

    @property
    def act_max(self):
        return (1 << (self.act_width - 1)) - 1

    @property
    def act_max_abs(self):
        return 1 << (self.act_width - 1)

    @property
    def weight_min(self):
        return -(1 << (self.weight_width - 1))

    @property
    def weight_max(self):
        return (1 << (self.weight_width - 1)) - 1

    @property
    def weight_max_abs(self):
        return 1 << (self.weight_width - 1)

    @property
    def acc_max(self):
        return (1 << (self.acc_width - 1)) - 1

    @property
    def acc_min(self):
        return -(1 << (self.acc_width - 1))

    @property
    def cfg_data_width(self):
        return max(self.acc_width, self.lanes * self.weight_width)

    @property
    def cfg_offset_width(self):
        bias_offsets = self.block_depth << ceil_log2(self.lanes)
        return max(4 + self.layer_bits, ceil_log2(self.weight_depth), ceil_log2(bias_offsets),
                   self.act_width + self.layer_bits,
                   ceil_log2(self.block_depth) + self.segment_bits + 1)

    @property
    def segment_bits(self):
        """Bits of a window segment's index within its block (window table address:
        block << segment_bits | segment)."""
        return ceil_log2(self.max_kernel_rows)

    @property
    def window_entry_width(self):
        """A window-table entry: x_lo, x_hi, the to-end flag and (2-D engines) the flag of a
        block's last segment."""
        return 2 * self.position_width + 1 + (self.segment_bits > 0)

    @property
    def position_width(self):
        """Bits of a conv layer's input position, 0 ... max_inputs."""
        return ceil_log2(self.max_inputs + 1)

    @property
    def cfg_addr_width(self):
        return self.cfg_offset_width + 3

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown engine parameter {unknown[0]!r}: allowed {', '.join(sorted(known))}")
        return cls(**d)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"configuration is not valid JSON: {e}") from None
        if not isinstance(d, dict):
            raise ConfigError("configuration JSON must be an object of engine parameters")
        return cls.from_dict(d)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def check_layer(self, layer):
        """Raise :class:`ConfigError` unless ``layer`` fits this engine."""
        _check_int("inputs", layer.inputs, 1, self.max_inputs, " (engine max_inputs)")
        _check_int("outputs", layer.outputs, 1, self.max_outputs, " (engine max_outputs)")
        _check_int("clusters", layer.clusters, 2, self.max_clusters, " (engine max_clusters)")
        lo, hi = min(layer.centroids), max(layer.centroids)
        if lo < self.act_min or hi > self.act_max:
            raise ConfigError(
                f"centroids must be act_width = {self.act_width} bit values: "
                f"{lo if lo < self.act_min else hi} is outside {self.act_min}..{self.act_max}")
        _check_int("shift", layer.shift, 0, self.acc_width - 1)
        if layer.kind == "lstm" and not self.lstm:
            raise ConfigError("kind = 'lstm' needs an engine with lstm = true")
        if layer.kind == "conv":
            if not self.conv:
                raise ConfigError("kind = 'conv' needs an engine with conv = true")
            if layer.filters % self.lanes:
                raise ConfigError(f"conv layer: filters = {layer.filters} must be a multiple of "
                                  f"lanes = {self.lanes} (pad with zero filters)")
            if layer.activation == "magnitude" and self.lanes % 2:
                raise ConfigError(f"activation = 'magnitude' needs an even number of lanes, not "
                                  f"{self.lanes}")
            _check_int("positions", layer.length, 1, self.max_inputs, " (engine max_inputs)")
            if layer.kernel_rows > self.max_kernel_rows:
                raise ConfigError(f"2-D conv layer: kernel = {layer.kernel} needs an engine with "
                                  f"max_kernel_rows >= {layer.kernel}, not {self.max_kernel_rows} "
                                  f"(one window segment per kernel row)")
        return layer


DEFAULT = EngineConfig()


@dataclasses.dataclass(frozen=True)
class LayerConfig:
    """What one FC layer writes into the engine's layer registers and centroid table.

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
        _check_int("inputs", self.inputs, 1, 1 << 20)
        _check_int("outputs", self.outputs, 1, 1 << 20)
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
        _check_int("shift", self.shift, 0, 47)
        _check_bool("reuse", self.reuse)
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
        _check_int("magnitude_shift", self.magnitude_shift, 0, 15)
        if self.kind == "conv":
            if self.hidden != 0:
                raise ConfigError(f"hidden = {self.hidden}: only lstm layers have hidden units")
            _check_int("channels", self.channels, 1, self.inputs)
            if self.inputs % self.channels:
                raise ConfigError(f"conv layer: inputs = {self.inputs} must be positions x "
                                  f"channels = {self.channels}")
            _check_int("kernel", self.kernel, 1, 1 << 16)
            _check_int("stride", self.stride, 1, 1 << 16)
            _check_int("padding", self.padding, 0, self.kernel - 1, " (below the kernel)")
            if self.outer_padding:
                if len(self.outer_padding) != 2:
                    raise ConfigError(f"outer_padding = {self.outer_padding} must be (before, "
                                      f"after)")
                for name, v in zip(("before", "after"), self.outer_padding):
                    _check_int(f"outer_padding {name}", v, 0, self.kernel - 1,
                               " (below the kernel)")
            _check_int("columns", self.columns, 0, self.length)
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
            _check_int("hidden", self.hidden, 1, self.inputs - 1, " (inputs = x_t's + hidden)")
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
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown layer parameter {unknown[0]!r}: allowed {', '.join(sorted(known))}")
        return cls(**d)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))


def check_weights(engine, layer, weights, bias):
    """Validate a layer's weights (N x M) and bias (M,) and return them as int64 arrays.

    Besides shapes and ranges, this applies the exact width rule of DESIGN.md:
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


# Configuration write port: address = region << cfg_offset_width | offset.
class Region:
    REGISTER = 0
    CENTROID = 1        # offset: layer << index_width | k
    QUANTIZATION = 2    # offset: layer << act_width | (x mod 2**act_width); data: q(x)
    WEIGHT = 3
    BIAS = 4
    WINDOW = 5          # conv blocks: offset (block << segment_bits | segment) << 1 | 0
                        # (positions and flags), 1 (weight offset)


class Register:
    """Layer table entry l, register r: offset ``l << 4 | r`` of the REGISTER region."""
    INPUTS = 0
    OUTPUTS = 1
    LSTM = 2             # 1: an LSTM layer (C is implicit in the quantization table)
    ACTIVATION = 3
    SHIFT = 4
    BLOCKS = 5
    REUSE = 6
    WEIGHT_BASE = 7      # first weight word of the layer
    BLOCK_BASE = 8       # first block of the layer's biases and output area
    INDEX_BASE = 9       # first entry of the layer's index area
    # global registers, in entry 0 (engines with max_layers > 1 only)
    LAYERS = 10          # layers the network runs per frame
    STREAM_BLOCKS = 11   # output blocks of the last layer: beats per output frame
    X_WORDS = 12         # LSTM layer: bank words of x_t, after which h_{t-1} is scanned
    X_INPUTS = 13        # LSTM layer 0: inputs of x_t on the input stream
    CONV = 14            # 1: a conv layer
    CHANNELS = 15        # conv layer: inputs per position

    BITS = 4


def config_writes(engine, layer, weights, bias):
    """The host programme that loads one layer: :func:`network_writes` of a one-layer network."""
    return network_writes(engine, [(layer, weights, bias)])


def check_network(engine, layers):
    """Validate a network ``[(LayerConfig, weights, bias), ...]`` for ``engine`` (layer count,
    each layer's weights, and the chaining of outputs to inputs); return it with the weights
    and biases as int64 arrays."""
    layers = list(layers)
    _check_int("layers", len(layers), 1, engine.max_layers, " (engine max_layers)")
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


def pack_lanes(values, width):
    """One memory or port word of ``values``, ``width`` bits each, lane 0 in the LSBs (two's
    complement)."""
    word = 0
    for lane, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (lane * width)
    return word


def network_writes(engine, layers):
    """The host programme that loads a network: a list of ``(address, data)`` writes.

    ``layers`` is a sequence of ``(LayerConfig, weights, bias)`` run in this order every
    frame; layer l's inputs are layer l-1's outputs. Each layer's weights, biases, index area
    and output area are placed after the previous layer's. Weights go one memory word (the
    ``lanes`` weights of one input for one output block) per write; biases one element per
    write, including the zero padding of the last block, so that padding lanes compute 0.
    """
    from .weight_buffer import weight_words
    from .quantizer import quantization_table

    checked = check_network(engine, layers)
    words_of = [weight_words(w, engine.lanes) for _, w, _ in checked]
    words = sum(len(w) for w in words_of)
    if words > engine.weight_depth:
        raise ConfigError(f"the network's weights take {words} words: the weight buffer holds "
                          f"{engine.weight_depth} (weight_words)")
    shift = engine.cfg_offset_width
    lane_bits = ceil_log2(engine.lanes)

    def addr(region, offset):
        return (region << shift) | offset

    def signed(v, width):
        return int(v) & ((1 << width) - 1)

    writes = []
    weight_base = block_base = index_base = 0
    for k, (layer, w, b) in enumerate(checked):
        blocks = layer.blocks(engine.lanes)
        reg = {
            Register.INPUTS: layer.inputs,
            Register.OUTPUTS: layer.outputs,
            # the activation's code, and a magnitude layer's shift above it
            Register.ACTIVATION: ACTIVATIONS.index(layer.activation) | layer.magnitude_shift << 2,
            Register.SHIFT: layer.shift,
            Register.BLOCKS: blocks,
        }
        if engine.reuse:
            reg[Register.REUSE] = int(layer.reuse)
        if engine.conv:
            reg[Register.CONV] = int(layer.kind == "conv")
            reg[Register.CHANNELS] = layer.channels
        if engine.lstm:
            reg[Register.LSTM] = int(layer.kind == "lstm")
            reg[Register.X_WORDS] = layer.x_inputs // engine.lanes
            reg[Register.X_INPUTS] = layer.x_inputs
        if engine.max_layers > 1:
            reg[Register.WEIGHT_BASE] = weight_base
            reg[Register.BLOCK_BASE] = block_base
            reg[Register.INDEX_BASE] = index_base
            if k == 0:
                reg[Register.LAYERS] = len(checked)
                reg[Register.STREAM_BLOCKS] = checked[-1][0].result_words(engine.lanes)
        writes += [(addr(Region.REGISTER, k << Register.BITS | r), v) for r, v in reg.items()]
        if engine.reuse:
            table = k << engine.index_width
            for i, c in enumerate(layer.centroids):
                writes.append((addr(Region.CENTROID, table | i), signed(c, engine.act_width)))
            table = k << engine.act_width
            for x, q in enumerate(quantization_table(layer.centroids, engine.act_width)):
                writes.append((addr(Region.QUANTIZATION, table | x), int(q)))
        for i, word in enumerate(words_of[k]):
            writes.append((addr(Region.WEIGHT, weight_base + i), pack_lanes(word, engine.weight_width)))
        if layer.kind == "conv":
            # a block's window segments: positions [x_lo, x_hi), x_hi == length flagged (the
            # list's end), the block's last segment flagged (2-D engines), and the offset of
            # its weight words
            pw = engine.position_width
            weight_bits = ceil_log2(engine.weight_depth)
            for block in range(blocks):
                segments = layer.segments(block, engine.lanes)
                for s, (x_lo, x_hi, base) in enumerate(segments):
                    offset = (((block_base + block) << engine.segment_bits) | s) << 1
                    last = int(s == len(segments) - 1) if engine.segment_bits else 0
                    writes.append((addr(Region.WINDOW, offset),
                                   x_lo | x_hi << pw | int(x_hi == layer.length) << 2 * pw
                                   | last << 2 * pw + 1))
                    writes.append((addr(Region.WINDOW, offset | 1), base % (1 << weight_bits)))
            b = np.tile(b, layer.positions)     # a block's biases: its filters'
        padded = np.zeros(blocks * engine.lanes, dtype=np.int64)
        padded[:layer.outputs] = b
        for o, v in enumerate(padded):
            offset = ((block_base + o // engine.lanes) << lane_bits) | (o % engine.lanes)
            writes.append((addr(Region.BIAS, offset), signed(v, engine.acc_width)))
        weight_base += len(words_of[k])                     # conv: filter blocks x taps
        block_base += blocks
        index_base += layer.inputs
    return writes
