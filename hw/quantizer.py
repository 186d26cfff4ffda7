from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["Quantizer"]


class Quantizer(wiring.Component):
    """Activation to nearest-centroid index (golden/quantizer.py): q = #{k < C-1 : x >= t[k]}.

    Combinational: ``max_clusters - 1`` comparators and a population count. Inputs outside the
    table saturate to 0 or C-1 by construction.

    Members
    -------
    x : ``In(signed(act_width))``
    thresholds : ``In(ArrayLayout(signed(act_width), max_clusters - 1))``
    clusters : ``In(range(max_clusters + 1))``
        Run-time C of the layer; thresholds at k >= C-1 are ignored.
    index : ``Out(index_width)``
    """

    def __init__(self, config):
        self._config = check_config(config)
        super().__init__({
            "x": In(signed(config.act_width)),
            "thresholds": In(data.ArrayLayout(signed(config.act_width), config.max_clusters - 1)),
            "clusters": In(range(config.max_clusters + 1)),
            "index": Out(config.index_width),
        })

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        m = Module()
        above = [(self.x >= self.thresholds[k]) & (k < self.clusters - 1)
                 for k in range(self._config.max_clusters - 1)]
        m.d.comb += self.index.eq(sum(above))
        return m
