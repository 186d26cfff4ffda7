"""deja verilog: write the engine's Verilog and its configuration JSON (and, with --network,
the engine sized for a network of conv, FC and LSTM layers, and the network as network.npz)."""

import pathlib
import re
import tempfile

from hw.verilog import TOP, engine_verilog

from .common import (
    CLIError,
    add_engine_options,
    add_network_option,
    check_output_dir,
    engine_or_network,
    write_files,
)

# a plain Verilog identifier, which is also a safe file name (NAME.v inside -o)
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME = 128


def add_parser(sub):
    p = sub.add_parser("verilog", help="generate Verilog for an engine configuration")
    add_engine_options(p)
    add_network_option(p, "size the engine for this network and write it as network.npz")
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="output directory")
    p.add_argument("--name", default=TOP, help=f"top module name (default {TOP})")
    return p


def _npz_bytes(network):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "network.npz"
        network.save(path)
        return path.read_bytes()


def check_name(name):
    if not MODULE_NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise CLIError(f"--name {name!r}: a module name is a letter or _ followed by letters, "
                       f"digits and _ (at most {MAX_NAME} characters)")
    return name


def run(args):
    check_name(args.name)
    check_output_dir(args.output)
    config, network = engine_or_network(args)
    text = engine_verilog(config, name=args.name)
    files = {f"{args.name}.v": text, "config.json": config.to_json() + "\n"}
    if network is not None:
        files["network.npz"] = _npz_bytes(network)
    paths = write_files(args.output, files)
    result = {"verilog": paths[0], "config": paths[1], "top": args.name,
              "engine": config.to_dict(), "lines": text.count("\n")}
    if network is not None:
        result.update(network=paths[2], network_name=network.name,
                      layers=[layer.to_dict() for layer, _, _ in network.layers])
    if not args.json:
        print(f"wrote {paths[0]} ({result['lines']} lines, top module {args.name}) and {paths[1]}")
        if network is not None:
            print(f"wrote {paths[2]} (network {network.name}, {len(network.layers)} layers: "
                  f"{', '.join(l.kind.upper() for l, _, _ in network.layers)}, "
                  f"engine max_layers = {config.max_layers}, lanes = {config.lanes})")
    return result
