"""synth/: each flow on a small engine, parsers on the JSON the tools produced, error cases.

The tools run once per flow (module fixtures) on a small configuration: Yosys in WebAssembly
takes seconds for it, nextpnr about a minute on the small LFE5U-25F.
"""

import dataclasses
import json
import pathlib
import re
import shutil

import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from deja.cli import main
from golden.config import EngineConfig
from golden.output_unit import output_unit
from hw.output_unit import OutputUnit
from synth.ecp5_pack import pack_registers
from synth.flows import (
    ECP5_SCRIPT,
    block_name,
    collisions_undefined,
    parse_ltp,
    parse_memories,
    parse_nextpnr_report,
    parse_stat,
    run_flow,
)
from synth.memories import RECORDED, Buffer, MemoryModel, engine_buffers, paper_buffers
from synth.tools import ToolError, find_tool, run_tool

LIBERTY = (pathlib.Path(__file__).resolve().parents[2] / "shared" / "liberty" /
           "sky130_fd_sc_hd__tt_025C_1v80.lib")
SMALL = EngineConfig(lanes=2, max_inputs=16, max_outputs=4, max_clusters=4)
REUSE_BLOCKS = {"quantizer", "centroid_table", "delta_subtractor", "skip_logic"}
COMMON_BLOCKS = {"engine", "layer_table", "scan_unit", "issue_unit", "mac_pipeline",
                 "output_streamer", "perf_counters", "mac_array", "output_unit", "io_buffer",
                 "weight_buffer"}
# hw memory name -> golden/synth buffer name
MEMORY_NAMES = {"weights": "weights", "biases": "biases", "bank_area": "activation_banks",
                "change_area": "change_list", "index_area": "index_area",
                "output_area": "output_area", "quantization_table": "quantization_table",
                "centroid_table": "centroid_table"}
# reuse blocks that are memories only (no logic cells)
MEMORY_BLOCKS = {"quantizer", "centroid_table"}


def _run(tmp_path_factory, flow, config, **kw):
    workdir = tmp_path_factory.mktemp(f"{flow}-{'reuse' if config.reuse else 'baseline'}")
    return run_flow(flow, config, workdir, **kw), workdir


@pytest.fixture(scope="module")
def generic(tmp_path_factory):
    return _run(tmp_path_factory, "generic", SMALL)


@pytest.fixture(scope="module")
def ecp5(tmp_path_factory):
    return _run(tmp_path_factory, "ecp5", SMALL, device="25k")


# ---- generic ---------------------------------------------------------------------------------

def test_generic_blocks_and_memories(generic):
    result, workdir = generic
    stat = json.loads((workdir / "generic.stat.json").read_text())
    assert set(result["blocks"]) == REUSE_BLOCKS | COMMON_BLOCKS
    # every leaf cell Yosys counted in the design is a logic cell of one block or a memory
    design = stat["design"]["num_cells"]
    assert sum(b["cells"] + b["memories"] for b in result["blocks"].values()) == design
    assert result["total"]["cells"] == sum(b["cells"] for b in result["blocks"].values())
    assert result["blocks"]["mac_array"]["transistors"] > 0
    # memories stay memories: their bits are the configuration's buffers, not flip-flops
    found = {MEMORY_NAMES[m["name"]]: m["bits"] for m in result["memories"]}
    assert found == {b.name: b.bits for b in engine_buffers(SMALL)}
    assert all(b["memories"] == 0 for n, b in result["blocks"].items()
               if n not in {"io_buffer", "weight_buffer"} | MEMORY_BLOCKS)
    assert result["logic_depth"]["gates"] > 0


