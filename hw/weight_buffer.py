import math

from amaranth.hdl import Array, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory, ReadPort, WritePort
from amaranth.lib.wiring import Out

from ._check import check_config

__all__ = ["WeightBuffer", "WEIGHT_BANK_DEPTH"]

# Words per weight bank: a large weight buffer is built of banks whose outputs are registered
# before the bank multiplexer (on ECP5 the multiplexer of a cascade of 127 block RAMs set the
# clock at 75 MHz when it followed the RAM outputs directly).
WEIGHT_BANK_DEPTH = 16384

# For ECP5 (``block_ram_slices``), the word of a bank is cut into bit slices as wide as one
# block RAM is at the bank's depth (DP16KD: 16K x 1 ... 512 x 36), so a slice is whole block
# RAMs with no multiplexer behind them: with 1K-word banks, the 16:1 bank multiplexer's routes
# from RAMs across the die were the ECP5 critical path. The slices hold the same bits as one
# memory per bank, which is what simulation and the other flows get: Verilator evaluates every
# slice's ports each cycle, and the Silero engine's 1-bit slices halved its simulation speed.
_BLOCK_RAM_SHAPES = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))


def slice_width(depth):
    """Bits per weight-bank slice for a bank of ``depth`` words."""
    return next(width for words, width in _BLOCK_RAM_SHAPES if depth <= words)


class WeightBuffer(wiring.Component):
    """Weights and biases (golden/weight_buffer.py gives the layout).

    One weight word holds the ``lanes`` weights of one input for one output block, at address
    ``weight_base + block * N + input``; one bias word holds a block's ``lanes`` biases, at
    ``block_base + block``, and is written one lane at a time. Each layer of a network has its
    own bases (golden.network_writes).

    The weight read port has a latency of three cycles: address in cycle t, the banks' outputs
    are registered at the end of t+1, the first level of the bank multiplexer at the end of
    t+2, and ``weight_read.data`` is valid in t+3 (the second level, after those registers).
    With ``block_ram_slices`` (the ECP5 flow), a bank is cut into bit slices as wide as one
    block RAM is at the bank's depth (:func:`slice_width`). With one bank (the default engine)
    the multiplexer is a register.

    Members
    -------
    weight_read, weight_write : memory ports of the weights (read latency 3; a write takes
        effect one cycle later than a memory port's)
    bias_read, bias_write : memory ports of the biases (write granularity: one lane)
    """

    def __init__(self, config, *, block_ram_slices=False):
        self._config = check_config(config)
        if not isinstance(block_ram_slices, bool):
            raise TypeError(f"block_ram_slices must be True or False, not {block_ram_slices!r}")
        self._block_ram_slices = block_ram_slices
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
        m.submodules.biases = biases = Memory(shape=self._bias_word, depth=self._bias_depth,
                                              init=[])
        wiring.connect(m, wiring.flipped(self.bias_read), biases.read_port())
        wiring.connect(m, wiring.flipped(self.bias_write), biases.write_port(granularity=1))

        depth = self._weight_depth
        bank_depth = min(depth, WEIGHT_BANK_DEPTH)
        n_banks = -(-depth // bank_depth)
        low = max(1, (bank_depth - 1).bit_length())
        read_sel, write_sel = self.weight_read.addr[low:], self.weight_write.addr[low:]
        # Writes are registered, with the bank decoded, before they fan out to the banks (the
        # configuration port's decode followed by the route to a block RAM across the die was
        # the ECP5 critical path): a weight is written one cycle after the request, long
        # before the correct phase can read it.
        write_addr = Signal.like(self.weight_write.addr, reset_less=True)
        write_data = Signal.like(self.weight_write.data, reset_less=True)
        m.d.sync += [write_addr.eq(self.weight_write.addr), write_data.eq(self.weight_write.data)]
        outputs = []
        word_bits = self._weight_word.size
        for k in range(n_banks):
            words = max(2, min(bank_depth, depth - k * bank_depth))
            # reset-less, as every register at a memory output: on ECP5 it becomes the block
            # RAM's own output register (synth.ecp5_pack)
            registered = Signal(self._weight_word, name=f"bank{k}_q", reset_less=True)
            write_en = Signal(name=f"bank{k}_write_en")
            m.d.sync += write_en.eq(self.weight_write.en & (write_sel == k if n_banks > 1 else 1))
            width = slice_width(words) if self._block_ram_slices else word_bits
            slices = range(0, word_bits, width)
            bank_name = "weights" if n_banks == 1 else f"weights_bank{k}"
            for lo in slices:
                hi = min(lo + width, word_bits)
                name = f"{bank_name}_slice{lo // width}" if len(slices) > 1 else bank_name
                m.submodules[name] = bank = Memory(shape=hi - lo, depth=words, init=[])
                read, write = bank.read_port(), bank.write_port()
                m.d.comb += [
                    read.addr.eq(self.weight_read.addr[:low]),
                    read.en.eq(self.weight_read.en),
                    write.addr.eq(write_addr[:low]),
                    write.data.eq(write_data.as_value()[lo:hi]),
                    write.en.eq(write_en),
                ]
                m.d.sync += registered.as_value()[lo:hi].eq(read.data)
            outputs.append(registered)
        # The bank multiplexer is two levels of about sqrt(banks) inputs with a register in
        # between (a one-level 16:1 multiplexer over banks spread across the die was the ECP5
        # critical path): a group's bank is selected by the address two cycles ago, the group
        # by the address three cycles ago.
        group_bits = math.isqrt(n_banks - 1).bit_length() if n_banks > 1 else 0   # ~sqrt
        group = 1 << group_bits
        groups = [outputs[k:k + group] for k in range(0, n_banks, group)]
        sel = [Signal.like(read_sel, name=f"sel{k}") for k in (1, 2, 3)]
        m.d.sync += [sel[0].eq(read_sel), sel[1].eq(sel[0]), sel[2].eq(sel[1])]
        chosen = []
        for k, members in enumerate(groups):
            q = Signal(self._weight_word, name=f"group{k}_q", reset_less=True)
            m.d.sync += q.eq(Array(members)[sel[1][:group_bits]] if len(members) > 1
                             else members[0])
            chosen.append(q)
        m.d.comb += self.weight_read.data.eq(Array(chosen)[sel[2][group_bits:]]
                                             if len(chosen) > 1 else chosen[0])
        return m
