"""How long `ca-incidents` takes before it does any work, against a bare `python -c pass`.

    python benchmarks/cli_startup.py [--rounds N]

Runs each command line N times (default 7), alternating with the baseline in the same run, and
prints the median wall time of each, the ratio to the baseline, and whether it is under the
0.25 s target (issue 15: `--help` and small commands start in under 0.25 s; lazy imports).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.25
SCRIPT = Path(sys.executable).with_name("ca-incidents")
CLI = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "analysis.cli"]
CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "ca-incidents --help": [*CLI, "--help"],
    "ca-incidents --version": [*CLI, "--version"],
    "ca-incidents keyreuse --help": [*CLI, "keyreuse", "--help"],
    "ca-incidents report lint --help": [*CLI, "report", "lint", "--help"],
    "ca-incidents keyreuse --frmat json (usage error)": [*CLI, "keyreuse", "--frmat", "json"],
    "ca-incidents keyreuse (no input: usage error)": [*CLI, "keyreuse"],
}


def _once(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=os.environ)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="runs per command line (default 7)")
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in CASES}
    for _ in range(args.rounds):
        for name, cmd in CASES.items():  # interleaved, so machine load hits every case alike
            times[name].append(_once(cmd))
    base = statistics.median(times["python -c pass (baseline)"])
    width = max(len(k) for k in CASES)
    print(f"{'command':<{width}}  median (s)  x baseline  target {TARGET} s")
    ok = True
    for name, ts in times.items():
        med = statistics.median(ts)
        verdict = "" if "baseline" in name else ("ok" if med < TARGET else "SLOW")
        ok &= verdict != "SLOW"
        print(f"{name:<{width}}  {med:10.3f}  {med / base:10.1f}  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
