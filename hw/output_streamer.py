from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden import cycle_model

from ._check import check_config
from .flags import at_last_flag, kept
from .signatures import output_layout

__all__ = ["OutputStreamer"]


class OutputStreamer(wiring.Component):
    """Drains complete output banks in frame order, one block of ``lanes`` outputs per beat
    (golden twin: the output beats of golden/cycle_model.py).

    It keeps the state of both output banks: ``busy`` from the frame's first LOAD (``claim``)
    to its last beat, ``complete`` from its last bank write (``set_complete``) to its last
    beat. Two stages, both frozen while a beat waits for ready: the bank read (its data in the
    RAM's output latch) and the registered payload, so the output port follows a register (on
    ECP5 the block RAM's output register) and no RAM output drives a port: the first beat is
    visible ``latency`` cycles after the first read.

    Members
    -------
    o_stream : ``Out(stream.Signature(output_layout(config)))``
    stream_blocks : ``In(...)``
        Beats per frame.
    claim, set_complete : ``In(2)``
        A bank is claimed by a frame / fully written (one-hot).
    bank : ``In(1)``
        The bank the running frame writes.
    bank_busy : ``Out(1)``
        ``bank`` is claimed and not yet streamed out.
    bank_clears : ``Out(1)``
        ``bank``'s last beat is on the output stream (a kept wire of registers).
    bank_read : ``In(ReadPort.Signature(...))``
        The activation banks' read port (hw.io_buffer).
    """

    latency = cycle_model.OUTPUT_READ_LATENCY

    def __init__(self, config, buffer_ports):
        self._config = check_config(config)
        cfg = config
        super().__init__({
            "o_stream": Out(stream.Signature(output_layout(cfg))),
            "stream_blocks": In(range(cfg.max_blocks + 1)),
            "claim": In(2),
            "set_complete": In(2),
            "bank": In(1),
            "bank_busy": Out(1),
            "bank_clears": Out(1),
            **buffer_ports,
        })

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        m = Module()
        busy = Signal(2)              # bank claimed by a frame and not yet streamed out
        complete = Signal(2)          # bank fully written, waiting for / being streamed
        clear = Signal(2)             # a bank's last beat goes out
        out_bank = Signal()           # the bank being drained
        out_valid, out_last = Signal(), Signal()
        out_blk = Signal(range(cfg.max_blocks))
        issued_all = Signal()
        read_valid, read_last = Signal(), Signal()      # stage 1: block in the RAM latch
        out_data = Signal.like(self.bank_read.data, reset_less=True)
        advance = Signal()
        reading = Signal()
        block_bits = len(self.bank_read.addr) - (2 if cfg.max_layers > 1 else 1)
        # out_blk's last block as a flag register (stream_blocks changes by register writes
        # only, never while a frame streams out)
        out_at_last = at_last_flag(m, out_blk, reading, self.stream_blocks, "out_at_last")
        bank_clears = kept("bank_clears_out")
        m.d.comb += [
            advance.eq(~out_valid | self.o_stream.ready),
            self.bank_read.en.eq(advance),
            self.bank_read.addr.eq(Cat(out_blk[:block_bits], out_bank)),
            self.o_stream.valid.eq(out_valid),
            self.o_stream.payload.data.eq(out_data),
            self.o_stream.payload.last.eq(out_last),
            reading.eq(advance & complete.bit_select(out_bank, 1) & ~issued_all),
            self.bank_busy.eq(busy.bit_select(self.bank, 1)),
            bank_clears.eq(out_valid & out_last & (out_bank == self.bank)),
            self.bank_clears.eq(bank_clears),
        ]
        with m.If(advance):
            m.d.sync += [out_data.eq(self.bank_read.data), out_valid.eq(read_valid),
                         out_last.eq(read_last), read_valid.eq(0)]
        with m.If(reading):
            m.d.sync += [read_valid.eq(1), read_last.eq(out_at_last), out_blk.eq(out_blk + 1)]
            with m.If(out_at_last):
                m.d.sync += [issued_all.eq(1), out_blk.eq(0)]
        with m.If(out_valid & self.o_stream.ready & out_last):
            m.d.comb += clear.eq(Mux(out_bank, 0b10, 0b01))
            m.d.sync += [out_bank.eq(~out_bank), issued_all.eq(0)]
        m.d.sync += [
            complete.eq((complete | self.set_complete) & ~clear),
            busy.eq((busy | self.claim) & ~clear),
        ]
        return m
