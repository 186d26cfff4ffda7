"""A thin timing harness around the engine: every port registered, pins serialised.

Place and route must measure the engine's internal register-to-register paths, not I/O: each
input port of the engine is driven by a register and each output port drives a register. The
engine has hundreds of port bits (more than any ECP5 package has pins), so the input registers
form one shift chain fed by the pin ``si``, and the output registers form a parallel-load shift
register (load when ``load``, else shift) that drives the pin ``so``. No logic of the engine
can be optimised away (every output reaches ``so``), and the harness adds at most one LUT
level outside the engine. It is a timing harness, never simulated: its behaviour is not the
engine's.
"""

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import Flow, In, Out

__all__ = ["RegisteredPorts"]


class RegisteredPorts(wiring.Component):
    """Registers and serialises every port of ``inner`` (a :class:`wiring.Component`).

    Members
    -------
    si : ``In(1)``
        Serial input of the input register chain.
    load : ``In(1)``
        Capture every engine output into the output shift register (else shift).
    so : ``Out(1)``
        Serial output of the output shift register.
    """

    def __init__(self, inner):
        if not isinstance(inner, wiring.Component):
            raise TypeError(f"inner must be a wiring.Component, not {inner!r}")
        self._inner = inner
        super().__init__({"si": In(1), "load": In(1), "so": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = inner = self._inner
        inputs, outputs = [], []
        for _path, member, value in inner.signature.flatten(inner):
            (inputs if member.flow == Flow.In else outputs).append(Value.cast(value))
        in_bits = sum(len(v) for v in inputs)
        out_bits = sum(len(v) for v in outputs)
        chain = Signal(max(1, in_bits))
        m.d.sync += chain.eq(Cat(self.si, chain[:-1]))
        m.d.comb += Cat(*inputs).eq(chain[:in_bits])
        captured = Signal(max(1, out_bits))
        with m.If(self.load):
            m.d.sync += captured.eq(Cat(*outputs))
        with m.Else():
            m.d.sync += captured.eq(captured[1:])
        m.d.comb += self.so.eq(captured[0])
        return m
