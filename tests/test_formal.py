"""Formal checks (SymbiYosys, sim/formal.py): properties of RTL blocks for every input the
environment may give, not only the sequences the simulation tests draw."""

import pytest
from amaranth.hdl import Array, Assert, Assume, Elaboratable, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import ReadPort
from amaranth.lib.wiring import In

from golden.config import EngineConfig
from hw.io_buffer import IOBuffer
from hw.output_streamer import OutputStreamer
from hw.scan_unit import ScanUnit
from hw.skip_logic import SkipLogic
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


SCAN_CONFIG = EngineConfig(lanes=2, act_width=2, weight_width=2, acc_width=6, max_clusters=4,
                           max_inputs=2, max_outputs=2)
N = SCAN_CONFIG.max_inputs


class BrokenSkipLogic(SkipLogic):
    """A skip-logic bug, deliberately: the top bit of the indices is not compared."""

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.changed.eq(self.first | (self.q_new[:-1] != self.q_old[:-1]))
        return m


class ScanBench(Elaboratable):
    """The scan unit of a one-layer engine (N = 2, 2-bit activations, 4 clusters) on its I/O
    buffer, with every input free: the activations and their bubbles, the quantization and
    centroid tables' writes (between frames, as the host writes them), when the next frame
    starts (after the scan drained, as the issue unit ends a layer). The quantization table is
    written whole before the first input, since memories start with any contents.

    Asserted, for every input of every frame, ``ScanUnit.latency`` cycles after it is
    accepted: it is appended to the change list (with its index) if and only if its index in
    the quantization table differs from the index stored for it, or the frame is the first;
    and the index area is written with its new index exactly then. The reference is a shadow of
    both tables kept here from the writes, not the scan's own signals."""

    def __init__(self, broken=False):
        self.broken = broken
        self.x, self.valid = Signal(SCAN_CONFIG.act_width), Signal()
        self.next_frame = Signal()
        self.q_en, self.q_addr = Signal(), Signal(SCAN_CONFIG.act_width)
        self.q_data = Signal(SCAN_CONFIG.index_width)
        self.c_en, self.c_addr = Signal(), Signal(SCAN_CONFIG.index_width)
        self.c_data = Signal(SCAN_CONFIG.act_width)

    def ports(self):
        return [self.x, self.valid, self.next_frame, self.q_en, self.q_addr, self.q_data,
                self.c_en, self.c_addr, self.c_data]

    def elaborate(self, platform):
        cfg = SCAN_CONFIG
        m = Module()
        m.submodules.io = io = IOBuffer(cfg)
        names = ("index_read", "index_write", "change_write")
        m.submodules.scan = scan = ScanUnit(cfg, {n: io.signature.members[n].flip()
                                                  for n in names})
        if self.broken:
            # the replaced block is never elaborated, on purpose: no warning for it
            scan.skip_logics[0]._MustUse__silence = True
            scan.skip_logics = [BrokenSkipLogic(cfg)]
        for name in names:
            wiring.connect(m, getattr(io, name), getattr(scan, name))
        # the engine around it: N inputs a frame, reuse on, first execution until a frame ends
        first = Signal(init=1)
        drained = Signal(range(scan.latency + 2))       # cycles since the scan's last input
        idle = ~scan.scanning & (drained == scan.latency + 1)
        with m.If(scan.scan_done):
            m.d.sync += drained.eq(0)
        with m.Elif(~scan.scanning & (drained != scan.latency + 1)):
            m.d.sync += drained.eq(drained + 1)
        layer_end = self.next_frame & idle
        with m.If(layer_end):
            m.d.sync += first.eq(0)
        m.d.comb += [
            scan.current.inputs.eq(N), scan.current.reuse.eq(1), scan.upcoming_inputs.eq(N),
            scan.first.eq(first), scan.layer_end.eq(layer_end),
            scan.i_stream.valid.eq(self.valid), scan.i_stream.payload.data.eq(self.x),
            scan.quantization_write.en.eq(self.q_en),
            scan.quantization_write.addr.eq(self.q_addr),
            scan.quantization_write.data.eq(self.q_data),
            scan.centroid_write.en.eq(self.c_en), scan.centroid_write.addr.eq(self.c_addr),
            scan.centroid_write.data.eq(self.c_data),
        ]
        # the host writes the tables while the scan is idle, and the whole quantization table
        # before the first input (memories start with any contents)
        loaded = Signal(1 << cfg.act_width)
        fresh = Signal(init=1)          # no input accepted yet
        with m.If(self.q_en):
            m.d.sync += loaded.eq(loaded | (1 << self.q_addr))
        with m.If(scan.accept):
            m.d.sync += fresh.eq(0)
        m.d.comb += [Assume(~(self.q_en | self.c_en) | idle | fresh),
                     Assume(~self.valid | loaded.all())]
        # the reference: shadow tables, the index each input should get and whether it changed
        q_table = Array(Signal(cfg.index_width, name=f"q_ref{v}")
                        for v in range(1 << cfg.act_width))
        stored = Array(Signal(cfg.index_width, name=f"stored_ref{i}") for i in range(N))
        with m.If(self.q_en):
            m.d.sync += q_table[self.q_addr].eq(self.q_data)
        position = Signal(range(N))
        q_ref = q_table[self.x]                 # the table is indexed by the raw bits
        changed_ref = first | (q_ref != stored[position])
        with m.If(scan.accept):
            m.d.sync += [stored[position].eq(q_ref),
                         position.eq(Mux(position == N - 1, 0, position + 1))]
        # ... ``latency`` cycles later, against the scan's writes
        delay = [(Signal(name=f"d{k}_valid"), Signal(name=f"d{k}_changed"),
                  Signal(range(N), name=f"d{k}_position"),
                  Signal(cfg.index_width, name=f"d{k}_q")) for k in range(scan.latency)]
        m.d.sync += [a.eq(b) for a, b in zip(delay[0], (scan.accept, changed_ref, position,
                                                         q_ref))]
        for later, earlier in zip(delay[1:], delay):
            m.d.sync += [a.eq(b) for a, b in zip(later, earlier)]
        valid, changed, at, q = delay[-1]
        m.d.comb += Assert(scan.appending == (valid & changed))
        with m.If(valid & changed):
            m.d.comb += Assert((scan.change_write.data.index == at)
                               & io.index_write.en & (io.index_write.addr == at)
                               & (io.index_write.data == q))
        with m.Else():
            m.d.comb += Assert(~io.index_write.en)
        return m


@pytest.mark.slow
@pytest.mark.parametrize("broken", [False, True])
def test_scan_appends_an_input_iff_its_index_changed_bmc(tmp_path, broken):
    """Bounded model check, 22 cycles from reset (the table's four writes, two frames and
    writes between them; about 45 s on a loaded machine): passes, and fails when the skip
    logic ignores the indices' top bit (which only a second frame can show, so the check
    reaches it)."""
    bench = ScanBench(broken)
    result = check(bench, "scan", tmp_path, mode="bmc", depth=22, ports=bench.ports())
    assert result.status == ("FAIL" if broken else "PASS"), result.log[-2000:]
