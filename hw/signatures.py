"""The engine's port signatures and stream payloads (shared by the engine and its stages)."""

from amaranth.hdl import signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden.config import ceil_log2
from golden.perf_counters import Counters

__all__ = ["ConfigWriteSignature", "BufferPortSignature", "TableWriteSignature",
           "table_writes", "layer_switch",
           "input_layout", "output_layout", "perf_layout"]


class ConfigWriteSignature(wiring.Signature):
    """Host-side configuration write port: ``data`` is written to ``addr`` when ``en``.

    ``addr = region << cfg_offset_width | offset`` (see golden.config.Region);
    :func:`golden.config.config_writes` is the programme that loads a layer.
    """

    def __init__(self, config):
        super().__init__({
            "addr": Out(config.cfg_addr_width),
            "data": Out(config.cfg_data_width),
            "en": Out(1),
        })


class TableWriteSignature(wiring.Signature):
    """A write into a per-layer table (quantization table, centroid table)."""

    def __init__(self, addr_width, data_shape):
        super().__init__({"en": Out(1), "addr": Out(addr_width), "data": Out(data_shape)})


class BufferPortSignature(wiring.Signature):
    """Host access to the index and output areas between frames (``EngineConfig.blocking``):
    a blocked conv layer's bands move their indices and previous outputs to and from main
    memory through it (golden/blocking.py).

    While ``select``, the host owns both areas: ``addr`` reads the word of ``area`` (0: the
    index area, ``lanes`` indices per word; 1: the output area, one block of ``lanes``
    accumulators), which is in ``read_data`` a cycle later, and ``write`` writes
    ``write_data`` there. Select only while the engine waits for a frame's first input: after
    a frame's last output beat, or before the first input of a frame.
    """

    def __init__(self, config):
        addr_width = ceil_log2(max(2, config.index_depth, config.block_depth))
        super().__init__({
            "select": Out(1),
            "area": Out(1),
            "addr": Out(addr_width),
            "write": Out(1),
            "write_data": Out(config.lanes * config.acc_width),
            "read_data": In(config.lanes * config.acc_width),
        })


def input_layout(config):
    """A beat of the input stream: ``scan_width`` activations (one: a scalar), ``last`` on a
    frame's last beat (its inputs past N are ignored)."""
    width = config.scan_width
    act = signed(config.act_width)
    return data.StructLayout({"data": data.ArrayLayout(act, width) if width > 1 else act,
                              "last": 1})


def output_layout(config):
    return data.StructLayout({
        "data": data.ArrayLayout(signed(config.act_width), config.lanes),
        "last": 1,
    })


def perf_layout():
    return data.StructLayout({name: 32 for name in Counters.FIELDS})


def table_writes(config):
    """The writes of the per-layer tables (quantization table, centroid table), as the layer
    table decodes them (``Out``) and the scan unit's copies of the tables take them (flipped)."""
    return {
        "quantization_write": Out(TableWriteSignature(config.act_width + config.layer_bits,
                                                      config.index_width)),
        "centroid_write": Out(TableWriteSignature(config.index_width + config.layer_bits,
                                                  config.act_width)),
    }


def layer_switch(config):
    """The layer switch as the layer table drives it (``max_layers > 1``): the layer run, the
    layer the switch leads to, whether it is the last, the cycle the switch ends."""
    return {"layer": Out(range(config.max_layers)), "target": Out(range(config.max_layers)),
            "last_layer": Out(1), "switch_done": Out(1)}
