"""The host programme: the configuration writes that load a network into the engine.

The configuration write port takes ``(address, data)`` with address = region << cfg_offset_width
| offset (:class:`Region`); a layer's registers are entries of the layer table
(:class:`Register`). hw/'s layer table decodes exactly these writes.
"""

import numpy as np

from .config import ConfigError, ceil_log2
from .cycle_model import aligned_inputs
from .layer_config import ACTIVATIONS, check_network
from .quantizer import quantization_table
from .weight_buffer import weight_words

__all__ = ["Region", "Register", "config_writes", "network_writes", "pack_lanes", "input_beats"]


# Configuration write port: address = region << cfg_offset_width | offset.
class Region:
    REGISTER = 0
    CENTROID = 1        # offset: layer << index_width | k
    QUANTIZATION = 2    # offset: layer << act_width | (x mod 2**act_width); data: q(x)
    WEIGHT = 3
    BIAS = 4
    WINDOW = 5          # conv blocks: offset (block << segment_bits | segment) << 1 | 0
                        # (input bounds and flags), 1 (weight offset)


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

    BITS = 4


def config_writes(engine, layer, weights, bias):
    """The host programme that loads one layer: :func:`network_writes` of a one-layer network."""
    return network_writes(engine, [(layer, weights, bias)])


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
    for k, (layer, _w, b) in enumerate(checked):
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
            writes.append((addr(Region.WEIGHT, weight_base + i),
                           pack_lanes(word, engine.weight_width)))
        if layer.kind == "conv":
            # a block's window segments, one per window-table slot (the engine reads a block's
            # slots at once; a slot past its segments is empty): the inputs [i_lo, i_hi) of
            # positions [x_lo, x_hi), i_hi == N flagged (the list's end), and the offset of
            # its weight words
            pw = engine.position_width
            weight_bits = ceil_log2(engine.weight_depth)
            c = layer.channels
            for block in range(blocks):
                segments = layer.segments(block, engine.lanes)
                for s in range(engine.max_kernel_rows):
                    x_lo, x_hi, base = segments[s] if s < len(segments) else (0, 0, 0)
                    offset = (((block_base + block) << engine.segment_bits) | s) << 1
                    writes.append((addr(Region.WINDOW, offset),
                                   x_lo * c | x_hi * c << pw
                                   | int(x_hi == layer.length) << 2 * pw))
                    writes.append((addr(Region.WINDOW, offset | 1), base % (1 << weight_bits)))
            b = np.tile(b, layer.positions)     # a block's biases: its filters'
        padded = np.zeros(blocks * engine.lanes, dtype=np.int64)
        padded[:layer.outputs] = b
        for o, v in enumerate(padded):
            offset = ((block_base + o // engine.lanes) << lane_bits) | (o % engine.lanes)
            writes.append((addr(Region.BIAS, offset), signed(v, engine.acc_width)))
        weight_base += len(words_of[k])                     # conv: filter blocks x taps
        block_base += blocks
        index_base += aligned_inputs(layer.inputs, engine.scan_width)
    return writes


def input_beats(engine, frames):
    """The input stream's payloads for ``frames`` (F x N): ``scan_width`` activations a beat,
    lane 0 in the LSBs, a frame's last beat zero-padded and marked ``last`` (the bit above
    the activations)."""
    frames = np.asarray(frames, dtype=np.int64)
    width, act = engine.scan_width, engine.act_width
    n = frames.shape[1]
    beats = -(-n // width)
    padded = np.zeros((len(frames), beats * width), dtype=np.int64)
    padded[:, :n] = frames
    return [pack_lanes(frame[b * width:(b + 1) * width], act) | int(b == beats - 1) << width * act
            for frame in padded for b in range(beats)]
