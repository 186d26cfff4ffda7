from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["SkipLogic"]


class SkipLogic(wiring.Component):
    """An input goes on to the MAC array only if its index changed (golden/skip_logic.py).

    Members
    -------
    q_new, q_old : ``In(index_width)``
    first : ``In(1)``
        First execution of a sequence: every input is processed.
    changed : ``Out(1)``
    """

    def __init__(self, config):
        self._config = check_config(config)
        super().__init__({
            "q_new": In(config.index_width),
            "q_old": In(config.index_width),
            "first": In(1),
            "changed": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.changed.eq(self.first | (self.q_new != self.q_old))
        return m
