from amaranth.hdl import Array, Const, Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["ChangeCompactor"]


class ChangeCompactor(wiring.Component):
    """Appends a beat's changed inputs to the banked change list of a wide scan (golden twin:
    golden/skip_logic.change_list, the list in input order).

    With ``scan_width`` W, entry e of the list is in bank e % W, word e // W (hw.io_buffer), so
    any W consecutive entries fall in different banks. In the cycle a beat arrives, its changed
    inputs are compacted (input k to slot p_k, the changed inputs before it) and counted
    (``count``); a cycle later (``latency``) slot r is written to bank (n + r) % W, where n was
    the list's length (``length``) when the beat arrived.

    Members
    -------
    changed : ``In(W)``
        The beat's inputs that go into the list.
    entries : ``In(ArrayLayout(change_layout, W))``
        Each input's entry, (i, d_i).
    length : ``In(...)``
        The list's length before the beat.
    count : ``Out(range(W + 1))``
        The beat's changed inputs.
    change_write_<j> : one write port per bank (hw.io_buffer)
    """

    latency = 1

    def __init__(self, config, change_layout, buffer_ports):
        self._config = check_config(config)
        width = config.scan_width
        super().__init__({
            "changed": In(width),
            "entries": In(data.ArrayLayout(change_layout, width)),
            "length": In(range(config.max_inputs + 1)),
            "count": Out(range(width + 1)),
            **buffer_ports,
        })
        self._change_layout = change_layout

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        width = self._config.scan_width
        log_width = width.bit_length() - 1
        m = Module()
        m.d.comb += self.count.eq(sum(self.changed))
        slots = [Signal(self._change_layout, name=f"slot{r}") for r in range(width)]
        count = Signal.like(self.count)
        base = Signal.like(self.length)
        before = Const(0, range(width + 1))
        for k in range(width):
            for r in range(k + 1):       # input k goes to slot (changed inputs before k)
                with m.If(self.changed[k] & (before == r)):
                    m.d.sync += slots[r].eq(self.entries[k])
            before = before + self.changed[k]
        m.d.sync += [count.eq(self.count), base.eq(self.length)]
        offset = base[:log_width]
        for j in range(width):
            port = getattr(self, f"change_write_{j}")
            slot = Signal(range(width), name=f"bank{j}_slot")
            m.d.comb += [
                slot.eq(j - offset),                    # (j - n) mod W
                port.data.eq(Array(slots)[slot]),
                port.addr.eq((base >> log_width) + (j < offset)),
                port.en.eq(slot < count),
            ]
        return m
