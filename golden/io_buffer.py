"""I/O buffer: the index area, the output area and the ping-pong activation banks.

The golden twin of hw/io_buffer.py is the sizing: what each area holds, in bits, for one
engine configuration. The areas' contents are state of :class:`golden.engine.ReuseEngine`.
"""

__all__ = ["io_buffer_bits"]


def io_buffer_bits(engine):
    """Bits of each I/O buffer area (and the change list) for ``engine``."""
    words = engine.max_blocks * engine.lanes
    areas = {
        "activation_banks": 2 * words * engine.act_width,
        # scan_width banks (a beat's changed inputs are written at once)
        "change_list": -(-engine.max_inputs // engine.scan_width) * engine.scan_width
        * (engine.input_index_width + engine.delta_width),
    }
    if engine.max_layers > 1:
        # two more banks carry one layer's outputs to the next layer's scan
        areas["hidden_banks"] = 2 * words * engine.act_width
    if engine.lstm:
        # an LSTM layer's h_t for the next step's scan: at most max_outputs / 4 values
        areas["recurrent_area"] = -(-engine.max_blocks // 4) * engine.lanes * engine.act_width
    if engine.conv:
        # a conv layer's change-list length before each input, in scan_width banks; a copy
        # per kernel row (a block reads both ends of all its window's segments at once)
        areas["position_table"] = (-(-engine.max_inputs // engine.scan_width) * engine.scan_width
                                   * engine.position_width * engine.max_kernel_rows)
    if engine.reuse:
        # every layer of the layer table keeps its own indices and outputs
        # blocking engines: words of ``lanes`` indices (golden.blocking.index_words); a wide
        # scan's: a beat's
        lanes = engine.lanes if engine.blocking else engine.scan_width
        areas["index_area"] = -(-engine.index_depth // lanes) * lanes * engine.index_width
        areas["output_area"] = engine.block_depth * engine.lanes * engine.acc_width
    return areas
