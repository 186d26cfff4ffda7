"""Synthesis flows: a Yosys script template each (reading the engine as RTLIL), and parsers of
the tools' JSON results.

Every flow turns one :class:`golden.EngineConfig` into a dict of figures (JSON-able). Results
are read from Yosys ``stat -json`` and nextpnr's ``--report`` JSON; the only text parsed is
``ltp`` (logic depth), which has no JSON form.

- ``generic``: ``synth``; cells by type, transistor estimate (``stat -tech cmos``), longest
  path in generic gates (``ltp -noff`` on a flattened copy).
- ``asic``: the same front end, then ``dfflibmap`` and ``abc`` onto a Liberty library; area in
  um^2 per block (``stat -liberty``).
- ``ecp5``: ``synth_ecp5`` and ``nextpnr-ecp5`` (LFE5U-85F) on the engine inside
  :class:`synth.wrapper.RegisteredPorts`, with the registers at block-RAM outputs and at
  multiplier inputs and outputs packed into those blocks in between
  (:mod:`synth.ecp5_pack`); LUT/FF/MULT18X18D/DP16KD and Fmax.

In ``generic`` and ``asic`` the hierarchy is kept (one Yosys module per hw/ block) and every
memory stays one opaque cell (type ``deja_memory``), listed apart with its width and depth:
memories are modelled by :mod:`synth.memories`, never flattened into flip-flops.
"""

import json
import os
import pathlib
import re
import shutil

from amaranth.back import rtlil

from hw.engine import ReuseEngine
from hw.verilog import TOP as ENGINE_TOP

from .ecp5_pack import pack_registers
from .tools import ToolError, run_tool
from .wrapper import RegisteredPorts

__all__ = ["FLOWS", "run_flow", "engine_rtlil_for", "collisions_undefined", "parse_stat",
           "parse_memories", "parse_ltp", "parse_nextpnr_report", "block_name", "ECP5_DEVICES"]

FLOWS = ("generic", "asic", "ecp5")
TOP = ENGINE_TOP
# the part, and smaller ones for quick runs (tests)
ECP5_DEVICES = {
    "85k": {"device": "LFE5U-85F", "option": "--85k", "package": "CABGA381"},
    "45k": {"device": "LFE5U-45F", "option": "--45k", "package": "CABGA381"},
    "25k": {"device": "LFE5U-25F", "option": "--25k", "package": "CABGA256"},
}

# Front end shared by generic and asic: coarse synthesis with memories inferred but not
# mapped, the memory list written out, memories turned into opaque cells, then fine mapping.
_FRONT = """\
read_rtlil {rtlil}
hierarchy -check -top {top}
synth -top {top} -run :fine
write_json -noscopeinfo {memories_json}
chtype -set deja_memory t:$mem_v2
synth -top {top} -run fine:check
"""

_DEPTH = """\
design -save mapped
flatten
tee -q -o {ltp_txt} ltp -noff
design -load mapped
"""

GENERIC_SCRIPT = _FRONT + """\
tee -q -o {stat_json} stat -json
tee -q -o {cmos_json} stat -json -tech cmos
""" + _DEPTH

# The Liberty file is read as a copy (or hard link) in the run directory under a fixed name:
# YoWASP tools see only some absolute paths (not /tmp: theirs is a private one), and a name of
# the user's, pasted into the script, could hold spaces or a quote.
LIBERTY_NAME = "cells.lib"

ASIC_SCRIPT = "read_liberty -lib {liberty}\n" + _FRONT + _DEPTH + """\
dfflibmap -liberty {liberty}
abc -liberty {liberty}
opt_clean
tee -q -o {stat_json} stat -json -liberty {liberty}
"""

# -no-rw-check: no soft logic to emulate a read port's result when it reads the word a write
# port writes in the same cycle. The engine never uses such a read: every read-after-write it
# relies on is at least one cycle later (docs/design.md's cycle contract), and the reads that may
# coincide with a write (the output streamer idling on an incomplete bank, the change list
# read during the scan's drain) are discarded. The emulation put a LUT between each block RAM
# and the register after it, which kept that register out of the RAM (synth.ecp5_pack).
# Renaming: abc9 (Yosys 0.55 to 0.70) reintegrates its result by wire and bit names, and
# Amaranth's RTLIL names both a 128-bit port ``y`` and its lanes' fields ``y[0]``, ``y[1]``..,
# so bit 8 of ``y`` and lane 8 of ``y`` are both "y[8]". Depending on the mapping, that failed
# an assertion (a name it adds already exists) or, silently, made two flip-flops drive one net
# (nextpnr then refused the netlist). ``rename -unescape`` (on the flattened design: it does
# not follow renamed submodule ports) turns brackets and dots into underscores with a suffix
# that keeps names unique, and ``rename -enumerate`` gives private names fresh numbers.
# ``check -assert`` stops the flow on any net left with two drivers.
_ECP5_FRONT = """\
read_rtlil {rtlil}
hierarchy -top {top}
flatten
rename -unescape
rename -enumerate
"""

