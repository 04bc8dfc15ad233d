#!/usr/bin/env python3
"""`report parse` time against input size: linear, hostile inputs included, 50 MB in seconds?

    .venv/bin/python benchmarks/report_parse_speed.py [--base-lines 12500] [--steps 4] [--big-mb 50]

For each input shape, texts of N, 2N, 4N, ... lines (default 12,500 to 100,000) are parsed with
`parse_report` (what `report parse FILE` runs); then a mixed report text (timeline, GFM action-item
table, prose with counts and a flattened table, the unit repeated) of `--big-mb` MB and of its
halves (6.25, 12.5, 25, 50 MB by default). The baseline, timed in the same run on the same text,
is one linear pass a reader cannot avoid: splitting the text into lines and scanning each for
digits.

Printed per size: our wall-clock and CPU seconds, the baseline's CPU seconds, the ratio (our CPU
time over the baseline's), MB/s (of our CPU time), and the growth of our CPU time from the
previous size (about 2.0 when the size doubles and the time is linear; 4.0 would be quadratic).
CPU time is the figure to read on a shared machine: wall time grows with the load of other
processes (the load average is printed before and after). Figures are printed; nothing is asserted.

Shapes: realistic timeline rows, GFM action-item rows, flattened (run-together) rows, prose with
counts, the hostile ones that were quadratic before (issue 13): 50 KB runs of table separator
characters, lines of spaces or tabs in a Timeline, a date followed by a long run of pipes; tables
that reword every item (similar-text matching, bounded by the per-bug budget), and a bug of many
comments (`parse_comments`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.reports import parse_comments, parse_report  # noqa: E402


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


def _reworded_tables(n: int) -> str:
    """Tables of 20 items, each table rewording every item: every row needs similar-text matching
    until the bug's budget is used up (then exact and number matches only)."""
    out = []
    for t in range(max(1, n // 22)):
        out.append("| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n")
        out += [
            f"| Item {j} of the remediation plan, revision {t} | Prevent | 2025-01-01 | Ongoing |\n"
            for j in range(20)
        ]
    return "".join(out)


def _comments(n: int) -> list[dict]:
    """A bug of n/4 comments, each an update table of one row (parsed with parse_comments)."""
    return [
        {
            "count": i,
            "creation_time": f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}T10:00:00Z",
            "text": "| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
            f"| Fix step {i % 50} of the revocation tooling | Prevent | 2025-01-01 | Done |\n",
        }
        for i in range(max(1, n // 4))
    ]


SHAPES = {
    "timeline rows": _timeline,
    "GFM item rows": _gfm_items,
    "flattened rows": _flat_items,
    "prose with counts": _prose,
    "separator lines": _separators,
    "one separator run": _separator_line,
    "space/tab lines": _space_lines,
    "date then pipes": _date_pipes,
    "reworded tables": _reworded_tables,
    "bug comments": _comments,  # a list of comments: timed with parse_comments
}
_DIGITS = re.compile(r"\d+")


def _baseline(text: str) -> None:
    for line in text.split("\n"):
        _DIGITS.findall(line)


def _time(fn, text: str, repeat: int = 3) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `fn(text)`, the best of `repeat` runs."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn(text)
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return wall, cpu


def _mixed(megabytes: float) -> str:
    unit = _timeline(200) + _gfm_items(200) + _prose(200) + _flat_items(100)
    return unit * max(1, round(megabytes * 1_000_000 / len(unit)))


_HEADER = (
    f"{'shape':<20} {'lines':>8} {'MB':>7} {'wall s':>8} {'cpu s':>8} {'base s':>8} {'ratio':>7} "
    f"{'MB/s':>6} {'growth':>7}"
)


def _row(name: str, data: str | list[dict], prev: float | None) -> float:
    """Time `parse_report` (`parse_comments` for a list of comments) and the baseline on the same
    text, print one line; returns our CPU seconds."""
    if isinstance(data, list):
        text = "\n".join(c["text"] for c in data)
        ours = parse_comments
    else:
        text, ours = data, parse_report
    repeat = 1 if len(text) > 2_000_000 else 3
    wall, cpu = _time(ours, data, repeat)  # type: ignore[arg-type]
    _, base = _time(_baseline, text, repeat)
    mb = len(text.encode("utf-8")) / 1e6
    growth = f"{cpu / prev:7.2f}" if prev else f"{'':>7}"
    print(
        f"{name:<20} {text.count(chr(10)):>8} {mb:>7.2f} {wall:>8.2f} {cpu:>8.2f} {base:>8.3f} "
        f"{cpu / max(base, 1e-9):>7.1f} {mb / max(cpu, 1e-9):>6.2f} {growth}",
        flush=True,
    )
    return cpu


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--base-lines", type=int, default=12_500, help="lines of the smallest input (default 12500)"
    )
    ap.add_argument("--steps", type=int, default=4, help="sizes per shape, each twice the last (default 4)")
    ap.add_argument("--big-mb", type=float, default=50, help="largest mixed text in MB (default 50; 0: skip)")
    ap.add_argument(
        "--mixed-steps", type=int, default=4, help="mixed-text sizes, halving from --big-mb (default 4)"
    )
    ap.add_argument("--shapes", default="", help="comma-separated shape names to run (default: all)")
    args = ap.parse_args()

    print(f"load average before: {_load()}  ({os.cpu_count()} CPUs)")
    print(_HEADER)
    wanted = [s.strip() for s in args.shapes.split(",") if s.strip()]
    growths: list[float] = []
    for name, make in SHAPES.items():
        if wanted and name not in wanted:
            continue
        prev = None
        for k in range(args.steps):
            cpu = _row(name, make(args.base_lines * 2**k), prev)
            if prev and prev >= 0.1:  # below 0.1 s the timer's noise is the growth
                growths.append(cpu / prev)
            prev = cpu
    if args.big_mb > 0:
        prev = None
        for k in reversed(range(args.mixed_steps)):
            cpu = _row("mixed report text", _mixed(args.big_mb / 2**k), prev)
            if prev:
                growths.append(cpu / prev)
            prev = cpu
    if growths:
        print(
            f"\ngrowth of CPU time per doubling (from sizes of 0.1 s or more): median "
            f"{statistics.median(growths):.2f}, worst {max(growths):.2f} (2.0 = linear, 4.0 = quadratic)"
        )
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
