"""deja verilog: write the engine's Verilog and its configuration JSON."""

from hw.verilog import engine_verilog

from .common import add_engine_options, engine_from_args, write_files


def add_parser(sub):
    p = sub.add_parser("verilog", help="generate Verilog for an engine configuration")
    add_engine_options(p)
    p.add_argument("-o", "--output", metavar="DIR", required=True, help="output directory")
    p.add_argument("--name", default="fc_engine", help="top module name (default fc_engine)")
    return p


def run(args):
    config = engine_from_args(args)
    text = engine_verilog(config, name=args.name)
    paths = write_files(args.output, {f"{args.name}.v": text, "config.json": config.to_json() + "\n"})
    result = {"verilog": paths[0], "config": paths[1], "top": args.name,
              "engine": config.to_dict(), "lines": text.count("\n")}
    if not args.json:
        print(f"wrote {paths[0]} ({result['lines']} lines, top module {args.name}) and {paths[1]}")
    return result
