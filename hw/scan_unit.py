from amaranth.hdl import Module, Signal, Mux, Cat, Const, signed
from amaranth.lib import wiring, stream
from amaranth.lib.wiring import In, Out

from golden.config import ceil_log2
from golden import cycle_model

from ._check import check_config
from .flags import at_last_flag
from .layer_table import entry_layout
from .signatures import TableWriteSignature, input_layout
from .quantizer import Quantizer
from .centroid_table import CentroidTable
from .delta_subtractor import DeltaSubtractor
from .skip_logic import SkipLogic

__all__ = ["ScanUnit"]


class ScanUnit(wiring.Component):
    """The scan: one input per cycle is quantized, compared with its stored index and, if it
    changed, appended to the change list with its delta (golden twin: the scan of
    golden/fc_engine.py, timed by golden/cycle_model.py).

    Layer 0 scans the input stream; layer l > 0 scans the hidden bank layer l - 1 wrote, and
    an LSTM layer h_{t-1} from the recurrent area after x_t. The pipeline: accept, quantize +
    read the stored index, registered copies of both indices (they come from block RAM output
    registers and are copied once in the fabric before the comparison: the route from the RAMs
    followed by the skip decision was the ECP5 critical path), compare + look up centroids,
    delta, write the index and the change list: ``latency`` cycles from accept to the writes.

    Every scanned input is written at the change list's tail, which only moves past a changed
    one (so the write enable does not wait for the skip decision). The list's length counts
    in the same cycle; the issue unit may issue its first LOAD then (``appending``).

    Members
    -------
    i_stream : ``In(stream.Signature(input_layout(config)))``
    scanning : ``Out(1)``
        The scan runs (the input stream is ready while layer 0 scans).
    scan_done : ``Out(1)``
        The layer's last input is accepted.
    sequence_start : ``Out(1)`` (``max_layers > 1``)
        ``start`` while scanning: the engine switches to layer 0.
    accept, appending, index_writing : ``Out(1)``
        An input is accepted, appended to the change list, its index written (counters).
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
        entry = entry_layout(cfg)
        members = {
            "i_stream": In(stream.Signature(input_layout(cfg))),
            "start": In(1),
            "layer_end": In(1),
            "first": In(1),
            "current": In(entry),
            "upcoming_inputs": In(range(cfg.max_inputs + 1)),
            "scanning": Out(1),
            "scan_done": Out(1),
            "accept": Out(1),
            "appending": Out(1),
            "index_writing": Out(1),
            "n_changed": Out(range(cfg.max_inputs + 1)),
            "has_changes": Out(1),
            "one_entry": Out(1),
            "stall": Out(1),
            "framing_error": Out(1),
            **buffer_ports,
        }
        if multi:
            members.update({"layer": In(range(cfg.max_layers)),
                            "target": In(range(cfg.max_layers)),
                            "last_layer": In(1), "switch_done": In(1),
                            "sequence_start": Out(1)})
        if cfg.lstm:
            members.update({"upcoming_x_inputs": In(range(cfg.max_inputs + 1)),
                            "first_is_lstm": In(1)})
        if cfg.reuse:
            members.update({
                "quantization_write": In(TableWriteSignature(
                    cfg.act_width + cfg.layer_bits, cfg.index_width)),
                "centroid_write": In(TableWriteSignature(
                    cfg.index_width + cfg.layer_bits, cfg.act_width)),
            })
        super().__init__(members)
        if cfg.reuse:
            self.quantizer = Quantizer(cfg)
            self.centroid_table = CentroidTable(cfg)
            self.delta_subtractor = DeltaSubtractor(cfg)
            self.skip_logic = SkipLogic(cfg)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        reuse, multi = cfg.reuse, cfg.max_layers > 1
        m = Module()
        cur, first = self.current, self.first
        layer_reuse = cur.reuse if reuse else Const(0)

        def based(address, field):
            return address + getattr(cur, field) if multi else address

        # ---- the scan's source: the input stream, or (max_layers > 1) a hidden bank
        from_bank = Signal()
        scan_x = Signal(signed(cfg.act_width))
        fetch = Signal()
        if multi:
            fetch_word = Signal(range(cfg.max_blocks))
            fetch_lane = Signal(range(cfg.lanes))
            scan_lane = Signal(range(cfg.lanes))
            bank_x = self.scan_read.data.as_value().word_select(scan_lane, cfg.act_width)
            if cfg.lstm:
                # an LSTM layer scans x_t's words, then h_{t-1} from the recurrent area (0 on
                # a first execution)
                fetch_h, scan_h = Signal(), Signal()
                h_word = Signal.like(self.recurrent_read.addr)
                h_x = self.recurrent_read.data.as_value().word_select(scan_lane, cfg.act_width)
                m.d.comb += self.recurrent_read.addr.eq(h_word)
                bank_x = Mux(scan_h, Mux(first, 0, h_x), bank_x)
                # an LSTM layer 0 scans x_t from the input stream, then (h_phase) h_{t-1}
                h_phase = Signal()
                first_lstm = Signal()
                m.d.comb += [first_lstm.eq((self.layer == 0) & cur.lstm),
                             from_bank.eq((self.layer != 0) | h_phase)]
            else:
                m.d.comb += from_bank.eq(self.layer != 0)
            block_bits = len(self.scan_read.addr) - 2
            m.d.comb += [
                # layer r reads the hidden bank layer r-1 wrote: 2 + ((r - 1) & 1)
                self.scan_read.addr.eq(Cat(fetch_word[:block_bits], ~self.target[0],
                                           Const(1, 1))),
                scan_x.eq(Mux(from_bank, bank_x, self.i_stream.payload.data)),
            ]
            with m.If(fetch):
                m.d.sync += [scan_lane.eq(fetch_lane), fetch_lane.eq(fetch_lane + 1)]
                if cfg.lstm:
                    m.d.sync += scan_h.eq(fetch_h)
                with m.If(fetch_lane == cfg.lanes - 1):
                    m.d.sync += fetch_lane.eq(0)
                    if cfg.lstm:
                        with m.If(fetch_h):
                            m.d.sync += h_word.eq(h_word + 1)
                        with m.Elif(cur.lstm & (fetch_word == cur.x_words - 1)):
                            m.d.sync += fetch_h.eq(1)
                        with m.Else():
                            m.d.sync += fetch_word.eq(fetch_word + 1)
                    else:
                        m.d.sync += fetch_word.eq(fetch_word + 1)
        else:
            m.d.comb += scan_x.eq(self.i_stream.payload.data)

        # ---- the scan pipeline
        scan_count = Signal(range(cfg.max_inputs))
        accept = self.accept
        s1_valid, s2_valid, s3_valid, s4_valid = Signal(), Signal(), Signal(), Signal()
        s1_x, s2_x, s3_x = (Signal(signed(cfg.act_width), name=f"s{k}_x") for k in (1, 2, 3))
        s1_i, s2_i, s3_i, s4_i = (Signal(cfg.input_index_width, name=f"s{k}_i")
                                  for k in (1, 2, 3, 4))
        s4_d = Signal(signed(cfg.delta_width))
        s3_changed = Signal()
        s4_changed = Signal()         # s4's input is appended to the change list

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
        at_last_input = at_last_flag(m, scan_count, accept, self.upcoming_inputs, "at_last_input")
        m.d.sync += [
            s1_valid.eq(accept), s1_x.eq(scan_x), s1_i.eq(scan_count),
            s2_valid.eq(s1_valid), s2_x.eq(s1_x), s2_i.eq(s1_i),
            s3_valid.eq(s2_valid), s3_i.eq(s2_i), s3_x.eq(s2_x),
            s4_valid.eq(s3_valid), s4_changed.eq(s3_valid & s3_changed), s4_i.eq(s3_i),
        ]
        stream_last = at_last_input
        if cfg.lstm:
            x_last = Signal.like(scan_count)
            at_last_x = Signal()
            x_end = Signal()            # an LSTM layer 0 accepts its last x_t input
            m.d.sync += x_last.eq(self.upcoming_x_inputs - 1)
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
            m.submodules.quantizer = quant = self.quantizer
            m.submodules.centroid_table = table = self.centroid_table
            m.submodules.delta_subtractor = sub = self.delta_subtractor
            m.submodules.skip_logic = skip = self.skip_logic
            for block, port in ((quant, self.quantization_write), (table, self.centroid_write)):
                m.d.comb += [block.write_en.eq(port.en), block.write_addr.eq(port.addr),
                             block.write_data.eq(port.data)]
                if multi:
                    m.d.comb += block.layer.eq(self.layer)
            # registers right after a memory read are reset-less: on ECP5 they become the
            # block RAM's output register (synth.ecp5_pack)
            s2_q_new = Signal(cfg.index_width, reset_less=True)
            s2_q_old = Signal(cfg.index_width, reset_less=True)
            s3_q_new = Signal(cfg.index_width)
            s3_q_old = Signal(cfg.index_width)
            s4_q_new = Signal(cfg.index_width)
            s4_write = self.index_writing
            read_index = based(scan_count, "index_base")
            written_index = based(s4_i, "index_base")
            m.d.comb += [
                quant.x.eq(scan_x),                          # index at t+1, as s1_x
                table.index_a.eq(s2_q_new),                  # centroids at t+3, as s3_x
                table.index_b.eq(s2_q_old),
                skip.q_new.eq(s3_q_new),
                skip.q_old.eq(s3_q_old),
                skip.first.eq(first),
                s3_changed.eq(skip.changed | ~layer_reuse),
                sub.new.eq(table.centroid_a),
                sub.old.eq(table.centroid_b),
                sub.first.eq(first),
            ]
            if cfg.blocking:
                # words of ``lanes`` indices (hw.io_buffer): the scan reads a word and picks
                # its lane a cycle later, and writes one lane
                il = ceil_log2(cfg.lanes)
                s1_lane = Signal(range(cfg.lanes))
                m.d.sync += s1_lane.eq(read_index[:il])
                old_index = self.index_read.data[s1_lane]
                m.d.comb += [
                    self.index_read.addr.eq(read_index >> il),
                    self.index_write.addr.eq(written_index >> il),
                    self.index_write.data.eq(Cat(s4_q_new for _ in range(cfg.lanes))),
                    self.index_write.en.eq(Mux(s4_write, 1 << written_index[:il], 0)),
                ]
            else:
                old_index = self.index_read.data
                m.d.comb += [
                    self.index_read.addr.eq(read_index),
                    # the decision is registered before the route to the index area's RAM
                    self.index_write.addr.eq(written_index),
                    self.index_write.data.eq(s4_q_new),
                    self.index_write.en.eq(s4_write),
                ]
            m.d.sync += [
                s2_q_new.eq(quant.index),
                s2_q_old.eq(old_index),
                s3_q_new.eq(s2_q_new),
                s3_q_old.eq(s2_q_old),
                s4_q_new.eq(s3_q_new),
                s4_write.eq(s3_valid & s3_changed & layer_reuse),
                s4_d.eq(Mux(layer_reuse, sub.delta, s3_x)),   # a layer in baseline mode: d = x
            ]
        else:
            m.d.comb += s3_changed.eq(1)
            m.d.sync += s4_d.eq(s3_x)

        # ---- the change list and its length
        n_changed = self.n_changed
        any_change = Signal()         # n_changed != 0, counted with it
        one_change = Signal()         # n_changed == 1, likewise
        m.d.comb += [
            self.appending.eq(s4_changed),
            self.change_write.addr.eq(n_changed),
            self.change_write.data.index.eq(s4_i),
            self.change_write.data.delta.eq(s4_d),
            self.change_write.en.eq(s4_valid),
            # the list's length once the pending entry (if any) is counted
            self.has_changes.eq(any_change | s4_changed),
            self.one_entry.eq(Mux(s4_changed, ~any_change, one_change)),
        ]
        with m.If(s4_changed):
            m.d.sync += [n_changed.eq(n_changed + 1), any_change.eq(1),
                         one_change.eq(~any_change)]
        if cfg.conv:
            # A conv layer's position table: the list's length before each input position's
            # first input (a block's window is then a range of the list)
            position, channel = Signal(range(cfg.max_inputs + 1)), Signal(range(cfg.max_inputs))
            m.d.comb += [self.position_write.addr.eq(position),
                         self.position_write.data.eq(n_changed),
                         self.position_write.en.eq(s4_valid & (channel == 0) & cur.conv)]
            with m.If(s4_valid):
                m.d.sync += channel.eq(channel + 1)
                with m.If(channel == cur.channels - 1):
                    m.d.sync += [channel.eq(0), position.eq(position + 1)]

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
            if cfg.conv:
                m.d.sync += [position.eq(0), channel.eq(0)]
        if multi:
            # back to the first word, for the next layer (layer 0 after the frame's last
            # layer or at a start): an LSTM layer 0 fetches h_{t-1} only, after x_t from the
            # input stream
            restart = self.sequence_start | self.layer_end
            to_first = self.sequence_start | self.last_layer
            with m.If(restart):
                m.d.sync += [fetch_word.eq(0), fetch_lane.eq(0)]
                if cfg.lstm:
                    m.d.sync += [fetch_h.eq(to_first & self.first_is_lstm), h_word.eq(0)]
        return m
