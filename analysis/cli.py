"""The ca-incidents command line: thin; parses arguments, calls the library, formats output.

Each command group lives in analysis/commands/<name>.py with `add_parser(subparsers)`; the
parser sets `func`, which returns the exit status (design.md, Command line).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
