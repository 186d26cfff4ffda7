from amaranth.hdl import C, Cat, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["OutputUnit"]


class OutputUnit(wiring.Component):
    """Activation, then requantization to ``act_width`` (golden/output_unit.py), per lane.

    With ``latency=0`` (the default) the unit is combinational. With ``latency=3`` it is three
    pipeline stages, so it fits the clock of the rest of the datapath: ``y`` in cycle t+3 is the
    result for ``acc`` in cycle t. ``relu`` and ``shift`` are layer registers: with
    ``latency=3`` they must be set two cycles before the first ``acc`` that uses them (the
    unit registers copies of them, and the saturation thresholds it derives from ``shift``).

    Both use the same arithmetic, split between the stages. Saturation is decided on ``z``
    itself: with ``R(z) = (z + 2**(shift-1)) >> shift`` (round half up) and ``aw = act_width``,
    ``R(z) > act_max`` exactly when ``2z >= (2**aw - 1) << shift`` and ``R(z) < act_min``
    exactly when ``2z < -(2**aw + 1) << shift`` (for every shift >= 0, since 2z is even), one
    carry chain each against a registered threshold, in stage 2 on a copy of ``z`` registered
    in stage 1. The ReLU zero is decided on the sign of
    ``z``. The rounded value comes from ``u = (2z) >> shift``, as ``R(z) = (u + 1) >> 1``, so
    no wide adder follows the shifter: stage 1 shifts by the multiple of 8 in ``shift``, stage
    2 by the rest, stage 3 adds one to the low ``aw + 1`` bits of ``u`` (all a result that is
    not saturated needs) and selects. (On ECP5, saturation decided on ``u`` in stage 3 was the
    critical path.)

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
        aw = cfg.act_width
        # thresholds on 2z: (2**aw - 1) << shift and -(2**aw + 1) << shift
        threshold = signed(cfg.acc_width + aw + 2)
        high_from, low_below = Signal(threshold), Signal(threshold)
        # Each threshold bit is a function of the shift alone: bit i of (2**aw - 1) << s is
        # set when s <= i < s + aw, and bit i of -(2**aw + 1) << s when s <= i != s + aw. With
        # latency 3 they come from a registered thermometer code of the shift (at_most[i] is
        # s <= i), one LUT each, and the shifters use a registered copy of the shift: shift
        # and relu are layer registers that fan out to every lane (a shifter, then the
        # comparisons with constants, in front of the registers were ECP5 critical paths).
        width = threshold.width
        at_most = Signal(width)
        shift, relu = Signal.like(self.shift), Signal()
        stage += [at_most.eq(Cat(self.shift <= i for i in range(width))),
                  shift.eq(self.shift), relu.eq(self.relu)]
        def exactly(j):
            return at_most[j] & ~at_most[j - 1] if j > 0 else at_most[0]

        stage += [
            high_from.eq(Cat(at_most[i] & ~at_most[i - aw] if i >= aw else at_most[i]
                             for i in range(width))),
            low_below.eq(Cat(at_most[i] & ~exactly(i - aw) if i >= aw else at_most[i]
                             for i in range(width))),
        ]
        coarse = Cat(C(0, 3), shift[3:])
        fine = shift[:3]
        kept = aw + 1 + 7       # the bits of (2z) >> coarse that the fine shift keeps
        for lane in range(cfg.lanes):
            z2 = self.acc[lane].as_signed() << 1
            u1 = Signal(kept, name=f"u1_{lane}")            # ((2z) >> coarse)[:kept]
            u = Signal(aw + 1, name=f"u{lane}")             # ((2z) >> shift)[:aw + 1]
            zero2, high2, low2 = (Signal(name=f"{kind}{lane}")
                                  for kind in ("zero2_", "high2_", "low2_"))
            # the decisions read a registered copy of the accumulator in stage 2 (after the
            # route from the accumulators, in stage 1, the carry chain was an ECP5 critical
            # path)
            z1 = Signal(signed(cfg.acc_width), name=f"z1_{lane}")
            stage += [
                z1.eq(self.acc[lane]),
                u1.eq((z2 >> coarse)[:kept]),
                u.eq((u1 >> fine)[:aw + 1]),
                zero2.eq(relu & z1[-1]),
                high2.eq((z1 << 1) >= high_from),
                low2.eq((z1 << 1) < low_below),
            ]
            rounded = Signal(aw + 1, name=f"rounded{lane}")
            m.d.comb += rounded.eq(u + 1)
            with m.If(zero2):
                stage += self.y[lane].eq(0)
            with m.Elif(high2):
                stage += self.y[lane].eq(cfg.act_max)
            with m.Elif(low2):
                stage += self.y[lane].eq(cfg.act_min)
            with m.Else():
                stage += self.y[lane].eq(rounded[1:])
        return m
