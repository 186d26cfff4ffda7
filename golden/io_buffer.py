"""I/O buffer: the index area, the output area and the two ping-pong activation banks.

The golden twin of hw/io_buffer.py is the sizing: what each area holds, in bits, for one
engine configuration. The areas' contents are state of :class:`golden.fc_engine.FCEngine`.
"""

__all__ = ["io_buffer_bits"]


def io_buffer_bits(engine):
    """Bits of each I/O buffer area (and the change list) for ``engine``."""
    words = engine.max_blocks * engine.lanes
    areas = {
        "activation_banks": 2 * words * engine.act_width,
        "change_list": engine.max_inputs * (engine.input_index_width + engine.delta_width),
    }
    if engine.reuse:
        areas["index_area"] = engine.max_inputs * engine.index_width
        areas["output_area"] = words * engine.acc_width
    return areas
