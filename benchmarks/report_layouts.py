#!/usr/bin/env python3
"""How well `report parse` reads real report layouts: figures over the hand-labelled fixtures.

    .venv/bin/python benchmarks/report_layouts.py [DIR ...] [--dir PATH ...] [--verbose]

Reads every fixture of tests/data/reports/layouts/ (or the folders given, positionally or with
`--dir`, e.g. a folder of real bug texts kept outside the repository) with its hand-written
`<name>.expected.json` and prints, over the whole set, the figures issue 12 asks for:

- timeline rows: recall and precision (a row is found when its `when` equals the expected one and
  its text starts with the expected text);
- UTC: of the expected rows that have a UTC time (spot checks), how many the parser found and
  converted exactly (a missed row counts as wrong);
- action items: items found with their final status (and their kind);
- report kind: texts whose kind is the expected one;
- counts: recall and precision of (measure, value) pairs;
- closure: closure summaries found with the right attestation, and false positives (a closure
  reported where there is none, or an attestation where the text has none); draft attestations.

The test suite holds each fixture to its expectation exactly (tests/test_report_layouts.py); this
script gives the same comparison as figures, so a layout that regresses shows as a number.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.drafting import draft_closure_summary  # noqa: E402
from analysis.reports import load_report  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "reports" / "layouts"


def _fixtures(folders: list[Path]) -> list[tuple[Path, dict]]:
    out = []
    for folder in folders:
        for p in sorted(folder.iterdir()):
            if p.name.endswith(".expected.json") or p.name.startswith("."):
                continue
            exp = folder / (p.name.rsplit(".", 1)[0] + ".expected.json")
            if exp.exists():
                out.append((p, json.loads(exp.read_text(encoding="utf-8"))))
    return out


def measure(fixtures: list[tuple[Path, dict]], verbose: bool = False) -> dict:
    c: Counter = Counter()
    for path, exp in fixtures:
        got = load_report(path)
        # timeline: greedy one-to-one matching on `when` and the text's start
        rows = list(got["timeline"])
        c["tl_expected"] += len(exp["timeline"])
        c["tl_found"] += len(rows)
        unused = list(range(len(rows)))
        for when, when_utc, text in exp["timeline"]:
            # every expected row with a UTC time is a spot check; a missed row counts as wrong
            c["utc_expected"] += when_utc is not None
            hit = next(
                (i for i in unused if rows[i]["when"] == when and rows[i]["text"].startswith(text)), None
            )
            if hit is None:
                if verbose:
                    print(f"  {path.name}: timeline row missed: {when} {text!r}")
                continue
            unused.remove(hit)
            c["tl_match"] += 1
            if when_utc is not None:
                c["utc_right"] += rows[hit]["when_utc"] == when_utc
                if verbose and rows[hit]["when_utc"] != when_utc:
                    print(f"  {path.name}: UTC {rows[hit]['when_utc']}, expected {when_utc}")
        if verbose:
            for i in unused:
                print(f"  {path.name}: timeline row not expected: {rows[i]['when']} {rows[i]['text'][:60]!r}")
        # action items, in order
        items = got["action_items"]
        c["ai_expected"] += len(exp["action_items"])
        c["ai_found"] += len(items)
        for a, (item, status, kind, _history) in zip(items, exp["action_items"], strict=False):
            if a["item"].startswith(item):
                c["ai_status"] += a["status"] == status
                c["ai_kind"] += a["kind"] == kind
            if verbose and (not a["item"].startswith(item) or a["status"] != status):
                print(f"  {path.name}: item {a['item'][:50]!r} {a['status']!r}, expected {item!r} {status!r}")
        # kind
        c["kind_total"] += 1
        c["kind_right"] += got["kind"] == exp["kind"]
        if verbose and got["kind"] != exp["kind"]:
            print(f"  {path.name}: kind {got['kind']!r}, expected {exp['kind']!r}")
        # counts: multiset of (measure, value)
        want = Counter((m, v) for m, v in exp["counts"])
        have = Counter((x["measure"], x["value"]) for x in got["counts"])
        c["counts_expected"] += sum(want.values())
        c["counts_found"] += sum(have.values())
        c["counts_match"] += sum((want & have).values())
        if verbose:
            for m, v in (want - have).elements():
                print(f"  {path.name}: count missed: {m} {v}")
            for m, v in (have - want).elements():
                print(f"  {path.name}: count not expected: {m} {v}")
        # closure and attestation
        cs = got["closure_summary"]
        if exp["closure"] is None:
            c["closure_false_positive"] += cs is not None
        else:
            c["closure_expected"] += 1
            c["closure_right"] += cs is not None and cs["attestation"] == exp["closure"]["attestation"]
        if "draft_attestation" in exp:
            c["draft_expected"] += 1
            c["draft_right"] += draft_closure_summary(got)["attestation"] is exp["draft_attestation"]
    return dict(c)


def _ratio(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.3f}" if b else f"{a}/0"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "folders", nargs="*", type=Path, help="fixture folders (default: tests/data/reports/layouts)"
    )
    ap.add_argument(
        "--dir",
        dest="dirs",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="a folder of texts with <name>.expected.json beside each (repeatable; any folder, "
        "e.g. real bug texts kept outside the repository)",
    )
    ap.add_argument("--verbose", action="store_true", help="name every miss")
    args = ap.parse_args()
    folders = [*args.folders, *args.dirs]
    for folder in folders:
        if not folder.is_dir():
            ap.error(f"{folder}: not a folder")
    fixtures = _fixtures(folders or [DEFAULT])
    c = measure(fixtures, args.verbose)
    print(f"fixtures: {len(fixtures)}")
    print(
        f"timeline rows   recall {_ratio(c.get('tl_match', 0), c.get('tl_expected', 0))}, "
        f"precision {_ratio(c.get('tl_match', 0), c.get('tl_found', 0))}"
    )
    print(f"UTC right       {_ratio(c.get('utc_right', 0), c.get('utc_expected', 0))}")
    print(
        f"action items    {c.get('ai_found', 0)} found of {c.get('ai_expected', 0)}; final status right "
        f"{_ratio(c.get('ai_status', 0), c.get('ai_expected', 0))}; kind right "
        f"{_ratio(c.get('ai_kind', 0), c.get('ai_expected', 0))}"
    )
    print(f"report kind     {_ratio(c.get('kind_right', 0), c.get('kind_total', 0))}")
    print(
        f"counts          recall {_ratio(c.get('counts_match', 0), c.get('counts_expected', 0))}, "
        f"precision {_ratio(c.get('counts_match', 0), c.get('counts_found', 0))}"
    )
    print(
        f"closure         right {_ratio(c.get('closure_right', 0), c.get('closure_expected', 0))}, "
        f"false positives {c.get('closure_false_positive', 0)}; draft attestation right "
        f"{_ratio(c.get('draft_right', 0), c.get('draft_expected', 0))}"
    )


if __name__ == "__main__":
    main()
