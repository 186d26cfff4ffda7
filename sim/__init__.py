"""Cosimulation: run hw/ against golden/ (Amaranth simulator, and cocotb testbenches on the
generated Verilog: sim/runner.py, sim/tb_engine.py).

Names are imported lazily so that the cocotb testbench, which runs inside the simulator process,
does not pay for importing Amaranth.
"""

__all__ = ["rtl_run", "rtl_network_run", "SimulationTimeout"]


def __getattr__(name):
    if name in __all__:
        from . import harness
        return getattr(harness, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
