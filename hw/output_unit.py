from amaranth.hdl import Module, Signal, Cat, C, signed
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["OutputUnit"]


class OutputUnit(wiring.Component):
    """Activation, then requantization to ``act_width`` (golden/output_unit.py), per lane.

    With ``latency=0`` (the default) the unit is combinational. With ``latency=3`` it is three
    pipeline stages, so it fits the clock of the rest of the datapath: ``y`` in cycle t+3 is the
    result for ``acc`` in cycle t (``relu`` and ``shift`` are layer registers, constant during a
    frame). The engine uses ``latency=3`` in place of registering its input and its output.

    Both use the same arithmetic, split between the stages: with ``u = (2 * z) >> shift``,
    ``(z + 2**(shift-1)) >> shift == (u + 1) >> 1`` for every shift >= 0, so no wide adder
    follows the shifter. Stage 1 shifts by the multiple of 8 in ``shift``, stage 2 by the rest,
    stage 3 applies the activation and saturates by comparing ``u`` with constants. The ReLU
    can wait for stage 3 because the shift keeps the sign: ``u < 0`` exactly when ``z < 0``.
    (On ECP5 the activation mux in front of a one-stage shifter was the critical path.)

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
        if latency not in (0, 3):
            raise ValueError(f"latency must be 0 or 3, not {latency!r}")
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
        coarse = Cat(C(0, 3), self.shift[3:])
        fine = self.shift[:3]
        for lane in range(cfg.lanes):
            z = self.acc[lane]
            u1 = Signal(signed(width), name=f"u1_{lane}")   # (2 * z) >> coarse
            u = Signal(signed(width), name=f"u{lane}")      # (2 * z) >> shift
            stage += [u1.eq((z.as_signed() << 1) >> coarse), u.eq(u1 >> fine)]
            # (u + 1) >> 1 > act_max  <=>  u >= 2**aw - 1  (aw = act_width): u is not negative
            # and has a bit set above bit aw - 1, or its low aw bits are all ones.
            # (u + 1) >> 1 < act_min  <=>  u < -2**aw - 1: u is negative and, unless every bit
            # from aw + 1 up is one, its low aw + 1 bits (u + 2**(aw+1)) are below 2**aw - 1.
            # Written as bit reductions: a comparison with a constant became a 33-bit carry
            # chain, the ECP5 critical path.
            aw = cfg.act_width
            sign = u[-1]
            high = ~sign & (u[aw:-1].any() | u[:aw].all())
            low_sat = sign & (~u[aw + 1:-1].all() | (u[:aw + 1] < (1 << aw) - 1))
            rounded = Signal(aw + 1, name=f"rounded{lane}")
            m.d.comb += rounded.eq(u[:aw + 1] + 1)
            with m.If(self.relu & sign):
                stage += self.y[lane].eq(0)
            with m.Elif(high):
                stage += self.y[lane].eq(cfg.act_max)
            with m.Elif(low_sat):
                stage += self.y[lane].eq(cfg.act_min)
            with m.Else():
                stage += self.y[lane].eq(rounded[1:])
        return m
