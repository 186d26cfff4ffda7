"""Evaluation reports: eval.json (data), eval.md (tables beside the paper's), PNG plots."""


__all__ = ["eval_markdown", "eval_plots"]


def _pct(v):
    return "-" if v is None else f"{100 * v:.1f} %"


def eval_markdown(r):
    p = r["paper"]
    t = r["total"]
    lines = [f"# deja evaluation: {r['workload']}", "", r["description"], ""]
    for note in r.get("notes", []):
        lines.append(f"> {note}")
    if r.get("notes"):
        lines.append("")
    secs = f", {r['seconds_of_input']:.0f} s of input" if r.get("seconds_of_input") else ""
    lines += [f"{r['frames']} evaluation frames{secs}; "
              f"{r['calibration_frames']} calibration frames "
              f"(kept apart); accuracy budget {r['budget']:.1%}; {r['lanes']} lanes; "
              f"{r.get('weight_width', 8)}-bit weights; "
              f"energy: {r.get('energy_model', 'golden/evaluation/perf.py')}.", ""]
    lines += ["## Per-layer input similarity and computation reuse (paper Table I, Fig. 5)", "",
              "| layer | kind | inputs | outputs | reuse | C | input similarity "
              "| computation reuse | speedup |",
              "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for l in r["layers"]:
        lines.append(f"| {l['name']} | {l['kind']} | {l['inputs']} | {l['outputs']} | "
                     f"{'yes' if l['reuse_enabled'] else 'no'} | {l['clusters'] or '-'} | "
                     f"{_pct(l['input_similarity'])} | {_pct(l['computation_reuse'])} | "
                     f"{l['speedup']:.2f}x |")
    paper_reuse = p.get("computation_reuse")
    if isinstance(paper_reuse, dict):
        lines += ["", f"Paper, {p['network']} ({p.get('kind', '')}), computation reuse per layer: "
                  + ", ".join(f"{k} {_pct(v)}" for k, v in paper_reuse.items()) + "."]
    avg = p["average"]
    lines += ["", "## Whole network (paper Fig. 5, 9, 10)", "",
              "| figure | deja | paper |", "| --- | ---: | ---: |",
              f"| input similarity (reusing layers' inputs) | {_pct(r['input_similarity'])} | "
              f"{_pct(avg['input_similarity'])} (average of 4 DNNs) |",
              f"| MACs avoided (computation reuse) | {_pct(t['macs_avoided'])} | "
              f"{_pct(avg['computation_reuse'])} (average) |",
              f"| speedup over baseline (cycle model) | {t['speedup']:.2f}x | "
              f"{p.get('speedup', avg['speedup'])}x "
              f"({p['network'] if 'speedup' in p else 'average'}) |",
              f"| ideal speedup 1 / (1 - MACs avoided) | {t['ideal_speedup']:.2f}x | - |",
              f"| normalized energy | {t['normalized_energy']:.2f} | "
              f"{1 - avg['energy_savings']:.2f} (average) |",
              "", "## Accuracy against the float model", "",
              "| metric | without reuse (int8 only) | with reuse |", "| --- | ---: | ---: |",
              f"| {r['accuracy']['metric']} | {_pct(r['accuracy']['without_reuse'])} | "
              f"{_pct(r['accuracy']['with_reuse'])} |",
              "", "## Memory (paper Table III)", "",
              "| | baseline | reuse |", "| --- | ---: | ---: |"]
    m = r["memory"]
    lines.append(f"| I/O buffer (KB) | {m['io_buffer_baseline_bytes'] / 1024:.1f} | "
                 f"{m['io_buffer_reuse_bytes'] / 1024:.1f} |")
    if "io_buffer_kb" in p:
        lines.append(f"| paper, {p['network']}: I/O buffer (KB) | {p['io_buffer_kb'][0]} | "
                     f"{p['io_buffer_kb'][1]} |")
    lines.append(f"| weights (KB) | {m['weight_bytes'] / 1024:.1f} | "
                 f"{m['weight_bytes'] / 1024:.1f} |")
    lines += ["", f"Network simulation time: {r['network_seconds']:.1f} s; "
                  f"whole evaluation {r['elapsed_seconds']:.1f} s.", ""]
    return "\n".join(lines)


def eval_plots(r, directory):
    """Two PNGs: per-layer similarity and reuse; speedup and normalized energy."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [l["name"] for l in r["layers"]]
    x = range(len(names))
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(names) + 2), 3.5))
    ax.bar([i - 0.2 for i in x], [100 * l["input_similarity"] for l in r["layers"]], 0.4,
           label="input similarity")
    ax.bar([i + 0.2 for i in x], [100 * l["computation_reuse"] for l in r["layers"]], 0.4,
           label="computation reuse")
    ax.axhline(100 * r["paper"]["average"]["computation_reuse"], color="k", ls="--", lw=1,
               label="paper average reuse")
    ax.set_xticks(list(x), names, rotation=30, ha="right")
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.set_title(f"{r['workload']}: per-layer similarity and reuse")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths = [directory / "reuse_per_layer.png"]
    fig.savefig(paths[0], dpi=100)
    plt.close(fig)
    t = r["total"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7, 3.2))
    paper_speedup = r["paper"].get("speedup", r["paper"]["average"]["speedup"])
    a1.bar(["deja", "ideal", "paper"], [t["speedup"], t["ideal_speedup"], paper_speedup],
           color=["C0", "C7", "C1"])
    a1.set_title("speedup over baseline")
    a2.bar(["baseline", "deja", "paper avg"],
           [1.0, t["normalized_energy"], 1 - r["paper"]["average"]["energy_savings"]],
           color=["C7", "C0", "C1"])
    a2.set_title("normalized energy")
    fig.tight_layout()
    paths.append(directory / "speedup_energy.png")
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)
    return paths
