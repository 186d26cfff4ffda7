from amaranth.hdl import Cat, Module, Signal, signed, unsigned
from amaranth.lib import wiring, data
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["Quantizer"]


class Quantizer(wiring.Component):
    """Activation to nearest-centroid index (golden/quantizer.py): q = #{k < C-1 : x >= t[k]}.

    ``max_clusters - 1`` comparators and a population count. Inputs outside the table saturate
    to 0 or C-1 by construction. With ``latency=0`` (the default) the unit is combinational;
    with ``latency=1`` the comparison bits are registered and ``index`` is valid one cycle
    after ``x``. The engine uses ``latency=1`` on the input stream's payload in place of
    registering ``x`` first: the same cycle contract, with comparators and popcount in
    different cycles (together they were the engine's ECP5 critical path, 74 MHz).

    Members
    -------
    x : ``In(signed(act_width))``
    thresholds : ``In(ArrayLayout(signed(act_width), max_clusters - 1))``
    clusters : ``In(range(max_clusters + 1))``
        Run-time C of the layer; thresholds at k >= C-1 are ignored.
    index : ``Out(index_width)``
    """

    def __init__(self, config, *, latency=0):
        self._config = check_config(config)
        if latency not in (0, 1):
            raise ValueError(f"latency must be 0 or 1, not {latency!r}")
        self._latency = latency
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
        above = Cat((self.x >= self.thresholds[k]) & (k < self.clusters - 1)
                    for k in range(self._config.max_clusters - 1))
        if self._latency:
            registered = Signal.like(above, name="above")
            m.d.sync += registered.eq(above)
            above = registered
        m.d.comb += self.index.eq(sum(above[k] for k in range(len(above))))
        return m
