"""Sweeps: one synthesis flow over a grid of engine configurations (lanes x clusters), as
rows of figures and a picture."""

import dataclasses

from .flows import run_flow

__all__ = ["METRICS", "PLOTS", "sweep_configs", "sweep_synth", "sweep_plot"]

# what the table and the plot show for each flow: (column, how to read it from a result)
METRICS = {
    "ecp5": [("Fmax MHz", lambda r: r["fmax_mhz"]),
             ("LUT", lambda r: r["utilization"]["TRELLIS_COMB"]["used"]),
             ("FF", lambda r: r["utilization"]["TRELLIS_FF"]["used"]),
             ("MULT18X18D", lambda r: r["utilization"]["MULT18X18D"]["used"]),
             ("DP16KD", lambda r: r["utilization"]["DP16KD"]["used"])],
    "generic": [("cells", lambda r: r["total"]["cells"]),
                ("transistors", lambda r: r["total"]["transistors"]),
                ("depth", lambda r: r["logic_depth"]["gates"])],
    "asic": [("area um^2", lambda r: r["total"]["area"]),
             ("depth", lambda r: r["logic_depth"]["gates"])],
}
# (area-like metric, timing-like metric) plotted against lanes
PLOTS = {"ecp5": ("LUT", "Fmax MHz"), "generic": ("cells", "depth"), "asic": ("area um^2", "depth")}


def sweep_configs(base, lanes, clusters):
    """The grid: ``base`` with every lanes x max_clusters pair."""
    return [dataclasses.replace(base, lanes=l, max_clusters=c) for l in lanes for c in clusters]


def sweep_synth(base, lanes, clusters, flow, workdir, *, liberty=None, freq_mhz=150,
                progress=None):
    """Run ``flow`` on every configuration of the grid (logs under ``workdir``); returns
    ``{"flow", "engine", "columns", "rows"}`` with one row of :data:`METRICS` per
    configuration. Raises ToolError when a tool fails."""
    configs = sweep_configs(base, lanes, clusters)
    rows = []
    if progress:
        progress(0)
    for k, config in enumerate(configs):
        name = f"lanes{config.lanes}-clusters{config.max_clusters}"
        result = run_flow(flow, config, workdir / name, liberty=liberty, freq_mhz=freq_mhz)
        row = {"lanes": config.lanes, "max_clusters": config.max_clusters,
               "reuse": config.reuse, "seconds": result["seconds"]}
        row.update({column: read(result) for column, read in METRICS[flow]})
        rows.append(row)
        if progress:
            progress(k + 1)
    return {"flow": flow, "engine": base.to_dict(), "columns": [c for c, _ in METRICS[flow]],
            "rows": rows}


def sweep_plot(rows, flow, path_like):
    """The area-like and the timing-like metric of ``flow`` against lanes, one line per
    cluster count, as a PNG into ``path_like`` (a path or a binary file)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    area, timing = PLOTS[flow]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for clusters in sorted({r["max_clusters"] for r in rows}):
        sel = sorted((r for r in rows if r["max_clusters"] == clusters), key=lambda r: r["lanes"])
        for ax, metric in zip(axes, (area, timing)):
            ax.plot([r["lanes"] for r in sel], [r[metric] for r in sel], marker="o",
                    label=f"{clusters} clusters")
    for ax, metric in zip(axes, (area, timing)):
        ax.set_xlabel("lanes")
        ax.set_ylabel(metric)
        ax.set_xscale("log", base=2)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(f"deja sweep synth ({flow})")
    fig.tight_layout()
    fig.savefig(path_like, format="png", dpi=100)
    plt.close(fig)
