"""deja: generate, verify and evaluate the reuse accelerator.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args)``;
``run`` returns a JSON-able dict (printed with ``--json``) and prints its own text otherwise.
"""

import argparse
import json
import sys

from golden.config import ConfigError
from golden.evaluation.workloads import CacheError, WorkloadUnavailable

from . import cmd_bench, cmd_demo, cmd_eval, cmd_sim, cmd_sweep, cmd_synth, cmd_verilog
from .common import CLIError

COMMANDS = [cmd_verilog, cmd_demo, cmd_bench, cmd_eval, cmd_sim, cmd_synth, cmd_sweep]


class _HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless it has none or states it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (not action.option_strings or action.default in (None, False, argparse.SUPPRESS)
                or "default" in text):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        # one line, exit code 2 (argparse's default adds a usage block)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="deja", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                metavar="COMMAND")
    for module in COMMANDS:
        p = module.add_parser(sub)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(run=module.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
    except (CLIError, ConfigError, CacheError, WorkloadUnavailable) as e:
        print(f"deja {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    return 1 if isinstance(result, dict) and result.get("failed") else 0
