"""Real-report layouts: every template era x text form x layout, one fixture each.

The fixtures in tests/data/reports/layouts/ were written for these tests, in our own words, after
reading real Bugzilla bug pages; tests/data/README.md says which real layout each one reproduces.
Each `<name>.expected.json` was written by hand from reading the fixture (times converted to UTC by
hand), before the parser ran. benchmarks/report_layouts.py measures the same fixtures as figures
(recall, precision); this test holds every fixture to its expectation exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.drafting import draft_closure_summary, lint_report
from analysis.reports import load_report

LAYOUTS = Path(__file__).parent / "data" / "reports" / "layouts"
FIXTURES = sorted(p for p in LAYOUTS.iterdir() if not p.name.endswith(".expected.json"))


def _expected(path: Path) -> dict:
    return json.loads((LAYOUTS / (path.name.rsplit(".", 1)[0] + ".expected.json")).read_text())


def test_there_are_at_least_thirty_layouts_each_with_an_expectation():
    assert len(FIXTURES) >= 30
    for path in FIXTURES:
        assert _expected(path)["reproduces"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_kind_and_era(path):
    got, exp = load_report(path), _expected(path)
    assert (got["kind"], got["era"]) == (exp["kind"], exp["era"])
    for label, value in exp.get("fields", {}).items():
        assert got["fields"][label] == value


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_timeline_rows_with_their_utc(path):
    got, exp = load_report(path), _expected(path)
    rows = [[r["when"], r["when_utc"], r["text"]] for r in got["timeline"]]
    assert [r[:2] for r in rows] == [e[:2] for e in exp["timeline"]]
    for r, e in zip(rows, exp["timeline"], strict=True):
        assert r[2].startswith(e[2]), (r, e)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_action_items_with_their_final_status(path):
    got, exp = load_report(path), _expected(path)
    assert len(got["action_items"]) == len(exp["action_items"]), [a["item"] for a in got["action_items"]]
    for a, (item, status, kind, history) in zip(got["action_items"], exp["action_items"], strict=True):
        assert a["item"].startswith(item), (a["item"], item)
        assert (a["status"], a["kind"]) == (status, kind), a["item"]
        assert [h["status"] for h in a["history"]] == history, a["item"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_counts_with_their_measure(path):
    got, exp = load_report(path), _expected(path)
    assert sorted((c["measure"], c["value"]) for c in got["counts"]) == sorted(
        (m, v) for m, v in exp["counts"]
    )


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_closure_attestation_and_lint(path):
    got, exp = load_report(path), _expected(path)
    cs = got["closure_summary"]
    assert (None if cs is None else {"attestation": cs["attestation"]}) == exp["closure"]
    if "draft_attestation" in exp:
        assert draft_closure_summary(got)["attestation"] is exp["draft_attestation"]
    codes = {f["code"] for f in lint_report(got)}
    assert not codes & set(exp.get("lint_absent", [])), codes
    assert codes >= set(exp.get("lint_present", [])), codes
