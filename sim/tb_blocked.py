"""cocotb testbench of a blocked conv layer on the generated engine (sim/runner.run_blocked).

The engine's Verilog is the top level: cocotb drives its clock and, once per cycle at the
falling edge, its ports, through :class:`sim.blocked_host.BlockedHost`, the same host and main
memory sim/harness.py runs in Amaranth's simulator. The falling edge is half a cycle after the
rising one: the engine's outputs read there are its state after the edge, and the inputs set
there are what it samples at the next. The report (``DEJA_REPORT``, JSON, and its ``.npz``
twin) holds everything the host saw; sim/simulate.py compares it with golden.
"""

import json
import os
import pathlib
import time

import numpy as np

from golden import EngineConfig, LayerConfig

from .blocked_host import BlockedHost

PERIOD_NS = 10

PORTS = {
    "cfg_addr": "cfg__addr", "cfg_data": "cfg__data", "cfg_en": "cfg__en", "start": "start",
    "in_valid": "i_stream__valid", "in_payload": "i_stream__payload",
    "in_ready": "i_stream__ready", "out_valid": "o_stream__valid",
    "out_payload": "o_stream__payload", "out_ready": "o_stream__ready", "frames": "frames",
    "perf": "perf", "framing_error": "framing_error", "buf_select": "buffer__select",
    "buf_area": "buffer__area", "buf_addr": "buffer__addr", "buf_write": "buffer__write",
    "buf_wdata": "buffer__write_data", "buf_rdata": "buffer__read_data",
}


class CocotbPins:
    """sim.blocked_host's pins on the Verilog engine."""

    def __init__(self, dut):
        from cocotb.triggers import FallingEdge
        self.handles = {name: getattr(dut, port) for name, port in PORTS.items()
                        if hasattr(dut, port)}
        self.edge = FallingEdge(dut.clk)

    def set(self, name, value):
        self.handles[name].value = int(value)

    def get(self, name):
        value = self.handles[name].value
        return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)

    async def tick(self):
        await self.edge


async def _blocked_sequence(dut):
    from cocotb.clock import Clock
    from cocotb.triggers import ClockCycles, FallingEdge
    with np.load(os.environ["DEJA_CASE"]) as z:
        meta = json.loads(str(z["meta"]))
        weights, bias, frames = z["weights"], z["bias"], z["frames"]
    config = EngineConfig.from_dict(meta["engine"])
    layer = LayerConfig.from_dict(meta["layer"])
    host = BlockedHost(config, layer, weights, bias, frames, meta["rows"])
    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    pins = CocotbPins(dut)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await FallingEdge(dut.clk)
    start = time.perf_counter()
    await host.run(pins)
    seconds = time.perf_counter() - start
    report = pathlib.Path(os.environ["DEJA_REPORT"])
    np.savez(report.with_suffix(".npz"), **host.arrays())
    report.write_text(json.dumps({"frames": len(frames), "cycles": host.cycles,
                                  "sim_seconds": seconds,
                                  "cycles_per_second": host.cycles / max(seconds, 1e-9)}))


try:        # the test exists only inside a cocotb simulation
    import cocotb
    if cocotb.is_simulation:
        blocked_sequence = cocotb.test()(_blocked_sequence)
except ImportError:
    pass