@pytest.mark.slow
def test_generic_memories_of_an_lstm_and_conv_engine(tmp_path):
    """The memories Yosys infers in an engine with the LSTM unit and the conv tables are the
    buffers the memory model prices (synth.memories.engine_buffers)."""
    config = EngineConfig(lanes=4, max_inputs=16, max_outputs=32, max_clusters=4, max_layers=2,
                          lstm=True, conv=True)
    result = run_flow("generic", config, tmp_path)
    found = {}
    for m in result["memories"]:
        # the window tables are a memory per segment slot: window_table_<slot>
        found.setdefault(re.sub(r"_\d+$", "", m["name"]), []).append(m)
    bits = {name: sum(m["bits"] for m in ms) for name, ms in found.items()}
    model = {b.name: b for b in engine_buffers(config)}
    names = {"weights": "weights", "biases": "biases", "change_area": "change_list",
             "index_area": "index_area", "output_area": "output_area",
             "quantization_table": "quantization_table", "centroid_table": "centroid_table",
             "recurrent_area": "recurrent_area", "cell_area": "cell_state",
             "position_area": "position_table", "window_table": "window_table",
             "window_base_table": "window_base_table"}
    for hw_name, buffer in names.items():
        assert bits[hw_name] == model[buffer].bits, hw_name
    # one memory holds the frame's two banks and the two hidden banks
    assert bits["bank_area"] == model["activation_banks"].bits + model["hidden_banks"].bits
    # per LSTM unit, five 256-entry tables (Yosys drops the sigmoid's constant sign bit)
    tables = [m for name, ms in found.items() if name.endswith("_table") and name not in names
              for m in ms]
    assert len(tables) == model["activation_tables"].instances
    assert all(m["depth"] == 256 and m["width"] <= 8 and m["write_ports"] == 0 for m in tables)
    assert set(bits) == set(names) | {"bank_area"} | {m["name"] for m in tables}


def test_generic_memories_of_a_wide_scan_engine(tmp_path):
    """A scan of four inputs a cycle: four copies of the quantization and centroid tables, the
    change list in four banks, the index area in words of four indices, as the memory model
    prices them."""
    config = EngineConfig(lanes=8, max_inputs=20, max_outputs=16, max_clusters=8, max_layers=2,
                          lstm=True, scan_width=4)
    result = run_flow("generic", config, tmp_path)
    found = {}
    for m in result["memories"]:
        found.setdefault(m["name"].rstrip("0123456789").rstrip("_"), []).append(m)
    model = {b.name: b for b in engine_buffers(config)}
    for hw_name, buffer, copies in (("change_area", "change_list", 4),
                                    ("quantization_table", "quantization_table", 4),
                                    ("centroid_table", "centroid_table", 4),
                                    ("index_area", "index_area", 1)):
        assert len(found[hw_name]) == copies == model[buffer].instances, hw_name
        assert sum(m["bits"] for m in found[hw_name]) == model[buffer].bits, hw_name
    assert [m["width"] for m in found["index_area"]] == [4 * config.index_width]


def test_parsers_on_generic_outputs(generic):
    result, workdir = generic
    depth = parse_ltp((workdir / "generic.ltp.txt").read_text())
    assert depth["reuse_engine"] == result["logic_depth"]["gates"]
    memories = parse_memories(json.loads((workdir / "memories.yosys.json").read_text()))
    assert {m["block"] for m in memories} == {"io_buffer", "weight_buffer"} | MEMORY_BLOCKS
    cmos = parse_stat(json.loads((workdir / "generic.cmos.json").read_text()))
    raw = json.loads((workdir / "generic.cmos.json").read_text())
    # own transistors of every block add up to stat's hierarchical figure for the top
    top = int(raw["modules"]["\\reuse_engine"]["estimated_num_transistors"].rstrip("+"))
    assert sum(b["transistors"] for b in cmos.values()) == top


def test_parser_errors():
    with pytest.raises(ValueError, match="no 'Longest topological path'"):
        parse_ltp("nothing here")
    with pytest.raises(ValueError, match="no clock"):
        parse_nextpnr_report({"fmax": {}, "utilization": {}})
    assert block_name("\\reuse_engine") == "engine"
    assert block_name("\\reuse_engine.mac_pipeline.mac_array") == "mac_array"


