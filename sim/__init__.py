"""Cosimulation: run hw/ against golden/ (Amaranth simulator now, cocotb testbenches later)."""

from .harness import rtl_run, SimulationTimeout

__all__ = ["rtl_run", "SimulationTimeout"]
