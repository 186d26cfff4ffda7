from amaranth.hdl import Module, Mux, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["DeltaSubtractor"]


class DeltaSubtractor(wiring.Component):
    """d = c[q_new] - c[q_old], or c[q_new] on a first execution (golden/delta_subtractor.py).

    Members
    -------
    new, old : ``In(signed(act_width))``
        Centroid values of the new and the stored index.
    first : ``In(1)``
    delta : ``Out(signed(act_width + 1))``
    """

    def __init__(self, config):
        self._config = check_config(config)
        super().__init__({
            "new": In(signed(config.act_width)),
            "old": In(signed(config.act_width)),
            "first": In(1),
            "delta": Out(signed(config.delta_width)),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.delta.eq(self.new - Mux(self.first, 0, self.old))
        return m