# ---- ecp5 ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ecp5(ecp5):
    result, workdir = ecp5
    report = json.loads((workdir / "ecp5.pnr.json").read_text())
    assert parse_nextpnr_report(report) == {k: result[k] for k in
                                            ("clock", "fmax_mhz", "constraint_mhz",
                                             "utilization", "critical_path")}
    assert 10 < result["fmax_mhz"] < 500
    # one 9 x 8 bit multiplier per lane, each in one DSP multiplier
    assert result["utilization"]["MULT18X18D"]["used"] == SMALL.lanes
    assert result["cells_by_type"]["MULT18X18D"] == SMALL.lanes
    assert result["utilization"]["TRELLIS_FF"]["used"] > 0
    assert sum(step["delay_ns"] for step in result["critical_path"]) == pytest.approx(
        1000 / result["fmax_mhz"], rel=0.05)
    # every lane's multiplier holds its operands and its product in its own registers
    assert result["lut_mapping"] == "abc9"
    packing = result["register_packing"]
    assert packing["dsp_input_registers"] == 2 * SMALL.lanes
    assert packing["dsp_output_registers"] == SMALL.lanes
    packed = json.loads((workdir / "ecp5.packed.json").read_text())["modules"]["reuse_engine"]
    before = json.loads((workdir / "ecp5.netlist.json").read_text())["modules"]["reuse_engine"]
    def count(module, kind):
        return sum(c["type"] == kind for c in module["cells"].values())

    assert count(before, "TRELLIS_FF") - count(packed, "TRELLIS_FF") == \
        packing["flip_flops_absorbed"] > 0
    assert result["utilization"]["TRELLIS_FF"]["used"] == count(packed, "TRELLIS_FF")


@pytest.mark.slow
def test_ecp5_falls_back_to_classic_lut_mapping(tmp_path, monkeypatch):
    """When the abc9 synthesis fails (Yosys 0.70 trips an assertion on some engines), the flow
    maps LUTs with classic ABC, says so, and still places and routes."""
    import synth.flows
    monkeypatch.setattr(synth.flows, "ECP5_SCRIPT",
                        synth.flows.ECP5_SCRIPT.replace("synth_ecp5", "no_such_command", 1))
    result = run_flow("ecp5", SMALL, tmp_path, device="25k")
    assert result["lut_mapping"].startswith("abc -lut 4:7 (abc9 failed")
    assert (tmp_path / "ecp5.fallback.yosys.log").is_file()
    assert result["utilization"]["MULT18X18D"]["used"] == SMALL.lanes
    assert 10 < result["fmax_mhz"] < 500


class _PackingProbe(wiring.Component):
    """Registers after block RAMs and around multipliers, packable and not."""
    addr: In(10)
    en: In(1)
    a: In(signed(9))
    b: In(signed(8))
    wdata: In(32)
    we: In(1)
    mixed: Out(32)
    late: Out(signed(17))
    wide: Out(72)

    def elaborate(self, platform):
        m = Module()
        regs = {}
        for name in ("enabled", "reset", "shared"):
            memory = m.submodules[f"ram_{name}"] = Memory(shape=32, depth=1024, init=[])
            read, write = memory.read_port(), memory.write_port()
            m.d.comb += [read.addr.eq(self.addr), write.addr.eq(self.addr ^ 1),
                         write.data.eq(self.wdata), write.en.eq(self.we)]
            regs[name] = q = Signal(32, name=f"q_{name}", reset_less=(name != "reset"))
            if name == "enabled":
                with m.If(self.en):
                    m.d.sync += q.eq(read.data)
            else:
                m.d.sync += q.eq(read.data)
            if name == "shared":        # the RAM output also feeds logic: not packable
                m.d.comb += self.mixed.eq(read.data ^ regs["enabled"] ^ regs["reset"] ^ q)
        # 512 x 72: block RAMs in their 36-bit mode, whose reads come out of both sides' pins
        wide = m.submodules.ram_wide = Memory(shape=72, depth=512, init=[])
        read, write = wide.read_port(), wide.write_port()
        m.d.comb += [read.addr.eq(self.addr), write.addr.eq(self.addr ^ 1),
                     write.data.eq(self.wdata.replicate(3)), write.en.eq(self.we)]
        q_wide = Signal(72, name="q_wide", reset_less=True)
        m.d.sync += [q_wide.eq(read.data), self.wide.eq(q_wide ^ 1)]
        a, b, a2, b2, p = (Signal(signed(w), name=n, reset_less=True) for n, w in (
            ("op_a", 9), ("op_b", 8), ("op_a2", 9), ("op_b2", 8), ("prod", 17)))
        late = Signal(signed(17), name="prod_enabled", reset_less=True)
        m.d.sync += [a.eq(self.a), b.eq(self.b), a2.eq(self.a ^ 1), b2.eq(self.b ^ 1),
                     p.eq(a * b), self.late.eq(p + late)]
        with m.If(self.en):             # a product register with an enable stays in fabric
            m.d.sync += late.eq(a2 * b2)
        return m


