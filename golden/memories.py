"""The engine's on-chip memories: every buffer and table of one engine configuration, its word
width, depth and copies (the sizes of hw/io_buffer.py, hw/weight_buffer.py and the tables).

EngineConfig bounds their total (golden/config.py); synth/memories.py prices them with CACTI.
"""

import dataclasses

from .bits import ceil_log2
from .io_buffer import io_buffer_bits
from .lstm_unit import CELL_WIDTH, GATES

__all__ = ["Buffer", "engine_buffers"]


@dataclasses.dataclass(frozen=True)
class Buffer:
    """One on-chip memory: ``instances`` copies of ``depth`` words of ``width`` bits."""
    name: str
    width: int
    depth: int
    instances: int = 1
    reuse_only: bool = False

    @property
    def bits(self):
        return self.width * self.depth * self.instances

    def cacti_inputs(self, node_nm):
        return {"width": self.width, "depth": self.depth, "tech_node_nm": node_nm,
                "n_rw_ports": 1, "n_banks": 1}


def engine_buffers(config):
    """The buffers of one engine configuration (sizes as hw/io_buffer.py, hw/weight_buffer.py).

    The index area and the output area exist only when ``config.reuse``.
    """
    lanes, width = config.lanes, config.scan_width
    buffers = [
        Buffer("weights", lanes * config.weight_width, config.weight_depth),
        Buffer("biases", lanes * config.acc_width, config.block_depth),
        Buffer("activation_banks", lanes * config.act_width, config.max_blocks, instances=2),
        # one bank per input of a beat (scan_width)
        Buffer("change_list", config.input_index_width + config.delta_width,
               -(-config.max_inputs // width), instances=width),
    ]
    if config.max_layers > 1:
        buffers.append(Buffer("hidden_banks", lanes * config.act_width, config.max_blocks,
                              instances=2))
    if config.lstm:
        # the I/O buffer's recurrent area (h_t), the LSTM unit's cell state (lanes / 4 int32
        # per block) and its tables: per unit, sigmoid of i, f, o and tanh of g and of c, each
        # its own 256 x int8 ROM (one lookup per cycle each; modelled as SRAM)
        units = lanes // GATES
        buffers += [
            Buffer("recurrent_area", lanes * config.act_width, -(-config.max_blocks // 4)),
            Buffer("cell_state", units * CELL_WIDTH, config.max_blocks),
            Buffer("activation_tables", 8, 256, instances=5 * units),
        ]
    if config.conv:
        # the position table (I/O buffer; a bank per input of a beat, a copy per segment slot:
        # a block reads both ends of all its window's segments at once) and the window tables:
        # per block and segment slot, its inputs and the offset of its weights
        # (hw/layer_table.py)
        pw, slots = config.position_width, config.max_kernel_rows
        buffers += [
            Buffer("position_table", pw, -(-config.max_inputs // width),
                   instances=width * slots),
            Buffer("window_table", 2 * pw + 1, config.block_depth, instances=slots),
            Buffer("window_base_table", ceil_log2(max(2, config.weight_depth)), config.block_depth,
                   instances=slots),
        ]
    if config.reuse:
        # a wide scan reads and writes a beat's indices as one word, a blocking engine's buffer
        # port a word of lanes indices (hw/io_buffer.py)
        index_lanes = lanes if config.blocking else width
        buffers += [
            Buffer("index_area", config.index_width * index_lanes,
                   -(-config.index_depth // index_lanes), reuse_only=True),
            Buffer("output_area", lanes * config.acc_width, config.block_depth, reuse_only=True),
            # per layer: q(x) of every activation, and the C centroids (hw/quantizer.py,
            # hw/centroid_table.py; the centroid table has two read ports), a copy per input
            # of a beat
            Buffer("quantization_table", config.index_width,
                   config.max_layers << config.act_width, instances=width, reuse_only=True),
            Buffer("centroid_table", config.act_width, config.max_layers << config.index_width,
                   instances=width, reuse_only=True),
        ]
    # one sizing for the I/O buffer: golden/io_buffer.py is the specification
    spec = io_buffer_bits(config)
    for b in buffers:
        if b.name in spec and spec[b.name] != b.bits:
            raise AssertionError(f"{b.name}: {b.bits} bits here, {spec[b.name]} in golden")
    return buffers
