from amaranth.hdl import Cat, Module, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["Quantizer"]


class Quantizer(wiring.Component):
    """Activation to nearest-centroid index (golden/quantizer.py), by table lookup.

    Each layer has a table of ``2**act_width`` indices, entry ``x mod 2**act_width`` holding
    q(x) = #{k : x >= t[k]} (golden.quantization_table): any increasing centroids, linear or
    not, saturation at both ends included. One memory read replaces ``max_clusters - 1``
    comparators, a population count and the threshold registers, which were the largest part
    of the reuse logic and the engine's ECP5 critical path. ``index`` is valid one cycle
    after ``x`` (a synchronous read, as block RAM).

    Members
    -------
    x : ``In(signed(act_width))``
    layer : ``In(layer_bits)`` (``max_layers > 1`` only)
        Layer whose table is read.
    index : ``Out(index_width)``
        q(x) of the previous cycle's ``x`` and ``layer``.
    write_en : ``In(1)``
    write_addr : ``In(act_width + layer_bits)``
        ``layer << act_width | (x mod 2**act_width)``.
    write_data : ``In(index_width)``
    """

    def __init__(self, config):
        self._config = check_config(config)
        layered = {"layer": In(config.layer_bits)} if config.max_layers > 1 else {}
        super().__init__({
            "x": In(signed(config.act_width)),
            **layered,
            "index": Out(config.index_width),
            "write_en": In(1),
            "write_addr": In(config.act_width + config.layer_bits),
            "write_data": In(config.index_width),
        })

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        m.submodules.quantization_table = table = Memory(shape=cfg.index_width,
                                            depth=cfg.max_layers << cfg.act_width, init=[])
        read = table.read_port()
        write = table.write_port()
        layer = self.layer if cfg.max_layers > 1 else Cat()
        m.d.comb += [
            read.addr.eq(Cat(self.x, layer)),
            self.index.eq(read.data),
            write.addr.eq(self.write_addr),
            write.data.eq(self.write_data),
            write.en.eq(self.write_en),
        ]
        return m
