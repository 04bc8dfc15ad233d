"""Bounds on the report parser's work: the per-bug budget of similar-text matching of action
items, and `load_report` refusing hostile files itself (FIFO, folder, too big, JSON too deep).

Expected values are worked out by hand from the texts below: line numbers by counting lines,
matches by the rules in analysis/reports/action_items.py (same text key = score 1.0; one key a
prefix of the other, both at least 20 characters = 0.95).
"""

from __future__ import annotations

import os
import threading

import pytest

from analysis.errors import InputError
from analysis.reports import action_items, comments, load_report, normalise_kind, parse_comments, parse_report

HEAD = ["| Action Item | Kind | Due Date | Status |", "|---|---|---|---|"]
REVOKE = "Revoke all certificates issued on the compromised keys"
BLOCK = "Add a blocklist check for compromised keys at issuance"
ALERT = "Alert the on-call team when a key is reported"
FIRST = [
    f"| {REVOKE} | Mitigate | 2024-11-01 | Ongoing |",
    f"| {BLOCK} | Prevent | 2024-12-01 | Ongoing |",
    f"| {ALERT} | Detect | 2025-01-15 | Ongoing |",
]
# Each row names an item with words added at the end: no same text, so each needs the
# similar-text pass (3 earlier items compared, 9 in all), and each is a prefix match (0.95).
SECOND = [
    f"| {REVOKE} within 24 hours | Mitigate | 2024-11-01 | Complete |",
    f"| {BLOCK} and renewal | Prevent | 2024-12-01 | Ongoing |",
    f"| {ALERT} by anyone | Detect | 2025-01-15 | Ongoing |",
]
# Line 1 needs another similar-text pass (3 more comparisons: 12 > a budget of 10); line 2 is
# ALERT's first text again, an exact match that needs no budget.
THIRD = [
    f"| {REVOKE} within 24 hours, and notify subscribers | Mitigate | 2024-11-01 | Complete |",
    f"| {ALERT} | Detect | 2025-01-15 | Complete |",
]
LINES = HEAD + FIRST + [""] + HEAD + SECOND + [""] + HEAD + THIRD
# lines: 1-2 header, 3-5 FIRST, 6 blank, 7-8 header, 9-11 SECOND, 12 blank, 13-14 header, 15-16 THIRD
TEXT = "\n".join(LINES) + "\n"


def _summary(items: list[dict]) -> list[tuple]:
    return [(i["item"], i["status"], [h["status"] for h in i["history"]]) for i in items]


def test_fuzzy_budget_reached_leaves_exact_matches_and_says_so_once(monkeypatch):
    monkeypatch.setattr(action_items, "_FUZZY_COMPARISONS", 10)
    report = parse_report(TEXT)
    assert _summary(report["action_items"]) == [
        (f"{REVOKE} within 24 hours", "Complete", ["Ongoing", "Complete"]),
        (f"{BLOCK} and renewal", "Ongoing", ["Ongoing", "Ongoing"]),
        (f"{ALERT} by anyone", "Complete", ["Ongoing", "Ongoing", "Complete"]),
        # past the budget this reworded row is not matched by similarity: a new item
        (f"{REVOKE} within 24 hours, and notify subscribers", "Complete", ["Complete"]),
    ]
    revoke, _block, alert, _new = report["action_items"]
    assert revoke["history"][1]["matched"] == {"by": "text", "score": 0.95, "item": REVOKE}
    # the exact match after the budget ran out: the item's text at that time, score 1.0
    assert alert["history"][2]["matched"] == {"by": "text", "score": 1.0, "item": f"{ALERT} by anyone"}
    budget = [p for p in report["problems"] if p["code"] == "action_item.match_budget"]
    assert len(budget) == 1
    assert budget[0]["line"] == 15
    assert "9 of 10 comparisons" in budget[0]["message"]


def test_within_the_budget_the_same_rows_are_matched_by_similarity():
    report = parse_report(TEXT)  # the real budget (100,000 comparisons) is far away
    assert _summary(report["action_items"]) == [
        (
            f"{REVOKE} within 24 hours, and notify subscribers",
            "Complete",
            ["Ongoing", "Complete", "Complete"],
        ),
        (f"{BLOCK} and renewal", "Ongoing", ["Ongoing", "Ongoing"]),
        (f"{ALERT} by anyone", "Complete", ["Ongoing", "Ongoing", "Complete"]),
    ]
    assert report["action_items"][0]["history"][2]["matched"] == {
        "by": "text",
        "score": 0.95,
        "item": f"{REVOKE} within 24 hours",
    }
    assert not [p for p in report["problems"] if p["code"] == "action_item.match_budget"]


