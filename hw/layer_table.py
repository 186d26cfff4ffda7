from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory, ReadPort, WritePort
from amaranth.lib.wiring import In, Out

from golden import cycle_model
from golden.programme import Region, Register

from ._check import check_config
from .signatures import ConfigWriteSignature, layer_switch, table_writes

__all__ = ["LayerTable", "entry_layout", "window_layout"]


def entry_layout(config):
    """One layer of the layer table (the registers of golden.config.Register)."""
    cfg = config
    return data.StructLayout({
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
        **({"conv": 1, "magnitude": 1,
            "magnitude_shift": 4} if cfg.conv else {}),
    })


def window_layout(config):
    """A conv window segment: the inputs [i_lo, i_hi) of its positions (i_hi at the layer's end
    flagged ``to_end``; an empty segment has i_lo = i_hi)."""
    pw = config.position_width
    return data.StructLayout({"i_lo": pw, "i_hi": pw, "to_end": 1})


def window_depth(config):
    return max(2, config.block_depth)


class LayerTable(wiring.Component):
    """Configuration decode, the layer table and the layer switch (golden twin:
    golden/programme.py writes what this decodes; golden/cycle_model.py times the switch).

    Configuration writes are registered with their region decoded (the decode followed by the
    fan-out to the tables' distributed RAMs was an ECP5 critical path): a write lands a cycle
    after its request, a bias two cycles after (one more stage with the lane decoded).

    The datapath reads the entry of the current layer, which only changes at the end of a
    layer switch, when the previous layer's pipeline has drained: no stage keeps its own copy.

    Members
    -------
    cfg : ``In(ConfigWriteSignature(config))``
    start : ``In(1)``
        Start of sequence: the next frame is a first execution (``first``).
    sequence_start : ``In(1)``
        ``start`` while the scan waits (multi-layer engines switch to layer 0 then).
    layer_end : ``In(1)``
        The current layer's last STORE issues.
    current : ``Out(entry_layout(config))``
        The entry of the layer being run.
    upcoming_inputs, upcoming_x_inputs : ``Out(...)``
        N (and an LSTM layer's X) of the layer the engine runs or switches to.
    first : ``Out(1)``
        The frame is a first execution of the sequence.
    bank : ``Out(1)``
        The output bank the frame writes.
    stream_blocks : ``Out(...)``
        Output beats per frame (the last layer's blocks, or the LSTM/magnitude layer's words).
    layer, target, last_layer, switch_done, first_is_lstm : ``max_layers > 1`` only
        The layer being run, the layer the switch leads to, ``layer`` is the last, the switch
        ends this cycle, layer 0 is an LSTM layer.
    weight_write, bias_write, quantization_write, centroid_write : table writes
    window_read_<s>, window_base_read_<s> : ``Out(ReadPort.Signature(...))`` (conv engines)
        The window table, a memory per segment slot s < ``max_kernel_rows`` (a block's
        segments are read at once), one entry per block (the host writes ``block <<
        segment_bits | s``), and the offset of each segment's weight words.
    """

    def __init__(self, config, *, weight_addr_width, bias_addr_width):
        self._config = check_config(config)
        cfg = config
        self._weight_addr_width = weight_addr_width
        multi = cfg.max_layers > 1
        weight_word = data.ArrayLayout(signed(cfg.weight_width), cfg.lanes)
        bias_word = data.ArrayLayout(signed(cfg.acc_width), cfg.lanes)
        members = {
            "cfg": In(ConfigWriteSignature(config)),
            "start": In(1),
            "sequence_start": In(1),
            "layer_end": In(1),
            "current": Out(entry_layout(config)),
            "upcoming_inputs": Out(range(cfg.max_inputs + 1)),
            "first": Out(1),
            "bank": Out(1),
            "stream_blocks": Out(range(cfg.max_blocks + 1)),
            "weight_write": In(WritePort.Signature(addr_width=weight_addr_width,
                                                   shape=weight_word)),
            "bias_write": In(WritePort.Signature(addr_width=bias_addr_width, shape=bias_word,
                                                 granularity=1)),
        }
        if multi:
            members.update(layer_switch(cfg))
        if cfg.lstm:
            members.update({"upcoming_x_inputs": Out(range(cfg.max_inputs + 1)),
                            "first_is_lstm": Out(1)})
        if cfg.reuse:
            members.update(table_writes(cfg))
        if cfg.conv:
            aw = max(1, (window_depth(cfg) - 1).bit_length())
            for slot in range(cfg.max_kernel_rows):
                members.update({
                    f"window_read_{slot}": Out(ReadPort.Signature(addr_width=aw,
                                                                  shape=window_layout(cfg))),
                    f"window_base_read_{slot}": Out(ReadPort.Signature(
                        addr_width=aw, shape=weight_addr_width)),
                })
        super().__init__(members)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        multi = cfg.max_layers > 1
        m = Module()

        entries = [Signal(entry_layout(cfg), name=f"layer{k}", init={
            "inputs": 1, "outputs": 1, "blocks": 1, "reuse": 1})
            for k in range(cfg.max_layers)]
        layer = Signal(range(cfg.max_layers))
        target = Signal.like(layer)
        n_layers = Signal(range(cfg.max_layers + 1), init=1)
        if multi:
            stream_blocks = Signal(range(cfg.max_blocks + 1), init=1)
            current = Array(e.as_value() for e in entries)[layer]
            upcoming = Array(entries)[target]
            last_layer = layer == n_layers - 1
            m.d.comb += [self.layer.eq(layer), self.target.eq(target),
                         self.last_layer.eq(last_layer), self.stream_blocks.eq(stream_blocks)]
        else:
            current, upcoming, last_layer = entries[0].as_value(), entries[0], Const(1)
            m.d.comb += self.stream_blocks.eq(entries[0].blocks)
        m.d.comb += [self.current.eq(current), self.upcoming_inputs.eq(upcoming.inputs)]
        if cfg.lstm:
            m.d.comb += [self.upcoming_x_inputs.eq(upcoming.x_inputs),
                         self.first_is_lstm.eq(entries[0].lstm)]

        # ---- configuration writes
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
        fields = {Register.INPUTS: "inputs", Register.OUTPUTS: "outputs",
                  Register.SHIFT: "shift", Register.BLOCKS: "blocks"}
        if cfg.reuse:
            fields[Register.REUSE] = "reuse"
        if cfg.conv:
            fields[Register.CONV] = "conv"
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
                            # codes are ACTIVATIONS' indices, 0 or 1 (a full-width comparison
                            # was an ECP5 critical path)
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
        if cfg.reuse:
            m.d.comb += [
                self.centroid_write.en.eq(writes_to[Region.CENTROID]),
                self.centroid_write.addr.eq(offset),
                self.centroid_write.data.eq(cfg_data[:cfg.act_width]),
                self.quantization_write.en.eq(writes_to[Region.QUANTIZATION]),
                self.quantization_write.addr.eq(offset),
                self.quantization_write.data.eq(cfg_data),
            ]
        m.d.comb += [
            self.weight_write.addr.eq(offset),
            self.weight_write.data.eq(cfg_data[:cfg.lanes * cfg.weight_width]),
            self.weight_write.en.eq(writes_to[Region.WEIGHT]),
        ]
        # one more register stage with the lane decoded: the decode followed by the fan-out to
        # the write enables of the biases' distributed RAM was an ECP5 critical path
        lane_bits = max(0, (cfg.lanes - 1).bit_length())
        bias_en = Signal(cfg.lanes)
        bias_addr = Signal.like(self.bias_write.addr, reset_less=True)
        bias_data = Signal(cfg.acc_width, reset_less=True)
        m.d.sync += [
            bias_en.eq(Mux(writes_to[Region.BIAS], Const(1, cfg.lanes) << offset[:lane_bits], 0)),
            bias_addr.eq(offset[lane_bits:]),
            bias_data.eq(cfg_data[:cfg.acc_width]),
        ]
        m.d.comb += [
            self.bias_write.en.eq(bias_en),
            self.bias_write.addr.eq(bias_addr),
            self.bias_write.data.eq(Cat(bias_data for _ in range(cfg.lanes))),
        ]
        if cfg.conv:
            # offset: (block << segment_bits | slot) << 1 | (0: window, 1: weight offset)
            sb = cfg.segment_bits
            for slot in range(cfg.max_kernel_rows):
                tables = [Memory(shape=window_layout(cfg), depth=window_depth(cfg), init=[]),
                          Memory(shape=self._weight_addr_width, depth=window_depth(cfg),
                                 init=[])]
                m.submodules[f"window_table_{slot}"] = tables[0]
                m.submodules[f"window_base_table_{slot}"] = tables[1]
                for which, (table, name) in enumerate(zip(tables, ("window_read",
                                                                   "window_base_read"))):
                    wiring.connect(m, wiring.flipped(getattr(self, f"{name}_{slot}")),
                                   table.read_port())
                    port = table.write_port()
                    m.d.comb += [port.addr.eq(offset[1 + sb:]), port.data.eq(cfg_data),
                                 port.en.eq(writes_to[Region.WINDOW] & (offset[0] == which)
                                            & (offset[1:1 + sb] == slot))]

        # ---- sequence state and layer switch
        with m.If(self.layer_end & last_layer):
            m.d.sync += [self.first.eq(0), self.bank.eq(~self.bank)]
        with m.If(self.start):
            m.d.sync += self.first.eq(1)
        if multi:
            # the previous layer's last STORE reaches its bank before the next layer reads it
            # (and before the layer registers change under its pipeline)
            switch = cycle_model.switch_cycles(cfg)
            switching = Signal()
            switch_count = Signal(range(max(1, switch)))
            with m.If(self.sequence_start):
                m.d.sync += [target.eq(0), switching.eq(1)]
            with m.If(switching):
                m.d.sync += switch_count.eq(switch_count + 1)
                with m.If(switch_count == switch - 1):
                    m.d.comb += self.switch_done.eq(1)
                    m.d.sync += [layer.eq(target), switch_count.eq(0), switching.eq(0)]
            with m.If(self.layer_end):
                m.d.sync += [switching.eq(1), target.eq(Mux(last_layer, 0, layer + 1))]
        return m
