from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from golden import cycle_model

from ._check import check_config
from .flags import kept
from .layer_table import entry_layout

__all__ = ["IssueUnit", "Op"]


class Op:
    """The operations the issue unit sends down the MAC pipeline."""
    NONE, LOAD, MAC, STORE = range(4)


class IssueUnit(wiring.Component):
    """The correct phase's control: after the scan drains, one operation per cycle for every
    output block: LOAD, a MAC per change-list entry (a conv block: per entry of its window
    segments), STORE (golden twin: golden/issue_unit.py, timed by
    golden/cycle_model.py).

    Every decision of the issue loop reads a flag register, not a comparison: a subtraction, a
    comparison and the decode in front of the enables were the ECP5 critical path, once per
    bound (blocks, change-list length, output lanes). The operation issued in a cycle is
    one-hot (``loading``, ``multiplying``, ``storing``, all zero outside the loop).

    The frame's first LOAD claims its output bank (``claim``); the wait for that bank to drain
    is taken at the end of the drain (on the bank's state in the next cycle), so the loop never
    stalls once it runs.

    Members
    -------
    scan_done : ``In(1)``
        The scan accepts the layer's last input: the drain starts.
    n_changed, appending, has_changes, one_entry : ``In(...)``
        The change list's length, from the scan unit.
    bank_busy, bank_clears, output_ready : ``In(1)``
        The frame's output bank is still being streamed; its last beat is on the output
        stream; the output stream's ready.
    entry : ``Out(...)``
        The change-list entry read this cycle (its MAC issues a cycle later).
    op, blk, weight_base : ``Out(...)``
        The operation issued, its block, the offset of the block's (a conv segment's) weights.
    block_last, layer_end, last_op : ``Out(1)``
        ``blk`` is the layer's last block; the layer's last STORE issues; and the layer is the
        frame's last.
    active_lanes : ``Out(range(lanes + 1))``
        Output lanes of the block in use (MAC counter).
    claim : ``Out(2)``
        The frame's output bank is claimed (one-hot).
    stall : ``Out(1)``
        The drain waits for the output bank.
    """

    def __init__(self, config, buffer_ports, window_ports, weight_addr_width):
        self._config = check_config(config)
        cfg = config
        multi = cfg.max_layers > 1
        members = {
            "scan_done": In(1),
            "current": In(entry_layout(cfg)),
            "bank": In(1),
            "n_changed": In(range(cfg.max_inputs + 1)),
            "appending": In(1),
            "has_changes": In(1),
            "one_entry": In(1),
            "bank_busy": In(1),
            "bank_clears": In(1),
            "output_ready": In(1),
            "entry": Out(range(cfg.max_inputs)),
            "op": Out(range(4)),
            "blk": Out(range(cfg.max_blocks)),
            "weight_base": Out(weight_addr_width),
            "block_last": Out(1),
            "layer_end": Out(1),
            "last_op": Out(1),
            "loading": Out(1),
            "multiplying": Out(1),
            "storing": Out(1),
            "active_lanes": Out(range(cfg.lanes + 1)),
            "claim": Out(2),
            "stall": Out(1),
            **buffer_ports,
            **window_ports,
        }
        if multi:
            members.update({"sequence_start": In(1), "last_layer": In(1)})
        super().__init__(members)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        multi = cfg.max_layers > 1
        m = Module()
        cur = self.current
        last_layer = self.last_layer if multi else Const(1)
        n_changed, appending = self.n_changed, self.appending

        def based(address, field):
            return address + getattr(cur, field) if multi else address

        blk, entry = self.blk, self.entry
        loading, multiplying, storing = self.loading, self.multiplying, self.storing
        # 2-D conv blocks: NEXT starts the block's next window segment; an empty segment that
        # is not the block's last is followed by an idle cycle (the next segment's window is
        # read two cycles ahead of its start)
        advancing, idling = Signal(), Signal()
        drain_done = Signal()
        weight_base = self.weight_base
        lane_base = Signal(range(cfg.max_blocks * cfg.lanes + 1))
        drain = Signal(range(cycle_model.CONV_DRAIN + 1))

        # Register copies lag their sources by a cycle, which is early enough: a layer's
        # bounds change at a layer switch or a register write, a scan before they are used,
        # and the change list's final length is visible when the LOAD of block 0 issues, a
        # cycle before the first MAC.
        last_block = Signal.like(blk)          # n_blocks - 1
        last_block_m1 = Signal.like(blk)       # n_blocks - 2 (wraps; unused when it does)
        last_entry_m1 = Signal.like(entry)     # n_changed - 2 (likewise), with ``appending``
        m.d.sync += [last_block.eq(cur.blocks - 1), last_block_m1.eq(cur.blocks - 2),
                     last_entry_m1.eq(Mux(appending, n_changed - 1, n_changed - 2))]
        blk_last = self.block_last
        entry_last = Signal()         # entry is the change list's last entry
        has_changes, one_entry = self.has_changes, self.one_entry
        remaining = Signal(signed(len(cur.outputs) + 1))
        m.d.comb += remaining.eq(cur.outputs - lane_base)
        m.d.sync += self.active_lanes.eq(Mux(remaining >= cfg.lanes, cfg.lanes, remaining))

        # ---- the drain: the last input reaches the change list before its length is read
        # (CONV_DRAIN on a conv layer: the position table too); at its end the last layer
        # waits while its output bank is busy and its last beat does not go out in this cycle.
        # Both conditions are kept wires of registers, so the output handshake (late) meets
        # them in one LUT.
        draining = Signal()
        with m.If(self.scan_done):
            m.d.sync += [drain.eq(0), draining.eq(1)]
        if multi:
            with m.If(self.sequence_start):
                m.d.sync += draining.eq(0)
        bank_waits, bank_clears = kept("bank_waits"), kept("bank_clears")
        m.d.comb += [bank_waits.eq(last_layer & self.bank_busy),
                     bank_clears.eq(self.bank_clears)]
        with m.If(draining):
            m.d.sync += blk_last.eq(last_block == 0)
            # (scan_width > 1: one more cycle for the change list's banks)
            drain_last = ((Mux(cur.conv, cycle_model.CONV_DRAIN, cycle_model.SCAN_DRAIN)
                           if cfg.conv else cycle_model.SCAN_DRAIN) + (cfg.scan_width > 1) - 1)
            with m.If(drain != drain_last):
                m.d.sync += drain.eq(drain + 1)
            with m.Elif(bank_waits & ~(bank_clears & self.output_ready)):
                m.d.comb += self.stall.eq(1)
            with m.Else():
                m.d.comb += drain_done.eq(1)
                m.d.sync += draining.eq(0)

        # ---- the issue loop
        first_entry, final_m1 = Const(0), last_entry_m1
        starting = loading                  # a window segment starts (FC: the block's LOAD)
        start_last, seg_last = Const(1), Const(1)   # that segment is the block's last
        if cfg.conv:
            # A conv block runs the list's entries in its window segments: the window table is
            # read for the next segment as soon as one starts (for block 0 during the drain),
            # then the position table at the segment's ends, so both are there when it starts.
            sb = cfg.segment_bits
            window_read, window_base_read = self.window_read, self.window_base_read
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
                self.position_read_lo.addr.eq(window_read.data.i_lo),
                self.position_read_hi.addr.eq(window_read.data.i_hi),
                window_start.eq(self.position_read_lo.data),
                window_end.eq(Mux(window_read.data.to_end, n_changed,
                                  self.position_read_hi.data)),
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
                weight_base.eq(weight_base + cur.inputs),
                lane_base.eq(lane_base + cfg.lanes),
            ]
            with m.If(blk_last):
                m.d.comb += [self.layer_end.eq(1), self.last_op.eq(last_layer)]
                m.d.sync += [blk.eq(0), weight_base.eq(0), lane_base.eq(0)]
        m.d.comb += self.op.eq(Mux(loading, Op.LOAD, Mux(multiplying, Op.MAC,
                                                         Mux(storing, Op.STORE, Op.NONE))))
        with m.If(loading & (blk == 0) & last_layer):
            m.d.comb += self.claim.eq(Mux(self.bank, 0b10, 0b01))
        return m
