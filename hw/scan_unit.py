from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden import cycle_model
from golden.config import ceil_log2

from ._check import check_config
from .bank_reader import BankReader
from .centroid_table import CentroidTable
from .change_compactor import ChangeCompactor
from .delta_subtractor import DeltaSubtractor
from .flags import at_last_flag
from .layer_table import entry_layout
from .quantizer import Quantizer
from .signatures import input_layout, layer_switch, table_writes
from .skip_logic import SkipLogic

__all__ = ["ScanUnit"]


class ScanUnit(wiring.Component):
    """The scan: a beat of ``scan_width`` (W) inputs per cycle is quantized, compared with the
    stored indices and the changed inputs are appended to the change list with their deltas
    (golden twin: golden/scan_unit.py, timed by golden/cycle_model.py).

    Layer 0 scans the input stream; layer l > 0 scans the hidden bank layer l - 1 wrote, W of
    a word's ``lanes`` activations a cycle, and an LSTM layer h_{t-1} from the recurrent area
    after x_t. The pipeline: accept, quantize + read the stored indices, registered copies of
    both indices (they come from block RAM output registers and are copied once in the fabric
    before the comparison: the route from the RAMs followed by the skip decision was the ECP5
    critical path), compare + look up centroids, delta, write the indices and the change list:
    ``latency`` cycles from accept to the writes. A layer's last beat may be partial: its
    inputs past N are neither compared nor counted.

    With W = 1 every scanned input is written at the change list's tail, which only moves
    past a changed one (so the write enable does not wait for the skip decision); the list's
    length counts in the same cycle, and the issue unit may issue its first LOAD then
    (``appending``). With W > 1 the list is banked and written a cycle later
    (:class:`hw.change_compactor.ChangeCompactor`).

    Members
    -------
    i_stream : ``In(stream.Signature(input_layout(config)))``
    scanning : ``Out(1)``
        The scan runs (the input stream is ready while layer 0 scans).
    scan_done : ``Out(1)``
        The layer's last beat is accepted.
    sequence_start : ``Out(1)`` (``max_layers > 1``)
        ``start`` while scanning: the engine switches to layer 0.
    accept, appending : ``Out(1)``
        A beat is accepted; (W = 1) an input is appended to the change list.
    scanned, changed, index_writes : ``Out(range(W + 1))``
        Inputs accepted, appended to the change list, whose index is written (counters).
    n_changed : ``Out(...)``
        The change list's length (``appending`` not yet counted).
    has_changes, one_entry : ``Out(1)``
        The list is not empty / has one entry, counting the pending append.
    stall : ``Out(1)``
        The scan waits for an input.
    framing_error : ``Out(1)``
        Sticky: an input beat's ``last`` disagreed with the layer's N.
    """

    latency = cycle_model.INDEX_WRITE_LATENCY

    def __init__(self, config, buffer_ports):
        self._config = check_config(config)
        cfg = config
        multi = cfg.max_layers > 1
        width = cfg.scan_width
        entry = entry_layout(cfg)
        members = {
            "i_stream": In(stream.Signature(input_layout(cfg))),
            **{name: In(1) for name in ("start", "layer_end", "first")},
            "current": In(entry),
            "upcoming_inputs": In(range(cfg.max_inputs + 1)),
            **{name: Out(1) for name in ("scanning", "scan_done", "accept", "appending",
                                         "has_changes", "one_entry", "stall", "framing_error")},
            **{name: Out(range(width + 1)) for name in ("scanned", "changed", "index_writes")},
            "n_changed": Out(range(cfg.max_inputs + 1)),
            **buffer_ports,
        }
        if multi:
            members.update({name: member.flip() for name, member in layer_switch(cfg).items()})
            members["sequence_start"] = Out(1)
        if cfg.lstm:
            members.update({"upcoming_x_inputs": In(range(cfg.max_inputs + 1)),
                            "first_is_lstm": In(1)})
        if cfg.reuse:
            members.update({name: member.flip() for name, member in table_writes(cfg).items()})
        super().__init__(members)
        if cfg.reuse:
            # one quantizer, centroid table, skip logic and delta subtractor per input of a
            # beat (the tables are copies, written together)
            self.quantizers = [Quantizer(cfg) for _ in range(width)]
            self.centroid_tables = [CentroidTable(cfg) for _ in range(width)]
            self.delta_subtractors = [DeltaSubtractor(cfg) for _ in range(width)]
            self.skip_logics = [SkipLogic(cfg) for _ in range(width)]
        if multi:
            self.bank_reader = BankReader(cfg, {name: port for name, port in buffer_ports.items()
                                                if name in ("scan_read", "recurrent_read")})
        if width > 1:
            change_layout = buffer_ports["change_write_0"].signature.members["data"].shape
            self.change_compactor = ChangeCompactor(cfg, change_layout, {
                name: port for name, port in buffer_ports.items()
                if name.startswith("change_write_")})

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        reuse, multi = cfg.reuse, cfg.max_layers > 1
        width = cfg.scan_width
        wide = width > 1
        lanes = range(width)
        m = Module()
        cur, first = self.current, self.first
        layer_reuse = cur.reuse if reuse else Const(0)

        def based(address, field):
            return address + getattr(cur, field) if multi else address

        # ---- the scan's source: the input stream, or (max_layers > 1) the bank reader
        from_bank = Signal()
        stream_x = ([self.i_stream.payload.data[k] for k in lanes] if wide
                    else [self.i_stream.payload.data])
        scan_x = [Signal(signed(cfg.act_width), name=f"scan_x{k}" if wide else "scan_x")
                  for k in lanes]
        fetch = Signal()
        if multi:
            m.submodules.bank_reader = reader = self.bank_reader
            for name in ("scan_read", "recurrent_read"):
                if name in reader.signature.members:
                    wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(reader, name))
            m.d.comb += [reader.fetch.eq(fetch), reader.target.eq(self.target),
                         reader.first.eq(first)]
            if cfg.lstm:
                m.d.comb += [reader.lstm.eq(cur.lstm), reader.x_words.eq(cur.x_words),
                             reader.first_is_lstm.eq(self.first_is_lstm)]
                # an LSTM layer 0 scans x_t from the input stream, then (h_phase) h_{t-1}
                h_phase = Signal()
                first_lstm = Signal()
                m.d.comb += [first_lstm.eq((self.layer == 0) & cur.lstm),
                             from_bank.eq((self.layer != 0) | h_phase)]
            else:
                m.d.comb += from_bank.eq(self.layer != 0)
            m.d.comb += [x.eq(Mux(from_bank, b, s))
                         for x, b, s in zip(scan_x, reader.data, stream_x)]
        else:
            m.d.comb += [x.eq(s) for x, s in zip(scan_x, stream_x)]

        # ---- the scan pipeline: a beat of ``width`` inputs per stage
        log_width = width.bit_length() - 1
        scan_count = Signal(range(-(-cfg.max_inputs // width)))     # the beat
        accept = self.accept
        s1_valid, s2_valid, s3_valid, s4_valid = Signal(), Signal(), Signal(), Signal()
        s1_x, s2_x, s3_x = ([Signal(signed(cfg.act_width), name=f"s{s}_x{k}" if wide
                                    else f"s{s}_x") for k in lanes] for s in (1, 2, 3))
        s1_i, s2_i, s3_i, s4_i = (Signal(len(scan_count), name=f"s{s}_i") for s in (1, 2, 3, 4))
        s4_d = [Signal(signed(cfg.delta_width), name=f"s4_d{k}" if wide else "s4_d")
                for k in lanes]
        s3_changed = [Signal(name=f"s3_changed{k}" if wide else "s3_changed") for k in lanes]
        # s4's inputs appended to the change list
        s4_changed = [Signal(name=f"s4_changed{k}" if wide else "s4_changed") for k in lanes]

        scanning = Signal(init=1)
        m.d.comb += [
            self.scanning.eq(scanning),
            accept.eq(Mux(from_bank, scanning, self.i_stream.valid & self.i_stream.ready)),
            self.i_stream.ready.eq(scanning & ~from_bank),
            self.stall.eq(scanning & ~accept),
        ]
        # The scan's end is a flag register, kept from the inputs of the layer the engine runs
        # or switches to: in place when that layer's scan starts, three cycles after a register
        # write reaches the layer table.
        upcoming_beats = ((self.upcoming_inputs + width - 1) >> log_width if wide
                          else self.upcoming_inputs)
        at_last_input = at_last_flag(m, scan_count, accept, upcoming_beats, "at_last_input")
        m.d.sync += [
            s1_valid.eq(accept), s1_i.eq(scan_count),
            s2_valid.eq(s1_valid), s2_i.eq(s1_i),
            s3_valid.eq(s2_valid), s3_i.eq(s2_i),
            s4_valid.eq(s3_valid), s4_i.eq(s3_i),
        ]
        m.d.sync += [a.eq(b) for a, b in zip(s1_x + s2_x + s3_x, scan_x + s1_x + s2_x)]
        m.d.sync += [s4.eq(s3_valid & s3) for s4, s3 in zip(s4_changed, s3_changed)]
        # inputs of the beat inside the layer (the last beat may be partial)
        s3_in = [Const(1)]
        if wide:
            tail = Signal(range(width + 1))      # inputs of the last beat
            m.d.sync += tail.eq(Mux(self.upcoming_inputs[:log_width] == 0, width,
                                    self.upcoming_inputs[:log_width]))
            beat_in = [~at_last_input | (k < tail) for k in lanes]
            s1_in, s2_in, s3_in = ([Signal(name=f"s{s}_in{k}") for k in lanes]
                                   for s in (1, 2, 3))
            m.d.sync += [a.eq(b) for a, b in zip(s1_in + s2_in + s3_in,
                                                 beat_in + s1_in + s2_in)]
            m.d.comb += self.scanned.eq(Mux(accept, Mux(at_last_input, tail, width), 0))
        else:
            m.d.comb += self.scanned.eq(accept)
        stream_last = at_last_input
        if cfg.lstm:
            x_last = Signal.like(scan_count)
            at_last_x = Signal()
            x_end = Signal()            # an LSTM layer 0 accepts its last x_t input
            m.d.sync += x_last.eq((self.upcoming_x_inputs >> log_width) - 1)
            m.d.comb += [at_last_x.eq(scan_count == x_last),
                         x_end.eq(accept & first_lstm & ~h_phase & at_last_x)]
            stream_last = Mux(first_lstm, at_last_x, at_last_input)
            with m.If(x_end):
                m.d.sync += h_phase.eq(1)
            with m.If(accept & at_last_input):
                m.d.sync += h_phase.eq(0)
        with m.If(accept & ~from_bank & (self.i_stream.payload.last != stream_last)):
            m.d.sync += self.framing_error.eq(1)

        if reuse:
            quants, tables = self.quantizers, self.centroid_tables
            subs, skips = self.delta_subtractors, self.skip_logics
            for k in lanes:
                suffix = f"_{k}" if wide else ""
                m.submodules[f"quantizer{suffix}"] = quants[k]
                m.submodules[f"centroid_table{suffix}"] = tables[k]
                m.submodules[f"delta_subtractor{suffix}"] = subs[k]
                m.submodules[f"skip_logic{suffix}"] = skips[k]
                for block, port in ((quants[k], self.quantization_write),
                                    (tables[k], self.centroid_write)):
                    m.d.comb += [block.write_en.eq(port.en), block.write_addr.eq(port.addr),
                                 block.write_data.eq(port.data)]
                    if multi:
                        m.d.comb += block.layer.eq(self.layer)
            # registers right after a memory read are reset-less: on ECP5 they become the
            # block RAM's output register (synth.ecp5_pack)
            s2_q_new, s2_q_old = ([Signal(cfg.index_width, reset_less=True,
                                          name=f"s2_q_{w}{k}" if wide else f"s2_q_{w}")
                                   for k in lanes] for w in ("new", "old"))
            s3_q_new, s3_q_old, s4_q_new = ([Signal(cfg.index_width, name=f"{n}{k}" if wide
                                                    else n) for k in lanes]
                                            for n in ("s3_q_new", "s3_q_old", "s4_q_new"))
            s4_write = [Signal(name=f"s4_write{k}" if wide else "s4_write") for k in lanes]
            for k in lanes:
                m.d.comb += [
                    quants[k].x.eq(scan_x[k]),                   # index at t+1, as s1_x
                    tables[k].index_a.eq(s2_q_new[k]),           # centroids at t+3, as s3_x
                    tables[k].index_b.eq(s2_q_old[k]),
                    skips[k].q_new.eq(s3_q_new[k]),
                    skips[k].q_old.eq(s3_q_old[k]),
                    skips[k].first.eq(first),
                    s3_changed[k].eq((skips[k].changed | ~layer_reuse) & s3_in[k]),
                    subs[k].new.eq(tables[k].centroid_a),
                    subs[k].old.eq(tables[k].centroid_b),
                    subs[k].first.eq(first),
                ]
            if cfg.blocking:
                # words of ``lanes`` indices (hw.io_buffer): the scan reads the word of its
                # beat and picks the beat's W indices a cycle later, and writes them (the
                # layer's base is aligned to a beat)
                beats = cfg.lanes // width          # beats a word
                gb = ceil_log2(beats)
                base = cur.index_base >> log_width
                read_beat, written_beat = scan_count + base, s4_i + base
                s1_group = Signal(range(beats))
                m.d.sync += s1_group.eq(read_beat[:gb])
                word = self.index_read.data
                old_index = [Array(word[g * width + k] for g in range(beats))[s1_group]
                             for k in lanes]
                m.d.comb += [
                    self.index_read.addr.eq(read_beat >> gb),
                    self.index_write.addr.eq(written_beat >> gb),
                    self.index_write.data.eq(Cat(Cat(s4_q_new) for _ in range(beats))),
                    self.index_write.en.eq(Cat(Mux(written_beat[:gb] == g, Cat(s4_write), 0)
                                               for g in range(beats))),
                ]
            elif wide:
                # words of ``width`` indices (hw.io_buffer), the layer's base aligned to them
                base = cur.index_base >> log_width if multi else 0
                old_index = [self.index_read.data[k] for k in lanes]
                m.d.comb += [
                    self.index_read.addr.eq(scan_count + base),
                    self.index_write.addr.eq(s4_i + base),
                    self.index_write.data.eq(Cat(s4_q_new)),
                    self.index_write.en.eq(Cat(s4_write)),
                ]
            else:
                old_index = [self.index_read.data]
                m.d.comb += [
                    self.index_read.addr.eq(based(scan_count, "index_base")),
                    # the decision is registered before the route to the index area's RAM
                    self.index_write.addr.eq(based(s4_i, "index_base")),
                    self.index_write.data.eq(s4_q_new[0]),
                    self.index_write.en.eq(s4_write[0]),
                ]
            for k in lanes:
                m.d.sync += [
                    s2_q_new[k].eq(quants[k].index),
                    s2_q_old[k].eq(old_index[k]),
                    s3_q_new[k].eq(s2_q_new[k]),
                    s3_q_old[k].eq(s2_q_old[k]),
                    s4_q_new[k].eq(s3_q_new[k]),
                    s4_write[k].eq(s3_valid & s3_changed[k] & layer_reuse),
                    # a layer in baseline mode: d = x
                    s4_d[k].eq(Mux(layer_reuse, subs[k].delta, s3_x[k])),
                ]
            m.d.comb += self.index_writes.eq(sum(s4_write) if wide else s4_write[0])
        else:
            m.d.comb += [s3_changed[k].eq(s3_in[k]) for k in lanes]
            m.d.sync += [s4_d[k].eq(s3_x[k]) for k in lanes]

        # ---- the change list and its length
        n_changed = self.n_changed
        any_change = Signal()         # n_changed != 0, counted with it
        one_change = Signal()         # n_changed == 1, likewise
        if wide:
            # a beat's changed inputs to consecutive entries of the banked list, a cycle later
            m.submodules.change_compactor = compactor = self.change_compactor
            for j in range(width):
                wiring.connect(m, wiring.flipped(getattr(self, f"change_write_{j}")),
                               getattr(compactor, f"change_write_{j}"))
            count = compactor.count
            m.d.comb += [
                compactor.changed.eq(Cat(s4_changed)),
                compactor.length.eq(n_changed),
                *(compactor.entries[k].index.eq(s4_i << log_width | k) for k in lanes),
                *(compactor.entries[k].delta.eq(s4_d[k]) for k in lanes),
                self.changed.eq(count),
                self.appending.eq(0),
                self.has_changes.eq(any_change),
                self.one_entry.eq(one_change),
            ]
            with m.If(count != 0):
                m.d.sync += [n_changed.eq(n_changed + count), any_change.eq(1),
                             one_change.eq(~any_change & (count == 1))]
        else:
            # Every scanned input is written at the change list's tail, which only moves past
            # a changed one; the issue unit may issue its first LOAD as the last one is
            # counted (``appending``).
            m.d.comb += [
                self.appending.eq(s4_changed[0]),
                self.changed.eq(s4_changed[0]),
                self.change_write.addr.eq(n_changed),
                self.change_write.data.index.eq(s4_i),
                self.change_write.data.delta.eq(s4_d[0]),
                self.change_write.en.eq(s4_valid),
                # the list's length once the pending entry (if any) is counted
                self.has_changes.eq(any_change | s4_changed[0]),
                self.one_entry.eq(Mux(s4_changed[0], ~any_change, one_change)),
            ]
            with m.If(s4_changed[0]):
                m.d.sync += [n_changed.eq(n_changed + 1), any_change.eq(1),
                             one_change.eq(~any_change)]
        if cfg.conv:
            # A conv layer's position table: the list's length before each input (a block's
            # window is then a range of the list); with W > 1, in W banks, a beat's inputs
            # counted past the changed ones before them in the beat
            if wide:
                before = n_changed
                for k in lanes:
                    port = getattr(self, f"position_write_{k}")
                    m.d.comb += [port.addr.eq(s4_i), port.data.eq(before),
                                 port.en.eq(s4_valid & cur.conv)]
                    before = before + s4_changed[k]
            else:
                m.d.comb += [self.position_write.addr.eq(s4_i),
                             self.position_write.data.eq(n_changed),
                             self.position_write.en.eq(s4_valid & cur.conv)]

        # ---- control: the scan runs until the layer's last input
        with m.If(scanning):
            if multi:
                m.d.comb += fetch.eq(from_bank | x_end if cfg.lstm else from_bank)
            with m.If(accept):
                m.d.sync += scan_count.eq(scan_count + 1)
                with m.If(at_last_input):
                    m.d.comb += self.scan_done.eq(1)
                    m.d.sync += [scan_count.eq(0), scanning.eq(0)]
            if multi:
                with m.If(self.start):
                    m.d.comb += self.sequence_start.eq(1)
                    m.d.sync += scanning.eq(0)
        if multi:
            with m.If(self.switch_done):
                m.d.comb += fetch.eq(self.target != 0)       # input 0 of a bank-fed scan
                m.d.sync += scanning.eq(1)
        else:
            with m.If(self.layer_end):
                m.d.sync += scanning.eq(1)
        with m.If(self.layer_end):
            m.d.sync += [n_changed.eq(0), any_change.eq(0), one_change.eq(0)]
        if multi:
            # back to the first word for the next layer: layer 0 after the frame's last layer
            # or at a start
            m.d.comb += [reader.restart.eq(self.sequence_start | self.layer_end),
                         reader.to_first.eq(self.sequence_start | self.last_layer)]
        return m
