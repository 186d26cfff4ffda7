"""Register packing for ECP5: flip-flops moved into the block RAMs and multipliers they serve.

``synth_ecp5`` maps every register to a fabric flip-flop (TRELLIS_FF), including the ones
that sit right at a DP16KD's data outputs or a MULT18X18D's inputs and outputs, and those
hard blocks are slow without their own registers: on speed grade 6 a DP16KD's clock-to-output
is 5.8 ns without its output register, and a fabric-registered multiplier measured 8.7 ns
(3.9 ns inside the block, the rest routing to and from it). Vendor tools pack such registers
into the block; this pass does the same on the netlist JSON between Yosys and nextpnr:

- a DP16KD read side whose every used data output drives exactly one flip-flop (same clock,
  no reset, one common clock enable) gets ``REGMODE = OUTREG``; the flip-flops are removed
  and their enable becomes the output-register enable ``OCE``. A 36-bit read (data on both
  sides' pins) is one read port: both sides get their output registers together, or none;
- a MULT18X18D operand whose every non-constant input bit comes from a flip-flop (same
  clock, no reset, no enable) gets its input register, and the multiplier reads the
  flip-flops' D inputs instead (a flip-flop left without loads is removed);
- a MULT18X18D whose every used product bit drives exactly one such flip-flop gets its
  output register, and the flip-flops are removed.

Each rule moves a register across no logic, so the clocked behaviour is unchanged, with one
exception at power-up: an input register packed into a multiplier holds 0 until the first
clock edge (the engine holds every register in reset for longer than that).
"""

from collections import defaultdict

__all__ = ["pack_registers"]

_CONSTANTS = ("0", "1", "x", "z")


def _param(cell, name, default=""):
    return str(cell["parameters"].get(name, default)).strip()


def _int_param(cell, name):
    """An integer parameter, which Yosys writes as a string of binary digits."""
    value = _param(cell, name, "0")
    return int(value, 2) if value and set(value) <= {"0", "1"} else int(value)


class _Netlist:
    """Drivers and loads of every net bit of one module."""

    def __init__(self, module):
        self.module = module
        self.cells = module["cells"]
        self.driver = {}
        self.loads = defaultdict(list)
        for name, cell in self.cells.items():
            for port, bits in cell["connections"].items():
                output = cell["port_directions"].get(port) == "output"
                for index, bit in enumerate(bits):
                    if bit in _CONSTANTS:
                        continue
                    if output:
                        self.driver[bit] = (name, port, index)
                    else:
                        self.loads[bit].append((name, port, index))
        self.port_bits = {bit for port in module.get("ports", {}).values()
                          for bit in port["bits"] if bit not in _CONSTANTS}

    def remove(self, name):
        cell = self.cells.pop(name)
        for port, bits in cell["connections"].items():
            for index, bit in enumerate(bits):
                if bit in _CONSTANTS:
                    continue
                if cell["port_directions"].get(port) == "output":
                    self.driver.pop(bit, None)
                else:
                    self.loads[bit].remove((name, port, index))

    def connect(self, name, port, bit):
        """Reconnect single-bit input or output ``port`` of cell ``name`` to ``bit``."""
        cell = self.cells[name]
        old = cell["connections"][port][0]
        output = cell["port_directions"][port] == "output"
        if old not in _CONSTANTS:
            if output:
                self.driver.pop(old, None)
            else:
                self.loads[old].remove((name, port, 0))
        cell["connections"][port] = [bit]
        if bit not in _CONSTANTS:
            if output:
                self.driver[bit] = (name, port, 0)
            else:
                self.loads[bit].append((name, port, 0))

    def plain_ff(self, name):
        """``(clock, enable)`` of a flip-flop without set/reset (enable None if always
        enabled), or None if ``name`` is not such a flip-flop."""
        cell = self.cells.get(name)
        if cell is None or cell["type"] != "TRELLIS_FF":
            return None
        conn = cell["connections"]
        if _param(cell, "CLKMUX", "CLK") != "CLK" or _param(cell, "GSR", "ENABLED") != "DISABLED":
            return None
        lsr_mux = _param(cell, "LSRMUX", "LSR")
        if not (lsr_mux == "0" or (lsr_mux == "LSR" and conn.get("LSR", ["0"])[0] == "0")):
            return None
        ce_mux = _param(cell, "CEMUX", "1")
        if ce_mux == "1" or (ce_mux == "CE" and conn.get("CE", ["1"])[0] == "1"):
            enable = None
        elif ce_mux == "CE":
            enable = conn["CE"][0]
        else:
            return None
        return conn["CLK"][0], enable