ECP5_SCRIPT = _ECP5_FRONT + """\
synth_ecp5 -no-rw-check -top {top} -json {netlist_json}
check -assert
tee -q -o {stat_json} stat -json
"""

# The same synthesis with the classic ABC LUT mapper in place of abc9, should abc9 still fail
# (it did, before the renaming above, on the default engine): the flow then runs this
# instead and says so in its result.
ECP5_FALLBACK_SCRIPT = _ECP5_FRONT + """\
synth_ecp5 -no-rw-check -top {top} -run :map_luts
techmap -map +/lattice/latches_map.v
abc -lut 4:7 -dress
clean
synth_ecp5 -no-rw-check -top {top} -run map_cells: -json {netlist_json}
check -assert
tee -q -o {stat_json} stat -json
"""


def engine_rtlil_for(config, wrapped=False, block_ram_slices=False):
    """RTLIL of the engine (top ``reuse_engine``), inside the timing harness if ``wrapped``, with
    weight banks cut into block-RAM slices if ``block_ram_slices`` (the ECP5 flow).

    The flows read RTLIL, not Verilog: a memory's initial contents are one constant there, and
    Yosys (WebAssembly, 4 GB) ran out of memory reading the default engine's Verilog, whose
    weight slices are initialized word by word (or by loops it unrolls)."""
    engine = ReuseEngine(config, block_ram_slices=block_ram_slices)
    design = RegisteredPorts(engine) if wrapped else engine
    return rtlil.convert(design, name=TOP, emit_src=False)


_COLLISION_MASK = re.compile(r"(parameter \\COLLISION_X_MASK )(\d+)'([01]+)")


def collisions_undefined(rtlil_text):
    """The RTLIL with every memory read port's result undefined when it reads a word written
    in the same cycle (``COLLISION_X_MASK`` all ones), the ECP5 flow's ``-no-rw-check`` for
    RTLIL input: Amaranth's read ports return the old word, and Yosys emulated that with a
    register and a LUT after each block RAM, which kept its output register out of the RAM.
    The engine never uses such a read (see ECP5_SCRIPT)."""
    return _COLLISION_MASK.sub(lambda m: f"{m[1]}{m[2]}'{'1' * int(m[2])}", rtlil_text)


def block_name(module, top=TOP):
    """hw/ block of a Yosys module name: ``\\reuse_engine.scan_unit.quantizer`` ->
    ``quantizer`` (each block and stage is its own module); the top module's own logic (the
    wires between the stages, the counters' increments) is ``engine``."""
    name = module.lstrip("\\")
    if name == top:
        return "engine"
    if name.startswith(top + "."):
        return name.rsplit(".", 1)[1]
    return name


def _int(value):
    """An integer from Yosys JSON (a number, a string of digits, or binary parameter bits)."""
    if isinstance(value, int):
        return value
    match = re.match(r"\d+", str(value))
    if match is None:
        raise ValueError(f"not a number in Yosys output: {value!r}")
    return int(match.group())


def parse_stat(stat, top=TOP):
    """Per-block figures from ``stat -json`` (optionally ``-tech cmos`` / ``-liberty``).

    Returns ``{block: {"cells", "cells_by_type", "memories", ["area"], ["sequential_area"],
    ["transistors"]}}``: cells count only logic (no submodule instances, no memory cells);
    ``area`` and ``transistors`` are the block's own, submodules excluded (memory cells have
    none). ``stat -tech cmos`` does not count flip-flops, so ``transistors`` is combinational.
    """
    modules = stat["modules"]
    names = {m.lstrip("\\") for m in modules}
    blocks, hierarchical, children = {}, {}, {}
    for module, figures in modules.items():
        name = module.lstrip("\\")
        by_type = dict(figures.get("num_cells_by_type", {}))
        children[name] = {t: by_type.pop(t) for t in list(by_type) if t in names}
        memories = by_type.pop("deja_memory", 0)
        blocks[name] = {"cells": sum(by_type.values()), "cells_by_type": by_type,
                        "memories": memories}
        # stat's area and transistor count of a module include its submodules'
        hierarchical[name] = {"area": figures.get("area"),
                              "sequential_area": figures.get("sequential_area"),
                              "transistors": (_int(figures["estimated_num_transistors"])
                                              if "estimated_num_transistors" in figures else None)}
    for name, entry in blocks.items():
        for key in ("area", "sequential_area", "transistors"):
            total = hierarchical[name][key]
            if total is None:
                continue
            own = total - sum(n * (hierarchical[t][key] or 0) for t, n in children[name].items())
            entry[key] = int(own) if key == "transistors" else round(own, 4)
    return {block_name(name, top): entry for name, entry in blocks.items()}


