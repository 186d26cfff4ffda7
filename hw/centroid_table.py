from amaranth.hdl import Cat, Module, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["CentroidTable"]


class CentroidTable(wiring.Component):
    """Per-layer centroids (golden/centroid_table.py) in a memory with two read ports: the
    delta subtractor needs c[q'] and c[q] of the same input in the same cycle.

    Members
    -------
    index_a, index_b : ``In(index_width)``
    layer : ``In(layer_bits)`` (``max_layers > 1`` only)
    centroid_a, centroid_b : ``Out(signed(act_width))``
        c[index_a], c[index_b] of the previous cycle's indices and layer (synchronous reads).
    write_en : ``In(1)``
    write_addr : ``In(index_width + layer_bits)``
        ``layer << index_width | k``.
    write_data : ``In(signed(act_width))``
    """

    def __init__(self, config):
        self._config = check_config(config)
        aw, iw = config.act_width, config.index_width
        layered = {"layer": In(config.layer_bits)} if config.max_layers > 1 else {}
        super().__init__({
            "index_a": In(iw),
            "index_b": In(iw),
            **layered,
            "centroid_a": Out(signed(aw)),
            "centroid_b": Out(signed(aw)),
            "write_en": In(1),
            "write_addr": In(iw + config.layer_bits),
            "write_data": In(signed(aw)),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        m.submodules.centroid_table = centroids = Memory(
            shape=signed(cfg.act_width), depth=cfg.max_layers << cfg.index_width, init=[])
        layer = self.layer if cfg.max_layers > 1 else Cat()
        for index, out in ((self.index_a, self.centroid_a), (self.index_b, self.centroid_b)):
            read = centroids.read_port()
            m.d.comb += [read.addr.eq(Cat(index, layer)), out.eq(read.data)]
        write = centroids.write_port()
        m.d.comb += [
            write.addr.eq(self.write_addr),
            write.data.eq(self.write_data),
            write.en.eq(self.write_en),
        ]
        return m
