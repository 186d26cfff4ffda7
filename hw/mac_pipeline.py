from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden import cycle_model

from ._check import check_config
from .issue_unit import Op
from .layer_table import entry_layout
from .lstm_unit import LSTMUnit
from .mac_array import MACArray
from .magnitude_unit import MagnitudeUnit
from .output_unit import OutputUnit

__all__ = ["MACPipeline"]


class MACPipeline(wiring.Component):
    """The pipeline behind the issue unit: each operation travels with its tags; stage k holds
    the operation issued k cycles ago (golden twin: golden/issue_unit.py;
    the latencies are golden/cycle_model.py's).

    - t+1: the change-list entry arrives, registered before the weight-address adder;
    - t+3: the weight address (read latency 3); t+7: the weight word is registered before
      the multiplier, which multiplies; a LOAD reads the previous outputs (or the biases) at
      t+8; t+9: the MAC array adds (``output_write_latency``), a STORE writes the output area
      and hands the block to the output unit;
    - t+12: the output unit's three stages end, the activation bank is written
      (``bank_write_latency``); an LSTM or magnitude layer's blocks go on through their unit
      (``LSTM_LATENCY`` more) and are collected into words.

    Members
    -------
    op, blk, weight_base, last_op, block_last : ``In(...)``
        The operation the issue unit issues (:class:`hw.issue_unit.IssueUnit`).
    first, bank, current : ``In(...)``
        Sequence state and the layer's entry (:class:`hw.layer_table.LayerTable`).
    change : ``In(change_layout)``
        The change-list entry read at the issue unit's ``entry`` a cycle before.
    set_complete : ``Out(2)``
        The frame's last word is written to its output bank (one-hot).
    """

    output_write_latency = cycle_model.OUTPUT_WRITE_LATENCY
    bank_write_latency = cycle_model.BANK_WRITE_LATENCY

    def __init__(self, config, buffer_ports, change_layout, weight_addr_width):
        self._config = check_config(config)
        cfg = config
        multi = cfg.max_layers > 1
        members = {
            "op": In(range(4)),
            "blk": In(range(cfg.max_blocks)),
            "loading": In(1),
            "load_blk": In(range(cfg.max_blocks)),
            "weight_base": In(weight_addr_width),
            "last_op": In(1),
            "block_last": In(1),
            "first": In(1),
            "bank": In(1),
            "current": In(entry_layout(cfg)),
            "change": In(change_layout),
            "set_complete": Out(2),
            **buffer_ports,
        }
        if multi:
            members.update({"layer": In(range(cfg.max_layers)), "last_layer": In(1)})
        super().__init__(members)
        self.mac_array = MACArray(cfg)
        self.output_unit = OutputUnit(cfg, latency=3)
        if cfg.lstm:
            self.lstm_unit = LSTMUnit(cfg)
        # a conv engine has the magnitude unit when a block holds whole (re, im) pairs
        self._magnitudes = cfg.conv and cfg.lanes % 2 == 0
        if self._magnitudes:
            self.magnitude_unit = MagnitudeUnit(cfg)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        reuse, multi, magnitudes = cfg.reuse, cfg.max_layers > 1, self._magnitudes
        m = Module()
        m.submodules.mac_array = mac = self.mac_array
        m.submodules.output_unit = ou = self.output_unit
        if cfg.lstm:
            m.submodules.lstm_unit = lstm = self.lstm_unit
        if magnitudes:
            m.submodules.magnitude_unit = mag = self.magnitude_unit
        cur = self.current
        layer_reuse = cur.reuse if reuse else Const(0)
        bank_bits = 2 if multi else 1
        block_bits = len(self.bank_write.addr) - bank_bits

        def based(address, field):
            return address + getattr(cur, field) if multi else address

        post = cfg.lstm or magnitudes        # units after the output unit
        tag_layout = data.StructLayout({
            "op": range(4), "blk": range(cfg.max_blocks), "first": 1, "bank": bank_bits,
            "last": 1,
            # a LOAD (alone, or beside a STORE) and the block it loads
            "loads": 1, "load_blk": range(cfg.max_blocks),
            # the LSTM and magnitude units': first execution of the sequence, last block of
            # the layer
            **({"sequence_first": 1, "end": 1} if post else {}),
        })
        depth = self.bank_write_latency + (LSTMUnit.latency if post else 0)
        tags = [Signal(tag_layout, name=f"op{k}") for k in range(depth + 1)]
        m.d.comb += [
            tags[0].op.eq(self.op),
            tags[0].blk.eq(self.blk),
            tags[0].loads.eq(self.loading),
            tags[0].load_blk.eq(self.load_blk),
            tags[0].first.eq(self.first | ~layer_reuse),
            # the last layer writes the frame's output bank; a hidden layer l writes 2 + (l & 1)
            tags[0].bank.eq(Mux(self.last_layer, self.bank, Cat(self.layer[0], Const(1, 1)))
                            if multi else self.bank),
            tags[0].last.eq(self.last_op),
        ]
        if post:
            m.d.comb += [tags[0].sequence_first.eq(self.first), tags[0].end.eq(self.block_last)]
        for k in range(1, len(tags)):
            m.d.sync += tags[k].eq(tags[k - 1])
        c1_base, c2_base, c3_addr = (Signal.like(self.weight_base, name=n)
                                     for n in ("c1_base", "c2_base", "c3_addr"))
        # reset-less: c2_* follow the change-list memory, c7_* are the multipliers' operands
        # (on ECP5 the block RAM's output register and the multiplier's input registers)
        c2_index = Signal.like(self.change.index, reset_less=True)
        deltas = {k: Signal(signed(cfg.delta_width), name=f"c{k}_delta", reset_less=True)
                  for k in range(2, 8)}
        c7_w = Signal.like(self.weight_read.data, reset_less=True)
        m.d.sync += [
            c1_base.eq(based(self.weight_base, "weight_base")),
            c2_base.eq(c1_base),
            c2_index.eq(self.change.index),
            deltas[2].eq(self.change.delta),
            c3_addr.eq(c2_base + c2_index),
            c7_w.eq(self.weight_read.data),
        ]
        m.d.sync += [deltas[k].eq(deltas[k - 1]) for k in range(3, 8)]
        m.d.comb += self.weight_read.addr.eq(c3_addr)
        mul, acc = self.output_write_latency - 2, self.output_write_latency
        m.d.comb += [
            mac.mul.eq(tags[mul].op == Op.MAC),
            mac.delta.eq(deltas[7]),
            mac.weights.eq(c7_w),
            self.bias_read.addr.eq(based(tags[acc - 1].load_blk, "block_base")),
        ]
        load_data = self.bias_read.data
        if reuse:
            m.d.comb += self.output_read.addr.eq(based(tags[acc - 1].load_blk, "block_base"))
            load_data = Mux(tags[acc].first, self.bias_read.data.as_value(),
                            self.output_read.data.as_value())
        # a STORE hands the accumulators to the output path as they load the next block
        m.d.comb += [mac.load.eq(tags[acc].loads), mac.load_data.eq(load_data)]
        if reuse:
            m.d.comb += [
                self.output_write.addr.eq(based(tags[acc].blk, "block_base")),
                self.output_write.data.eq(mac.acc),
                self.output_write.en.eq((tags[acc].op == Op.STORE) & layer_reuse),
            ]
        # an LSTM layer's ReLU applies to h_t, not to its gates
        m.d.comb += [ou.acc.eq(mac.acc), ou.shift.eq(cur.shift),
                     ou.relu.eq(cur.relu & ~cur.lstm if cfg.lstm else cur.relu)]
        written = tags[self.bank_write_latency]
        word_written = written.op == Op.STORE
        word_addr = Cat(written.blk[:block_bits], written.bank)
        word_data = ou.y
        complete_tag = written
        if post:
            # An LSTM layer's blocks go through the LSTM unit, which gives lanes / 4 values of
            # h_t per block, a magnitude layer's through the magnitude unit (the same
            # latency), lanes / 2 values: they are collected into a word, written when it is
            # full and at the layer's last block (the rest of the word is 0), to the layer's
            # bank (and h_t to the recurrent area). The layer does not change before the last
            # word is written: the layer switch lasts that long.
            h_out = tags[depth]
            word_layout = data.ArrayLayout(signed(cfg.act_width), cfg.lanes)
            collected, merged = Signal(word_layout), Signal(word_layout)
            units = []                  # (flag of the layer kind, values per block, values)
            if cfg.lstm:
                units.append((cur.lstm, cfg.lanes // 4, lstm.h))
                m.d.comb += [
                    lstm.valid.eq(cur.lstm & (written.op == Op.STORE)),
                    lstm.first.eq(written.sequence_first),
                    lstm.addr.eq(written.blk),
                    lstm.gates.eq(ou.y),
                ]
            if magnitudes:
                units.append((cur.magnitude, cfg.lanes // 2, mag.m))
                m.d.comb += [mag.valid.eq(cur.magnitude & (written.op == Op.STORE)),
                             mag.y.eq(ou.y), mag.shift.eq(cur.magnitude_shift)]
            post_layer = Signal()
            h_store, h_done = Signal(), Signal()
            h_word_addr = Signal(block_bits)
            full = Const(0)
            m.d.comb += post_layer.eq(Cat(flag for flag, _, _ in units).any())
            for flag, width, values in units:
                slots = cfg.lanes // width
                slot = h_out.blk[:slots.bit_length() - 1]
                with m.If(flag):
                    for k in range(cfg.lanes):
                        m.d.comb += merged[k].eq(Mux(slot == k // width, values[k % width],
                                                     collected[k]))
                    m.d.comb += h_word_addr.eq(h_out.blk >> (slots.bit_length() - 1))
                full = full | flag & (slot == slots - 1)
            m.d.comb += [h_store.eq(post_layer & (h_out.op == Op.STORE)),
                         h_done.eq(h_store & (full | h_out.end))]
            with m.If(h_store):
                m.d.sync += collected.eq(Mux(h_done, 0, merged.as_value()))
            bank_data = merged.as_value()
            if cfg.lstm:
                # h_t, raw, is the recurrent input; the next layer may see it after a ReLU
                relu = cur.lstm & cur.relu
                bank_data = Cat(Mux(relu & v[-1], 0, v) for v in merged)
                m.d.comb += [
                    self.recurrent_write.addr.eq(h_word_addr),
                    self.recurrent_write.data.eq(merged),
                    self.recurrent_write.en.eq(h_done & cur.lstm),
                ]
            word_written = Mux(post_layer, h_done, word_written)
            word_addr = Mux(post_layer, Cat(h_word_addr, h_out.bank), word_addr)
            word_data = Mux(post_layer, bank_data, word_data.as_value())
            complete_tag = tag_layout(Mux(post_layer, h_out.as_value(), written.as_value()))
        m.d.comb += [
            self.bank_write.addr.eq(word_addr),
            self.bank_write.data.eq(word_data),
            self.bank_write.en.eq(word_written),
        ]
        with m.If(word_written & complete_tag.last):
            m.d.comb += self.set_complete.eq(Mux(complete_tag.bank[0], 0b10, 0b01))
        return m