def _param(value):
    if isinstance(value, str) and value and set(value) <= {"0", "1"}:
        return int(value, 2)
    return value


_SLICE = re.compile(r"_slice\d+$")


def parse_memories(design, top=TOP):
    """Every inferred memory (``$mem_v2`` cell) of a Yosys ``write_json`` design; the bit
    slices of one weight bank (``weights_slice0``, ``weights_slice1``, ...) are one memory."""
    memories = {}
    for module, body in design["modules"].items():
        for cell in body.get("cells", {}).values():
            if cell["type"] != "$mem_v2":
                continue
            p = {k: _param(v) for k, v in cell["parameters"].items()}
            name = _SLICE.sub("", str(p.get("MEMID", "?")).lstrip("\\").split(".")[-1])
            key = (block_name(module, top), name)
            if key in memories:
                memories[key]["width"] += p["WIDTH"]
                memories[key]["bits"] += p["WIDTH"] * p["SIZE"]
                continue
            memories[key] = {
                "block": key[0], "name": name,
                "width": p["WIDTH"], "depth": p["SIZE"], "bits": p["WIDTH"] * p["SIZE"],
                "read_ports": p["RD_PORTS"], "write_ports": p["WR_PORTS"],
            }
    return [memories[k] for k in sorted(memories)]


_LTP = re.compile(r"Longest topological path in (\S+) \(length=(\d+)\)")


def parse_ltp(text):
    """``{module: length}`` from ``ltp`` output (it has no JSON form)."""
    found = {m.group(1).lstrip("\\"): int(m.group(2)) for m in _LTP.finditer(text)}
    if not found:
        raise ValueError("no 'Longest topological path' line in ltp output")
    return found


def parse_nextpnr_report(report, clock=None):
    """Fmax, utilisation and the critical path from a nextpnr ``--report`` JSON."""
    fmax = report["fmax"]
    if not fmax:
        raise ValueError("nextpnr report has no clock in 'fmax'")
    name = clock if clock is not None else next(iter(fmax))
    used = {cell: u["used"] for cell, u in report["utilization"].items()}
    result = {
        "clock": name,
        "fmax_mhz": round(fmax[name]["achieved"], 2),
        "constraint_mhz": fmax[name]["constraint"],
        "utilization": {cell: {"used": used[cell],
                               "available": report["utilization"][cell]["available"]}
                        for cell in ("TRELLIS_COMB", "TRELLIS_FF", "MULT18X18D", "DP16KD")
                        if cell in used},
        "critical_path": [],
    }
    paths = report.get("critical_paths", [])
    if paths:
        path = paths[0]["path"]
        result["critical_path"] = [
            {"type": step["type"], "delay_ns": round(step["delay"], 3),
             "from": step["from"]["cell"], "to": step["to"]["cell"]}
            for step in path]
    return result


def _quoted(name):
    """``name`` as one argument of a Yosys script command: a plain file name, in quotes."""
    if not re.fullmatch(r"[A-Za-z0-9_.+-]+", name):
        raise ValueError(f"not a plain file name for a tool script: {name!r}")
    return f'"{name}"'


