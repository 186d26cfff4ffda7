from amaranth.hdl import Const, Module, Mux
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden import cycle_model

from ._check import check_config
from .buffer_port import BufferPort
from .io_buffer import IOBuffer
from .issue_unit import IssueUnit
from .layer_table import LayerTable
from .mac_pipeline import MACPipeline
from .output_streamer import OutputStreamer
from .perf_counters import PerfCounters
from .scan_unit import ScanUnit
from .signatures import (
    BufferPortSignature,
    ConfigWriteSignature,
    input_layout,
    output_layout,
    perf_layout,
)
from .weight_buffer import WeightBuffer

__all__ = ["ReuseEngine"]


class ReuseEngine(wiring.Component):
    """The reuse engine: the layer table, the scan unit, the issue unit, the MAC pipeline, the
    output streamer and the performance counters around the I/O buffer and the weight buffer
    (golden twin: golden/engine.py; golden/cycle_model.py is its cycle contract, which this
    component matches cycle for cycle).

    Parameters
    ----------
    config : :class:`golden.EngineConfig`
        ``reuse=False`` elaborates the baseline engine, without quantizer, centroid table, index
        area, output area or skip logic; ``lstm=True`` adds the LSTM unit and the recurrent
        area, ``conv=True`` the window and position tables (and the magnitude unit).
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

    # Latencies the cycle model relies on (golden/cycle_model.py).
    scan_drain = cycle_model.SCAN_DRAIN
    index_write_latency = ScanUnit.latency
    output_write_latency = MACPipeline.output_write_latency
    bank_write_latency = MACPipeline.bank_write_latency

    def __init__(self, config, *, block_ram_slices=False):
        self._config = check_config(config)
        cfg = config
        multi = cfg.max_layers > 1
        super().__init__({
            "cfg": In(ConfigWriteSignature(cfg)),
            "start": In(1),
            "i_stream": In(stream.Signature(input_layout(cfg))),
            "o_stream": Out(stream.Signature(output_layout(cfg))),
            "perf": Out(perf_layout()),
            "frames": Out(32),
            "framing_error": Out(1),
            **({"layer_perf": Out(perf_layout()), "layer_index": Out(cfg.layer_bits),
                "layers_done": Out(32)} if multi else {}),
            **({"buffer": In(BufferPortSignature(cfg))} if cfg.blocking and cfg.reuse else {}),
        })
        self.io_buffer = io = IOBuffer(cfg)
        self.weight_buffer = wb = WeightBuffer(cfg, block_ram_slices=block_ram_slices)
        weight_addr_width = wb.signature.members["weight_read"].signature.addr_width

        def ports(block, *names):
            """A block's memory ports, as the stage that uses them sees them."""
            members = block.signature.members
            return {name: members[name].flip() for name in names if name in members}

        self.layer_table = LayerTable(
            cfg, weight_addr_width=weight_addr_width,
            bias_addr_width=wb.signature.members["bias_read"].signature.addr_width)
        self.scan_unit = ScanUnit(cfg, ports(io, "index_read", "index_write", *self._scan_writes,
                                             "scan_read", "recurrent_read"))
        self.issue_unit = IssueUnit(cfg, ports(io, *self._window_reads[0]),
                                    ports(self.layer_table, *self._window_reads[1]),
                                    weight_addr_width)
        self.mac_pipeline = MACPipeline(
            cfg, {**ports(wb, "weight_read", "bias_read"),
                  **ports(io, "output_read", "output_write", "bank_write", "recurrent_write")},
            io.change_layout, weight_addr_width)
        self.output_streamer = OutputStreamer(cfg, ports(io, "bank_read"))
        self.perf_counters = PerfCounters(cfg)
        if cfg.blocking and cfg.reuse:
            self.buffer_port = BufferPort(cfg, ports(io, "index_read", "index_write",
                                                     "output_read", "output_write"))

    @property
    def config(self):
        return self._config

    @property
    def _window_reads(self):
        """The issue unit's read ports of the position table and of the window tables (a pair
        per segment slot)."""
        slots = range(self._config.max_kernel_rows)
        return ([f"position_read_{end}_{s}" for s in slots for end in ("lo", "hi")],
                [f"window_{kind}read_{s}" for s in slots for kind in ("", "base_")])

    @property
    def _scan_writes(self):
        """The scan's write ports of the change list and the position table (one per bank)."""
        banks = range(self._config.scan_width)
        return ("change_write", "position_write", *(f"change_write_{j}" for j in banks),
                *(f"position_write_{j}" for j in banks))

    def elaborate(self, platform):
        cfg = self._config
        multi = cfg.max_layers > 1
        m = Module()
        m.submodules.io_buffer = io = self.io_buffer
        m.submodules.weight_buffer = wb = self.weight_buffer
        m.submodules.layer_table = table = self.layer_table
        m.submodules.scan_unit = scan = self.scan_unit
        m.submodules.issue_unit = issue = self.issue_unit
        m.submodules.mac_pipeline = pipe = self.mac_pipeline
        m.submodules.output_streamer = out = self.output_streamer
        m.submodules.perf_counters = counters = self.perf_counters

        # the host's ports
        wiring.connect(m, wiring.flipped(self.cfg), table.cfg)
        wiring.connect(m, wiring.flipped(self.i_stream), scan.i_stream)
        wiring.connect(m, out.o_stream, wiring.flipped(self.o_stream))

        # the memories: the areas the host reaches between frames go through the buffer port
        index_side = io
        if cfg.blocking and cfg.reuse:
            m.submodules.buffer_port = host = self.buffer_port
            wiring.connect(m, wiring.flipped(self.buffer), host.host)
            for name in ("index_read", "index_write", "output_read", "output_write"):
                wiring.connect(m, getattr(io, name), getattr(host, f"io_{name}"))
            index_side = host
        connections = [
            (index_side, scan, ("index_read", "index_write")),
            (io, scan, (*self._scan_writes, "scan_read", "recurrent_read")),
            (io, issue, self._window_reads[0]),
            (table, issue, self._window_reads[1]),
            (wb, pipe, ("weight_read", "bias_read")),
            (index_side, pipe, ("output_read", "output_write")),
            (io, pipe, ("bank_write", "recurrent_write")),
            (io, out, ("bank_read",)),
            (table, wb, ("weight_write", "bias_write")),
            (table, scan, ("quantization_write", "centroid_write")),
        ]
        for source, sink, names in connections:
            for name in names:
                if name in sink.signature.members:
                    wiring.connect(m, getattr(source, name), getattr(sink, name))

        # the stages' control
        current = table.current
        m.d.comb += [
            table.start.eq(self.start),
            table.layer_end.eq(issue.layer_end),
            scan.start.eq(self.start),
            scan.layer_end.eq(issue.layer_end),
            scan.first.eq(table.first),
            scan.current.eq(current),
            scan.upcoming_inputs.eq(table.upcoming_inputs),
            issue.scan_done.eq(scan.scan_done),
            issue.current.eq(current),
            issue.bank.eq(table.bank),
            issue.n_changed.eq(scan.n_changed),
            issue.appending.eq(scan.appending),
            issue.has_changes.eq(scan.has_changes),
            issue.one_entry.eq(scan.one_entry),
            issue.bank_busy.eq(out.bank_busy),
            issue.bank_clears.eq(out.bank_clears),
            issue.output_ready.eq(self.o_stream.ready),
            io.change_read.addr.eq(issue.entry),
            pipe.op.eq(issue.op),
            pipe.loading.eq(issue.loading),
            pipe.load_blk.eq(issue.load_blk),
            pipe.blk.eq(issue.blk),
            pipe.weight_base.eq(issue.weight_base),
            pipe.last_op.eq(issue.last_op),
            pipe.block_last.eq(issue.block_last),
            pipe.first.eq(table.first),
            pipe.bank.eq(table.bank),
            pipe.current.eq(current),
            pipe.change.eq(io.change_read.data),
            out.stream_blocks.eq(table.stream_blocks),
            out.claim.eq(issue.claim),
            out.set_complete.eq(pipe.set_complete),
            out.bank.eq(table.bank),
            self.framing_error.eq(scan.framing_error),
        ]
        if multi:
            m.d.comb += [
                table.sequence_start.eq(scan.sequence_start),
                issue.sequence_start.eq(scan.sequence_start),
                issue.last_layer.eq(table.last_layer),
                pipe.layer.eq(table.layer),
                pipe.last_layer.eq(table.last_layer),
            ]
            for name in ("layer", "target", "last_layer", "switch_done"):
                m.d.comb += getattr(scan, name).eq(getattr(table, name))
        if cfg.lstm:
            m.d.comb += [scan.upcoming_x_inputs.eq(table.upcoming_x_inputs),
                         scan.first_is_lstm.eq(table.first_is_lstm)]

        # the counters
        layer_reuse = current.reuse if cfg.reuse else Const(0)
        stall = scan.stall | issue.stall
        increments = counters.increments
        m.d.comb += [
            increments.cycles.eq(~stall),
            increments.stall_cycles.eq(stall),
            increments.inputs_scanned.eq(scan.scanned),
            increments.inputs_changed.eq(scan.changed),
            increments.macs.eq(Mux(issue.multiplying, issue.active_lanes, 0)),
            increments.weight_words.eq(issue.multiplying),

            counters.start.eq(self.start),
            counters.frame_end.eq(issue.last_op),
            counters.layer_end.eq(issue.layer_end),
            self.perf.eq(counters.perf),
            self.frames.eq(counters.frames),
        ]
        if cfg.reuse:
            m.d.comb += [
                increments.index_reads.eq(Mux(layer_reuse, scan.scanned, 0)),
                increments.index_writes.eq(scan.index_writes),
                increments.output_reads.eq(issue.loading & ~table.first & layer_reuse),
                increments.output_writes.eq(issue.storing & layer_reuse),
            ]
        if multi:
            m.d.comb += [counters.layer.eq(table.layer), self.layer_perf.eq(counters.layer_perf),
                         self.layer_index.eq(counters.layer_index),
                         self.layers_done.eq(counters.layers_done)]
        return m
