from amaranth.hdl import Module, Signal, Mux, signed
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["OutputUnit"]


class OutputUnit(wiring.Component):
    """Activation, then requantization to ``act_width`` (golden/output_unit.py), per lane.

    With ``latency=0`` (the default) the unit is combinational. With ``latency=2`` it is two
    pipeline stages, so it fits the clock of the rest of the datapath: ``y`` in cycle t+2 is the
    result for ``acc`` in cycle t (``relu`` and ``shift`` are layer registers, constant during a
    frame). The engine uses ``latency=2`` in place of registering its input and its output.

    Both use the same arithmetic, split between the stages: with ``u = (2 * z) >> shift``
    (stage 1: activation and barrel shift), ``(z + 2**(shift-1)) >> shift == (u + 1) >> 1`` for
    every shift >= 0, and saturation compares ``u`` with constants (stage 2), so no wide adder
    follows the shifter.

    Members
    -------
    acc : ``In(ArrayLayout(signed(acc_width), lanes))``
    relu : ``In(1)``
    shift : ``In(range(acc_width))``
        Rounding (half up) arithmetic right shift.
    y : ``Out(ArrayLayout(signed(act_width), lanes))``
    """

    def __init__(self, config, *, latency=0):
        self._config = check_config(config)
        if latency not in (0, 2):
            raise ValueError(f"latency must be 0 or 2, not {latency!r}")
        self._latency = latency
        super().__init__({
            "acc": In(data.ArrayLayout(signed(config.acc_width), config.lanes)),
            "relu": In(1),
            "shift": In(range(config.acc_width)),
            "y": Out(data.ArrayLayout(signed(config.act_width), config.lanes)),
        })

    @property
    def latency(self):
        return self._latency

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        stage = m.d.sync if self._latency else m.d.comb
        width = cfg.acc_width + 1
        for lane in range(cfg.lanes):
            z = self.acc[lane]
            activated = Signal(signed(cfg.acc_width), name=f"activated{lane}")
            u = Signal(signed(width), name=f"u{lane}")     # (2 * activated) >> shift
            m.d.comb += activated.eq(Mux(self.relu & (z < 0), 0, z))
            stage += u.eq((activated.as_signed() << 1) >> self.shift)
            # (u + 1) >> 1 > act_max  <=>  u >= 2 * act_max + 1;  < act_min  <=>  u < 2 * act_min - 1
            low = Signal(cfg.act_width + 1, name=f"low{lane}")
            m.d.comb += low.eq(u[:cfg.act_width + 1] + 1)
            with m.If(u >= 2 * cfg.act_max + 1):
                stage += self.y[lane].eq(cfg.act_max)
            with m.Elif(u < 2 * cfg.act_min - 1):
                stage += self.y[lane].eq(cfg.act_min)
            with m.Else():
                stage += self.y[lane].eq(low[1:])
        return m
