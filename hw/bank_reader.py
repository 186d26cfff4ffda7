from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ._check import check_config

__all__ = ["BankReader"]


class BankReader(wiring.Component):
    """The scan's source after layer 0 (``max_layers > 1``): the hidden bank the previous
    layer wrote, a word of ``lanes`` activations read ahead and scanned ``scan_width`` at a
    time, and for an LSTM layer h_{t-1} from the recurrent area after x_t's words (golden twin:
    the layer chaining of golden/engine.py).

    A ``fetch`` reads the next beat: its words are read a cycle ahead, so ``data`` holds the
    beat fetched in the cycle before.

    Members
    -------
    fetch : ``In(1)``
        Read the next beat.
    restart, to_first : ``In(1)``
        Back to the first word for the next layer; ``to_first``: the next layer is layer 0 (an
        LSTM layer 0 fetches h_{t-1} only, after x_t from the input stream).
    target : ``In(range(max_layers))``
        The layer the scan runs or switches to: layer r reads hidden bank 2 + ((r - 1) & 1).
    first : ``In(1)``
        A first execution: h_{t-1} is 0.
    lstm, x_words, first_is_lstm : ``In(...)`` (``lstm`` engines)
        The layer is an LSTM layer, its x_t's words; layer 0 is an LSTM layer.
    data : ``Out(ArrayLayout(signed(act_width), scan_width))``
    scan_read, recurrent_read : read ports of the activation banks and the recurrent area
    """

    def __init__(self, config, buffer_ports):
        self._config = check_config(config)
        cfg = config
        members = {
            "fetch": In(1),
            "restart": In(1),
            "to_first": In(1),
            "target": In(range(cfg.max_layers)),
            "first": In(1),
            "data": Out(data.ArrayLayout(signed(cfg.act_width), cfg.scan_width)),
            **buffer_ports,
        }
        if cfg.lstm:
            members.update({"lstm": In(1), "x_words": In(range(cfg.max_blocks + 1)),
                            "first_is_lstm": In(1)})
        super().__init__(members)

    @property
    def config(self):
        return self._config

    def elaborate(self, platform):
        cfg = self._config
        width, act = cfg.scan_width, cfg.act_width
        m = Module()
        chunks = cfg.lanes // width
        fetch_word = Signal(range(cfg.max_blocks))
        fetch_chunk = Signal(range(chunks))
        scan_chunk = Signal(range(chunks))

        def chunk(word):
            bits = word.as_value()
            if chunks > 1:
                bits = bits.word_select(scan_chunk, width * act)
            return [bits[k * act:(k + 1) * act] for k in range(width)]

        values = chunk(self.scan_read.data)
        if cfg.lstm:
            fetch_h, scan_h = Signal(), Signal()
            h_word = Signal.like(self.recurrent_read.addr)
            m.d.comb += self.recurrent_read.addr.eq(h_word)
            values = [Mux(scan_h, Mux(self.first, 0, h), x)
                      for h, x in zip(chunk(self.recurrent_read.data), values)]
        block_bits = len(self.scan_read.addr) - 2
        m.d.comb += [
            self.scan_read.addr.eq(Cat(fetch_word[:block_bits], ~self.target[0], Const(1, 1))),
            *(self.data[k].eq(v) for k, v in enumerate(values)),
        ]
        with m.If(self.fetch):
            m.d.sync += [scan_chunk.eq(fetch_chunk), fetch_chunk.eq(fetch_chunk + 1)]
            if cfg.lstm:
                m.d.sync += scan_h.eq(fetch_h)
            with m.If(fetch_chunk == chunks - 1):
                m.d.sync += fetch_chunk.eq(0)
                if cfg.lstm:
                    with m.If(fetch_h):
                        m.d.sync += h_word.eq(h_word + 1)
                    with m.Elif(self.lstm & (fetch_word == self.x_words - 1)):
                        m.d.sync += fetch_h.eq(1)
                    with m.Else():
                        m.d.sync += fetch_word.eq(fetch_word + 1)
                else:
                    m.d.sync += fetch_word.eq(fetch_word + 1)
        with m.If(self.restart):
            m.d.sync += [fetch_word.eq(0), fetch_chunk.eq(0)]
            if cfg.lstm:
                m.d.sync += [fetch_h.eq(self.to_first & self.first_is_lstm), h_word.eq(0)]
        return m
