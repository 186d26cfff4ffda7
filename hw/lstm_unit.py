from amaranth.hdl import Module, Mux, Signal, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.cycle_model import LSTM_LATENCY
from golden.lstm_unit import CELL_FRAC, CELL_WIDTH, GATE_FRAC, GATES, sigmoid_table, tanh_table

from ._check import check_config

__all__ = ["LSTMUnit"]


def _table_rom(values):
    """A 256-entry table addressed by the two's complement bits of an int8 (entry x mod 256)."""
    return Memory(shape=signed(8), depth=256,
                  init=[int(values[(a + 128) % 256]) for a in range(256)])


class LSTMUnit(wiring.Component):
    """The elementwise part of an LSTM cell (golden/lstm_unit.py), ``lanes / 4`` hidden units
    per block, pipelined: ``h`` in cycle t + LSTM_LATENCY is the result of the block of gates
    that entered in cycle t.

    The unit keeps the cell state: one word of ``lanes / 4`` int32 values per block, read when
    a block enters and written three cycles later (blocks enter at most every second cycle and
    never twice for the same word within four cycles, so no read meets a pending write). The
    sigmoid and tanh tables are read-only memories with golden's contents.

    Members
    -------
    valid : ``In(1)``
        A block of gates enters.
    first : ``In(1)``
        First step of a sequence: the previous cell state is 0.
    addr : ``In(range(max_blocks))``
        The block's cell-state word.
    gates : ``In(ArrayLayout(signed(8), lanes))``
        Lane 4u + k is gate k (i, f, g, o) of the block's unit u, int8 with GATE_FRAC
        fractional bits.
    h : ``Out(ArrayLayout(signed(8), lanes // 4))``
        h_t of the block's units (Q0.7), LSTM_LATENCY cycles after ``valid``.
    h_valid : ``Out(1)``
    """

    latency = LSTM_LATENCY

    def __init__(self, config):
        self._config = check_config(config)
        if not config.lstm:
            raise ValueError("LSTMUnit needs a configuration with lstm = True")
        self._units = config.lanes // GATES
        super().__init__({
            "valid": In(1),
            "first": In(1),
            "addr": In(range(config.max_blocks)),
            "gates": In(data.ArrayLayout(signed(8), config.lanes)),
            "h": Out(data.ArrayLayout(signed(8), self._units)),
            "h_valid": Out(1),
        })

    def elaborate(self, platform):
        cfg = self._config
        units = self._units
        m = Module()
        m.submodules.cell_area = cell = Memory(
            shape=data.ArrayLayout(signed(CELL_WIDTH), units), depth=max(2, cfg.max_blocks),
            init=[])
        sigmoid, tanh = sigmoid_table(GATE_FRAC), tanh_table(GATE_FRAC)
        cell_read, cell_write = cell.read_port(), cell.write_port()

        # t: look up the gates, read the previous cell state
        valid = [self.valid] + [Signal(name=f"valid{k}") for k in range(1, self.latency + 1)]
        addr = [self.addr] + [Signal.like(self.addr, name=f"addr{k}") for k in range(1, 4)]
        first1 = Signal()
        m.d.sync += [valid[k].eq(valid[k - 1]) for k in range(1, len(valid))]
        m.d.sync += [addr[k].eq(addr[k - 1]) for k in range(1, len(addr))]
        m.d.sync += first1.eq(self.first)
        m.d.comb += cell_read.addr.eq(self.addr)
        # t + 3: write the new cell state
        c3 = Signal.like(cell_write.data)
        m.d.comb += [cell_write.addr.eq(addr[3]), cell_write.data.eq(c3),
                     cell_write.en.eq(valid[3])]
        c_max = (1 << (CELL_WIDTH - 1)) - 1
        for u in range(units):
            i1, f1, g1, o1 = (self._lookup(m, sigmoid if k != 2 else tanh,
                                           self.gates[GATES * u + k], f"{name}{u}")
                              for k, name in enumerate("ifgo"))
            # t + 1 -> t + 2: the products (Q0.7 * Q0.7 = Q0.14)
            fc2 = Signal(signed(8 + CELL_WIDTH), name=f"fc2_{u}")
            ig2 = Signal(signed(16), name=f"ig2_{u}")
            o2, o3, o4 = (Signal(signed(8), name=f"o{k}_{u}") for k in (2, 3, 4))
            m.d.sync += [
                fc2.eq(f1 * Mux(first1, 0, cell_read.data[u])),
                ig2.eq(i1 * g1),
                o2.eq(o1), o3.eq(o2), o4.eq(o3),
            ]
            # t + 2 -> t + 3: the new cell state, saturated
            total = Signal(signed(8 + CELL_WIDTH), name=f"c_sum{u}")
            m.d.comb += total.eq((fc2 >> 7) + (ig2 >> (14 - CELL_FRAC)))
            m.d.sync += c3[u].eq(Mux(total > c_max, c_max, Mux(total < -c_max - 1, -c_max - 1,
                                                                  total)))
            # t + 3 -> t + 4: tanh of the cell state requantized to the table's format
            shift = CELL_FRAC - GATE_FRAC
            rounded = Signal(signed(CELL_WIDTH - shift + 1), name=f"c_rounded{u}")
            c8 = Signal(signed(8), name=f"c8_{u}")
            m.d.comb += [
                rounded.eq((c3[u] + (1 << (shift - 1))) >> shift),
                c8.eq(Mux(rounded > 127, 127, Mux(rounded < -128, -128, rounded))),
            ]
            t4 = self._lookup(m, tanh, c8, f"tanh_c{u}")
            # t + 4 -> t + 5: h = o * tanh(c), rounded, saturated
            h = Signal(signed(17), name=f"h_product{u}")
            m.d.comb += h.eq((o4 * t4 + 64) >> 7)
            m.d.sync += self.h[u].eq(Mux(h > 127, 127, Mux(h < -128, -128, h)))
        m.d.comb += self.h_valid.eq(valid[self.latency])
        return m

    @staticmethod
    def _lookup(m, table, index, name):
        """table[index] one cycle later (a read-only memory with a synchronous read port)."""
        rom = _table_rom(table)
        m.submodules[f"{name}_table"] = rom
        port = rom.read_port()
        m.d.comb += port.addr.eq(Value.cast(index)[:8])
        return port.data
