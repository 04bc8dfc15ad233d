"""`ca-incidents dashboard`: start the Streamlit app (the same as `make run`)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="open the Streamlit dashboard on the demo incident",
        description="Start the Streamlit dashboard (the same as `make run`): the demo incident first; "
        "data sets of your own on its Data page. Stop it with Ctrl-C.",
    )
    p.add_argument(
        "--port", type=int, default=None, metavar="N", help="port to serve on (default: Streamlit's 8501)"
    )
    p.set_defaults(func=run)


def command(port: int | None = None) -> list[str]:
    """The streamlit command line this runs (exposed for tests)."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP)]
    if port:
        cmd += ["--server.port", str(port)]
    return cmd


def run(args: argparse.Namespace) -> int:
    if not APP.exists():
        print(
            f"ca-incidents: error: {APP} is missing; the dashboard ships with the source tree",
            file=sys.stderr,
        )
        return 2
    try:
        return subprocess.call(command(args.port))
    except KeyboardInterrupt:
        return 0