def _place_beside(source, target):
    """``source`` at ``target`` (in a run directory): a hard link, or a copy across file
    systems; replaces what is there."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def run_flow(flow, config, workdir, liberty=None, freq_mhz=150, seed=1, device="85k"):
    """Run ``flow`` on ``config`` in ``workdir`` (kept: scripts, netlists, logs).

    Returns a JSON-able dict; raises :class:`synth.tools.ToolError` when a tool is missing or
    fails. ``liberty`` is required by ``asic``; ``device`` is a key of :data:`ECP5_DEVICES`.
    """
    if device not in ECP5_DEVICES:
        raise ValueError(f"device must be one of {', '.join(ECP5_DEVICES)}, not {device!r}")
    part = ECP5_DEVICES[device]
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {', '.join(FLOWS)}, not {flow!r}")
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    f = {
        "rtlil": workdir / "engine.il",
        "script": workdir / f"{flow}.ys",
        "yosys_log": workdir / f"{flow}.yosys.log",
        "memories_json": workdir / "memories.yosys.json",
        "stat_json": workdir / f"{flow}.stat.json",
        "cmos_json": workdir / f"{flow}.cmos.json",
        "ltp_txt": workdir / f"{flow}.ltp.txt",
        "netlist_json": workdir / "ecp5.netlist.json",
        "packed_json": workdir / "ecp5.packed.json",
        "pnr_report": workdir / "ecp5.pnr.json",
        "pnr_log": workdir / "ecp5.nextpnr.log",
    }
    if flow == "asic":
        if liberty is None:
            raise ToolError("the asic flow needs a Liberty file: --liberty PATH")
        liberty = pathlib.Path(liberty).resolve()
        if not liberty.is_file():
            raise ToolError(f"Liberty file not found: {liberty}")
        _place_beside(liberty, workdir / LIBERTY_NAME)
    text = engine_rtlil_for(config, wrapped=(flow == "ecp5"), block_ram_slices=(flow == "ecp5"))
    f["rtlil"].write_text(collisions_undefined(text) if flow == "ecp5" else text)
    template = {"generic": GENERIC_SCRIPT, "asic": ASIC_SCRIPT, "ecp5": ECP5_SCRIPT}[flow]
    # every tool input and output by its name in the run directory (the tools' working
    # directory), quoted
    f["script"].write_text(template.format(
        top=TOP, liberty=_quoted(LIBERTY_NAME), **{k: _quoted(v.name) for k, v in f.items()}))
    result = {"flow": flow, "engine": config.to_dict(), "seconds": {}}

    def yosys(script, log):
        return round(run_tool("yosys", ["-q", "-l", log.name, script.name],
                              log.with_suffix(".stdout"), workdir), 1)

    try:
        result["seconds"]["yosys"] = yosys(f["script"], f["yosys_log"])
        if flow == "ecp5":
            result["lut_mapping"] = "abc9"
    except ToolError:
        if flow != "ecp5":
            raise
        fallback = workdir / "ecp5.fallback.ys"
        fallback.write_text(ECP5_FALLBACK_SCRIPT.format(
            top=TOP, **{k: _quoted(v.name) for k, v in f.items()}))
        result["seconds"]["yosys"] = yosys(fallback, workdir / "ecp5.fallback.yosys.log")
        result["lut_mapping"] = (f"abc -lut 4:7 (abc9 failed: see {f['yosys_log'].name})")
    stat = json.loads(f["stat_json"].read_text())
    if flow == "ecp5":
        result["cells_by_type"] = {t: n for t, n in stat["design"]["num_cells_by_type"].items()
                                   if not t.startswith("$scopeinfo")}
        netlist = json.loads(f["netlist_json"].read_text())
        result["register_packing"] = pack_registers(netlist)
        f["packed_json"].write_text(json.dumps(netlist))
        result["seconds"]["nextpnr"] = round(run_tool("nextpnr-ecp5", [
            part["option"], "--package", part["package"],
            "--json", f["packed_json"].name, "--report", f["pnr_report"].name,
            "--freq", freq_mhz, "--seed", seed, "--lpf-allow-unconstrained", "--timing-allow-fail",
            "--log", f["pnr_log"].name,
        ], f["pnr_log"].with_suffix(".stdout"), workdir), 1)
        result.update(parse_nextpnr_report(json.loads(f["pnr_report"].read_text())))
        result["device"] = dict(part)
        return result
    blocks = parse_stat(stat)
    if flow == "generic":
        cmos = parse_stat(json.loads(f["cmos_json"].read_text()))
        for name, entry in blocks.items():
            entry["transistors"] = cmos[name].get("transistors")
    result["memories"] = parse_memories(json.loads(f["memories_json"].read_text()))
    depth = parse_ltp(f["ltp_txt"].read_text())
    result["logic_depth"] = {
        "gates": depth.get(TOP, max(depth.values())),
        "what": "longest register-to-register path in generic 2-input gates (ltp -noff on the "
                "flattened netlist); a logic depth, not a timing figure",
    }
    result["blocks"] = blocks
    keys = ("cells", "area", "sequential_area", "transistors")
    # blocks holding only memories have no area or transistors of their own
    result["total"] = {k: round(sum(b.get(k) or 0 for b in blocks.values()), 4)
                       for k in keys if any(b.get(k) is not None for b in blocks.values())}
    if flow == "asic":
        result["liberty"] = str(liberty)
        result["timing"] = ("OpenSTA (sta) is not used: timing is the logic depth above")
    return result