def test_register_packing_rules(tmp_path):
    """synth.ecp5_pack on a probe synthesized as the ecp5 flow does (RTLIL with undefined
    read-write collisions, ECP5_SCRIPT): what it packs, what it leaves, and how it rewires."""
    (tmp_path / "probe.il").write_text(collisions_undefined(
        rtlil.convert(_PackingProbe(), name="probe", emit_src=False)))
    (tmp_path / "probe.ys").write_text(ECP5_SCRIPT.format(
        rtlil="probe.il", top="probe", netlist_json="probe.json", stat_json="probe.stat.json"))
    run_tool("yosys", ["-q", "probe.ys"], tmp_path / "probe.log", tmp_path)
    netlist = json.loads((tmp_path / "probe.json").read_text())
    module = netlist["modules"]["probe"]
    bits = {name: n["bits"] for name, n in module["netnames"].items()}
    ffs_before = {n for n, c in module["cells"].items() if c["type"] == "TRELLIS_FF"}
    stats = pack_registers(netlist)
    cells = module["cells"]
    drivers = {bit: (name, port) for name, c in cells.items()
               for port, conn in c["connections"].items()
               if c["port_directions"][port] == "output" for bit in conn}
    rams = {name: c for name, c in cells.items() if c["type"] == "DP16KD"}
    def regmode(prefix):
        return {c["parameters"]["REGMODE_B"] for n, c in rams.items() if n.startswith(prefix)}

    # the enabled register is now the RAMs' output register, enabled by the same net
    assert regmode("ram_enabled") == {"OUTREG"}
    assert all(cells[drivers[b][0]]["type"] == "DP16KD" for b in bits["q_enabled"])
    assert {cells[n]["connections"]["OCEB"][0] for n in rams if n.startswith("ram_enabled")} \
        == {bits["en"][0]}
    # a 36-bit read gets both sides' output registers, as one port
    wide = [c for n, c in rams.items() if n.startswith("ram_wide")]
    assert wide and all(int(c["parameters"]["DATA_WIDTH_A"], 2) == 36 for c in wide)
    assert all(c["parameters"]["REGMODE_A"] == c["parameters"]["REGMODE_B"] == "OUTREG"
               for c in wide)
    assert all(cells[drivers[b][0]]["type"] == "DP16KD" for b in bits["q_wide"])
    # a register with a reset, and a RAM output with another load, stay as they were
    assert regmode("ram_reset") == regmode("ram_shared") == {"NOREG"}
    assert all(cells[drivers[b][0]]["type"] == "TRELLIS_FF"
               for b in bits["q_reset"] + bits["q_shared"])
    # multipliers: operands packed in both; the plain product register packed, the enabled not
    dsps = [c for c in cells.values() if c["type"] == "MULT18X18D"]
    assert len(dsps) == 2
    assert all(d["parameters"]["REG_INPUTA_CLK"] == d["parameters"]["REG_INPUTB_CLK"] == "CLK0"
               for d in dsps)
    assert sorted(d["parameters"].get("REG_OUTPUT_CLK", "NONE") for d in dsps) == ["CLK0", "NONE"]
    assert all(cells[drivers[b][0]]["type"] == "MULT18X18D" for b in bits["prod"])
    assert all(cells[drivers[b][0]]["type"] == "TRELLIS_FF" for b in bits["prod_enabled"])
    # operand flip-flops are gone: the multipliers read the nets that fed them
    for name in ("op_a", "op_b", "op_a2", "op_b2"):
        assert not any(b in drivers for b in bits[name] if isinstance(b, int))
    ffs_after = {n for n, c in cells.items() if c["type"] == "TRELLIS_FF"}
    assert ffs_after < ffs_before
    # q_enabled (32), prod (17) and the operands (Yosys shares some of their bits)
    assert stats == {"bram_output_registers": 2 + len(wide), "dsp_input_registers": 4,
                     "dsp_output_registers": 1,
                     "flip_flops_absorbed": len(ffs_before) - len(ffs_after)}
    assert stats["flip_flops_absorbed"] > 32 + 72 + 17 + 9 + 8


