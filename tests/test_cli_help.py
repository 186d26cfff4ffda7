"""The command line's help and defaults: plain text, every option explained with its default,
and the quick synthesis flows unless the slow ones are asked for."""

import argparse

from deja.cli import _HelpFormatter, build_parser
from deja.cmd_synth import selected_flows


def options(parser, path=("deja",)):
    """``(command path, option action)`` of every option of every subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from options(sub, path + (name,))
        elif action.option_strings and action.dest != "help":
            yield " ".join(path), action


def test_help_is_plain_text():
    assert "``" not in build_parser().format_help()


def test_every_option_has_help_with_its_default():
    formatter = _HelpFormatter("deja")
    missing = [(path, a.option_strings[0]) for path, a in options(build_parser())
               if not a.help or (a.default not in (None, False) and
                                 "default" not in formatter._get_help_string(a))]
    assert not missing
    parser = build_parser()
    synth = parser._subparsers._group_actions[0].choices["synth"]
    assert "(default: quick)" in synth.format_help()


def test_synth_runs_the_quick_flows_unless_asked():
    parser = build_parser()
    args = parser.parse_args(["synth"])
    assert selected_flows(args.flow, None) == ("generic", "memories")
    assert selected_flows(args.flow, "cells.lib") == ("generic", "asic", "memories")
    assert selected_flows("all", None) == ("generic", "ecp5", "memories")
    assert selected_flows("ecp5", None) == ("ecp5",)
    assert parser.parse_args(["sweep", "synth"]).flow == "generic"
