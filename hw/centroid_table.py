from amaranth.hdl import Module, Signal, Array, signed
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["CentroidTable"]


class CentroidTable(wiring.Component):
    """Per-layer centroids and thresholds (golden/centroid_table.py), in registers.

    Registers rather than a RAM because the quantizer compares against every threshold in the
    same cycle and the delta subtractor reads two centroids per cycle.

    Members
    -------
    write_centroid, write_threshold : ``In(1)``
        Write ``write_data`` into entry ``write_addr`` of the centroid or threshold table.
    write_addr : ``In(index_width)``
    write_data : ``In(signed(act_width))``
    thresholds : ``Out(ArrayLayout(signed(act_width), max_clusters - 1))``
    index_a, index_b : ``In(index_width)``
    centroid_a, centroid_b : ``Out(signed(act_width))``
        Combinational reads c[index_a], c[index_b].
    """

    def __init__(self, config):
        self._config = check_config(config)
        aw, iw = config.act_width, config.index_width
        super().__init__({
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
        centroids = Array(Signal(signed(cfg.act_width), name=f"centroid{k}")
                          for k in range(cfg.max_clusters))
        for k in range(cfg.max_clusters):
            with m.If(self.write_centroid & (self.write_addr == k)):
                m.d.sync += centroids[k].eq(self.write_data)
        for k in range(cfg.max_clusters - 1):
            with m.If(self.write_threshold & (self.write_addr == k)):
                m.d.sync += self.thresholds[k].eq(self.write_data)
        m.d.comb += [
            self.centroid_a.eq(centroids[self.index_a]),
            self.centroid_b.eq(centroids[self.index_b]),
        ]
        return m
