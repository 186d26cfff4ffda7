from amaranth.hdl import Module, Signal, Mux, Cat, Const, Array, signed
from amaranth.lib import wiring, data, stream
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.config import ceil_log2
from golden.programme import Region, Register
from golden.perf_counters import Counters
from golden import cycle_model

from ._check import check_config
from .quantizer import Quantizer
from .centroid_table import CentroidTable
from .delta_subtractor import DeltaSubtractor
from .skip_logic import SkipLogic
from .mac_array import MACArray
from .io_buffer import IOBuffer
from .weight_buffer import WeightBuffer
from .output_unit import OutputUnit
from .lstm_unit import LSTMUnit
from .magnitude_unit import MagnitudeUnit

__all__ = ["FCEngine", "ConfigWriteSignature", "BufferPortSignature", "input_layout",
           "output_layout", "perf_layout"]


class ConfigWriteSignature(wiring.Signature):
    """Host-side configuration write port: ``data`` is written to ``addr`` when ``en``.

    ``addr = region << cfg_offset_width | offset`` (see golden.config.Region);
    :func:`golden.config.config_writes` is the programme that loads a layer.
    """

    def __init__(self, config):
        super().__init__({
            "addr": Out(config.cfg_addr_width),
            "data": Out(config.cfg_data_width),
            "en": Out(1),
        })


class BufferPortSignature(wiring.Signature):
    """Host access to the index and output areas between frames (``EngineConfig.blocking``):
    a blocked conv layer's bands move their indices and previous outputs to and from main
    memory through it (golden/blocking.py).

    While ``select``, the host owns both areas: ``addr`` reads the word of ``area`` (0: the
    index area, ``lanes`` indices per word; 1: the output area, one block of ``lanes``
    accumulators), which is in ``read_data`` a cycle later, and ``write`` writes
    ``write_data`` there. Select only while the engine waits for a frame's first input: after
    a frame's last output beat, or before the first input of a frame.
    """

    def __init__(self, config):
        addr_width = ceil_log2(max(2, config.index_depth, config.block_depth))
        super().__init__({
            "select": Out(1),
            "area": Out(1),
            "addr": Out(addr_width),
            "write": Out(1),
            "write_data": Out(config.lanes * config.acc_width),
            "read_data": In(config.lanes * config.acc_width),
        })


def input_layout(config):
    return data.StructLayout({"data": signed(config.act_width), "last": 1})


def output_layout(config):
    return data.StructLayout({
        "data": data.ArrayLayout(signed(config.act_width), config.lanes),
        "last": 1,
    })


def perf_layout():
    return data.StructLayout({name: 32 for name in Counters.FIELDS})


class _Op:
    NONE, LOAD, MAC, STORE = range(4)


def _at_last_flag(m, count, step, length, name):
    """``count == length - 1`` as a register, for a counter that steps (``count + 1``, back to
    0 after the last) in a cycle where ``step``: a comparison behind a handshake was an ECP5
    critical path. ``length`` goes through registers first, so the flag follows a change of
    it two cycles later, while the counter is still."""
    last, last_m1 = Signal.like(count, name=f"{name}_bound"), Signal.like(count, name=f"{name}_m1")
    flag = Signal(name=name)
    m.d.sync += [last.eq(length - 1), last_m1.eq(length - 2)]
    # The two outcomes are kept wires, so the LUT mapper cannot fold ``step`` (a handshake,
    # late) into the comparisons: it selects between them in the flag's last LUT.
    on_step, still = (_kept(f"{name}_{what}") for what in ("on_step", "still"))
    m.d.comb += [on_step.eq(Mux(flag, last == 0, count == last_m1)), still.eq(count == last)]
    m.d.sync += flag.eq(Mux(step, on_step, still))
    return flag


def _kept(name):
    """A 1-bit wire Yosys keeps (``keep``): a cut the LUT mapper maps on either side of."""
    return Signal(name=name, attrs={"keep": 1})


