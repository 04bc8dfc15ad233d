"""Options and output helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable

from ..errors import Problem


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """--crtsh-url, --bugzilla-url, --cache-dir, --offline, --refresh (design.md, Command line)."""
    g = parser.add_argument_group("sources")
    g.add_argument("--crtsh-url", default=os.environ.get("CRTSH_URL"), help="crt.sh base URL (env CRTSH_URL)")
    g.add_argument(
        "--bugzilla-url", default=os.environ.get("BUGZILLA_URL"), help="Bugzilla base URL (env BUGZILLA_URL)"
    )
    g.add_argument(
        "--cache-dir",
        default=os.environ.get("CA_INCIDENTS_CACHE"),
        help="on-disk cache folder (env CA_INCIDENTS_CACHE; default under the user cache directory)",
    )
    g.add_argument("--offline", action="store_true", help="answer from the cache only")
    g.add_argument("--refresh", action="store_true", help="ignore the cache")


def report_problems(problems: Iterable[Problem]) -> None:
    """Every skipped input on stderr, one line each."""
    for p in problems:
        print(f"ca-incidents: skipped {p}", file=sys.stderr)


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
