"""What every subcommand shares: engine options, errors, output files, table printing."""

import os
import pathlib
import tempfile

from golden.config import DEFAULT, ConfigError, EngineConfig

__all__ = ["CLIError", "add_engine_options", "engine_from_args", "check_sequence_options",
           "add_network_option", "network_from_args", "network_engine", "engine_or_network",
           "load_inputs", "check_output_dir", "write_files", "table"]


class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


_ENGINE_OPTIONS = ("lanes", "act_width", "weight_width", "acc_width", "max_clusters",
                   "max_inputs", "max_outputs", "max_layers", "scan_width")
ENGINE_HELP = {
    "lanes": "MAC lanes, one output neuron each",
    "act_width": "bits of an activation and a centroid",
    "weight_width": "bits of a weight",
    "acc_width": "bits of an accumulator and a bias",
    "max_clusters": "largest cluster count C of a layer",
    "max_inputs": "largest input count N of a layer",
    "max_outputs": "largest output count M of a layer",
    "max_layers": "entries of the layer table",
    "scan_width": "inputs scanned per cycle (a power of two dividing lanes; 1 with conv "
                  "layers; a network's engine: up to 8)",
}


def add_engine_option(group, name, network=True):
    """``--name N`` of an engine parameter; unset, it comes from --config (or the sizing for
    --network), else golden.DEFAULT."""
    where = "--config's or sized for --network" if network else "--config's"
    group.add_argument("--" + name.replace("_", "-"), type=int, metavar="N", dest=name,
                       help=f"{ENGINE_HELP[name]} (default: {where}, else "
                            f"{getattr(DEFAULT, name)})")


def add_engine_options(parser):
    group = parser.add_argument_group("engine configuration (defaults: golden.DEFAULT)")
    group.add_argument("--config", metavar="FILE.json",
                       help="engine configuration JSON (as written by deja verilog)")
    for name in _ENGINE_OPTIONS:
        add_engine_option(group, name)
    group.add_argument("--baseline", action="store_true",
                       help="the baseline engine "
                            "(reuse=False: no quantizer, index area, skip logic)")


def engine_from_args(args):
    base = {}
    if args.config:
        path = pathlib.Path(args.config)
        if not path.is_file():
            raise CLIError(f"--config {args.config}: no such file")
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as e:
            raise CLIError(f"--config {args.config}: cannot read it ({e.strerror})") from None
        except UnicodeDecodeError as e:
            raise CLIError(f"--config {args.config}: not UTF-8 text ({e.reason} at byte "
                           f"{e.start})") from None
        base = EngineConfig.from_json(text).to_dict()
    for name in _ENGINE_OPTIONS:
        value = getattr(args, name, None)    # a command may offer only some of them
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


def add_network_option(parser, help_text):
    from golden.network.builtin import NETWORK_NAMES
    parser.add_argument("--network", metavar="NAME|FILE.npz",
                        help=f"{help_text} (built-in: {', '.join(NETWORK_NAMES)}; or a .npz file "
                             f"written by EngineNetwork.save)")
    parser.add_argument("--band-rows", type=int, metavar="N",
                        help="block the network's conv layer (a network of one conv layer, e.g. "
                             "video-conv) in bands of N output rows, on an engine sized for one "
                             "band with the buffer port (paper IV-C)")


def network_from_args(args, frames=None):
    """``(EngineNetwork, frames or None)`` of ``--network``: a built-in name brings its workload's
    first ``frames`` frames, a .npz file none."""
    from golden.network.builtin import NETWORK_NAMES, load_network
    name = args.network
    if name.endswith(".npz"):
        if not pathlib.Path(name).is_file():
            raise CLIError(f"--network {name}: no such file")
    elif name not in NETWORK_NAMES:
        raise CLIError(f"--network {name}: unknown network: allowed {', '.join(NETWORK_NAMES)} "
                       f"or a .npz file")
    # a built-in LSTM layer's x_t is padded to whole words of the engine's lanes
    lanes = getattr(args, "lanes", None)
    return load_network(name, frames, **({"lanes": lanes} if lanes else {}))


def network_engine(args, network):
    """The engine for ``network`` (golden.blocking.network_engine); engine options given on
    the command line override its sizes."""
    from golden.blocking import network_engine as sized_engine
    if args.config:
        raise CLIError("--config: not allowed with --network (the engine is sized for the network)")
    params = {name: getattr(args, name) for name in _ENGINE_OPTIONS
              if getattr(args, name) is not None}
    if args.baseline:
        params["reuse"] = False
    band_rows = getattr(args, "band_rows", None)
    if band_rows is None:
        return sized_engine(network, **params)
    try:
        return sized_engine(network, band_rows, **params)
    except ConfigError as e:
        raise CLIError(f"--band-rows {band_rows}: {e}") from None


def engine_or_network(args):
    """``(engine, network or None)``: with ``--network``, the network and the engine sized for
    it (:func:`network_engine`); otherwise the engine of the engine options."""
    if args.network is None:
        if getattr(args, "band_rows", None) is not None:
            raise CLIError("--band-rows: needs --network (a network of one conv layer)")
        return engine_from_args(args), None
    network, _ = network_from_args(args)
    return network_engine(args, network), network


def load_inputs(path_text, config, inputs=None, what=""):
    """Frames from a .npy file: a (frames, N) integer array of ``act_width``-bit values; with
    ``inputs``, N must be ``inputs`` (``what`` names who needs them)."""
    import numpy as np
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise CLIError(f"--inputs {path_text}: no such file")
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise CLIError(f"--inputs {path_text}: not a .npy array ({e})") from None
    shape_ok = x.ndim == 2 and x.size > 0 and (inputs is None or x.shape[1] == inputs)
    if not shape_ok or not np.issubdtype(x.dtype, np.integer):
        expected = "(frames, inputs)" if inputs is None else f"(frames, {inputs})"
        raise CLIError(f"--inputs {path_text}: expected a non-empty {expected} integer array"
                       f"{what}, got shape {x.shape} of {x.dtype}")
    if x.min() < config.act_min or x.max() > config.act_max:
        raise CLIError(f"--inputs {path_text}: values must be act_width = {config.act_width} "
                       f"bit ({config.act_min}..{config.act_max}), "
                       f"found {int(x.min())}..{int(x.max())}")
    return x.astype(np.int64)


def check_output_dir(path_text, option="-o"):
    """Refuse an output directory deja cannot create or write in, before any work: an existing
    file, a folder under a file, a folder without write permission."""
    path = pathlib.Path(path_text)
    if path.exists() and not path.is_dir():
        raise CLIError(f"{option} {path_text}: exists and is not a directory")
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise CLIError(f"{option} {path_text}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {path_text}: cannot write in {existing}")
    return path


def write_files(directory, files, option="-o"):
    """Write ``{name: text or bytes}`` into ``directory`` all or nothing (no partial output on
    error); a directory that cannot be written is a :class:`CLIError` naming ``option``."""
    directory = check_output_dir(directory, option)
    staged = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
            with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
                f.write(text)
            staged.append((tmp, directory / name))
        for tmp, final in staged:
            os.replace(tmp, final)
    except OSError as e:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise CLIError(f"{option} {directory}: cannot write there ({e.strerror})") from None
    except BaseException:
        for tmp, _ in staged:
            os.unlink(tmp)
        raise
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
