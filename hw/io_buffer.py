from amaranth.hdl import Array, Module, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory, ReadPort, WritePort
from amaranth.lib.wiring import Out

from ._check import check_config

__all__ = ["IOBuffer"]


class IOBuffer(wiring.Component):
    """The I/O buffer banks of the paper (golden/io_buffer.py sizes them).

    - index area: the previous cluster index of every input (reuse engines only);
    - output area: the previous pre-activation output of every output, one word per block of
      ``lanes`` outputs (reuse engines only);
    - two ping-pong activation banks: one frame's post-activation outputs are written into one
      bank while the previous frame's are streamed out of the other, so output backpressure
      never stalls the datapath; engines with ``max_layers > 1`` have two more (hidden) banks,
      which carry one layer's outputs to the next layer's scan (``scan_read``);
    - the change list ``(i, d_i)`` written by the scan and read by the correct phase;
    - engines with conv layers: the position table, the change list's length before each
      input of a conv layer (``position_write``; ``position_read_lo_<s>``,
      ``position_read_hi_<s>``: both ends of segment slot s of a block's window);
    - engines with the LSTM unit: the recurrent area, h_{t-1} of the LSTM layer, written with
      its h_t words and read by its scan after x_t (``recurrent_read``, ``recurrent_write``).

    All read ports are synchronous (data one cycle after the address), as block RAM is.

    On engines with ``blocking``, the index area's words hold ``lanes`` indices (index i at word
    i // lanes, lane i % lanes; the write port has a write enable per lane), so the host moves
    ``lanes`` indices per cycle through the buffer port (golden.blocking.index_words). On
    engines with ``scan_width`` W > 1 they hold W indices, the scan's beat.

    With W > 1 the change list and the position table are W banks each (entry e in bank
    e % W, word e // W), so the scan writes W consecutive entries a cycle (``change_write_<j>``,
    ``position_write_<j>``, one port per bank); a read port reads entry ``addr`` (its data a
    cycle later, from the bank its address named).

    Members
    -------
    index_read, index_write : memory ports of the index area (absent if ``reuse=False``)
    output_read, output_write : memory ports of the output area (absent if ``reuse=False``)
    bank_read, bank_write : memory ports of the activation banks (address MSBs = bank)
    scan_read : second read port of the activation banks (``max_layers > 1`` only)
    change_read, change_write : memory ports of the change list (``change_write_<j>``, one
        per bank, if ``scan_width`` > 1)
    """

    def __init__(self, config):
        self._config = check_config(config)
        cfg = config
        self.change_layout = data.StructLayout({
            "index": cfg.input_index_width,
            "delta": signed(cfg.delta_width),
        })
        acc_word = data.ArrayLayout(signed(cfg.acc_width), cfg.lanes)
        act_word = data.ArrayLayout(signed(cfg.act_width), cfg.lanes)
        block_bits = max(1, (cfg.max_blocks - 1).bit_length())
        self.bank_bits = 2 if cfg.max_layers > 1 else 1
        self._shapes = {
            "change": (self.change_layout, cfg.max_inputs),
            "bank": (act_word, 1 << (block_bits + self.bank_bits)),
        }
        if cfg.lstm:
            # an LSTM layer's h_t: hidden <= max_outputs / 4 values, lanes per word
            self._shapes["recurrent"] = (act_word, -(-cfg.max_blocks // 4))
        if cfg.conv:
            # a conv layer's change-list length before each input
            self._shapes["position"] = (range(cfg.max_inputs + 1), cfg.max_inputs)
        self.index_lanes = cfg.lanes if cfg.blocking else cfg.scan_width
        # the areas the scan writes W entries of a cycle
        self.banks = cfg.scan_width
        self._banked = {"change", "position"} if self.banks > 1 else set()
        if cfg.reuse:
            self._shapes["index"] = (
                data.ArrayLayout(cfg.index_width, self.index_lanes) if self.index_lanes > 1
                else cfg.index_width,
                -(-cfg.index_depth // self.index_lanes))
            self._shapes["output"] = (acc_word, cfg.block_depth)
        # a one-word area still gets two words: Memory gives depth 1 a 0-bit address, and
        # the ports keep a 1-bit one so every configuration has the same port shapes
        self._shapes = {name: (shape, max(2, depth))
                        for name, (shape, depth) in self._shapes.items()}
        # read ports of each area (the rest have one, "<area>_read"): the scan reads the
        # banks besides the output streamer; a conv block reads both ends of its window
        self._reads = {name: [f"{name}_read"] for name in self._shapes}
        if cfg.max_layers > 1:
            self._reads["bank"].append("scan_read")
        if cfg.conv:
            # a block reads both ends of every segment of its window at once
            self._reads["position"] = [f"position_read_{end}_{slot}"
                                       for slot in range(cfg.max_kernel_rows)
                                       for end in ("lo", "hi")]
        members = {}
        for name, (shape, depth) in self._shapes.items():
            addr_width = max(1, (depth - 1).bit_length())
            for port in self._reads[name]:
                members[port] = Out(ReadPort.Signature(addr_width=addr_width, shape=shape))
            if name in self._banked:
                bank_width = max(1, (-(-depth // self.banks) - 1).bit_length())
                for j in range(self.banks):
                    members[f"{name}_write_{j}"] = Out(WritePort.Signature(
                        addr_width=bank_width, shape=shape))
                continue
            members[f"{name}_write"] = Out(WritePort.Signature(
                addr_width=addr_width, shape=shape, granularity=self._granularity(name)))
        self.block_bits = block_bits
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for name, (shape, depth) in self._shapes.items():
            if name in self._banked:
                self._bank_area(m, name, shape, depth)
                continue
            memory = Memory(shape=shape, depth=depth, init=[])
            m.submodules[f"{name}_area"] = memory
            for port in self._reads[name]:
                wiring.connect(m, wiring.flipped(getattr(self, port)), memory.read_port())
            wiring.connect(m, wiring.flipped(getattr(self, f"{name}_write")),
                           memory.write_port(granularity=self._granularity(name)))
        return m

    def _bank_area(self, m, name, shape, depth):
        """An area of ``banks`` memories, entry e in bank e % banks: each read port reads
        every bank at e // banks and picks one a cycle later."""
        banks = self.banks
        low = banks.bit_length() - 1
        words = max(2, -(-depth // banks))
        memories = []
        for j in range(banks):
            memory = Memory(shape=shape, depth=words, init=[])
            m.submodules[f"{name}_area_{j}"] = memory
            wiring.connect(m, wiring.flipped(getattr(self, f"{name}_write_{j}")),
                           memory.write_port())
            memories.append(memory)
        for port_name in self._reads[name]:
            port = getattr(self, port_name)
            selected = Signal(range(banks), name=f"{port_name}_bank")
            with m.If(port.en):                 # held with the banks' outputs
                m.d.sync += selected.eq(port.addr[:low])
            outputs = []
            for memory in memories:
                read = memory.read_port()
                m.d.comb += [read.addr.eq(port.addr[low:]), read.en.eq(port.en)]
                outputs.append(read.data)
            m.d.comb += port.data.eq(Array(outputs)[selected])

    def _granularity(self, area):
        return 1 if area == "index" and self.index_lanes > 1 else None