# ---- asic ------------------------------------------------------------------------------------

@pytest.mark.skipif(not LIBERTY.is_file(), reason=f"no Liberty file at {LIBERTY}")
@pytest.mark.slow
def test_asic_per_block_area_and_cli_report(tmp_path):
    out = tmp_path / "report"
    args = ["synth", "--flow", "asic", "--liberty", str(LIBERTY), "--lanes", str(SMALL.lanes),
            "--max-inputs", str(SMALL.max_inputs), "--max-outputs", str(SMALL.max_outputs),
            "--max-clusters", str(SMALL.max_clusters), "-o", str(out), "--json"]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert "ASIC area" in (out / "report.md").read_text()
    asic = report["asic"]
    for which in ("reuse", "baseline"):
        raw = json.loads((out / "logs" / f"asic-{which}" / "asic.stat.json").read_text())
        blocks = parse_stat(raw)
        assert blocks == asic[which]["blocks"]
        # own areas add up to the top module's (hierarchical) area
        top = raw["modules"]["\\reuse_engine"]["area"]
        assert sum(b.get("area") or 0 for b in blocks.values()) == pytest.approx(top, rel=1e-6)
        assert "area" not in blocks["io_buffer"] and blocks["io_buffer"]["memories"] > 0
    assert REUSE_BLOCKS <= set(asic["reuse"]["blocks"])
    assert not REUSE_BLOCKS & set(asic["baseline"]["blocks"])
    table = asic["blocks"]
    for name in REUSE_BLOCKS - MEMORY_BLOCKS:
        assert table[name]["baseline"] == 0 and table[name]["added"] > 0
    for name in MEMORY_BLOCKS:
        assert table[name]["baseline"] == 0 and table[name]["added"] == 0
    base_total = asic["baseline"]["total"]["area"]
    assert table["total"]["added_pct_of_baseline"] == pytest.approx(
        100 * (asic["reuse"]["total"]["area"] - base_total) / base_total, abs=0.01)


@pytest.mark.skipif(not LIBERTY.is_file(), reason=f"no Liberty file at {LIBERTY}")
def test_asic_reads_a_liberty_file_anywhere(tmp_path):
    """A Liberty file under the temporary directory (which YoWASP tools cannot see: theirs is a
    private one), in a folder with spaces, outside the run directory: the flow reads a link or
    copy of it in the run directory, named in quotes."""
    liberty = tmp_path / "dir with space" / "my cells.lib"
    liberty.parent.mkdir()
    shutil.copyfile(LIBERTY, liberty)
    workdir = tmp_path / "run"
    tiny = EngineConfig(lanes=1, max_inputs=4, max_outputs=2, max_clusters=2)
    result = run_flow("asic", tiny, workdir, liberty=liberty)
    assert result["total"]["area"] > 0 and result["liberty"] == str(liberty)
    script = (workdir / "asic.ys").read_text()
    assert script.startswith('read_liberty -lib "cells.lib"\n')
    assert 'abc -liberty "cells.lib"' in script and "/" not in script
    assert (workdir / "cells.lib").read_bytes() == liberty.read_bytes()


# ---- memories --------------------------------------------------------------------------------

