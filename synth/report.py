"""The synthesis report: reuse engine and baseline engine side by side, overhead in %.

:func:`synth_report` runs the chosen flows on both engines of a configuration (the reuse
engine and the same lanes and widths with ``reuse=False``), the memory model on both engines'
buffers and on the paper's Table II buffers, and returns one JSON-able dict;
:func:`markdown` renders it as tables.
"""

import dataclasses
import pathlib

from golden.evaluation.paper import PAPER

from .flows import run_flow
from .memories import MemoryModel, access_energies_pj, engine_buffers, paper_buffers

__all__ = ["ALL_FLOWS", "synth_report", "markdown", "overhead", "SKY130_NM"]

ALL_FLOWS = ("generic", "ecp5", "asic", "memories")
SKY130_NM = 130


def overhead(reuse, baseline):
    """Reuse over baseline in %, or None when the baseline is 0."""
    if not baseline:
        return None
    return round(100.0 * (reuse - baseline) / baseline, 2)


def _engines(config):
    return {"reuse": dataclasses.replace(config, reuse=True),
            "baseline": dataclasses.replace(config, reuse=False)}


def _block_table(reuse, baseline, key):
    """Per block: reuse, baseline, difference, and difference as % of the baseline total."""
    base_total = sum(b.get(key) or 0 for b in baseline["blocks"].values())
    rows = {}
    for name in sorted(set(reuse["blocks"]) | set(baseline["blocks"])):
        r = (reuse["blocks"].get(name) or {}).get(key) or 0
        b = (baseline["blocks"].get(name) or {}).get(key) or 0
        rows[name] = {"reuse": r, "baseline": b, "added": round(r - b, 4),
                      "added_pct_of_baseline": round(100.0 * (r - b) / base_total, 2)
                      if base_total else None}
    r_total = sum(v["reuse"] for v in rows.values())
    rows["total"] = {"reuse": round(r_total, 4), "baseline": round(base_total, 4),
                     "added": round(r_total - base_total, 4),
                     "added_pct_of_baseline": overhead(r_total, base_total)}
    return rows


def synth_report(config, flows, workdir, liberty=None, node_nm=32, freq_mhz=150, seed=1,
                 device="85k", memory_model=None, progress=None):
    """Run ``flows`` (names of :data:`ALL_FLOWS`) on both engines; returns the report dict.

    Tool logs and netlists stay under ``workdir/<flow>-<engine>/``.
    """
    workdir = pathlib.Path(workdir)
    engines = _engines(config)
    report = {"engine": engines["reuse"].to_dict(), "flows": list(flows)}
    steps = [(f, e) for f in flows if f != "memories" for e in engines]
    done = 0
    for flow, which in steps:
        result = run_flow(flow, engines[which], workdir / f"{flow}-{which}", liberty=liberty,
                          freq_mhz=freq_mhz, seed=seed, device=device)
        report.setdefault(flow, {})[which] = result
        done += 1
        if progress:
            progress(done)
    for flow in ("generic", "asic"):
        if flow in report:
            key = "area" if flow == "asic" else "cells"
            report[flow]["blocks"] = _block_table(report[flow]["reuse"], report[flow]["baseline"],
                                                  key)
            if flow == "generic":
                report[flow]["transistors"] = _block_table(report[flow]["reuse"],
                                                           report[flow]["baseline"], "transistors")
    if "ecp5" in report:
        r, b = report["ecp5"]["reuse"], report["ecp5"]["baseline"]
        report["ecp5"]["overhead"] = {
            cell: overhead(r["utilization"][cell]["used"], b["utilization"][cell]["used"])
            for cell in r["utilization"]}
    if "memories" in flows:
        model = memory_model or MemoryModel()
        mem = {"node_nm": node_nm, "engine": {}, "paper": {}}
        for which, cfg in engines.items():
            mem["engine"][which] = model.figures(engine_buffers(cfg), node_nm)
        for which in engines:
            mem["paper"][which] = model.figures(paper_buffers(which == "reuse"), node_nm)
        mem["packages"] = model.recorded["packages"]
        mem["access_energy_pj"] = access_energies_pj(mem["engine"]["reuse"])
        for part in ("engine", "paper"):
            totals = {w: sum(row["total_area_mm2"] for row in mem[part][w]) for w in engines}
            mem[part + "_area_mm2"] = {
                **{w: round(v, 6) for w, v in totals.items()},
                "overhead_pct": overhead(totals["reuse"], totals["baseline"])}
        report["memories"] = mem
        report["paper_comparison"] = _paper_comparison(report, node_nm)
    return report


def _paper_comparison(report, node_nm):
    mem = report["memories"]["paper_area_mm2"]
    result = {
        "node_nm": node_nm,
        "paper_area_mm2": {"baseline": PAPER["area_mm2"][0], "reuse": PAPER["area_mm2"][1],
                           "overhead_pct": overhead(PAPER["area_mm2"][1], PAPER["area_mm2"][0])},
        "memories_mm2": mem,
        "note": ("memories: CACTI SRAM at the node for the paper's Table II buffers (the paper's "
                 "weight buffer is eDRAM, so this is an SRAM upper bound); logic: deja's engine "
                 "(one engine of this configuration, not the paper's four tiles of 32 FP units)"),
    }
    if "asic" in report:
        scale = (node_nm / SKY130_NM) ** 2
        logic = {w: report["asic"][w]["total"]["area"] * 1e-6 * scale
                 for w in ("reuse", "baseline")}
        total = {w: mem[w] + logic[w] for w in ("reuse", "baseline")}
        result["logic_mm2"] = {**{w: round(v, 6) for w, v in logic.items()},
                               "scaled_from": f"sky130 um^2 x ({node_nm}/{SKY130_NM})^2"}
        result["total_mm2"] = {**{w: round(v, 4) for w, v in total.items()},
                               "overhead_pct": overhead(total["reuse"], total["baseline"])}
    return result


