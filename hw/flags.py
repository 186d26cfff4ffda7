"""Small timing idioms shared by the engine's stages."""

from amaranth.hdl import Mux, Signal

__all__ = ["at_last_flag", "kept"]


def kept(name):
    """A 1-bit wire Yosys keeps (``keep``): a cut the LUT mapper maps on either side of."""
    return Signal(name=name, attrs={"keep": 1})


def at_last_flag(m, count, step, length, name):
    """``count == length - 1`` as a register, for a counter that steps (``count + 1``, back to
    0 after the last) in a cycle where ``step``: a comparison behind a handshake was an ECP5
    critical path. ``length`` goes through registers first, so the flag follows a change of
    it two cycles later, while the counter is still."""
    last, last_m1 = Signal.like(count, name=f"{name}_bound"), Signal.like(count, name=f"{name}_m1")
    flag = Signal(name=name)
    m.d.sync += [last.eq(length - 1), last_m1.eq(length - 2)]
    # The two outcomes are kept wires, so the LUT mapper cannot fold ``step`` (a handshake,
    # late) into the comparisons: it selects between them in the flag's last LUT.
    on_step, still = (kept(f"{name}_{what}") for what in ("on_step", "still"))
    m.d.comb += [on_step.eq(Mux(flag, last == 0, count == last_m1)), still.eq(count == last)]
    m.d.sync += flag.eq(Mux(step, on_step, still))
    return flag
