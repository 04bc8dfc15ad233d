"""analysis.reports: CCADB report text -> structured report.

The fixtures in tests/data/reports/ were written for these tests (no third-party report text);
each `<name>.expected.json` was written by hand from the fixture and the rules in design.md and
the module docstring, before the parser ran.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from analysis.reports import (
    is_chrome,
    load_report,
    normalise_kind,
    normalise_status,
    parse_comments,
    parse_report,
    parse_timeline_row,
)

DATA = Path(__file__).parent / "data" / "reports"
DEMO = Path(__file__).parent.parent / "data" / "demo" / "report.md"
FIXTURES = [
    "full-v32.md",
    "plain-v20.txt",
    "bug-page.txt",
    "closure-current.md",
    "closure-2024.txt",
    "closure-no-items.md",
    "nothing.txt",
]
KEYS = ["kind", "fields", "timeline", "action_items", "root_causes", "closure_summary", "counts"]


def expected(name: str) -> dict:
    return json.loads((DATA / (name.rsplit(".", 1)[0] + ".expected.json")).read_text())


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("key", KEYS)
def test_fixture_matches_hand_written_json(name, key):
    got = load_report(DATA / name)
    assert got[key] == expected(name)[key]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_sections_and_problems(name):
    got = load_report(DATA / name)
    exp = expected(name)
    assert sorted(got["sections"]) == sorted(exp["sections"])
    assert [{"code": p["code"], "line": p["line"]} for p in got["problems"]] == exp["problems"]
    if "outline" in exp:
        assert got["outline"] == exp["outline"]


def test_every_key_is_present_even_when_nothing_is_recognised():
    got = parse_report("")
    assert set(got) >= {
        "kind",
        "sections",
        "fields",
        "timeline",
        "action_items",
        "closure_summary",
        "counts",
        "problems",
    }
    assert got["kind"] is None
    assert got["problems"][0]["code"] == "report.unrecognised"


def test_bug_page_chrome_lines():
    lines = (DATA / "bug-page.txt").read_text(encoding="utf-8").split("\n")
    chrome = [i for i, line in enumerate(lines, start=1) if is_chrome(line)]
    assert chrome == expected("bug-page.txt")["chrome_lines"]


def test_bug_page_summary_change_is_chrome_not_a_section():
    text = "Summary: Old title \u2192 New title\nComment 4 \u2022 5 days ago\n"
    got = parse_report(text)
    assert got["sections"] == {}
    assert got["kind"] is None


def test_comments_json_matches_hand_written_json():
    got = load_report(DATA / "comments.json")
    exp = json.loads((DATA / "comments.expected.json").read_text())
    for key in exp:
        assert got[key] == exp[key], key


def test_parse_comments_accepts_the_rest_answer_shape(tmp_path):
    comments = json.loads((DATA / "comments.json").read_text())
    path = tmp_path / "bug.json"
    path.write_text(json.dumps({"bugs": {"1999998": {"comments": comments}}}))
    assert load_report(path)["action_items"] == parse_comments(comments)["action_items"]


# --- timeline rows ------------------------------------------------------------------------------

UTC8 = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    "row, zone, year, when, when_utc, inferred, text",
    [
        # the forms CAs write; expectations worked out by hand
        ("2024-11-1 event text", UTC8, None, "2024-11-01", "2024-10-31T16:00:00+00:00", False, "event text"),
        ("2018-7-31", UTC8, None, "2018-07-31", "2018-07-30T16:00:00+00:00", False, ""),
        (
            "Sept 8 at 4:37 UTC the CA replied",
            None,
            2024,
            "2024-09-08T04:37:00+00:00",
            "2024-09-08T04:37:00+00:00",
            True,
            "the CA replied",
        ),
        (
            "- Oct 3, 2024 2:30 PM (UTC+8) x",
            None,
            None,
            "2024-10-03T14:30:00+08:00",
            "2024-10-03T06:30:00+00:00",
            False,
            "x",
        ),
        ("12:05 AM", None, None, None, None, None, None),
        (
            "2024-10-26 12:05 AM: y",
            dt.UTC,
            None,
            "2024-10-26T00:05:00+00:00",
            "2024-10-26T00:05:00+00:00",
            False,
            "y",
        ),
        (
            "| 2024-10-28 09:15 | Blocked |",
            UTC8,
            None,
            "2024-10-28T09:15:00+08:00",
            "2024-10-28T01:15:00+00:00",
            False,
            "Blocked",
        ),
        (
            "2024-10-26T08:00:00Z: iso",
            None,
            None,
            "2024-10-26T08:00:00+00:00",
            "2024-10-26T08:00:00+00:00",
            False,
            "iso",
        ),
        (
            "2024-10-26T08:00:00-05:00 z",
            None,
            None,
            "2024-10-26T08:00:00-05:00",
            "2024-10-26T13:00:00+00:00",
            False,
            "z",
        ),
        (
            "2024-10-26 08:00-10:00 maintenance",
            dt.UTC,
            None,
            "2024-10-26T08:00:00+00:00",
            "2024-10-26T08:00:00+00:00",
            False,
            "maintenance",
        ),
        (
            "2024-10-26 3 certificates revoked",
            dt.UTC,
            None,
            "2024-10-26",
            "2024-10-26T00:00:00+00:00",
            False,
            "3 certificates revoked",
        ),
        (
            "8 September 2024 11 a.m. IST: z",
            None,
            None,
            "2024-09-08T11:00:00+05:30",
            "2024-09-08T05:30:00+00:00",
            False,
            "z",
        ),
        (
            "2024-10-26 16:00 (Beijing time) w",
            None,
            None,
            "2024-10-26T16:00:00+08:00",
            "2024-10-26T08:00:00+00:00",
            False,
            "w",
        ),
        (
            "2024-10-26 16:00 GMT+08:00 v",
            None,
            None,
            "2024-10-26T16:00:00+08:00",
            "2024-10-26T08:00:00+00:00",
            False,
            "v",
        ),
        ("2024-10-26 16:00 u", None, None, "2024-10-26T16:00:00", None, False, "u"),
    ],
)
def test_timeline_row_forms(row, zone, year, when, when_utc, inferred, text):
    got = parse_timeline_row(row, zone=zone, year=year)
    if when is None:
        assert got is None
        return
    assert (got["when"], got["when_utc"], got["inferred_year"], got["text"]) == (
        when,
        when_utc,
        inferred,
        text,
    )


def test_cst_is_ambiguous_unless_china_or_beijing_is_said():
    got = parse_timeline_row("2024-10-29 10:00 CST y")
    assert got["when_utc"] is None and "ambiguous" in got["zone_problem"]
    got = parse_timeline_row("2024-10-29 10:00 CST y", zone_context="All times are China Standard Time")
    assert got["when_utc"] == "2024-10-29T02:00:00+00:00"


def test_year_less_date_after_the_comment_takes_the_year_before():
    got = parse_timeline_row("Dec 30 at 10:00 UTC x", year=2025, reference=dt.date(2025, 1, 4))
    assert got["when"] == "2024-12-30T10:00:00+00:00" and got["inferred_year"] is True


def test_timeline_zone_problems_are_reported():
    text = "### Timeline\n\n- 2024-10-29 10:00 CST: a\n- 2024-10-30 11:00: b\n"
    got = parse_report(text)
    codes = [(p["code"], p["line"]) for p in got["problems"]]
    assert ("timeline.ambiguous_zone", 3) in codes
    assert ("timeline.no_zone", 4) in codes
    assert [r["when_utc"] for r in got["timeline"]] == [None, None]


def test_year_less_date_without_any_year_is_a_problem():
    got = parse_report("### Timeline\n\n- Sept 8 at 4:37 UTC: a\n")
    assert got["timeline"] == []
    assert [p["code"] for p in got["problems"]] == ["timeline.no_year"]


# --- statuses, kinds, tables ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, status",
    [
        ("Done", "Complete"),
        ("Completed", "Complete"),
        ("complete (2024-11-01)", "Complete"),
        ("In progress", "Ongoing"),
        ("Ongoing", "Ongoing"),
        ("Delayed - now due 2025-01-15", "Delayed"),
        ("Cancelled", "Canceled"),
        ("Canceled", "Canceled"),
        ("", None),
        ("???", None),
    ],
)
def test_status_normalised(text, status):
    assert normalise_status(text) == status


def test_kind_normalised():
    assert normalise_kind("Prevention") == "Prevent"
    assert normalise_kind("Detect / Mitigate") == "Detect, Mitigate"
    assert normalise_kind("other") is None


def test_updated_table_supersedes_without_growing_and_appends_new_items():
    text = (
        "### Action Items\n\n"
        "| # | Action Item | Kind | Due Date | Status |\n|---|---|---|---|---|\n"
        "| 1 | Add a linter | Prevent | 2025-01-10 | Ongoing |\n"
        "| 2 | Retrain staff | Prevent | 2025-01-20 | Ongoing |\n\n"
        "### Action Items (UPDATED)\n\n"
        "| # | Action Item | Kind | Due Date | Status |\n|---|---|---|---|---|\n"
        "| 1 | Add a linter to the pipeline | Prevent | 2025-01-10 | Done |\n"
        "| 3 | Monitor CT logs | Detect | 2025-02-01 | Ongoing |\n"
    )
    items = parse_report(text)["action_items"]
    assert [(i["item"], i["status"], i["updated"]) for i in items] == [
        ("Add a linter to the pipeline", "Complete", True),
        ("Retrain staff", "Ongoing", False),
        ("Monitor CT logs", "Ongoing", False),
    ]


def test_unknown_status_is_a_problem():
    text = "### Action Items\n\n| Action Item | Kind | Status |\n|---|---|---|\n| A | Prevent | Sleeping |\n"
    got = parse_report(text)
    assert got["action_items"][0]["status"] is None
    assert got["problems"][0]["code"] == "action_item.unknown_status"


def test_action_items_as_a_list_with_sub_fields():
    text = (
        "Action Items\n"
        "1. Block the keys\n"
        "   Kind: Mitigate\n"
        "   Due date: 2024-10-28\n"
        "   Status: Complete\n"
        "2. Write a runbook\n"
    )
    items = parse_report(text)["action_items"]
    assert [(i["item"], i["kind"], i["due"], i["status"]) for i in items] == [
        ("Block the keys", "Mitigate", "2024-10-28", "Complete"),
        ("Write a runbook", None, None, None),
    ]


def test_both_closure_wordings_are_attestations():
    for heading, wording in [
        ("### Report Closure Summary", "this report"),
        ("Incident Report Closure Summary", "this Incident Report"),
    ]:
        text = (
            f"{heading}\n\n- Incident description: x\n\nAll Action Items disclosed in {wording} have been "
            "completed as described, and we request its closure.\n"
        )
        assert parse_report(text)["closure_summary"]["attestation"] is True


# --- the demo incident ------------------------------------------------------------------------


def test_demo_report_parses_to_its_story():
    r = load_report(DEMO)
    assert r["kind"] == "mixed"  # the full report and the closing comment
    assert r["problems"] == []
    # the timeline dates of the incident, in UTC+8 as the report states
    assert [t["when"][:10] for t in r["timeline"]] == [
        "2018-12-24",
        "2022-08-25",
        "2022-11-23",
        "2024-10-26",
        "2024-10-28",
        "2024-10-29",
        "2024-10-31",
        "2024-11-01",
    ]
    assert all(t["when"] == "2018-12-24" or t["when"].endswith("+08:00") for t in r["timeline"])
    assert r["timeline"][3]["when_utc"] == "2024-10-26T08:00:00+00:00"
    # 7 action items; the UPDATED table supersedes 5 of them, all done at the end
    assert len(r["action_items"]) == 7
    assert [i["status"] for i in r["action_items"]] == ["Complete"] * 6 + ["Canceled"]
    assert sum(i["updated"] for i in r["action_items"]) == 5
    assert r["closure_summary"]["attestation"] is True
    stated = {(c["measure"], c["value"]) for c in r["counts"] if c["field"]}
    assert stated == {("certificates", 41), ("remaining_valid", 3)}
    assert ("keys", 8) in {(c["measure"], c["value"]) for c in r["counts"]}
    assert len(r["root_causes"]) == 3
