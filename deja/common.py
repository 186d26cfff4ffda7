"""What every subcommand shares: engine options, errors, output files, table printing."""

import argparse
import json
import os
import pathlib
import tempfile

from golden.config import ConfigError, EngineConfig

__all__ = ["CLIError", "add_engine_options", "engine_from_args", "check_sequence_options",
           "write_files", "table"]


class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


_ENGINE_OPTIONS = ("lanes", "act_width", "weight_width", "acc_width", "max_clusters",
                   "max_inputs", "max_outputs", "max_layers")


def add_engine_options(parser):
    group = parser.add_argument_group("engine configuration (defaults: golden.DEFAULT)")
    group.add_argument("--config", metavar="FILE.json",
                       help="engine configuration JSON (as written by `deja verilog`)")
    for name in _ENGINE_OPTIONS:
        group.add_argument("--" + name.replace("_", "-"), type=int, metavar="N", dest=name)
    group.add_argument("--baseline", action="store_true",
                       help="the baseline engine (reuse=False: no quantizer, index area, skip logic)")


def engine_from_args(args):
    base = {}
    if args.config:
        path = pathlib.Path(args.config)
        if not path.is_file():
            raise CLIError(f"--config {args.config}: no such file")
        base = EngineConfig.from_json(path.read_text()).to_dict()
    for name in _ENGINE_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            base[name] = value
    if args.baseline:
        base["reuse"] = False
    return EngineConfig.from_dict(base)


def check_sequence_options(args):
    """--frames, --similarity and --stall of the commands that run a synthetic sequence."""
    if args.frames < 1:
        raise CLIError(f"--frames {args.frames}: allowed 1 or more")
    if not 0.0 <= args.similarity <= 1.0:
        raise CLIError(f"--similarity {args.similarity}: allowed 0..1")
    if not 0.0 <= args.stall < 1.0:
        raise CLIError(f"--stall {args.stall}: allowed 0 <= P < 1")


def write_files(directory, files):
    """Write ``{name: text}`` into ``directory`` all or nothing (no partial output on error)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    staged = []
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            staged.append((tmp, directory / name))
    except BaseException:
        for tmp, _ in staged:
            os.unlink(tmp)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return [str(final) for _, final in staged]


def table(rows, headers):
    """A plain-text table (right-aligned numbers)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if (k == 0 or i == 0) else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
