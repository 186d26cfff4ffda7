from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["MACArray"]


class MACArray(wiring.Component):
    """``lanes`` multiply-accumulate lanes: acc[l] += d * w[l] (golden/mac_array.py).

    Two pipeline stages, so the multiplier and the adder each get a full cycle (and map onto
    one DSP with its input and output registers): the product of ``mul`` in cycle t is added
    in cycle t+1 and visible on ``acc`` in cycle t+2. ``load`` in cycle t sets ``acc`` to
    ``load_data`` at t+1 (visible at t+1's end), overriding any add in the same cycle.

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
        add = Signal()
        m.d.sync += add.eq(self.mul)
        for lane in range(cfg.lanes):
            # reset-less, so the multiplier's own output register can hold it (synth.ecp5_pack)
            product = Signal(signed(product_width), name=f"product{lane}", reset_less=True)
            m.d.sync += product.eq(self.delta * self.weights[lane])
            with m.If(self.load):
                m.d.sync += self.acc[lane].eq(self.load_data[lane])
            with m.Elif(add):
                m.d.sync += self.acc[lane].eq(self.acc[lane] + product)
        return m
