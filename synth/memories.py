"""Memory model: area, energy per read and write, and leakage of every buffer, from CACTI.

CACTI runs through the ``hwcomponents`` / ``hwcomponents-cacti`` packages, which need Python
>= 3.12 and a rebuild of their bundled CACTI binary. deja sets that up on first use in its own
environment (``build/cacti-venv``, kept apart from the project's .venv). The figures deja
ships, with their CACTI inputs and the package versions, are ``synth/cacti_recorded.json``
(committed, read-only at run time); figures computed on a user's machine go to a table of the
same format in the user's cache (``$DEJA_CACHE/cacti_recorded.json``), written atomically. Both
are read; a machine without Python 3.12 gets the recorded figures, labelled ``recorded``.

Every buffer is modelled as single-ported SRAM (CACTI ``ram``, the package's ``SRAM``): the
paper's weight buffer is eDRAM, which the package does not model, so deja's weight-buffer area
is an SRAM upper bound. Per-access energies (:func:`access_energies_pj`) are the hook the
performance model (golden/evaluation/perf.py) can use in place of its 45 nm table.
"""

import dataclasses
import glob
import json
import os
import pathlib
import shutil
import subprocess

from golden.evaluation.workloads import cache as workload_cache
from golden.evaluation.workloads import manifest
from golden.memories import Buffer, engine_buffers

from .tools import ToolError

__all__ = ["Buffer", "engine_buffers", "paper_buffers", "MemoryModel", "access_energies_pj",
           "RECORDED", "PACKAGES"]

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECORDED = pathlib.Path(__file__).with_name("cacti_recorded.json")
USER_TABLE = "cacti_recorded.json"          # in the user's cache directory
# Pinned: the recorded figures are only comparable across machines for the same CACTI build.
PACKAGES = {"hwcomponents": "1.0.114", "hwcomponents-cacti": "1.0.40"}
KB = 8 * 1024


