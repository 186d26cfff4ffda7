"""The engine's configuration: every architectural parameter of the hardware, in one frozen object.

:class:`EngineConfig` is validated on construction, with a message that names the parameter, its
value and the allowed range. hw/, sim/ and synth/ take it and never re-derive a parameter on
their own. What one layer writes into the engine is golden/layer_config.py; the host programme
that writes it is golden/programme.py.
"""

import dataclasses
import json

import numpy as np

from .bits import ceil_log2

__all__ = ["ConfigError", "EngineConfig", "DEFAULT", "MAX_MEMORY_BITS", "check_int", "check_bool",
           "ceil_log2", "from_fields"]

# The most on-chip memory an engine may have, in bits (64 Mibit, 8 MiB): far above every
# built-in network's engine (at most 5.5 Mibit) and within a large FPGA's block RAM; the
# weight buffer grows as max_layers x max_inputs x max_outputs, so without a bound a valid
# configuration could ask for terabits (and a Verilog generator that needs gigabytes).
MAX_MEMORY_BITS = 64 << 20


class ConfigError(ValueError):
    """An invalid configuration: the message names the parameter, the value and what is allowed."""


def check_int(name, value, lo, hi, why=""):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer, not {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} = {value} is out of range: allowed {lo}..{hi}{why}")


def check_bool(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, not {value!r}")


def from_fields(cls, d, what):
    """``cls(**d)`` of a frozen dataclass, refusing a key that is none of its fields (``what``
    names a field in the message)."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown {what} {unknown[0]!r}: allowed {', '.join(sorted(known))}")
    return cls(**d)


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
        Entries of the layer table: layers run in order for every frame, the activation
        banks carrying one layer's outputs to the next. The weight buffer, index area and
        output area hold ``max_layers`` layers of the largest size.
    scan_width : int
        Inputs scanned per cycle (W): the input stream carries W activations a beat, a layer
        after the first reads W of a bank word a cycle, and W indices are compared a cycle.
        A power of two dividing ``lanes``; engines with conv layers scan one input a cycle.
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
        Elaborates the buffer port (the engine's ``buffer`` port): between frames the host moves
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
        check_int("lanes", self.lanes, 1, 64)
        check_int("act_width", self.act_width, 2, 12,
                   " (the quantizer is a table of 2**act_width entries per layer)")
        check_int("weight_width", self.weight_width, 2, 18)
        check_int("acc_width", self.acc_width, self.act_width + self.weight_width + 1, 48,
                   " (at least act_width + weight_width + 1 so one product fits)")
        check_int("max_clusters", self.max_clusters, 2, min(64, 2 ** self.act_width),
                   " (at most 2**act_width distinct centroids)" if 2 ** self.act_width < 64 else "")
        check_int("max_inputs", self.max_inputs, 1, 65536)
        check_int("max_outputs", self.max_outputs, 1, 65536)
        check_int("max_layers", self.max_layers, 1, 64)
        for name in ("reuse", "lstm", "conv", "blocking"):
            check_bool(name, getattr(self, name))
        check_int("scan_width", self.scan_width, 1, self.lanes, " (lanes)")
        if self.lanes % self.scan_width or self.scan_width & (self.scan_width - 1):
            raise ConfigError(f"scan_width = {self.scan_width} must be a power of two that "
                              f"divides lanes = {self.lanes} (a bank word is scanned in beats)")
        check_int("weight_words", self.weight_words, 0, 1 << 24)
        check_int("max_kernel_rows", self.max_kernel_rows, 1, 16)
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
        self._check_memory_bits()

    def _check_memory_bits(self):
        """Raise ConfigError unless the engine's memories (golden.memories) fit
        :data:`MAX_MEMORY_BITS`."""
        # imported here: golden.memories sizes them from this module's configuration
        from .memories import engine_buffers
        buffers = engine_buffers(self)
        total = sum(b.bits for b in buffers)
        if total > MAX_MEMORY_BITS:
            largest = max(buffers, key=lambda b: b.bits)
            raise ConfigError(
                f"the engine's memories need {total:,} bits ({total / 2**20:,.1f} Mibit, of which "
                f"{largest.name} {largest.bits / 2**20:,.1f} Mibit): at most "
                f"{MAX_MEMORY_BITS:,} bits ({MAX_MEMORY_BITS >> 20} Mibit) allowed on chip; lower "
                f"max_layers, max_inputs or max_outputs, or give weight_words")

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
        """Entries of the index area: every layer's, each starting at a multiple of
        ``scan_width`` (a beat's indices are one word)."""
        return self.max_layers * -(-self.max_inputs // self.scan_width) * self.scan_width

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
        """A window-table entry: i_lo, i_hi and the to-end flag."""
        return 2 * self.position_width + 1

    @property
    def position_width(self):
        """Bits of a conv window's input bound, 0 ... max_inputs."""
        return ceil_log2(self.max_inputs + 1)

    @property
    def cfg_addr_width(self):
        return self.cfg_offset_width + 3

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return from_fields(cls, d, "engine parameter")

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        try:
            d = json.loads(text)
        except RecursionError:
            raise ConfigError("configuration is not an engine configuration: JSON nested too "
                              "deeply") from None
        except ValueError as e:      # JSONDecodeError, or an integer of thousands of digits
            raise ConfigError(f"configuration is not valid JSON: {e}") from None
        if not isinstance(d, dict):
            raise ConfigError("configuration JSON must be an object of engine parameters")
        return cls.from_dict(d)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def check_layer(self, layer):
        """Raise :class:`ConfigError` unless ``layer`` fits this engine."""
        check_int("inputs", layer.inputs, 1, self.max_inputs, " (engine max_inputs)")
        check_int("outputs", layer.outputs, 1, self.max_outputs, " (engine max_outputs)")
        check_int("clusters", layer.clusters, 2, self.max_clusters, " (engine max_clusters)")
        lo, hi = min(layer.centroids), max(layer.centroids)
        if lo < self.act_min or hi > self.act_max:
            raise ConfigError(
                f"centroids must be act_width = {self.act_width} bit values: "
                f"{lo if lo < self.act_min else hi} is outside {self.act_min}..{self.act_max}")
        check_int("shift", layer.shift, 0, self.acc_width - 1)
        if layer.kind == "lstm" and not self.lstm:
            raise ConfigError("kind = 'lstm' needs an engine with lstm = true")
        if layer.kind == "lstm" and layer.x_inputs % self.scan_width:
            raise ConfigError(f"inputs - hidden = {layer.x_inputs} must be a multiple of "
                              f"scan_width = {self.scan_width} (x_t fills whole beats before "
                              f"h_{{t-1}})")
        if layer.kind == "conv":
            if not self.conv:
                raise ConfigError("kind = 'conv' needs an engine with conv = true")
            if layer.filters % self.lanes:
                raise ConfigError(f"conv layer: filters = {layer.filters} must be a multiple of "
                                  f"lanes = {self.lanes} (pad with zero filters)")
            if layer.activation == "magnitude" and self.lanes % 2:
                raise ConfigError(f"activation = 'magnitude' needs an even number of lanes, not "
                                  f"{self.lanes}")
            check_int("positions", layer.length, 1, self.max_inputs, " (engine max_inputs)")
            if layer.kernel_rows > self.max_kernel_rows:
                raise ConfigError(f"2-D conv layer: kernel = {layer.kernel} needs an engine with "
                                  f"max_kernel_rows >= {layer.kernel}, not {self.max_kernel_rows} "
                                  f"(one window segment per kernel row)")
        return layer


DEFAULT = EngineConfig()
