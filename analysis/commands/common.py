"""Options and output helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable

from ..errors import Problem

FORMATS = {
    "table": "aligned text for people",
    "json": "one JSON object",
    "csv": "CSV with a header row",
    "markdown": "markdown",
}


def add_format(
    parser: argparse.ArgumentParser, choices: tuple[str, ...], what: dict[str, str] | None = None
) -> None:
    """--format with each choice described; the first choice is the default."""
    words = {**FORMATS, **(what or {})}
    parser.add_argument(
        "--format",
        choices=choices,
        default=choices[0],
        help="output: " + "; ".join(f"{c} = {words[c]}" for c in choices) + f" (default: {choices[0]})",
    )


def add_shared_options(
    parser: argparse.ArgumentParser, *, crtsh: bool = False, bugzilla: bool = False
) -> None:
    """The source options a command uses: --crtsh-url and/or --bugzilla-url, then --cache-dir,
    --offline, --refresh (design.md, Command line). A command lists only the upstreams it talks to."""
    g = parser.add_argument_group("sources")
    if crtsh:
        g.add_argument(
            "--crtsh-url",
            default=os.environ.get("CRTSH_URL"),
            metavar="URL",
            help="crt.sh base URL (env CRTSH_URL)",
        )
    if bugzilla:
        g.add_argument(
            "--bugzilla-url",
            default=os.environ.get("BUGZILLA_URL"),
            metavar="URL",
            help="Bugzilla base URL (env BUGZILLA_URL)",
        )
    g.add_argument(
        "--cache-dir",
        default=os.environ.get("CA_INCIDENTS_CACHE"),
        metavar="DIR",
        help="on-disk cache folder (env CA_INCIDENTS_CACHE; default under the user cache directory)",
    )
    g.add_argument(
        "--deadline",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="most seconds one download may take, retries included (default 45; env CA_INCIDENTS_DEADLINE)",
    )
    g.add_argument("--offline", action="store_true", help="answer from the cache only")
    g.add_argument("--refresh", action="store_true", help="ignore the cache")
    g.add_argument(
        "--allow-private-hosts",
        action="store_true",
        help="let URLs taken from data (CRL Distribution Points) and redirects reach loopback, "
        "private and link-local addresses (off by default)",
    )


def mark_repeatable(parser: argparse.ArgumentParser) -> None:
    """Say "(repeatable)" in the help of every option that may be given more than once."""
    for action in parser._actions:
        if isinstance(action, (argparse._AppendAction, argparse._ExtendAction)) and action.help:
            if "repeatable" not in action.help:
                action.help += " (repeatable)"
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                mark_repeatable(sub)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def report_problems(problems: Iterable[Problem]) -> None:
    """Every skipped input on stderr, one line each."""
    for p in problems:
        print(f"ca-incidents: skipped {p}", file=sys.stderr)


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def session_from_args(args: argparse.Namespace, **overrides):
    """The HTTP Session the shared options ask for (--crtsh-url, --bugzilla-url, --cache-dir,
    --deadline, --offline, --refresh, --allow-private-hosts); the pwnedkeys base URL comes from env
    PWNEDKEYS_URL, a deadline from env CA_INCIDENTS_DEADLINE when --deadline is not given."""
    from ..errors import UsageError
    from ..sources.http import Session

    offline = bool(getattr(args, "offline", False))
    refresh = bool(getattr(args, "refresh", False))
    if offline and refresh:
        raise UsageError("--offline and --refresh exclude each other")
    urls = {
        "crtsh": getattr(args, "crtsh_url", None) or os.environ.get("CRTSH_URL"),
        "bugzilla": getattr(args, "bugzilla_url", None) or os.environ.get("BUGZILLA_URL"),
        "pwnedkeys": getattr(args, "pwnedkeys_url", None) or os.environ.get("PWNEDKEYS_URL"),
    }
    deadline = getattr(args, "deadline", None)
    if deadline is None and os.environ.get("CA_INCIDENTS_DEADLINE"):
        try:
            deadline = float(os.environ["CA_INCIDENTS_DEADLINE"])
        except ValueError:
            deadline = None
        if deadline is not None and not deadline > 0:
            deadline = None
    kwargs = dict(
        deadline=deadline,
        cache_dir=getattr(args, "cache_dir", None) or os.environ.get("CA_INCIDENTS_CACHE"),
        offline=offline,
        refresh=refresh,
        urls={k: v for k, v in urls.items() if v},
        allow_private=bool(getattr(args, "allow_private_hosts", False)),
    )
    kwargs.update(overrides)
    return Session(**kwargs)