def paper_buffers(reuse):
    """The paper's Table II buffers: 36 MB of weights (4 tiles x 9 MB, modelled as 36 banks
    of 1 MB), and the I/O buffer, 1152 KB (baseline) or 1280 KB (reuse), in 128 KB banks;
    plus the 1.25 KB centroid table with reuse."""
    buffers = [Buffer("weights", 512, 1024 * 1024 * 8 // 512, instances=36),
               Buffer("io_buffer", 512, 128 * KB // 512,
                      instances=(1280 if reuse else 1152) // 128)]
    if reuse:
        buffers.append(Buffer("centroid_table", 80, 128, reuse_only=True))
    return buffers


def _sig(value):
    return float(f"{value:.6g}")


def _key(inputs):
    return json.dumps(inputs, sort_keys=True)


def _find_python312():
    wanted = os.environ.get("DEJA_PYTHON312")
    if wanted:
        return wanted if shutil.which(wanted) else None
    # a pyenv shim is on PATH for every installed version but fails (exit 127) for one that is
    # not selected: take the first interpreter that runs
    candidates = [shutil.which(name) for name in ("python3.14", "python3.13", "python3.12")]
    candidates += sorted(glob.glob(os.path.expanduser(
        "~/.pyenv/versions/3.1[2-9]*/bin/python3.1[2-9]")), reverse=True)
    for python in filter(None, candidates):
        try:
            if subprocess.run([python, "-c", ""], capture_output=True, timeout=60).returncode == 0:
                return python
        except (OSError, subprocess.SubprocessError):
            continue
    return None


_RUNNER = r"""
import json, sys, logging
logging.disable(logging.CRITICAL)
from hwcomponents_cacti import SRAM
out = []
for q in json.load(sys.stdin):
    m = SRAM(tech_node=q["tech_node_nm"] * 1e-9, width=q["width"], depth=q["depth"],
             size=q["width"] * q["depth"],
             n_rw_ports=q["n_rw_ports"], n_banks=q["n_banks"])
    out.append({"area_mm2": m.cacti_area * 1e6, "read_pj": m.read_energy * 1e12,
                "write_pj": m.write_energy * 1e12, "leakage_mw": m.cacti_leak_power * 1e3,
                "access_ns": m.access_time * 1e9, "cycle_ns": m.cycle_period * 1e9})
json.dump(out, sys.stdout)
"""


class MemoryModel:
    """CACTI figures for buffers, from the recorded file or from a live CACTI run.

    Parameters
    ----------
    venv : path
        Where the CACTI environment lives (created on first live use).
    recorded : path
        The shipped figures (JSON), only read.
    user : path or None
        The user's figures (same format), read, and where new live results are written;
        default ``cacti_recorded.json`` in the user's cache directory (``$DEJA_CACHE``).
    live : bool
        Whether CACTI may be set up and run when a figure is not recorded.
    """

    def __init__(self, venv=ROOT / "build" / "cacti-venv", recorded=RECORDED, user=None,
                 live=True):
        self.venv = pathlib.Path(venv)
        self.recorded_path = pathlib.Path(recorded)
        self.user_path = pathlib.Path(user) if user is not None else None
        self.live = live
        self.log = []
        self.recorded = _read_table(self.recorded_path)
        # the shipped figures win over a user's table of the same inputs
        self.recorded["entries"] = {**_read_table(self._user_table())["entries"],
                                    **self.recorded["entries"]}

    def _user_table(self):
        if self.user_path is not None:
            return self.user_path
        # where the cache is, without creating it: reading needs no cache
        base = os.environ.get("DEJA_CACHE") or pathlib.Path.home() / ".cache" / "deja"
        return pathlib.Path(base) / USER_TABLE

    # ---- the CACTI environment -------------------------------------------------------------
    def _python(self):
        return self.venv / "bin" / "python"

    def _cacti_dir(self):
        found = glob.glob(str(self.venv / "lib" / "python3.*" / "site-packages" /
                              "hwcomponents_cacti" / "cacti"))
        return pathlib.Path(found[0]) if found else None

    def setup(self):
        """Create the CACTI environment if needed; raise :class:`ToolError` if impossible."""
        cacti = self._cacti_dir()
        if cacti is not None and (cacti / "cacti").is_file():
            return
        python = _find_python312()
        if python is None:
            raise ToolError("CACTI needs Python >= 3.12 (none found; set DEJA_PYTHON312) and "
                            f"these figures are not recorded in {self.recorded_path} or "
                            f"{self._user_table()}")
        steps = []
        if not self._python().is_file():
            steps.append([python, "-m", "venv", str(self.venv)])
        steps.append([str(self._python()), "-m", "pip", "install", "--quiet"] +
                     [f"{p}=={v}" for p, v in PACKAGES.items()])
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            self.log.append(" ".join(step) + "\n" + done.stdout + done.stderr)
            if done.returncode != 0:
                raise ToolError(f"setting up CACTI failed: {' '.join(step[:4])} ... "
                                f"(exit {done.returncode})")
        cacti = self._cacti_dir()
        done = subprocess.run(["make", "-C", str(cacti), "opt"], capture_output=True, text=True)
        self.log.append(f"make -C {cacti} opt\n" + done.stdout[-2000:] + done.stderr[-2000:])
        if done.returncode != 0 or not (cacti / "cacti").is_file():
            raise ToolError(f"building CACTI failed: make -C {cacti} opt (exit {done.returncode})")

    def _run(self, queries):
        self.setup()
        done = subprocess.run([str(self._python()), "-c", _RUNNER], input=json.dumps(queries),
                              capture_output=True, text=True)
        self.log.append("cacti runner\n" + done.stderr[-4000:])
        if done.returncode != 0:
            raise ToolError("CACTI failed: " + (done.stderr.strip().splitlines() or ["?"])[-1])
        return json.loads(done.stdout)

    # ---- figures ---------------------------------------------------------------------------
    def figures(self, buffers, node_nm):
        """``[{buffer fields..., area_mm2, read_pj, write_pj, leakage_mw, source}]``: per
        instance figures; ``total_area_mm2`` and ``total_leakage_mw`` count all instances."""
        entries = self.recorded["entries"]
        missing = [b.cacti_inputs(node_nm) for b in buffers
                   if _key(b.cacti_inputs(node_nm)) not in entries]
        unique = list({_key(q): q for q in missing}.values())
        fresh = set()
        if unique:
            if not self.live:
                raise ToolError(f"no recorded CACTI figures for {len(unique)} buffer(s) at "
                                f"{node_nm} nm and live CACTI is disabled")
            computed = {}
            for query, result in zip(unique, self._run(unique)):
                computed[_key(query)] = {"inputs": query, "outputs": result}
            entries.update(computed)
            fresh.update(computed)
            self._save(computed)
        rows = []
        for b in buffers:
            key = _key(b.cacti_inputs(node_nm))
            out = entries[key]["outputs"]
            row = dataclasses.asdict(b)
            row.update({k: _sig(v) for k, v in out.items()})
            row["bits"] = b.bits
            row["total_area_mm2"] = _sig(out["area_mm2"] * b.instances)
            row["total_leakage_mw"] = _sig(out["leakage_mw"] * b.instances)
            row["source"] = "cacti" if key in fresh else "recorded"
            rows.append(row)
        return rows

    def _save(self, computed):
        """Add ``computed`` entries to the user's table (atomically, under the cache's lock;
        never to the shipped one). A cache that cannot be written still gets its figures,
        just not recorded."""
        try:
            if self.user_path is None:
                self.user_path = workload_cache.cache_dir() / USER_TABLE
            with manifest.locked(self.user_path.parent):
                table = _read_table(self.user_path)       # what other processes added meanwhile
                table["entries"].update(computed)
                table["packages"] = dict(PACKAGES)
                manifest.atomic_write(self.user_path,
                                      json.dumps(table, indent=1, sort_keys=True) + "\n")
        except (OSError, workload_cache.CacheError):
            pass


def _read_table(path):
    """A figures table (``{"packages", "entries"}``); empty when the file is missing or not
    one (a damaged user table is computed again)."""
    try:
        table = json.loads(pathlib.Path(path).read_text())
        if isinstance(table, dict) and isinstance(table.get("entries"), dict):
            return {"packages": table.get("packages", dict(PACKAGES)),
                    "entries": dict(table["entries"])}
    except (OSError, ValueError, RecursionError):
        pass
    return {"packages": dict(PACKAGES), "entries": {}}


def access_energies_pj(rows):
    """Energy per byte read and written, by buffer name, from :meth:`MemoryModel.figures`
    rows: the hook for golden/evaluation/perf.py (its ``weight_byte`` / ``io_byte`` entries)."""
    return {r["name"]: {"read_byte_pj": r["read_pj"] / (r["width"] / 8),
                        "write_byte_pj": r["write_pj"] / (r["width"] / 8)} for r in rows}


def perf_energy_table(node_nm=32, base=None):
    """golden/evaluation/perf.py's per-event energies with the buffer entries from CACTI: the
    paper's Table II memories (1 MB weight banks, 128 KB I/O buffer banks) at ``node_nm``, read
    from the recorded figures (no CACTI run). Returns (table, description); raises ToolError when
    the figures are not recorded."""
    from golden.evaluation.perf import ENERGY_45NM_PJ
    rows = MemoryModel(live=False).figures(paper_buffers(True), node_nm)
    per_byte = access_energies_pj(rows)
    table = dict(base or ENERGY_45NM_PJ)
    table["weight_byte"] = per_byte["weights"]["read_byte_pj"]
    io = per_byte["io_buffer"]
    table["io_byte"] = (io["read_byte_pj"] + io["write_byte_pj"]) / 2
    return table, (f"buffers: CACTI {node_nm} nm (recorded, synth/cacti_recorded.json; paper's "
                   f"Table II bank sizes); MACs and quantizer: Horowitz 45 nm table "
                   f"(golden/evaluation/perf.py)")