class FCEngine(wiring.Component):
    """The FC reuse engine: scan, skip, correct, output (golden/fc_engine.py, cycle model in
    golden/cycle_model.py, which this component matches cycle for cycle).

    Parameters
    ----------
    config : :class:`golden.EngineConfig`
        ``reuse=False`` elaborates the baseline engine, without quantizer, centroid table, index
        area, output area or skip logic; ``lstm=True`` adds the LSTM unit and the recurrent
        area, so that the layer table can hold an LSTM layer.
    block_ram_slices : bool
        Cut the weight banks into bit slices that fit ECP5 block RAMs (the ECP5 flow's netlist;
        see :class:`hw.weight_buffer.WeightBuffer`). The same bits, the same cycles.

    Members
    -------
    cfg : ``In(ConfigWriteSignature(config))``
        Layer registers, centroid table, thresholds, weights and biases. The engine keeps
        registered copies of the writes and of bounds derived from the layer registers (timing),
        so a register write must come at least four cycles before the first input beat that
        relies on it (golden.network_writes writes the registers first, then the tables,
        weights and biases).
    start : ``In(1)``
        Start of sequence: the next frame is a first execution (outputs start from the bias)
        and the performance counters restart. Assert only between frames.
    i_stream : ``In(stream.Signature(input_layout(config)))``
        One activation per beat; ``last`` marks the N-th input of a frame.
    o_stream : ``Out(stream.Signature(output_layout(config)))``
        One block of ``lanes`` post-activation outputs per beat (padding lanes are 0);
        ``last`` marks the last block of a frame.
    perf : ``Out(perf_layout())``
        Counters of the last completed frame (golden.Counters).
    frames : ``Out(32)``
        Frames completed; increments when ``perf`` is updated.
    layer_perf, layer_index, layers_done : ``Out(perf_layout())``, ``Out(layer_bits)``,
    ``Out(32)`` (``max_layers > 1`` only)
        Counters of the last completed layer, its index in the layer table, and the number of
        layers completed (increments when ``layer_perf`` is updated). A layer's counters
        include the layer switch that precedes it; ``perf`` is their sum over the frame.
    framing_error : ``Out(1)``
        Sticky: an input beat's ``last`` disagreed with the layer's N.
    buffer : ``In(BufferPortSignature(config))`` (``blocking`` reuse engines only)
        The host's port to the index and output areas between frames.
    """

    def __init__(self, config, *, block_ram_slices=False):
        self._config = check_config(config)
        super().__init__({
            "cfg": In(ConfigWriteSignature(config)),
            "start": In(1),
            "i_stream": In(stream.Signature(input_layout(config))),
            "o_stream": Out(stream.Signature(output_layout(config))),
            "perf": Out(perf_layout()),
            "frames": Out(32),
            "framing_error": Out(1),
            **({"layer_perf": Out(perf_layout()), "layer_index": Out(config.layer_bits),
                "layers_done": Out(32)} if config.max_layers > 1 else {}),
            **({"buffer": In(BufferPortSignature(config))}
               if config.blocking and config.reuse else {}),
        })
        # Sub-blocks are built here so testbenches can observe their ports (trace taps).
        self.io_buffer = IOBuffer(config)
        self.weight_buffer = WeightBuffer(config, block_ram_slices=block_ram_slices)
        self.mac_array = MACArray(config)
        self.output_unit = OutputUnit(config, latency=3)
        if config.lstm:
            self.lstm_unit = LSTMUnit(config)
        # a conv engine has the magnitude unit when a block holds whole (re, im) pairs
        self._magnitudes = config.conv and config.lanes % 2 == 0
        if self._magnitudes:
            self.magnitude_unit = MagnitudeUnit(config)
        if config.reuse:
            self.quantizer = Quantizer(config)
            self.centroid_table = CentroidTable(config)
            self.delta_subtractor = DeltaSubtractor(config)
            self.skip_logic = SkipLogic(config)

    @property
    def config(self):
        return self._config

    # Latencies the cycle model relies on (golden/cycle_model.py).
    scan_drain = cycle_model.SCAN_DRAIN
    index_write_latency = cycle_model.INDEX_WRITE_LATENCY
    output_write_latency = cycle_model.OUTPUT_WRITE_LATENCY
    bank_write_latency = cycle_model.BANK_WRITE_LATENCY

    def elaborate(self, platform):
        cfg = self._config
        reuse = cfg.reuse
        m = Module()
        m.submodules.io_buffer = io = self.io_buffer
        m.submodules.weight_buffer = wb = self.weight_buffer
        m.submodules.mac_array = mac = self.mac_array
        m.submodules.output_unit = ou = self.output_unit
        if cfg.lstm:
            m.submodules.lstm_unit = lstm = self.lstm_unit
        magnitudes = self._magnitudes
        if magnitudes:
            m.submodules.magnitude_unit = mag = self.magnitude_unit
        if reuse:
            m.submodules.quantizer = quant = self.quantizer
            m.submodules.centroid_table = table = self.centroid_table
            m.submodules.delta_subtractor = sub = self.delta_subtractor
            m.submodules.skip_logic = skip = self.skip_logic

        # ---- layer table and configuration writes -----------------------------------------
        # One entry per layer (golden.config.Register). The datapath reads the entry of the
        # current layer, which only changes at the end of a layer switch, when the previous
        # layer's pipeline has drained: so no stage needs its own copy of the registers.
        multi = cfg.max_layers > 1
        entry_layout = data.StructLayout({
            "inputs": range(cfg.max_inputs + 1),
            "outputs": range(cfg.max_outputs + 1),
            "relu": 1,
            "shift": range(cfg.acc_width),
            "blocks": range(cfg.max_blocks + 1),
            "reuse": 1,
            "weight_base": range(cfg.weight_depth),
            "block_base": range(cfg.block_depth),
            "index_base": range(cfg.index_depth),
            **({"lstm": 1, "x_words": range(cfg.max_blocks + 1),
                "x_inputs": range(cfg.max_inputs + 1)} if cfg.lstm else {}),
            **({"conv": 1, "channels": range(cfg.max_inputs + 1), "magnitude": 1,
                "magnitude_shift": 4} if cfg.conv else {}),
        })
        entries = [Signal(entry_layout, name=f"layer{k}", init={
            "inputs": 1, "outputs": 1, "blocks": 1, "reuse": 1})
            for k in range(cfg.max_layers)]
        layer = Signal(range(cfg.max_layers))          # the layer being run
        n_layers = Signal(range(cfg.max_layers + 1), init=1)
        stream_blocks = Signal(range(cfg.max_blocks + 1), init=1)
        cur = Array(entries)[layer] if multi else entries[0]
        n_inputs, n_outputs, n_blocks = cur.inputs, cur.outputs, cur.blocks
        layer_reuse = cur.reuse if reuse else Const(0)
        last_layer = (layer == n_layers - 1) if multi else Const(1)
        if not multi:
            stream_blocks = n_blocks

        def based(address, field):
            return address + getattr(cur, field) if multi else address

        # Configuration writes are registered with their region decoded (the decode followed
        # by the fan-out to the distributed RAMs of the tables and biases was an ECP5 critical
        # path): a write lands a cycle after the request.
        cfg_addr = Signal.like(self.cfg.addr, reset_less=True)
        cfg_data = Signal.like(self.cfg.data, reset_less=True)
        regions = (Region.REGISTER, Region.CENTROID, Region.QUANTIZATION, Region.WEIGHT,
                   Region.BIAS) + ((Region.WINDOW,) if cfg.conv else ())
        writes_to = {r: Signal(name=f"cfg_write_{r}") for r in regions}
        m.d.sync += [cfg_addr.eq(self.cfg.addr), cfg_data.eq(self.cfg.data)]
        m.d.sync += [en.eq(self.cfg.en & (self.cfg.addr[cfg.cfg_offset_width:] == r))
                     for r, en in writes_to.items()]
        offset = cfg_addr[:cfg.cfg_offset_width]
        reg_index = offset[:Register.BITS]
        reg_layer = offset[Register.BITS:Register.BITS + cfg.layer_bits]
        fields = {
            Register.INPUTS: "inputs", Register.OUTPUTS: "outputs",
            Register.SHIFT: "shift", Register.BLOCKS: "blocks",
        }
        if reuse:
            fields[Register.REUSE] = "reuse"
        if cfg.conv:
            fields.update({Register.CONV: "conv", Register.CHANNELS: "channels"})
        if cfg.lstm:
            fields.update({Register.LSTM: "lstm", Register.X_WORDS: "x_words",
                           Register.X_INPUTS: "x_inputs"})
        if multi:
            fields.update({Register.WEIGHT_BASE: "weight_base",
                           Register.BLOCK_BASE: "block_base", Register.INDEX_BASE: "index_base"})
        with m.If(writes_to[Region.REGISTER]):
            for k, entry in enumerate(entries):
                with m.If((reg_layer == k) if multi else Const(1)):
                    with m.Switch(reg_index):
                        for index, name in fields.items():
                            with m.Case(index):
                                m.d.sync += getattr(entry, name).eq(cfg_data)
                        with m.Case(Register.ACTIVATION):
                            # codes are ACTIVATIONS' indices, 0 or 1 (a full-width
                            # comparison was an ECP5 critical path)
                            m.d.sync += entry.relu.eq(cfg_data[0])
                            if cfg.conv:
                                m.d.sync += [entry.magnitude.eq(cfg_data[1]),
                                             entry.magnitude_shift.eq(cfg_data[2:6])]
            if multi:
                with m.If(reg_layer == 0):
                    with m.Switch(reg_index):
                        with m.Case(Register.LAYERS):
                            m.d.sync += n_layers.eq(cfg_data)
                        with m.Case(Register.STREAM_BLOCKS):
                            m.d.sync += stream_blocks.eq(cfg_data)
        if reuse:
            m.d.comb += [
                table.write_en.eq(writes_to[Region.CENTROID]),
                table.write_addr.eq(offset),
                table.write_data.eq(cfg_data[:cfg.act_width]),
                quant.write_en.eq(writes_to[Region.QUANTIZATION]),
                quant.write_addr.eq(offset),
                quant.write_data.eq(cfg_data),
            ]
            if multi:
                m.d.comb += [quant.layer.eq(layer), table.layer.eq(layer)]
        lane_bits = ceil_log2(cfg.lanes)
        m.d.comb += [
            wb.weight_write.addr.eq(offset),
            wb.weight_write.data.eq(cfg_data[:cfg.lanes * cfg.weight_width]),
            wb.weight_write.en.eq(writes_to[Region.WEIGHT]),
        ]
        # Bias writes take one more register stage, with the lane decoded: the decode followed
        # by the fan-out to the write enables of the biases' distributed RAM was an ECP5
        # critical path. A bias lands two cycles after its request.
        bias_en = Signal(cfg.lanes)
        bias_addr = Signal.like(wb.bias_write.addr, reset_less=True)
        bias_data = Signal(cfg.acc_width, reset_less=True)
        m.d.sync += [
            bias_en.eq(Mux(writes_to[Region.BIAS], Const(1, cfg.lanes) << offset[:lane_bits], 0)),
            bias_addr.eq(offset[lane_bits:]),
            bias_data.eq(cfg_data[:cfg.acc_width]),
        ]
        m.d.comb += [
            wb.bias_write.en.eq(bias_en),
            wb.bias_write.addr.eq(bias_addr),
            wb.bias_write.data.eq(Cat(bias_data for _ in range(cfg.lanes))),
        ]

        if cfg.conv:
            # A conv layer's window table, one entry per window segment (golden
            # LayerConfig.segments; 1-D: one per block, 2-D: one per kernel row, at block <<
            # segment_bits | segment): the input positions [x_lo, x_hi) of the segment (x_hi at
            # the layer's end flagged), on 2-D engines a flag on the block's last segment, and
            # the offset of its weight words.
            pw = cfg.position_width
            window_layout = data.StructLayout({"x_lo": pw, "x_hi": pw, "to_end": 1,
                                               **({"last": 1} if cfg.segment_bits else {})})
            window_depth = max(2, cfg.block_depth << cfg.segment_bits)
            m.submodules.window_table = window_table = Memory(
                shape=window_layout, depth=window_depth, init=[])
            m.submodules.window_base_table = window_base_table = Memory(
                shape=len(wb.weight_read.addr), depth=window_depth, init=[])
            window_read = window_table.read_port()
            window_base_read = window_base_table.read_port()
            window_writes = (window_table.write_port(), window_base_table.write_port())
            for which, port in enumerate(window_writes):
                m.d.comb += [port.addr.eq(offset[1:]), port.data.eq(cfg_data),
                             port.en.eq(writes_to[Region.WINDOW] & (offset[0] == which))]

        # ---- sequence and frame state -----------------------------------------------------
        first = Signal()              # this frame is a first execution of the sequence
        bank = Signal()               # output bank this frame writes
        busy = Signal(2)              # bank claimed by a frame and not yet streamed out
        complete = Signal(2)          # bank fully written, waiting for / being streamed
        n_changed = Signal(range(cfg.max_inputs + 1))

        # ---- layer switch (max_layers > 1): the next layer scans a hidden bank -------------
        target = Signal.like(layer)   # layer the switch leads to
        from_bank = Signal()          # the scan reads the previous layer's outputs
        scan_x = Signal(signed(cfg.act_width))
        if multi:
            fetch_word = Signal(range(cfg.max_blocks))
            fetch_lane = Signal(range(cfg.lanes))
            scan_lane = Signal(range(cfg.lanes))
            fetch = Signal()
            bank_x = io.scan_read.data.as_value().word_select(scan_lane, cfg.act_width)
            if cfg.lstm:
                # an LSTM layer scans x_t's words, then h_{t-1} from the recurrent area (0 on
                # a first execution)
                fetch_h, scan_h = Signal(), Signal()
                h_word = Signal.like(io.recurrent_read.addr)
                h_x = io.recurrent_read.data.as_value().word_select(scan_lane, cfg.act_width)
                m.d.comb += io.recurrent_read.addr.eq(h_word)
                bank_x = Mux(scan_h, Mux(first, 0, h_x), bank_x)
            if cfg.lstm:
                # an LSTM layer 0 scans x_t from the input stream, then (h_phase) h_{t-1}
                h_phase = Signal()
                first_lstm = Signal()
                m.d.comb += [first_lstm.eq((layer == 0) & cur.lstm),
                             from_bank.eq((layer != 0) | h_phase)]
            else:
                m.d.comb += from_bank.eq(layer != 0)
            m.d.comb += [
                # layer r reads the hidden bank layer r-1 wrote: 2 + ((r - 1) & 1)
                io.scan_read.addr.eq(Cat(fetch_word[:io.block_bits], ~target[0], Const(1, 1))),
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
            def fetch_restart(to_first):
                """Back to the first word, for the next layer (layer 0 if ``to_first``): an
                LSTM layer 0 fetches h_{t-1} only, after x_t from the input stream."""
                restart = [fetch_word.eq(0), fetch_lane.eq(0)]
                if cfg.lstm:
                    restart += [fetch_h.eq(to_first & entries[0].lstm), h_word.eq(0)]
                return restart
        else:
            m.d.comb += scan_x.eq(self.i_stream.payload.data)
        switch = cycle_model.switch_cycles(cfg)
        switch_count = Signal(range(max(1, switch)))

        # ---- scan: accept, quantize + read index, registered copies of both indices, compare
        # + look up centroids, delta, write the index and the change list. The indices come
        # from block RAM output registers and are copied once in the fabric before the
        # comparison: the route from the RAMs followed by the skip decision was the ECP5
        # critical path. The centroid lookup and the subtraction take one cycle each.
        scan_count = Signal(range(cfg.max_inputs))
        accept = Signal()
        s1_valid, s2_valid, s3_valid, s4_valid = Signal(), Signal(), Signal(), Signal()
        s1_x, s2_x, s3_x = (Signal(signed(cfg.act_width), name=f"s{k}_x") for k in (1, 2, 3))
        s1_i, s2_i, s3_i, s4_i = (Signal(cfg.input_index_width, name=f"s{k}_i")
                                  for k in (1, 2, 3, 4))
        s4_d = Signal(signed(cfg.delta_width))
        s3_changed = Signal()
        s4_changed = Signal()         # s4's input is appended to the change list

        in_scan = Signal()
        m.d.comb += accept.eq(Mux(from_bank, in_scan, self.i_stream.valid & self.i_stream.ready))
        # The scan's end is a flag register, kept from the inputs of the layer the engine runs
        # or switches to: in place when that layer's scan starts, three cycles after a register
        # write reaches the layer table.
        upcoming_entry = Array(entries)[target] if multi else cur
        upcoming = upcoming_entry.inputs
        at_last_input = _at_last_flag(m, scan_count, accept, upcoming, "at_last_input")
        m.d.sync += [
            s1_valid.eq(accept),
            s1_x.eq(scan_x),
            s1_i.eq(scan_count),
            s2_valid.eq(s1_valid),
            s2_x.eq(s1_x),
            s2_i.eq(s1_i),
            s3_valid.eq(s2_valid),
            s3_i.eq(s2_i),
            s3_x.eq(s2_x),
            s4_valid.eq(s3_valid),
            s4_changed.eq(s3_valid & s3_changed),
            s4_i.eq(s3_i),
        ]
        stream_last = at_last_input
        if cfg.lstm:
            x_last = Signal.like(scan_count)
            at_last_x = Signal()
            x_end = Signal()            # an LSTM layer 0 accepts its last x_t input
            m.d.sync += x_last.eq(upcoming_entry.x_inputs - 1)
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
            # registers right after a memory read are reset-less: on ECP5 they become the
            # block RAM's output register (synth.ecp5_pack)
            s2_q_new = Signal(cfg.index_width, reset_less=True)
            s2_q_old = Signal(cfg.index_width, reset_less=True)
            s3_q_new = Signal(cfg.index_width)
            s3_q_old = Signal(cfg.index_width)
            s4_q_new = Signal(cfg.index_width)
            s4_write = Signal()
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
                old_index = io.index_read.data[s1_lane]
                m.d.comb += [
                    io.index_read.addr.eq(read_index >> il),
                    io.index_write.addr.eq(written_index >> il),
                    io.index_write.data.eq(Cat(s4_q_new for _ in range(cfg.lanes))),
                    io.index_write.en.eq(Mux(s4_write, 1 << written_index[:il], 0)),
                ]
            else:
                old_index = io.index_read.data
                m.d.comb += [
                    io.index_read.addr.eq(read_index),
                    # the decision is registered before the route to the index area's block RAM
                    io.index_write.addr.eq(written_index),
                    io.index_write.data.eq(s4_q_new),
                    io.index_write.en.eq(s4_write),
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

        # Every scanned input is written at the change list's tail, which only moves past a
        # changed one (the write enable then does not wait for the skip decision). The list's
        # length counts at the same time; the correct phase may issue its first LOAD in that
        # cycle (SCAN_DRAIN = 3), reading the pending count (``appending``), and its first MAC
        # reads the list a cycle later.
        appending = Signal()
        m.d.comb += [
            appending.eq(s4_changed),
            io.change_write.addr.eq(n_changed),
            io.change_write.data.index.eq(s4_i),
            io.change_write.data.delta.eq(s4_d),
            io.change_write.en.eq(s4_valid),
        ]
        with m.If(appending):
            m.d.sync += n_changed.eq(n_changed + 1)
        if cfg.conv:
            # A conv layer's position table: the list's length before each input position's
            # first input (a block's window is then a range of the list)
            position, channel = Signal(range(cfg.max_inputs + 1)), Signal(range(cfg.max_inputs))
            m.d.comb += [io.position_write.addr.eq(position),
                         io.position_write.data.eq(n_changed),
                         io.position_write.en.eq(s4_valid & (channel == 0) & cur.conv)]
            with m.If(s4_valid):
                m.d.sync += channel.eq(channel + 1)
                with m.If(channel == cur.channels - 1):
                    m.d.sync += [channel.eq(0), position.eq(position + 1)]

        # ---- correct: issue LOAD, MAC x n, STORE per block ---------------------------------
        # Every decision of the issue loop reads a flag register, not a comparison: a
        # subtraction, a comparison and the decode in front of the enables were the ECP5
        # critical path, once per bound (blocks, change-list length, output lanes).
        blk = Signal(range(cfg.max_blocks))
        entry = Signal(range(cfg.max_inputs))
        # the operation issued this cycle, one-hot (all zero outside ISSUE): each enable of
        # the issue loop is then a flag and a bound, one LUT
        loading, multiplying, storing = Signal(), Signal(), Signal()
        # 2-D conv blocks: NEXT starts the block's next window segment; an empty segment that
        # is not the block's last is followed by an idle cycle (the next segment's window is
        # read two cycles ahead of its start)
        advancing, idling = Signal(), Signal()
        drain_done = Signal()
        weight_base = Signal(len(wb.weight_read.addr))
        lane_base = Signal(range(cfg.max_blocks * cfg.lanes + 1))
        drain = Signal(range(cycle_model.CONV_DRAIN + 1))
        op = Signal(range(4))
        last_op = Signal()            # STORE of the last block: the frame's busy cycles end
        stall = Signal()
        layer_end = Signal()          # STORE of the layer's last block

        # Register copies lag their sources by a cycle, which is early enough: a layer's
        # bounds change at a layer switch or a register write, a scan before they are used,
        # and the change list's final length is visible when the LOAD of block 0 issues, a
        # cycle before the first MAC.
        last_block = Signal.like(blk)          # n_blocks - 1
        last_block_m1 = Signal.like(blk)       # n_blocks - 2 (wraps; unused when it does)
        last_entry_m1 = Signal.like(entry)     # n_changed - 2 (likewise), with ``appending``
        m.d.sync += [last_block.eq(n_blocks - 1), last_block_m1.eq(n_blocks - 2),
                     last_entry_m1.eq(Mux(appending, n_changed - 1, n_changed - 2))]
        blk_last = Signal()           # blk is the layer's last block
        entry_last = Signal()         # entry is the change list's last entry
        any_change = Signal()         # n_changed != 0, counted with it
        one_change = Signal()         # n_changed == 1, likewise
        with m.If(appending):
            m.d.sync += [any_change.eq(1), one_change.eq(~any_change)]
        # the list's length once the pending entry (if any) is counted: the first LOAD may
        # issue in the cycle the last entry is appended
        has_changes, one_entry = Signal(), Signal()
        m.d.comb += [has_changes.eq(any_change | appending),
                     one_entry.eq(Mux(appending, ~any_change, one_change))]
        active_lanes = Signal(range(cfg.lanes + 1))
        remaining = Signal(signed(len(n_outputs) + 1))
        m.d.comb += remaining.eq(n_outputs - lane_base)
        m.d.sync += active_lanes.eq(Mux(remaining >= cfg.lanes, cfg.lanes, remaining))

        # The frame's first LOAD claims its output bank; the wait for that bank to drain is
        # taken at the end of DRAIN (on the bank's state in the next cycle), so the issue loop
        # never stalls.
        clear = Signal(2)             # a bank's last beat goes out
        out_bank = Signal()           # the bank the output streamer drains
        out_valid, out_last = Signal(), Signal()        # the beat on o_stream (streamer)
        # The control states SCAN, SWITCH and DRAIN are one-hot flag registers with their own
        # set and clear conditions (ISSUE is none of them: the issue loop's flags say what it
        # does), so no enable decodes a state vector: the decode in front of the input
        # handshake, and an FSM state register's enable fed by the last-block flag, were ECP5
        # critical paths.
        scanning = Signal(init=1)
        m.d.comb += [in_scan.eq(scanning), self.i_stream.ready.eq(scanning & ~from_bank)]
        with m.If(scanning & ~accept):
            m.d.comb += stall.eq(1)
        draining = Signal()
        switching = Signal()
        with m.If(scanning):
            if multi:
                m.d.comb += fetch.eq(from_bank | x_end if cfg.lstm else from_bank)
            with m.If(accept):
                m.d.sync += scan_count.eq(scan_count + 1)
                with m.If(at_last_input):
                    m.d.sync += [scan_count.eq(0), drain.eq(0), scanning.eq(0), draining.eq(1)]
            if multi:
                # start of sequence (between frames): switch to layer 0 as after a frame
                with m.If(self.start):
                    m.d.sync += fetch_restart(1)
                    m.d.sync += [target.eq(0),
                                 scanning.eq(0), draining.eq(0), switching.eq(1)]
        if multi:
            with m.If(switching):
                # the previous layer's last STORE reaches its bank before the next layer
                # reads it (and before the layer registers change under its pipeline)
                m.d.sync += switch_count.eq(switch_count + 1)
                with m.If(switch_count == switch - 1):
                    m.d.comb += fetch.eq(target != 0)       # input 0 of a bank-fed scan
                    m.d.sync += [layer.eq(target), switch_count.eq(0), scanning.eq(1),
                                 switching.eq(0)]
        # At the end of the drain the last layer waits while its output bank is busy and its
        # last beat does not go out in this cycle: both conditions are kept wires of
        # registers, so the output handshake (late) meets them in one LUT.
        bank_waits, bank_clears = _kept("bank_waits"), _kept("bank_clears")
        m.d.comb += [
            bank_waits.eq(last_layer & busy.bit_select(bank, 1)),
            bank_clears.eq(out_valid & out_last & (out_bank == bank)),
        ]
        with m.If(draining):
            # let the last input reach the change list before reading its length
            m.d.sync += blk_last.eq(last_block == 0)
            drain_last = (Mux(cur.conv, cycle_model.CONV_DRAIN, self.scan_drain) - 1 if cfg.conv
                          else self.scan_drain - 1)
            with m.If(drain != drain_last):
                m.d.sync += drain.eq(drain + 1)
            with m.Elif(bank_waits & ~(bank_clears & self.o_stream.ready)):
                m.d.comb += stall.eq(1)
            with m.Else():
                m.d.comb += drain_done.eq(1)
                m.d.sync += draining.eq(0)
        # the layer's last STORE (storing is only ever set between DRAIN and the next scan)
        with m.If(storing & blk_last):
            m.d.sync += (switching if multi else scanning).eq(1)
        # the issue loop: its flags are zero outside ISSUE, and its enables then need not
        # decode the control state
        first_entry, final_m1 = Const(0), last_entry_m1
        starting = loading                  # a window segment starts (FC: the block's LOAD)
        start_last, seg_last = Const(1), Const(1)   # that segment is the block's last
        if cfg.conv:
            # A conv block runs the list's entries in its window segments: the window table is
            # read for the next segment as soon as one starts (for block 0 during the drain),
            # then the position table at the segment's ends, so both are there when it starts.
            sb = cfg.segment_bits
            issuing = Signal()
            window_addr = Signal.like(window_read.addr)
            slot = Signal.like(window_read.addr)    # the next segment's entry, once one started
            window_start, window_end = Signal.like(entry), Signal.like(n_changed)
            window_m1 = Signal.like(entry)          # the segment's last entry - 1, from its start
            if sb:
                starting = loading | advancing
                start_last = Mux(cur.conv, window_read.data.last, 1)
                seg_last = Signal()
                with m.If(starting):
                    m.d.sync += seg_last.eq(start_last)
            following = Mux(start_last, based(blk + 1, "block_base") << sb, slot + 1)
            m.d.comb += [
                issuing.eq(loading | multiplying | storing | advancing | idling),
                window_addr.eq(Mux(starting, following,
                                   Mux(issuing, slot, based(0, "block_base") << sb))),
                window_read.addr.eq(window_addr),
                window_base_read.addr.eq(window_addr),
                io.position_read_lo.addr.eq(window_read.data.x_lo),
                io.position_read_hi.addr.eq(window_read.data.x_hi),
                window_start.eq(io.position_read_lo.data),
                window_end.eq(Mux(window_read.data.to_end, n_changed, io.position_read_hi.data)),
            ]
            with m.If(starting):
                m.d.sync += slot.eq(following)
            with m.Elif(~issuing):
                m.d.sync += slot.eq(based(0, "block_base") << sb)     # block 0, segment 0
            with m.If(starting & cur.conv):
                m.d.sync += [window_m1.eq(window_end - 2), weight_base.eq(window_base_read.data)]
            has_changes = Mux(cur.conv, window_end != window_start, has_changes)
            one_entry = Mux(cur.conv, window_end == window_start + 1, one_entry)
            first_entry = Mux(cur.conv, window_start, 0)
            final_m1 = Mux(cur.conv, window_m1, last_entry_m1)
        m.d.sync += [
            loading.eq(storing & ~blk_last),
            multiplying.eq(starting & has_changes | multiplying & ~entry_last),
            storing.eq(starting & ~has_changes & start_last | multiplying & entry_last & seg_last),
        ]
        if cfg.conv and cfg.segment_bits:
            m.d.sync += [
                advancing.eq(multiplying & entry_last & ~seg_last | idling),
                idling.eq(starting & ~has_changes & ~start_last),
            ]
        with m.If(drain_done):
            m.d.sync += loading.eq(1)
        with m.If(starting):
            m.d.sync += [entry.eq(first_entry), entry_last.eq(one_entry)]
        with m.If(multiplying):
            m.d.sync += [entry.eq(entry + 1), entry_last.eq(entry == final_m1)]
        with m.If(storing):
            m.d.sync += [
                blk.eq(blk + 1),
                blk_last.eq(blk == last_block_m1),
                weight_base.eq(weight_base + n_inputs),
                lane_base.eq(lane_base + cfg.lanes),
            ]
            with m.If(blk_last):
                m.d.comb += [layer_end.eq(1), last_op.eq(last_layer)]
                m.d.sync += [
                    blk.eq(0), weight_base.eq(0), lane_base.eq(0),
                    n_changed.eq(0), any_change.eq(0), one_change.eq(0),
                ]
                if cfg.conv:
                    m.d.sync += [position.eq(0), channel.eq(0)]
                with m.If(last_layer):
                    m.d.sync += [first.eq(0), bank.eq(~bank)]
                if multi:
                    m.d.sync += fetch_restart(last_layer)
                    m.d.sync += target.eq(Mux(last_layer, 0, layer + 1))
        m.d.comb += [
            io.change_read.addr.eq(entry),
            op.eq(Mux(loading, _Op.LOAD, Mux(multiplying, _Op.MAC,
                                             Mux(storing, _Op.STORE, _Op.NONE)))),
        ]

        # Operation pipeline: tags travel with the op; stage k holds the op issued k cycles ago.
        post = cfg.lstm or magnitudes        # units after the output unit
        tag_layout = data.StructLayout({
            "op": range(4), "blk": range(cfg.max_blocks), "first": 1, "bank": io.bank_bits,
            "last": 1,
            # the LSTM and magnitude units': first execution of the sequence, last block of
            # the layer
            **({"sequence_first": 1, "end": 1} if post else {}),
        })
        depth = self.bank_write_latency + (LSTMUnit.latency if post else 0)
        tags = [Signal(tag_layout, name=f"op{k}") for k in range(depth + 1)]
        m.d.comb += [
            tags[0].op.eq(op),
            tags[0].blk.eq(blk),
            tags[0].first.eq(first | ~layer_reuse),
            # the last layer writes the frame's output bank; a hidden layer l writes 2 + (l & 1)
            tags[0].bank.eq(Mux(last_layer, bank, Cat(layer[0], Const(1, 1))) if multi else bank),
            tags[0].last.eq(last_op),
        ]
        if post:
            m.d.comb += [tags[0].sequence_first.eq(first), tags[0].end.eq(blk_last)]
        for k in range(1, len(tags)):
            m.d.sync += tags[k].eq(tags[k - 1])
        c1_base, c2_base, c3_addr = (Signal.like(weight_base, name=n)
                                     for n in ("c1_base", "c2_base", "c3_addr"))
        # reset-less: c2_* follow the change-list memory, c7_* are the multipliers' operands
        # (on ECP5 the block RAM's output register and the multiplier's input registers)
        c2_index = Signal.like(io.change_read.data.index, reset_less=True)
        deltas = {k: Signal(signed(cfg.delta_width), name=f"c{k}_delta", reset_less=True)
                  for k in range(2, 8)}
        c7_w = Signal.like(wb.weight_read.data, reset_less=True)
        m.d.sync += [
            c1_base.eq(based(weight_base, "weight_base")),
            # t+1: change-list entry arrives, registered before the address adder
            c2_base.eq(c1_base),
            c2_index.eq(io.change_read.data.index),
            deltas[2].eq(io.change_read.data.delta),
            # t+2: form the weight address
            c3_addr.eq(c2_base + c2_index),
            # t+6: weight word arrives (read latency 3), registered before the multiplier
            c7_w.eq(wb.weight_read.data),
        ]
        m.d.sync += [deltas[k].eq(deltas[k - 1]) for k in range(3, 8)]
        m.d.comb += wb.weight_read.addr.eq(c3_addr)  # t+3
        # t+7: multiply; LOADs read the previous outputs (or biases) at t+8 to arrive at t+9,
        # when the first product is added (the MAC array adds a product two cycles after it
        # multiplies)
        mul, acc = self.output_write_latency - 2, self.output_write_latency
        m.d.comb += [
            mac.mul.eq(tags[mul].op == _Op.MAC),
            mac.delta.eq(deltas[7]),
            mac.weights.eq(c7_w),
            wb.bias_read.addr.eq(based(tags[acc - 1].blk, "block_base")),
        ]
        load_data = wb.bias_read.data
        if reuse:
            m.d.comb += io.output_read.addr.eq(based(tags[acc - 1].blk, "block_base"))
            load_data = Mux(tags[acc].first, wb.bias_read.data.as_value(),
                            io.output_read.data.as_value())
        # t+9: accumulate; a STORE writes back the block and hands it to the output unit
        m.d.comb += [
            mac.load.eq(tags[acc].op == _Op.LOAD),
            mac.load_data.eq(load_data),
        ]
        if reuse:
            m.d.comb += [
                io.output_write.addr.eq(based(tags[acc].blk, "block_base")),
                io.output_write.data.eq(mac.acc),
                io.output_write.en.eq((tags[acc].op == _Op.STORE) & layer_reuse),
            ]
        # t+10 .. t+12: the output unit's three stages (shift, shift, activation + saturation)
        # an LSTM layer's ReLU applies to h_t, not to its gates
        m.d.comb += [ou.acc.eq(mac.acc), ou.shift.eq(cur.shift),
                     ou.relu.eq(cur.relu & ~cur.lstm if cfg.lstm else cur.relu)]
        # t+12: write the activation bank
        written = tags[self.bank_write_latency]
        word_written = written.op == _Op.STORE
        word_addr = Cat(written.blk[:io.block_bits], written.bank)
        word_data = ou.y
        complete_tag = written
        if post:
            # An LSTM layer's blocks go through the LSTM unit (t+12 .. t+17), which gives
            # lanes / 4 values of h_t per block, a magnitude layer's through the magnitude unit
            # (the same latency), lanes / 2 values: they are collected into a word, written
            # when it is full and at the layer's last block (the rest of the word is 0), to the
            # layer's bank (and h_t to the recurrent area). The layer (cur) does not change
            # before the last word is written: the layer switch lasts that long.
            h_out = tags[depth]
            word_layout = data.ArrayLayout(signed(cfg.act_width), cfg.lanes)
            collected, merged = Signal(word_layout), Signal(word_layout)
            units = []                  # (flag of the layer kind, values per block, values)
            if cfg.lstm:
                units.append((cur.lstm, cfg.lanes // 4, lstm.h))
                m.d.comb += [
                    lstm.valid.eq(cur.lstm & (written.op == _Op.STORE)),
                    lstm.first.eq(written.sequence_first),
                    lstm.addr.eq(written.blk),
                    lstm.gates.eq(ou.y),
                ]
            if magnitudes:
                units.append((cur.magnitude, cfg.lanes // 2, mag.m))
                m.d.comb += [mag.valid.eq(cur.magnitude & (written.op == _Op.STORE)),
                             mag.y.eq(ou.y), mag.shift.eq(cur.magnitude_shift)]
            post_layer = Signal()
            h_store, h_done = Signal(), Signal()
            h_word_addr = Signal(io.block_bits)
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
            m.d.comb += [h_store.eq(post_layer & (h_out.op == _Op.STORE)),
                         h_done.eq(h_store & (full | h_out.end))]
            with m.If(h_store):
                m.d.sync += collected.eq(Mux(h_done, 0, merged.as_value()))
            bank_data = merged.as_value()
            if cfg.lstm:
                # h_t, raw, is the recurrent input; the next layer may see it after a ReLU
                relu = cur.lstm & cur.relu
                bank_data = Cat(Mux(relu & v[-1], 0, v) for v in merged)
                m.d.comb += [
                    io.recurrent_write.addr.eq(h_word_addr),
                    io.recurrent_write.data.eq(merged),
                    io.recurrent_write.en.eq(h_done & cur.lstm),
                ]
            word_written = Mux(post_layer, h_done, word_written)
            word_addr = Mux(post_layer, Cat(h_word_addr, h_out.bank), word_addr)
            word_data = Mux(post_layer, bank_data, word_data.as_value())
            complete_tag = tag_layout(Mux(post_layer, h_out.as_value(), written.as_value()))
        m.d.comb += [
            io.bank_write.addr.eq(word_addr),
            io.bank_write.data.eq(word_data),
            io.bank_write.en.eq(word_written),
        ]
        set_complete = Signal(2)
        with m.If(word_written & complete_tag.last):
            m.d.comb += set_complete.eq(Mux(complete_tag.bank[0], 0b10, 0b01))

        # ---- output streamer: drains complete banks in frame order ------------------------
        # Two stages, both frozen while a beat waits for ready: the bank read (its data in
        # the RAM's output latch) and the registered payload, so the output port follows a
        # register (on ECP5 the block RAM's output register) and no RAM output drives a port.
        out_blk = Signal(range(cfg.max_blocks))
        issued_all = Signal()
        read_valid, read_last = Signal(), Signal()      # stage 1: block in the RAM latch
        out_data = Signal.like(io.bank_read.data, reset_less=True)
        advance = Signal()
        # out_blk's last block as a flag register (stream_blocks changes by register writes
        # only, never while a frame streams out)
        reading = Signal()
        out_at_last = _at_last_flag(m, out_blk, reading, stream_blocks, "out_at_last")
        m.d.comb += [
            advance.eq(~out_valid | self.o_stream.ready),
            io.bank_read.en.eq(advance),
            io.bank_read.addr.eq(Cat(out_blk[:io.block_bits], out_bank)),
            self.o_stream.valid.eq(out_valid),
            self.o_stream.payload.data.eq(out_data),
            self.o_stream.payload.last.eq(out_last),
        ]
        m.d.comb += reading.eq(advance & complete.bit_select(out_bank, 1) & ~issued_all)
        with m.If(advance):
            m.d.sync += [out_data.eq(io.bank_read.data), out_valid.eq(read_valid),
                         out_last.eq(read_last), read_valid.eq(0)]
        with m.If(reading):
            m.d.sync += [read_valid.eq(1), read_last.eq(out_at_last), out_blk.eq(out_blk + 1)]
            with m.If(out_at_last):
                m.d.sync += [issued_all.eq(1), out_blk.eq(0)]
        with m.If(out_valid & self.o_stream.ready & out_last):
            m.d.comb += clear.eq(Mux(out_bank, 0b10, 0b01))
            m.d.sync += [out_bank.eq(~out_bank), issued_all.eq(0)]
        claim = Signal(2)
        with m.If(loading & (blk == 0) & last_layer):
            m.d.comb += claim.eq(Mux(bank, 0b10, 0b01))
        m.d.sync += [
            complete.eq((complete | set_complete) & ~clear),
            busy.eq((busy | claim) & ~clear),
        ]

        # ---- performance counters ---------------------------------------------------------
        is_op = {_Op.LOAD: loading, _Op.MAC: multiplying, _Op.STORE: storing}.__getitem__
        increments = {
            "cycles": ~stall,
            "stall_cycles": stall,
            "inputs_scanned": accept,
            "inputs_changed": appending,
            "macs": Mux(is_op(_Op.MAC), active_lanes, 0),
            "weight_words": is_op(_Op.MAC),
            "index_reads": accept & layer_reuse,
            "index_writes": s4_write if reuse else 0,     # at the write, off the skip path
            "output_reads": is_op(_Op.LOAD) & ~first & layer_reuse,
            "output_writes": is_op(_Op.STORE) & layer_reuse,
        }
        # Each cycle's increment is registered before it is added, so the control decode and
        # the 32-bit carry chain sit in different cycles (together they were the ECP5 critical
        # path after the quantizer). The frame's totals and ``frames`` are published one cycle
        # after its last operation, when its last increment has reached the adder.
        publish = Signal()
        m.d.sync += publish.eq(last_op & ~self.start)
        sets = [("", publish, self.perf)]
        if multi:
            publish_layer = Signal()
            m.d.sync += publish_layer.eq(layer_end & ~self.start)
            sets.append(("layer_", publish_layer, self.layer_perf))
            with m.If(publish_layer):
                m.d.sync += [self.layers_done.eq(self.layers_done + 1),
                             self.layer_index.eq(layer)]
        for prefix, publish_set, perf in sets:
            for name in Counters.FIELDS:
                running = Signal(32, name=f"{prefix}run_{name}")
                pending = Signal(32, name=f"{prefix}inc_{name}")
                total = Signal(32, name=f"{prefix}total_{name}")
                m.d.comb += total.eq(running + pending)
                with m.If(self.start):
                    m.d.sync += [running.eq(0), pending.eq(0)]
                with m.Elif(publish_set):
                    m.d.sync += [running.eq(0), pending.eq(increments[name]),
                                 getattr(perf, name).eq(total)]
                with m.Else():
                    m.d.sync += [running.eq(total), pending.eq(increments[name])]
        with m.If(publish):
            m.d.sync += self.frames.eq(self.frames + 1)
        with m.If(self.start):
            m.d.sync += first.eq(1)

        # ---- buffer port (blocking): the host takes over both areas' ports between frames --
        # These assignments come last, so they override the datapath's while ``select``.
        if cfg.blocking and reuse:
            host = self.buffer
            read_area = Signal()
            m.d.sync += read_area.eq(host.area)
            with m.If(host.select):
                m.d.comb += [
                    io.index_read.addr.eq(host.addr),
                    io.index_write.addr.eq(host.addr),
                    io.index_write.data.eq(host.write_data),
                    io.index_write.en.eq(Mux(host.write & ~host.area, (1 << cfg.lanes) - 1, 0)),
                    io.output_read.addr.eq(host.addr),
                    io.output_write.addr.eq(host.addr),
                    io.output_write.data.eq(host.write_data),
                    io.output_write.en.eq(host.write & host.area),
                ]
            m.d.comb += host.read_data.eq(Mux(read_area, io.output_read.data.as_value(),
                                              io.index_read.data.as_value()))
        return m
