from amaranth.hdl import Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
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
    """The correct phase's control: after the scan drains, one operation per cycle: the first
    block's LOAD, then for every output block a MAC per change-list entry (a conv block: per
    entry of its window's segments, back to back) and its STORE, which also issues the next
    block's LOAD (golden twin: golden/issue_unit.py, timed by golden/cycle_model.py).

    Every decision of the issue loop reads a flag register, not a comparison: a subtraction, a
    comparison and the decode in front of the enables were the ECP5 critical path, once per
    bound (blocks, change-list length, output lanes). ``multiplying`` and ``storing`` are
    one-hot; ``loading`` is the first LOAD or a STORE that loads the next block.

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
        The operation issued (a STORE that loads the next block is a STORE), its block, the
        offset of the block's (a conv segment's) weights.
    loading, load_blk : ``Out(...)``
        A block's LOAD issues (alone, or with a STORE); the block it loads.
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
            "load_blk": Out(range(cfg.max_blocks)),
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
        # Output lanes of the block in use: set as the STORE before its MACs issues, from the
        # next block's lane base (kept a block ahead, so the STORE only picks a ready value)
        lane_base_ahead = Signal.like(lane_base, init=cfg.lanes)
        remaining, remaining_ahead = (Signal(signed(len(cur.outputs) + 1), name=n)
                                      for n in ("remaining", "remaining_ahead"))
        m.d.comb += [remaining.eq(cur.outputs - lane_base),
                     remaining_ahead.eq(cur.outputs - lane_base_ahead)]

        def in_block(left):
            return Mux(left >= cfg.lanes, cfg.lanes, left)

        m.d.sync += self.active_lanes.eq(in_block(remaining))
        with m.If(self.storing):
            m.d.sync += [lane_base.eq(lane_base_ahead),
                         lane_base_ahead.eq(lane_base_ahead + cfg.lanes),
                         self.active_lanes.eq(in_block(remaining_ahead))]
            with m.If(blk_last):
                m.d.sync += [lane_base.eq(0), lane_base_ahead.eq(cfg.lanes),
                             self.active_lanes.eq(in_block(cur.outputs))]

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

        # ---- the issue loop: the layer's first LOAD (``first_load``), then per block its MACs
        # and its STORE, which issues the next block's LOAD in the same cycle
        first_load = Signal()
        m.d.comb += loading.eq(first_load | storing & ~blk_last)
        first_entry, final_m1 = Const(0), last_entry_m1
        more = Const(0)             # a conv block has segments left after the current one
        if cfg.conv:
            # A conv block runs the list's entries in its window's segments, back to back. The
            # window tables (a memory per segment slot) and then the position table at every
            # segment's ends are a two-stage pipeline that advances at every LOAD (and while
            # the engine is idle), so at a block's LOAD its segments' ranges are on the
            # position table's outputs, and the next block's window on the window tables'.
            slots = range(cfg.max_kernel_rows)
            windows = [getattr(self, f"window_read_{s}") for s in slots]
            window_bases = [getattr(self, f"window_base_read_{s}") for s in slots]
            idle, advance = Signal(), Signal()
            window_addr = Signal.like(windows[0].addr)
            m.d.comb += [
                idle.eq(~(first_load | multiplying | storing)),
                advance.eq(idle | loading),
                # idle: block 0's window, block 1's as the drain ends; at a LOAD of block b,
                # block b + 2's
                window_addr.eq(based(Mux(idle, drain_done, self.load_blk + 2), "block_base")),
            ]
            # per slot, the segment's range of the list: its first entry, whether it runs one
            # entry, its last entry - 1, and the offset of its weights
            segment = data.StructLayout({"start": len(entry), "one": 1, "last_m1": len(entry),
                                         "base": len(weight_base)})
            ranges = [Signal(segment, name=f"range{s}") for s in slots]
            runs = Signal(len(slots))       # the segments with entries
            for s, window in enumerate(windows):
                lo, hi = (getattr(self, f"position_read_{end}_{s}") for end in ("lo", "hi"))
                # the window's flag and weight offset, beside the position table's outputs
                to_end = Signal(name=f"to_end{s}")
                base = Signal.like(weight_base, name=f"base{s}")
                with m.If(advance):
                    m.d.sync += [to_end.eq(window.data.to_end), base.eq(window_bases[s].data)]
                end = Signal.like(n_changed, name=f"end{s}")
                m.d.comb += [
                    window.addr.eq(window_addr), window_bases[s].addr.eq(window_addr),
                    window.en.eq(advance), window_bases[s].en.eq(advance),
                    lo.addr.eq(window.data.i_lo), hi.addr.eq(window.data.i_hi),
                    lo.en.eq(advance), hi.en.eq(advance),
                    end.eq(Mux(to_end, n_changed, hi.data)),
                    ranges[s].start.eq(lo.data), ranges[s].one.eq(end == lo.data + 1),
                    ranges[s].last_m1.eq(end - 2), ranges[s].base.eq(base),
                    runs[s].eq(end != lo.data),
                ]
            # at a LOAD, the block's first segment with entries starts (from the tables), and
            # the ranges of all its segments are kept for the ones after it (``rest``)
            kept_ranges = [Signal(segment, name=f"kept_range{s}") for s in slots]
            rest = Signal(len(slots))
            first, following = Signal(segment), Signal(segment)

            def lowest(flags, values):
                """The value of the lowest slot whose flag is set."""
                picked = values[-1]
                for flag, value in zip(reversed(flags[:-1]), reversed(values[:-1])):
                    picked = Mux(flag, value, picked)
                return picked

            m.d.comb += [first.eq(lowest(list(runs), ranges)),
                         following.eq(lowest(list(rest), kept_ranges))]
            window_m1 = Signal.like(entry)          # the segment's last entry - 1
            more = rest != 0
            has_changes = Mux(cur.conv, runs != 0, has_changes)
            one_entry = Mux(cur.conv, first.one, one_entry)
            first_entry = Mux(cur.conv, first.start, 0)
            final_m1 = Mux(cur.conv, window_m1, last_entry_m1)
        m.d.sync += [
            first_load.eq(drain_done),
            multiplying.eq(loading & has_changes | multiplying & (~entry_last | more)),
            storing.eq(loading & ~has_changes | multiplying & entry_last & ~more),
        ]
        with m.If(loading):
            m.d.sync += [entry.eq(first_entry), entry_last.eq(one_entry)]
        with m.If(multiplying):
            m.d.sync += [entry.eq(entry + 1), entry_last.eq(entry == final_m1)]
        with m.If(storing):
            m.d.sync += [
                blk.eq(blk + 1),
                blk_last.eq(blk == last_block_m1),
                weight_base.eq(weight_base + cur.inputs),
            ]
            with m.If(blk_last):
                m.d.comb += [self.layer_end.eq(1), self.last_op.eq(last_layer)]
                m.d.sync += [blk.eq(0), weight_base.eq(0)]
        if cfg.conv:
            with m.If(loading & cur.conv):
                m.d.sync += [window_m1.eq(first.last_m1), weight_base.eq(first.base),
                             rest.eq(runs & (runs - 1)),
                             *(k.eq(r) for k, r in zip(kept_ranges, ranges))]
            with m.If(multiplying & entry_last & more):
                # the block's next segment with entries follows without a bubble
                m.d.sync += [entry.eq(following.start), entry_last.eq(following.one),
                             window_m1.eq(following.last_m1), weight_base.eq(following.base),
                             rest.eq(rest & (rest - 1))]
        m.d.comb += [
            self.op.eq(Mux(first_load, Op.LOAD, Mux(multiplying, Op.MAC,
                                                    Mux(storing, Op.STORE, Op.NONE)))),
            self.load_blk.eq(Mux(first_load, blk, blk + 1)),
        ]
        with m.If(first_load & last_layer):
            m.d.comb += self.claim.eq(Mux(self.bank, 0b10, 0b01))
        return m
