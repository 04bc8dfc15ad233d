"""The ca-incidents command line: thin; parses arguments, calls the library, formats output.

Each command group lives in analysis/commands/<name>.py with `add_parser(subparsers)`; the
parser sets `func`, which returns the exit status (design.md, Command line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .commands.common import mark_repeatable
from .errors import InputError, UpstreamError, UsageError

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_UPSTREAM = 0, 1, 2, 3

# Order is the order of `--help`.
COMMAND_MODULES = ("keyreuse", "fetch", "report", "incidents", "dashboard")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="ca-incidents",
        description="WebPKI CA compliance incidents: key reuse, reports, closure summaries, corpus.",
    )
    parser.add_argument("--version", action="version", version=f"ca-incidents {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"analysis.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"analysis.commands.{name}":
                continue  # command group not built yet
            raise
        module.add_parser(sub)
    mark_repeatable(parser)
    for leaf in _leaves(parser):
        leaf.set_defaults(_leaf_parser=leaf)
    return parser


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers that run a command (no subcommands below them)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for a in subs for p in dict.fromkeys(a.choices.values()) for leaf in _leaves(p)]


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; an unknown option is reported with the usage of the command it was given to
    (`keyreuse --frmat json` shows keyreuse's usage and suggests --format), not the top level's."""
    import difflib

    args, extras = parser.parse_known_args(argv)
    if extras:
        leaf = getattr(args, "_leaf_parser", parser)
        known = [s for a in leaf._actions for s in a.option_strings]
        hints = []
        for extra in extras:
            close = (
                difflib.get_close_matches(extra.split("=", 1)[0], known, n=1) if extra.startswith("-") else []
            )
            if close:
                hints.append(f"{extra} (did you mean {close[0]}?)")
            else:
                hints.append(extra)
        leaf.error("unrecognized arguments: " + " ".join(hints))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"ca-incidents: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"ca-incidents: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UpstreamError as exc:
        print(f"ca-incidents: upstream error: {exc}", file=sys.stderr)
        return EXIT_UPSTREAM
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
