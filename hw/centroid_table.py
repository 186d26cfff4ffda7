from amaranth.hdl import Module, Signal, Array, Cat, Mux, signed
from amaranth.lib.memory import Memory
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["CentroidTable"]


class CentroidTable(wiring.Component):
    """Per-layer centroids and thresholds (golden/centroid_table.py), in registers.

    Registers rather than a RAM because the quantizer compares against every threshold in the
    same cycle and the delta subtractor reads two centroids per cycle. With ``max_layers > 1``
    the tables of all layers are kept in two memories (one word per layer, one granule per
    entry) and ``load`` copies one layer's tables into the registers: the engine does it while
    switching layers, so the registers stay the only thing the datapath reads.

    Members
    -------
    write_centroid, write_threshold : ``In(1)``
        Write ``write_data`` into entry ``write_addr`` of the centroid or threshold table.
    write_addr : ``In(index_width)``
    write_data : ``In(signed(act_width))``
    write_layer, load_layer : ``In(layer_bits)`` (``max_layers > 1`` only)
        Layer of a table write; layer whose tables the store reads.
    load : ``In(1)`` (``max_layers > 1`` only)
        Copy the tables of ``load_layer`` (as it was in the previous cycle) into the registers.
    thresholds : ``Out(ArrayLayout(signed(act_width), max_clusters - 1))``
    index_a, index_b : ``In(index_width)``
    centroid_a, centroid_b : ``Out(signed(act_width))``
        Combinational reads c[index_a], c[index_b].
    """

    def __init__(self, config):
        self._config = check_config(config)
        aw, iw = config.act_width, config.index_width
        layered = {}
        if config.max_layers > 1:
            layered = {"write_layer": In(config.layer_bits), "load_layer": In(config.layer_bits),
                       "load": In(1)}
        super().__init__({
            **layered,
            "write_centroid": In(1),
            "write_threshold": In(1),
            "write_addr": In(iw),
            "write_data": In(signed(aw)),
            "thresholds": Out(data.ArrayLayout(signed(aw), config.max_clusters - 1)),
            "index_a": In(iw),
            "index_b": In(iw),
            "centroid_a": Out(signed(aw)),
            "centroid_b": Out(signed(aw)),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        aw, n = cfg.act_width, cfg.max_clusters
        centroids = Array(Signal(signed(aw), name=f"centroid{k}") for k in range(n))
        m.d.comb += [
            self.centroid_a.eq(centroids[self.index_a]),
            self.centroid_b.eq(centroids[self.index_b]),
        ]
        if cfg.max_layers == 1:
            for k in range(n):
                with m.If(self.write_centroid & (self.write_addr == k)):
                    m.d.sync += centroids[k].eq(self.write_data)
            for k in range(n - 1):
                with m.If(self.write_threshold & (self.write_addr == k)):
                    m.d.sync += self.thresholds[k].eq(self.write_data)
            return m
        for name, entries, write, registers in (
                ("centroid_store", n, self.write_centroid, list(centroids)),
                ("threshold_store", n - 1, self.write_threshold, list(self.thresholds))):
            store = Memory(shape=data.ArrayLayout(signed(aw), entries), depth=cfg.max_layers,
                           init=[])
            m.submodules[name] = store
            wp = store.write_port(granularity=1)     # one element of the array shape
            rp = store.read_port()
            m.d.comb += [
                wp.addr.eq(self.write_layer),
                wp.data.eq(Cat(self.write_data for _ in range(entries))),
                wp.en.eq(Mux(write, 1 << self.write_addr, 0)),
                rp.addr.eq(self.load_layer),
            ]
            with m.If(self.load):
                m.d.sync += [reg.eq(rp.data[k]) for k, reg in enumerate(registers)]
        return m