def _fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, float):
        if value and abs(value) < 10:
            return f"{value:.4g}"       # small areas, energies and leakages keep 4 digits
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(report):
    """The report as Markdown tables (reuse vs baseline, overhead in %)."""
    e = report["engine"]
    out = [f"# deja synth: lanes {e['lanes']}, act/weight/acc {e['act_width']}/{e['weight_width']}/"
           f"{e['acc_width']}, clusters {e['max_clusters']}, N {e['max_inputs']}, "
           f"M {e['max_outputs']}",
           ""]
    if "network" in report:
        n = report["network"]
        out += [f"Sized for network `{n['name']}`: {len(n['layers'])} layers ("
                + ", ".join(f"{l['kind'].upper()} {l['inputs']}x{l['outputs']}"
                            + ("" if l["reuse"] else " baseline") for l in n["layers"])
                + f"), {e['max_layers']} layer-table entries, {n['weight_words']} weight words.",
                ""]
    if "asic" in report:
        a = report["asic"]
        out += ["## ASIC area (um^2, memories excluded) per block", "",
                f"Liberty: `{a['reuse']['liberty']}`", "",
                _table(["block", "reuse", "baseline", "added", "added % of baseline"],
                       [[k, v["reuse"], v["baseline"], v["added"], v["added_pct_of_baseline"]]
                        for k, v in a["blocks"].items()]), "",
                f"Logic depth (generic gates, not a timing figure; OpenSTA not used): reuse "
                f"{a['reuse']['logic_depth']['gates']}, "
                f"baseline {a['baseline']['logic_depth']['gates']}.",
                ""]
    if "generic" in report:
        g = report["generic"]
        out += ["## Generic synthesis (cells, transistor estimate)", "",
                _table(["block", "cells reuse", "cells baseline", "transistors reuse",
                        "transistors baseline"],
                       [[k, v["reuse"], v["baseline"], g["transistors"][k]["reuse"],
                         g["transistors"][k]["baseline"]] for k, v in g["blocks"].items()]), "",
                f"Cells: overhead {_fmt(g['blocks']['total']['added_pct_of_baseline'])} %; "
                f"transistors (combinational, `stat -tech cmos`): overhead "
                f"{_fmt(g['transistors']['total']['added_pct_of_baseline'])} %. Logic depth: reuse "
                f"{g['reuse']['logic_depth']['gates']}, "
                f"baseline {g['baseline']['logic_depth']['gates']} gates.",
                "", "Memories (kept apart, modelled below):", "",
                _table(["block", "memory", "width", "depth", "bits"],
                       [[m["block"], m["name"], m["width"], m["depth"], m["bits"]]
                        for m in g["reuse"]["memories"]]), ""]
    if "ecp5" in report:
        p = report["ecp5"]
        dev = p["reuse"]["device"]
        cells = list(p["reuse"]["utilization"])
        out += [f"## ECP5 ({dev['device']}, {dev['package']}) place and route", "",
                _table(["engine", "Fmax MHz"] + cells,
                       [[w, p[w]["fmax_mhz"]] + [p[w]["utilization"][c]["used"] for c in cells]
                        for w in ("reuse", "baseline")]
                       + [["overhead %", None] + [p["overhead"][c] for c in cells]]), "",
                f"Target {p['reuse']['constraint_mhz']} MHz. "
                f"Ports registered by the timing harness "
                f"(synth/wrapper.py); registers packed into block RAMs and multipliers "
                f"(synth/ecp5_pack.py). LUT mapping: "
                + "; ".join(f"{w} {p[w].get('lut_mapping', 'abc9')}" for w in ("reuse", "baseline"))
                + ".", ""]
    if "memories" in report:
        mem = report["memories"]
        out += [f"## Memories (CACTI SRAM, {mem['node_nm']} nm)", "",
                _table(["engine", "buffer", "width", "depth", "x", "area mm^2", "read pJ",
                        "write pJ", "leakage mW", "source"],
                       [[w, r["name"], r["width"], r["depth"], r["instances"], r["total_area_mm2"],
                         r["read_pj"], r["write_pj"], r["total_leakage_mw"], r["source"]]
                        for w in ("reuse", "baseline") for r in mem["engine"][w]]), "",
                f"Engine buffers: {_fmt(mem['engine_area_mm2']['baseline'], 4)} -> "
                f"{_fmt(mem['engine_area_mm2']['reuse'], 4)} mm^2 "
                f"({_fmt(mem['engine_area_mm2']['overhead_pct'])} %). Packages: "
                + ", ".join(f"{k} {v}" for k, v in mem["packages"].items()) + ".", ""]
        c = report["paper_comparison"]
        rows = [["paper (Table II, 28/32 nm)", c["paper_area_mm2"]["baseline"],
                 c["paper_area_mm2"]["reuse"], c["paper_area_mm2"]["overhead_pct"]],
                ["deja memories (CACTI)", c["memories_mm2"]["baseline"], c["memories_mm2"]["reuse"],
                 c["memories_mm2"]["overhead_pct"]]]
        if "total_mm2" in c:
            rows.append(["deja memories + logic", c["total_mm2"]["baseline"],
                         c["total_mm2"]["reuse"], c["total_mm2"]["overhead_pct"]])
        out += [f"## Paper comparison at {c['node_nm']} nm", "",
                _table(["", "baseline mm^2", "reuse mm^2", "overhead %"], rows), "",
                c["note"] + (f"; logic {c['logic_mm2']['scaled_from']}." if "logic_mm2" in c
                             else "."),
                ""]
    return "\n".join(out)
