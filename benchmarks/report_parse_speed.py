#!/usr/bin/env python3
"""`report parse` time against input size: does it grow linearly, hostile inputs included?

    .venv/bin/python benchmarks/report_parse_speed.py [--base-lines 5000] [--steps 4] [--big-mb 50]

For each input shape, texts of N, 2N, 4N, ... lines are parsed with `parse_report` (what
`report parse FILE` runs). The baseline, timed in the same run on the same text, is one linear
pass a reader cannot avoid: splitting the text into lines and scanning each for digits. Printed per
size: our time, the baseline's, their ratio, and the growth of our time from the previous size
(about 2.0 when the size doubles and the time is linear; 4.0 would be quadratic). Then one
`--big-mb` MB text of mixed report lines. Figures are printed; nothing is asserted.

Shapes: realistic timeline rows, GFM action-item rows, flattened (run-together) rows, prose with
counts, and the hostile ones that were quadratic before (issue 13): 50 KB runs of table separator
characters, lines of spaces or tabs in a Timeline, a date followed by a long run of pipes.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.reports import parse_report  # noqa: E402


def _timeline(n: int) -> str:
    rows = "".join(
        f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d} event number {i}\n"
        for i in range(n)
    )
    return "## Timeline\n\nAll times are UTC.\n\n" + rows


def _gfm_items(n: int) -> str:
    head = "## Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
    return head + "".join(
        f"| Action number {i} for the CA | Prevent | 2025-01-{i % 28 + 1:02d} | Ongoing |\n" for i in range(n)
    )


def _flat_items(n: int) -> str:
    head = "Action Items\nAction Item Kind Due Date\n"
    return head + "".join(
        f"Change item {i} of the revocation tooling. Done 2024-11-{i % 28 + 1:02d}\n" for i in range(n)
    )


def _prose(n: int) -> str:
    return "## Impact\n\n" + "".join(
        f"We found {i} certificates on {i % 9 + 1} keys and 3 of them expired. "
        + ("\n" if i % 5 == 4 else "")
        for i in range(n)
    )


def _separators(n: int) -> str:
    return "## Action Items\n\n| Action Item | Kind | Due Date | Status |\n" + "|---|---|---|---|\n" * n


def _separator_line(n: int) -> str:
    return "## Timeline\n\n" + "|-" * (10 * n) + "x\n"


def _space_lines(n: int) -> str:
    return "## Timeline\n\nAll times are UTC.\n" + (" " * 200 + "x\n" + "\t" * 200 + "y\n") * (n // 2)


def _date_pipes(n: int) -> str:
    return "## Timeline\n\n" + "2024-01-01" + " |" * (10 * n) + " x\n"


SHAPES = {
    "timeline rows": _timeline,
    "GFM item rows": _gfm_items,
    "flattened rows": _flat_items,
    "prose with counts": _prose,
    "separator lines": _separators,
    "one separator run": _separator_line,
    "space/tab lines": _space_lines,
    "date then pipes": _date_pipes,
}
_DIGITS = re.compile(r"\d+")


def _baseline(text: str) -> None:
    for line in text.split("\n"):
        _DIGITS.findall(line)


def _time(fn, text: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-lines", type=int, default=5000, help="lines of the smallest input (default 5000)")
    ap.add_argument("--steps", type=int, default=4, help="doublings of the size (default 4)")
    ap.add_argument("--big-mb", type=float, default=50, help="size of the last mixed text in MB (0: skip)")
    args = ap.parse_args()

    print(
        f"{'shape':<20} {'lines':>8} {'bytes':>10} {'ours s':>9} {'baseline s':>11} {'ratio':>7} {'growth':>7}"
    )
    worst = 0.0
    for name, make in SHAPES.items():
        prev = None
        for k in range(args.steps):
            n = args.base_lines * 2**k
            text = make(n)
            ours = _time(parse_report, text, 1 if len(text) > 5_000_000 else 3)
            base = _time(_baseline, text)
            growth = ours / prev if prev else float("nan")
            if prev:
                worst = max(worst, growth)
            prev = ours
            print(
                f"{name:<20} {n:>8} {len(text):>10} {ours:>9.3f} {base:>11.4f} {ours / base:>7.1f} {growth:>7.2f}",
                flush=True,
            )
    print(f"\nworst growth per doubling: {worst:.2f} (2.0 = linear, 4.0 = quadratic)")

    if args.big_mb > 0:
        unit = _timeline(200) + _gfm_items(200) + _prose(200) + _flat_items(100)
        text = unit * max(1, int(args.big_mb * 1_000_000 / len(unit)))
        t0 = time.perf_counter()
        parse_report(text)
        ours = time.perf_counter() - t0
        base = _time(_baseline, text, 1)
        print(
            f"{len(text) / 1e6:.1f} MB mixed report text, {text.count(chr(10))} lines: "
            f"parse {ours:.1f} s, baseline {base:.2f} s, ratio {ours / base:.0f}"
        )


if __name__ == "__main__":
    main()