def _pack_bram(net, name, sides):
    """Output registers on read ``sides`` ("A", "B", or "AB" for a 36-bit read, whose data
    come out of both sides' pins)."""
    cell = net.cells[name]
    conn = cell["connections"]
    if any(_param(cell, f"REGMODE_{side}", "NOREG") != "NOREG" or
           conn.get(f"RST{side}", ["0"])[0] != "0" for side in sides):
        return 0
    clocks = {conn.get(f"CLK{side}", [None])[0] for side in sides}
    if len(clocks) != 1:
        return 0
    clock = clocks.pop()
    moves = []
    for side in sides:
        for bit_index in range(18):
            port = f"DO{side}{bit_index}"
            bit = conn.get(port, ["x"])[0]
            if bit in _CONSTANTS or not net.loads[bit]:
                continue
            if len(net.loads[bit]) != 1 or bit in net.port_bits:
                return 0
            ff, ff_port, _ = net.loads[bit][0]
            found = net.plain_ff(ff) if ff_port == "DI" else None
            if found is None or found[0] != clock:
                return 0
            moves.append((port, ff, found[1]))
    enables = {enable for _, _, enable in moves}
    if not moves or len(enables) != 1:
        return 0
    enable = enables.pop()
    for side in sides:
        cell["parameters"][f"REGMODE_{side}"] = "OUTREG"
        net.connect(name, f"OCE{side}", "1" if enable is None else enable)
    for port, ff, _ in moves:
        q = net.cells[ff]["connections"]["Q"][0]
        net.remove(ff)
        net.connect(name, port, q)
    return len(moves)


def _dsp_pins(cell, prefix, count):
    return [f"{prefix}{k}" for k in range(count) if f"{prefix}{k}" in cell["connections"]]


def _pack_dsp(net, name, stats):
    cell = net.cells[name]
    conn = cell["connections"]
    if any(_param(cell, f"REG_{r}_CLK", "NONE") != "NONE"
           for r in ("INPUTA", "INPUTB", "INPUTC", "PIPELINE", "OUTPUT")):
        return
    clock = None

    def same_clock(found):
        nonlocal clock
        if found is None or found[1] is not None:
            return False
        if clock is None:
            clock = found[0]
        return found[0] == clock

    plans = {}
    for operand in ("A", "B"):
        moves = []
        for pin in _dsp_pins(cell, operand, 18):
            bit = conn[pin][0]
            if bit in _CONSTANTS:
                continue
            driver = net.driver.get(bit)
            if driver is None or driver[1] != "Q" or not same_clock(net.plain_ff(driver[0])):
                moves = None
                break
            moves.append((pin, driver[0]))
        if moves:
            plans[f"INPUT{operand}"] = moves
    outputs = []
    for pin in _dsp_pins(cell, "P", 36):
        bit = conn[pin][0]
        if bit in _CONSTANTS or not net.loads[bit]:
            continue
        loads = net.loads[bit]
        if len(loads) != 1 or bit in net.port_bits or loads[0][1] != "DI" or \
                not same_clock(net.plain_ff(loads[0][0])):
            outputs = None
            break
        outputs.append((pin, loads[0][0]))
    if outputs:
        plans["OUTPUT"] = outputs
    if not plans:
        return
    for register in plans:
        cell["parameters"].update({f"REG_{register}_CLK": "CLK0", f"REG_{register}_CE": "CE0",
                                   f"REG_{register}_RST": "RST0"})
    cell["parameters"]["GSR"] = "DISABLED"
    for port, bit in (("CLK0", clock), ("CE0", "1"), ("RST0", "0")):
        cell["port_directions"][port] = "input"
        conn[port] = ["0"]
        net.connect(name, port, bit)
    dropped = set()
    for operand in ("INPUTA", "INPUTB"):
        for pin, ff in plans.get(operand, []):
            net.connect(name, pin, net.cells[ff]["connections"]["DI"][0])
            dropped.add(ff)
        stats["dsp_input_registers"] += operand in plans
    for ff in dropped:
        q = net.cells[ff]["connections"]["Q"][0]
        if not net.loads[q] and q not in net.port_bits:
            net.remove(ff)
            stats["flip_flops_absorbed"] += 1
    for pin, ff in plans.get("OUTPUT", []):
        q = net.cells[ff]["connections"]["Q"][0]
        net.remove(ff)
        net.connect(name, pin, q)
        stats["flip_flops_absorbed"] += 1
    stats["dsp_output_registers"] += "OUTPUT" in plans


def pack_registers(netlist):
    """Pack registers into DP16KD and MULT18X18D cells of a ``synth_ecp5`` JSON netlist, in
    place. Returns counts: ``bram_output_registers`` (read sides), ``dsp_input_registers``
    (operands), ``dsp_output_registers`` and ``flip_flops_absorbed``."""
    stats = dict.fromkeys(("bram_output_registers", "dsp_input_registers",
                           "dsp_output_registers", "flip_flops_absorbed"), 0)
    for module in netlist["modules"].values():
        if not module.get("cells"):
            continue
        net = _Netlist(module)
        for name in [n for n, c in net.cells.items() if c["type"] == "DP16KD"]:
            cell = net.cells[name]
            wide = any(_int_param(cell, f"DATA_WIDTH_{side}") == 36 for side in "AB")
            for sides in (["AB"] if wide else ["A", "B"]):
                moved = _pack_bram(net, name, sides)
                stats["bram_output_registers"] += moved > 0
                stats["flip_flops_absorbed"] += moved
        for name in [n for n, c in net.cells.items() if c["type"] == "MULT18X18D"]:
            _pack_dsp(net, name, stats)
    return stats
