from amaranth.hdl import Module, signed
from amaranth.lib import wiring, data
from amaranth.lib.memory import Memory, ReadPort, WritePort
from amaranth.lib.wiring import Out

from ._check import check_config

__all__ = ["WeightBuffer"]


class WeightBuffer(wiring.Component):
    """Weights and biases (golden/weight_buffer.py gives the layout).

    One weight word holds the ``lanes`` weights of one input for one output block, at address
    ``weight_base + block * N + input``; one bias word holds a block's ``lanes`` biases, at
    ``block_base + block``, and is written one lane at a time. Each layer of a network has its
    own bases (golden.network_writes).

    Members
    -------
    weight_read, weight_write : memory ports of the weights
    bias_read, bias_write : memory ports of the biases (write granularity: one lane)
    """

    def __init__(self, config):
        self._config = check_config(config)
        cfg = config
        weight_word = data.ArrayLayout(signed(cfg.weight_width), cfg.lanes)
        bias_word = data.ArrayLayout(signed(cfg.acc_width), cfg.lanes)
        # at least two words: Memory gives depth 1 a 0-bit address (see io_buffer.py)
        self._weight_depth = max(2, cfg.weight_depth)
        self._bias_depth = max(2, cfg.block_depth)
        waw = max(1, (self._weight_depth - 1).bit_length())
        baw = max(1, (self._bias_depth - 1).bit_length())
        self._weight_word, self._bias_word = weight_word, bias_word
        super().__init__({
            "weight_read": Out(ReadPort.Signature(addr_width=waw, shape=weight_word)),
            "weight_write": Out(WritePort.Signature(addr_width=waw, shape=weight_word)),
            "bias_read": Out(ReadPort.Signature(addr_width=baw, shape=bias_word)),
            "bias_write": Out(WritePort.Signature(addr_width=baw, shape=bias_word, granularity=1)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.weights = weights = Memory(shape=self._weight_word, depth=self._weight_depth, init=[])
        m.submodules.biases = biases = Memory(shape=self._bias_word, depth=self._bias_depth, init=[])
        wiring.connect(m, wiring.flipped(self.weight_read), weights.read_port())
        wiring.connect(m, wiring.flipped(self.weight_write), weights.write_port())
        wiring.connect(m, wiring.flipped(self.bias_read), biases.read_port())
        wiring.connect(m, wiring.flipped(self.bias_write), biases.write_port(granularity=1))
        return m
