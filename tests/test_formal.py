"""Formal checks (SymbiYosys, sim/formal.py): properties of RTL blocks for every input the
environment may give, not only the sequences the simulation tests draw."""

import pytest
from amaranth.hdl import Assert, Assume, Elaboratable, Module, Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.memory import ReadPort
from amaranth.lib.wiring import In

from golden.config import EngineConfig
from hw.output_streamer import OutputStreamer
from sim.formal import check

CONFIG = EngineConfig(lanes=2, act_width=4, weight_width=4, acc_width=12, max_clusters=4,
                      max_inputs=4, max_outputs=8)


class StreamerBench(Elaboratable):
    """The output streamer with every input free, under the engine's contract: a frame claims
    the bank it writes only when that bank is not busy, the banks alternate, a bank is set
    complete once per claim; the bank's data and ``ready`` are anything, every cycle.

    Asserted: the output stream follows amaranth.lib.stream's rules (a beat, once valid, stays
    valid with the same payload until ready), and no beat is lost or duplicated: every frame is
    ``stream_blocks`` beats, ``last`` on its final one. ``broken``: the streamer does not hold
    its payload while a beat waits (:class:`BrokenStreamer`; the check must then fail)."""

    def __init__(self, broken=False):
        self.broken = broken
        self.ready = Signal()
        self.blocks_in = Signal(range(CONFIG.max_blocks + 1))
        self.claim_in, self.complete_in = Signal(2), Signal(2)
        self.bank_in = Signal()
        self.data_in = Signal(CONFIG.lanes * CONFIG.act_width)

    def ports(self):
        return [self.ready, self.blocks_in, self.claim_in, self.complete_in, self.bank_in,
                self.data_in]

    def elaborate(self, platform):
        m = Module()
        # the banks' read port as hw.io_buffer gives it; the data read is anything
        block_bits = max(1, (CONFIG.max_blocks - 1).bit_length())
        word = data.ArrayLayout(signed(CONFIG.act_width), CONFIG.lanes)
        bank_read = In(ReadPort.Signature(addr_width=block_bits + 1, shape=word))
        streamer = BrokenStreamer if self.broken else OutputStreamer
        m.submodules.dut = dut = streamer(CONFIG, {"bank_read": bank_read})
        m.d.comb += dut.bank_read.data.eq(self.data_in)
        # frame length: any 1 .. max_blocks, fixed from reset
        started, blocks = Signal(), Signal.like(self.blocks_in)
        m.d.sync += started.eq(1)
        with m.If(~started):
            m.d.sync += blocks.eq(self.blocks_in)
        stream_blocks = Mux(started, blocks, self.blocks_in)
        m.d.comb += Assume((stream_blocks >= 1) & (stream_blocks <= CONFIG.max_blocks))
        # the engine's contract: claims alternate banks, on a bank not busy; each claim is set
        # complete once, later
        claimed = Signal(2)             # claimed and not yet set complete
        next_bank = Signal()
        m.d.comb += [
            dut.stream_blocks.eq(stream_blocks), dut.bank.eq(self.bank_in),
            dut.claim.eq(self.claim_in), dut.set_complete.eq(self.complete_in),
            Assume((self.claim_in == 0) | ((self.claim_in == Mux(next_bank, 0b10, 0b01))
                                           & (self.bank_in == next_bank) & ~dut.bank_busy)),
            Assume((self.complete_in & ~claimed) == 0),
            Assume((self.complete_in == 0) | (self.complete_in == 0b01)
                   | (self.complete_in == 0b10)),
        ]
        m.d.sync += claimed.eq((claimed | self.claim_in) & ~self.complete_in)
        with m.If(self.claim_in != 0):
            m.d.sync += next_bank.eq(~next_bank)
        stream = dut.o_stream
        m.d.comb += stream.ready.eq(self.ready)
        # stream rules: a beat waiting for ready stays, unchanged
        was_waiting = Signal()
        was_data, was_last = Signal.like(stream.payload.data), Signal()
        m.d.sync += [was_waiting.eq(stream.valid & ~stream.ready),
                     was_data.eq(stream.payload.data), was_last.eq(stream.payload.last)]
        with m.If(was_waiting):
            m.d.comb += Assert(stream.valid & (stream.payload.data == was_data)
                               & (stream.payload.last == was_last))
        # every frame is stream_blocks beats, last on the final one
        beats = Signal(range(CONFIG.max_blocks + 1))
        with m.If(stream.valid & stream.ready):
            m.d.comb += Assert(stream.payload.last == (beats == stream_blocks - 1))
            m.d.sync += beats.eq(Mux(stream.payload.last, 0, beats + 1))
        return m


class BrokenStreamer(OutputStreamer):
    """A stream bug, deliberately: the payload is not held while the beat waits for ready."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        with m.If(~self.o_stream.ready):
            m.d.comb += self.o_stream.payload.data.eq(0)
        return m


@pytest.mark.parametrize("broken", [False, True])
def test_output_stream_rules_and_frame_lengths_bmc(tmp_path, broken):
    """Bounded model check, 20 cycles from reset: passes, and fails on the broken streamer."""
    bench = StreamerBench(broken)
    result = check(bench, "streamer", tmp_path, mode="bmc", depth=20, ports=bench.ports())
    assert result.status == ("FAIL" if broken else "PASS"), result.log[-2000:]
