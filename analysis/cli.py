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

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_UPSTREAM, EXIT_INTERNAL = 0, 1, 2, 3, 4

# Order is the order of `--help`.
COMMAND_MODULES = ("keyreuse", "fetch", "report", "incidents", "sweep", "ingest", "dashboard")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="ca-incidents",
        description="WebPKI CA compliance incidents: key reuse, reports, closure summaries, corpus.",
    )
    parser.add_argument("--version", action="version", version=f"ca-incidents {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print the traceback of an unexpected internal error (exit status 4); any position",
    )
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
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # honoured wherever it stands, before or after the command
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        return _dispatch(args)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, its own status
        return _internal_error(exc, args, debug)


def _dispatch(args: argparse.Namespace) -> int:
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


# Options that name a command's inputs, for the last-resort error line.
_INPUT_OPTIONS = (
    "file",
    "certs",
    "crl",
    "crl_list",
    "revocations",
    "compromised",
    "report",
    "bugs",
    "comments",
    "ids",
    "bug",
    "crtsh_spki",
    "out",
)


def _internal_error(exc: BaseException, args: argparse.Namespace, debug: bool) -> int:
    """An exception no command expected: one line naming the command and its inputs, exit 4; the
    traceback only with --debug."""
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)
    command = " ".join(
        str(v) for k, v in sorted(vars(args).items()) if k == "command" or k.endswith("_command")
    )
    inputs = []
    for name in _INPUT_OPTIONS:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value] if value not in (None, False, "") else []
        if values:
            shown = ", ".join(str(v) for v in values)
            inputs.append(shown if name in ("file", "ids") else f"--{name.replace('_', '-')} {shown}")
    on = f" on {'; '.join(inputs)}" if inputs else ""
    message = str(exc).splitlines()[0][:300] if str(exc) else ""
    hint = "" if debug else " (run again with --debug for the traceback)"
    print(
        f"ca-incidents: internal error in `{command or 'ca-incidents'}`{on}: "
        f"{type(exc).__name__}{': ' + message if message else ''}{hint}",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