def test_the_budget_is_per_bug_across_comments_and_names_the_comment(monkeypatch):
    monkeypatch.setattr(action_items, "_FUZZY_COMPARISONS", 10)
    first = "\n".join(HEAD + FIRST)
    second = "\n".join(HEAD + SECOND)
    third = "\n".join(HEAD + THIRD)
    bug = [
        {"count": 0, "text": first, "creation_time": "2024-10-01T10:00:00Z"},
        {"count": 4, "text": second, "creation_time": "2024-11-02T10:00:00Z"},
        {"count": 7, "text": third, "creation_time": "2024-12-03T10:00:00Z"},
    ]
    report = parse_comments(bug)
    assert [i["item"] for i in report["action_items"]] == [
        f"{REVOKE} within 24 hours",
        f"{BLOCK} and renewal",
        f"{ALERT} by anyone",
        f"{REVOKE} within 24 hours, and notify subscribers",
    ]
    budget = [p for p in report["problems"] if p["code"] == "action_item.match_budget"]
    # comment 7's text: header on lines 1-2, the reworded row on line 3
    assert [(p["comment"], p["line"]) for p in budget] == [(7, 3)]


# --- load_report: hostile files refused by the library function itself -------------------------


def test_load_report_refuses_a_fifo_without_blocking(tmp_path):
    pipe = tmp_path / "report.md"
    os.mkfifo(pipe)
    outcome: list[BaseException | dict] = []

    def run() -> None:
        try:
            outcome.append(load_report(pipe))
        except BaseException as exc:  # noqa: BLE001 - the test inspects what was raised
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)  # opening a FIFO for reading would block here forever
    assert not worker.is_alive()
    (err,) = outcome
    assert isinstance(err, InputError)
    assert (err.input, err.reason) == (str(pipe), "not a regular file (a FIFO); skipped")


def test_load_report_refuses_a_folder(tmp_path):
    with pytest.raises(InputError) as err:
        load_report(tmp_path)
    assert (err.value.input, err.value.reason) == (str(tmp_path), "a folder, not a file")


def test_load_report_refuses_a_file_over_the_limit_and_reads_one_at_it(tmp_path, monkeypatch):
    monkeypatch.setattr(comments, "MAX_REPORT_FILE_BYTES", 100)
    text = "## Timeline\n\nAll times are UTC.\n\n2024-05-01 10:00 Key reported\n"
    at = tmp_path / "at.md"
    at.write_text(text + "x" * (100 - len(text)), encoding="ascii")  # exactly 100 bytes
    assert [r["when_utc"] for r in load_report(at)["timeline"]] == ["2024-05-01T10:00:00+00:00"]
    over = tmp_path / "over.md"
    over.write_text(text + "x" * (101 - len(text)), encoding="ascii")
    with pytest.raises(InputError) as err:
        load_report(over)
    assert (err.value.input, err.value.reason) == (str(over), "larger than 100 bytes; not read")
    with pytest.raises(InputError):
        load_report(at, limit=99)  # the caller's own limit


def test_load_report_refuses_json_nested_too_deeply(tmp_path):
    deep = tmp_path / "comments.json"
    deep.write_bytes(b"[" * 200_000)
    with pytest.raises(InputError) as err:
        load_report(deep)
    assert (err.value.input, err.value.reason) == (str(deep), "not JSON: nested too deeply to read")


def test_text_starting_with_a_bracket_is_still_a_report(tmp_path):
    path = tmp_path / "report.md"
    path.write_text("[Draft]\n\n## Timeline\n\nAll times are UTC.\n\n2024-05-01 10:00 Key reported\n")
    report = load_report(path)
    assert [(r["when_utc"], r["text"]) for r in report["timeline"]] == [
        ("2024-05-01T10:00:00+00:00", "Key reported")
    ]


def test_kind_written_with_a_dotless_i_is_read_not_a_crash():
    # IGNORECASE matches "ı" (dotless i) to "i", which lower() keeps: "mıtıgate" is Mitigate
    assert normalise_kind("MITIGATE / mıtıgate, Prevent") == "Mitigate, Prevent"


def test_every_chrome_pattern_keeps_to_the_cheap_first_test():
    # is_chrome skips its pattern when a line starts with neither a letter nor "(" and holds no
    # bullet or "(": every pattern must start with a word (or "(") or need one of those characters.
    from analysis.reports.chrome import _ANYWHERE, _CHROME_PATTERNS

    assert set(_ANYWHERE) == {"\u2022", "\u00b7", "("}

    for p in _CHROME_PATTERNS:
        src = p.pattern
        if src.startswith("^."):
            # a bullet class or an escaped "(" that the match cannot do without
            assert "[\\u2022\\u00b7]" in src or "\\(" in src, src
            continue
        head = src[1:].removeprefix("(?:").removeprefix("(?:")
        assert head[:1].isalpha() or head.startswith("\\("), src


def test_parsing_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    parse_report(TEXT)
    assert gc.isenabled()
    with pytest.raises(AttributeError):
        parse_report(None)  # type: ignore[arg-type]  # a caller's bug: the collector still comes back
    assert gc.isenabled()
    gc.disable()
    try:
        parse_comments([{"count": 0, "text": TEXT}])
        assert not gc.isenabled()  # off before, off after: not switched on behind the caller's back
    finally:
        gc.enable()