def test_memory_model_recorded_figures(tmp_path):
    recorded = tmp_path / "recorded.json"
    shutil.copy(RECORDED, recorded)
    model = MemoryModel(recorded=recorded, live=False, venv=tmp_path / "none")
    for reuse in (True, False):
        config = dataclasses.replace(EngineConfig(), reuse=reuse)
        rows = model.figures(engine_buffers(config), 32)
        assert {r["source"] for r in rows} == {"recorded"}
        assert {r["name"] for r in rows} >= {"weights", "activation_banks", "change_list"}
        assert ("index_area" in {r["name"] for r in rows}) == reuse
    paper = {r: model.figures(paper_buffers(r), 32) for r in (False, True)}
    area = {r: sum(x["total_area_mm2"] for x in rows) for r, rows in paper.items()}
    assert area[True] > area[False]
    weights = next(x for x in paper[False] if x["name"] == "weights")
    assert weights["total_area_mm2"] == pytest.approx(36 * weights["area_mm2"], rel=1e-5)
    # energy per access grows with the array (1 MB bank vs 128 KB bank)
    io = next(x for x in paper[False] if x["name"] == "io_buffer")
    assert weights["read_pj"] > io["read_pj"] and weights["area_mm2"] > io["area_mm2"]


def test_memory_model_without_cacti(tmp_path):
    model = MemoryModel(recorded=tmp_path / "empty.json", live=False, venv=tmp_path / "none")
    with pytest.raises(ToolError, match="no recorded CACTI figures for 1 buffer"):
        model.figures([Buffer("x", 32, 64)], 32)


def test_new_cacti_figures_go_to_the_user_cache_only(tmp_path, monkeypatch, capsys):
    """``deja synth --flow memories`` on a configuration not recorded: the shipped table stays
    byte for byte, the new figures are in the user's table, read back on the next run. The
    CACTI run itself (Python 3.12) is replaced by fixed figures."""
    monkeypatch.setenv("DEJA_CACHE", str(tmp_path / "cache"))
    shipped = RECORDED.read_bytes()
    runs = []

    def cacti(self, queries):
        runs.append(queries)
        return [{"area_mm2": 0.01 * q["width"], "read_pj": 1.0, "write_pj": 2.0,
                 "leakage_mw": 0.1, "access_ns": 0.5, "cycle_ns": 0.7} for q in queries]
    monkeypatch.setattr(MemoryModel, "_run", cacti)
    args = ["synth", "--flow", "memories", "--node", "28", "--lanes", "2", "--max-inputs", "16",
            "--max-outputs", "4", "--max-clusters", "4", "--json"]
    assert main(args + ["-o", str(tmp_path / "one")]) == 0
    assert RECORDED.read_bytes() == shipped and runs
    table = json.loads((tmp_path / "cache" / "cacti_recorded.json").read_text())
    assert table["packages"] == json.loads(shipped)["packages"]
    assert {e["inputs"]["tech_node_nm"] for e in table["entries"].values()} == {28}
    assert len(table["entries"]) == sum(len(queries) for queries in runs)
    report = json.loads((tmp_path / "one" / "report.json").read_text())
    assert {r["source"] for r in report["memories"]["engine"]["reuse"]} == {"cacti"}
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.endswith(".tmp")] == []
    # the next run reads them, with no CACTI
    computed = len(runs)
    assert main(args + ["-o", str(tmp_path / "two")]) == 0
    report = json.loads((tmp_path / "two" / "report.json").read_text())
    assert {r["source"] for r in report["memories"]["engine"]["reuse"]} == {"recorded"}
    assert len(runs) == computed and RECORDED.read_bytes() == shipped
    capsys.readouterr()


def test_engine_buffers_match_golden_sizes():
    from golden.io_buffer import io_buffer_bits
    # a blocking engine's index words hold lanes indices: 200 inputs are 13 words of 16
    blocking = EngineConfig(conv=True, blocking=True, max_layers=2, max_inputs=100,
                            max_outputs=64)
    for config in (EngineConfig(), SMALL, dataclasses.replace(SMALL, reuse=False), blocking):
        sized = {b.name: b.bits for b in engine_buffers(config)}
        assert {k: sized[k] for k in io_buffer_bits(config)} == io_buffer_bits(config)


# ---- errors and the CLI ----------------------------------------------------------------------

