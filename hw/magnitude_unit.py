from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden.cycle_model import LSTM_LATENCY

from ._check import check_config

__all__ = ["MagnitudeUnit"]


class MagnitudeUnit(wiring.Component):
    """|re + j im| of lane pairs (golden/magnitude_unit.py), pipelined with the LSTM unit's
    latency, so that both feed the same stage of the engine: ``m`` in cycle t + latency is the
    result of the block ``y`` in cycle t.

    Stages: the sum of squares; the integer square root (digit by digit, eight steps for a
    16-bit sum: re, im >= -128 give at most 2**15); the rounding shift; saturation; a register.

    Members
    -------
    valid : ``In(1)``
        ``y`` holds a block: the unit takes it (otherwise its first stage holds, so the
        square roots are not recomputed every cycle in simulation).
    y : ``In(ArrayLayout(signed(act_width), lanes))``
        Lanes 2k, 2k + 1: re and im of value k.
    shift : ``In(range(16))``
        Rounding (half up) right shift of the magnitudes; a layer register.
    m : ``Out(ArrayLayout(signed(act_width), lanes // 2))``
    """

    latency = LSTM_LATENCY

    def __init__(self, config):
        self._config = check_config(config)
        if config.lanes % 2:
            raise ValueError(f"MagnitudeUnit needs an even number of lanes, not {config.lanes}")
        super().__init__({
            "valid": In(1),
            "y": In(data.ArrayLayout(signed(config.act_width), config.lanes)),
            "shift": In(range(16)),
            "m": Out(data.ArrayLayout(signed(config.act_width), config.lanes // 2)),
        })

    def elaborate(self, platform):
        cfg = self._config
        aw = cfg.act_width
        m = Module()
        sum_bits = 2 * aw
        root_bits = aw
        for k in range(cfg.lanes // 2):
            re, im = self.y[2 * k], self.y[2 * k + 1]
            total = Signal(sum_bits, name=f"square_sum{k}")
            root = Signal(root_bits, name=f"root{k}")
            u = Signal(root_bits + 1, name=f"shifted{k}")      # (2 root) >> shift
            rounded = Signal(root_bits, name=f"rounded{k}")
            delayed = Signal(signed(aw), name=f"magnitude{k}")
            with m.If(self.valid):
                m.d.sync += total.eq(re * re + im * im)
            # floor(sqrt(total)): one result bit per step, from the top
            # (every step's remainder and partial root are signals: as nested expressions
            # each step would copy the previous ones twice)
            x, res = total, Const(0, root_bits + 1)
            bit = 1 << (sum_bits - 2)
            for step in range(root_bits):
                trial = Signal(sum_bits + 1, name=f"trial{k}_{step}")
                next_x = Signal(sum_bits, name=f"remainder{k}_{step + 1}")
                next_res = Signal(sum_bits, name=f"root{k}_{step + 1}")
                m.d.comb += [
                    trial.eq(res + bit),
                    next_x.eq(Mux(x >= trial, x - trial, x)),
                    next_res.eq(Mux(x >= trial, (res >> 1) + bit, res >> 1)),
                ]
                x, res = next_x, next_res
                bit >>= 2
            m.d.sync += root.eq(res)
            # R(r) = (((2r) >> shift) + 1) >> 1: round half up, as golden.requantize
            m.d.sync += u.eq((root << 1) >> self.shift)
            m.d.sync += rounded.eq((u + 1) >> 1)
            m.d.sync += delayed.eq(Mux(rounded > cfg.act_max, cfg.act_max, rounded))
            m.d.comb += self.m[k].eq(delayed)
        return m
