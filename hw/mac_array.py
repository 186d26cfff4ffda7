from amaranth.hdl import Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["MACArray"]


class MACArray(wiring.Component):
    """``lanes`` multiply-accumulate lanes: acc[l] += d * w[l] (golden/mac_array.py).

    Three pipeline stages: the multiplier gets a full cycle (on ECP5 one DSP with its input and
    output registers), the product is registered again next to the accumulator (the route from
    the DSP to the adder took 4 ns on the LFE5U-85F), then added: the product of ``mul`` in
    cycle t is added in cycle t+2 and visible on ``acc`` in cycle t+3. ``load`` in cycle t
    sets ``acc`` to ``load_data`` at t+1 (visible at t+1's end), overriding any add in the same
    cycle.

    Members
    -------
    mul : ``In(1)``
    delta : ``In(signed(act_width + 1))``
    weights : ``In(ArrayLayout(signed(weight_width), lanes))``
    load : ``In(1)``
    load_data : ``In(ArrayLayout(signed(acc_width), lanes))``
    acc : ``Out(ArrayLayout(signed(acc_width), lanes))``
    """

    def __init__(self, config):
        self._config = check_config(config)
        lanes = config.lanes
        super().__init__({
            "mul": In(1),
            "delta": In(signed(config.delta_width)),
            "weights": In(data.ArrayLayout(signed(config.weight_width), lanes)),
            "load": In(1),
            "load_data": In(data.ArrayLayout(signed(config.acc_width), lanes)),
            "acc": Out(data.ArrayLayout(signed(config.acc_width), lanes)),
        })

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        product_width = cfg.delta_width + cfg.weight_width
        multiplied, add = Signal(), Signal()
        m.d.sync += [multiplied.eq(self.mul), add.eq(multiplied)]
        for lane in range(cfg.lanes):
            # reset-less, so the multiplier's own output register can hold it (synth.ecp5_pack)
            product = Signal(signed(product_width), name=f"product{lane}", reset_less=True)
            near = Signal(signed(product_width), name=f"product{lane}_q", reset_less=True)
            m.d.sync += [product.eq(self.delta * self.weights[lane]), near.eq(product)]
            with m.If(self.load):
                m.d.sync += self.acc[lane].eq(self.load_data[lane])
            with m.Elif(add):
                m.d.sync += self.acc[lane].eq(self.acc[lane] + near)
        return m