def test_missing_tool_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("YOSYS", str(tmp_path / "no-yosys"))
    with pytest.raises(ToolError, match="yosys not found"):
        find_tool("yosys")
    out = tmp_path / "out"
    assert main(["synth", "--flow", "generic", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "yosys not found" in err
    assert not out.exists()


def test_missing_liberty_is_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["synth", "--flow", "asic", "--liberty", str(tmp_path / "x.lib"),
                 "-o", str(out)]) == 2
    assert main(["synth", "--flow", "asic", "-o", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "no such file" in err[0] and "needs --liberty" in err[1]
    assert not out.exists()


def test_synth_for_a_network(tmp_path, capsys):
    """deja synth --network reports the engine sized for the network, with its buffers: the
    weight buffer holds the network's weight words, and the LSTM's buffers are priced."""
    from golden.network.builtin import load_network
    from golden.weight_buffer import weight_words
    out = tmp_path / "out"
    assert main(["synth", "--network", "speech-lstm", "--flow", "memories", "-o", str(out),
                 "--json"]) == 0
    report = json.loads((out / "report.json").read_text())
    network, _ = load_network("speech-lstm")
    words = sum(len(weight_words(w, 16)) for _, w, _ in network.layers)
    assert report["network"]["name"] == "speech-lstm"
    assert report["network"]["weight_words"] == words
    assert [l["kind"] for l in report["network"]["layers"]] == ["fc", "lstm", "fc"]
    rows = {r["name"]: r for r in report["memories"]["engine"]["reuse"]}
    assert rows["weights"]["depth"] == words
    assert {"recurrent_area", "cell_state", "activation_tables"} <= set(rows)
    assert "Sized for network `speech-lstm`: 3 layers" in (out / "report.md").read_text()
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main(["synth", "--network", "nosuch", "-o", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown network" in err and not bad.exists()


def test_sweep_generic(tmp_path):
    out = tmp_path / "sweep"
    assert main(["sweep", "synth", "--flow", "generic", "--lanes", "1,2", "--clusters", "4",
                 "--max-inputs", "8", "--max-outputs", "4", "-o", str(out), "--json"]) == 0
    data = json.loads((out / "sweep.json").read_text())
    assert [(r["lanes"], r["max_clusters"]) for r in data["rows"]] == [(1, 4), (2, 4)]
    assert data["rows"][1]["cells"] > data["rows"][0]["cells"]   # a second MAC lane costs cells
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sweep", "synth", "--lanes", "4,x", "-o", str(out)]) == 2


# ---- the pipelined output unit the engine uses (timing) --------------------------------------

@pytest.mark.parametrize("activation", ["none", "relu"])
@pytest.mark.parametrize("shift", [0, 1, 7, 12, 31])
def test_pipelined_output_unit_matches_golden(activation, shift):
    config = EngineConfig(lanes=4)
    rng = np.random.default_rng(shift)
    words = rng.integers(config.acc_min, config.acc_max, size=(24, config.lanes), endpoint=True)
    words[0] = [config.acc_min, config.acc_max, 0, -1]
    # every result from below act_min to above act_max, each at its rounding edges
    edges = [y * (1 << shift) + d for y in range(config.act_min - 3, config.act_max + 4)
             for d in sorted({-(1 << shift) // 2 - 1, -(1 << shift) // 2, (1 << shift) // 2 - 1,
                              (1 << shift) // 2, 0})]
    edges = np.clip(edges, config.acc_min, config.acc_max)
    edges = np.resize(edges, (-(-len(edges) // config.lanes), config.lanes))
    words = np.concatenate([words, edges])
    dut = OutputUnit(config, latency=3)
    got = []

    async def tb(ctx):
        ctx.set(dut.relu, activation == "relu")
        ctx.set(dut.shift, shift)
        await ctx.tick().repeat(2)      # the unit registers its thresholds from shift
        for k in range(len(words) + 3):
            if k < len(words):
                for lane, v in enumerate(words[k]):
                    ctx.set(dut.acc[lane], int(v))
            await ctx.tick()
            if k >= 2:
                got.append([ctx.get(dut.y[lane]) for lane in range(config.lanes)])
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    # y after the k-th tick belongs to the word set three ticks earlier
    assert np.array_equal(np.array(got[:len(words)]),
                          output_unit(words, activation, shift, config.act_width))
