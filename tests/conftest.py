"""Test-session set-up shared by every test module."""

import pytest

# the shared check helpers get pytest's assertion messages (the values compared)
pytest.register_assert_rewrite("checks")


def pytest_configure(config):
    """Before pytest-xdist starts its workers: the first run of each WebAssembly tool (YoWASP
    Yosys and nextpnr, Amaranth's Yosys) compiles it into a cache file for minutes, and two
    workers doing it at once can kill each other (synth.tools.warm_tool). The controller runs
    each once first, alone."""
    if hasattr(config, "workerinput"):
        return
    from amaranth.back import verilog
    from amaranth.hdl import Module, Signal

    from synth.tools import ToolError, warm_tool
    m = Module()
    a = Signal()
    m.d.sync += a.eq(~a)
    verilog.convert(m, ports=[a])
    for tool in ("yosys", "nextpnr-ecp5"):
        try:
            warm_tool(tool)
        except ToolError:               # not installed: the tests that need it say so
            pass
