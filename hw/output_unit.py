from amaranth.hdl import Module, Signal, Mux, Const, signed
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["OutputUnit"]


class OutputUnit(wiring.Component):
    """Activation, then requantization to ``act_width`` (golden/output_unit.py), per lane.

    Combinational; the engine registers its input and output.

    Members
    -------
    acc : ``In(ArrayLayout(signed(acc_width), lanes))``
    relu : ``In(1)``
    shift : ``In(range(acc_width))``
        Rounding (half up) arithmetic right shift.
    y : ``Out(ArrayLayout(signed(act_width), lanes))``
    """

    def __init__(self, config):
        self._config = check_config(config)
        super().__init__({
            "acc": In(data.ArrayLayout(signed(config.acc_width), config.lanes)),
            "relu": In(1),
            "shift": In(range(config.acc_width)),
            "y": Out(data.ArrayLayout(signed(config.act_width), config.lanes)),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        # 2**(shift-1), or 0 when shift == 0
        half = Signal(cfg.acc_width)
        m.d.comb += half.eq((Const(1, cfg.acc_width + 1) << self.shift) >> 1)
        for lane in range(cfg.lanes):
            z = self.acc[lane]
            activated = Signal(signed(cfg.acc_width), name=f"activated{lane}")
            rounded = Signal(signed(cfg.acc_width + 1), name=f"rounded{lane}")
            m.d.comb += activated.eq(Mux(self.relu & (z < 0), 0, z))
            m.d.comb += rounded.eq((activated + half) >> self.shift)
            with m.If(rounded > cfg.act_max):
                m.d.comb += self.y[lane].eq(cfg.act_max)
            with m.Elif(rounded < cfg.act_min):
                m.d.comb += self.y[lane].eq(cfg.act_min)
            with m.Else():
                m.d.comb += self.y[lane].eq(rounded)
        return m
