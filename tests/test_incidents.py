"""Incident corpus (issue 6): parsing rules, counts, time to close, deadlines, related incidents, CLI.

Every expected value below was worked out by hand from the rules in analysis/incidents.py's
docstring before the code ran.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from analysis import incidents as inc
from analysis.cli import main
from analysis.errors import InputError

REPO = Path(__file__).resolve().parents[1]
REAL_DUMP = REPO.parent / "shared" / "realdata" / "bugzilla" / "ca_compliance_bugs_2026-03-15.json"
DEMO = REPO / "data" / "demo" / "corpus"


def write_json(path: Path, obj: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def bug(id: int, summary: str = "Foo CA: something", **kw) -> dict:
    rec = {
        "id": id,
        "summary": summary,
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": "[ca-compliance]",
        "creation_time": "2025-04-01T00:00:00Z",
        "creator": "ops@foo.example",
    }
    rec.update(kw)
    return rec


def load(tmp_path: Path, records: list, name: str = "bugs.json"):
    return inc.load_bugs(write_json(tmp_path / name, {"bugs": records}))


# --- titles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, expected",
    [
        ("DigiCert: foo", ["DigiCert"]),
        ("Digicert: foo", ["DigiCert"]),
        ("Comodo: foo", ["Sectigo"]),
        ("NETLOCK - Unavailability of the document repository", ["NETLOCK"]),
        ("Netlock: foo", ["NETLOCK"]),
        ("Amazon Trust Services / DigiCert: 404 error", ["Amazon Trust Services", "DigiCert"]),
        ("QuoVadis / Comodo: foo", ["QuoVadis", "Sectigo"]),
        ("DigiCert / Digicert: foo", ["DigiCert"]),
        ("Asseco DS / Certum: foo", ["Certum"]),
        ("Asseco DS/Certum: foo", ["Certum"]),
        ("eMudhra emSign PKI Services : OCSP time", ["eMudhra"]),
        ("Sectigo: OCSP - responder down", ["Sectigo"]),
        ("Sectigo \u2013 OCSP: responder down", ["Sectigo"]),
        ("[meta] GlobalSign: foo", ["GlobalSign"]),
        ("[meta] Delayed Revocation", []),
        ("Private keys for certificates exposed through their web server", []),
        ("https://example.com serves a broken chain", []),
        ("One two three four five six seven eight nine: ten", []),
        (": no prefix", []),
        ("", []),
    ],
)
def test_parse_title_ca(title, expected):
    assert inc.parse_title_ca(title) == expected


def test_parse_title_ca_user_aliases_extend_the_table():
    aliases = {"Example Trust Services": "Example Trust"}
    assert inc.parse_title_ca("EXAMPLE TRUST SERVICES: x", aliases) == ["Example Trust"]
    assert inc.parse_title_ca("Comodo: x", aliases) == ["Sectigo"]  # defaults still there


def test_ca_spellings_are_grouped(tmp_path):
    frame, problems = load(
        tmp_path,
        [
            bug(1, "Foo Certs: a"),
            bug(2, "Foo Certs: b"),
            bug(3, "FOO CERTS: c"),
            bug(4, "GLOBALSIGN: d"),
            bug(5, "foo certs / Bar: e"),
            bug(6, "no prefix at all"),
        ],
    )
    assert problems == []
    assert list(frame["cas"]) == [
        ["Foo Certs"],
        ["Foo Certs"],
        ["Foo Certs"],
        ["GlobalSign"],
        ["Foo Certs", "Bar"],
        [],
    ]
    by_ca = inc.counts_by_ca(frame)
    assert dict(zip(by_ca["ca"], by_ca["total"], strict=True)) == {
        "Foo Certs": 4,
        "Bar": 1,
        "GlobalSign": 1,
        "unknown": 1,
    }
    assert by_ca["total"].sum() == 7 > len(frame)  # multi-CA bug counts for each


# --- whiteboard -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wb, tags",
    [
        ("[ca compliance] [disclosure failure]", ("ca-compliance", "disclosure-failure")),
        ("[CA-Compliance] [OV_Misissuance]", ("ca-compliance", "ov-misissuance")),
        ("[ca-compliance] audit-finding]", ("ca-compliance", "audit-finding")),
        ("[ca-compliance] [ca compliance]", ("ca-compliance",)),
        ("[ca-compliance]  [audit-finding] ", ("ca-compliance", "audit-finding")),
        ("[reporter-external] [verif?]", ("reporter-external", "verif?")),
        ("", ()),
        (None, ()),
    ],
)
def test_whiteboard_tags(wb, tags):
    assert inc.normalize_whiteboard(wb).tags == tags


@pytest.mark.parametrize(
    "wb, placeholders",
    [
        ("[ca-compliance] [__-misissuance]", ("[__-misissuance]",)),
        ("[??] [ca-compliance]", ("[??]",)),
        ("[<category>]", ("[<category>]",)),
        ("[]", ("[]",)),
    ],
)
def test_whiteboard_placeholders_are_not_tags(wb, placeholders):
    w = inc.normalize_whiteboard(wb)
    assert w.placeholders == placeholders
    assert all("misissuance" not in t and "category" not in t for t in w.tags)


@pytest.mark.parametrize(
    "wb, expected",
    [
        ("[ca-compliance] Next update 2026-02-28", dt.date(2026, 2, 28)),
        ("Next update 31-Oct-2023", dt.date(2023, 10, 31)),
        ("Next update 2-Oct-2023", dt.date(2023, 10, 2)),
        ("Next update 01-Nov-2023", dt.date(2023, 11, 1)),
        ("Next update 2023-Oct-27", dt.date(2023, 10, 27)),
        ("Next update at 23.2.2024", dt.date(2024, 2, 23)),
        ("Next Update: 2024/01/05", dt.date(2024, 1, 5)),
        ("next update Jan 5, 2024", dt.date(2024, 1, 5)),
        ("Next update 5 January 2024", dt.date(2024, 1, 5)),
        ("Next update Sept. 9 2024", dt.date(2024, 9, 9)),
        ("Next update 3/14/2024", dt.date(2024, 3, 14)),
        ("Next update 14-3-2024", dt.date(2024, 3, 14)),
        ("Next update 5-5-2024", dt.date(2024, 5, 5)),
        ("[Next update 2025-01-15] [ca-compliance]", dt.date(2025, 1, 15)),
    ],
)
def test_next_update_forms(wb, expected):
    w = inc.normalize_whiteboard(wb)
    assert w.next_update == expected
    assert w.problems == ()
    assert w.text == ""


@pytest.mark.parametrize(
    "wb, word",
    [
        ("Next update 3-1-2023", "ambiguous"),
        ("Next update 2024-02-30", "impossible"),
        ("Next update soon", "no date"),
    ],
)
def test_next_update_bad_dates_are_reported_not_guessed(wb, word):
    w = inc.normalize_whiteboard(wb)
    assert w.next_update is None
    assert len(w.problems) == 1 and word in w.problems[0]


def test_close_on_and_free_text():
    w = inc.normalize_whiteboard(" [close on 2025-12-10] [ca-compliance] [dv-misissuance]")
    assert w.close_on == dt.date(2025, 12, 10)
    assert w.tags == ("ca-compliance", "dv-misissuance")
    assert w.next_update is None
    w = inc.normalize_whiteboard("[ca-compliance]  -- tracking bug for BR Compliance issues")
    assert w.tags == ("ca-compliance",)
    assert w.text == "-- tracking bug for BR Compliance issues"


# --- loading --------------------------------------------------------------------------------


def test_load_bugs_reports_bad_records_and_keeps_the_rest(tmp_path):
    records = [
        bug(1),
        {"id": 2, "status": "NEW", "creation_time": "2025-01-01T00:00:00Z"},  # no summary
        bug(3, creation_time="yesterday"),
        {"summary": "Foo CA: no id", "status": "NEW", "creation_time": "2025-01-01T00:00:00Z"},
        bug(1, "Foo CA: duplicate id"),
        "not an object",
        bug(7, whiteboard="[ca-compliance] Next update 3-1-2023"),
        bug(8, cf_last_resolved="not a time"),
    ]
    frame, problems = load(tmp_path, records)
    assert list(frame["id"]) == [1, 7, 8]
    got = [(p.position, p.reason.split(" ")[0]) for p in problems]
    assert got == [
        ("bugs[1] (bug 2)", "missing"),
        ("bugs[2] (bug 3)", "creation_time"),
        ("bugs[3]", "bug"),
        ("bugs[4] (bug 1)", "duplicate"),
        ("bugs[5]", "a"),
        ("bugs[6] (bug 7) whiteboard", "next"),
        ("bugs[7] (bug 8) cf_last_resolved", "'not"),
    ]
    assert all(p.input == str(tmp_path / "bugs.json") for p in problems)
    assert "summary" in problems[0].reason
    # bug 7 and 8 are kept: a bad whiteboard date or resolution time does not drop the bug
    assert frame.loc[frame["id"] == 8, "resolved_at"].isna().all()


def test_open_status_and_year(tmp_path):
    statuses = ["NEW", "UNCONFIRMED", "ASSIGNED", "REOPENED", "RESOLVED", "VERIFIED", "CLOSED"]
    frame, _ = load(
        tmp_path,
        [bug(i, status=s, creation_time=f"{2018 + i}-12-31T23:30:00Z") for i, s in enumerate(statuses)],
    )
    assert list(frame["is_open"]) == [True, True, True, True, False, False, False]
    assert list(frame["year"]) == [2018, 2019, 2020, 2021, 2022, 2023, 2024]
    assert str(frame["creation_time"].dtype) == "datetime64[us, UTC]"


def test_html_bugs_file_is_an_input_error(tmp_path):
    f = tmp_path / "bugs.json"
    f.write_text("<!DOCTYPE html><html><body>503 Service Unavailable</body></html>")
    with pytest.raises(InputError) as ei:
        inc.load_bugs(f)
    assert "HTML" in ei.value.reason and ei.value.position == "line 1"


def test_truncated_bugs_file_is_an_input_error(tmp_path):
    f = tmp_path / "bugs.json"
    f.write_text('{"bugs": [\n{"id": 1, "summary": "Foo CA: x",\n "status": "NEW"')
    with pytest.raises(InputError) as ei:
        inc.load_bugs(f)
    assert ei.value.position.startswith("line 3 column")
    assert "truncated" in ei.value.reason


# --- self-reported --------------------------------------------------------------------------


def test_reporter_classification(tmp_path):
    records = [
        bug(1, "DigiCert: a", creator_domain="digicert.com"),  # self: name = domain
        bug(2, "DigiCert: b", creator_domain="digicert.com", whiteboard="[ca-compliance] [external]"),
        bug(3, "DigiCert: c", creator_domain="gmail.com"),  # webmail, not the CA -> third party
        bug(4, "Telia: d", creator_domain="teliacompany.com"),  # CA_DOMAINS table
        bug(5, "Let's Encrypt: e", creator_domain="letsencrypt.org"),  # squashed name
        bug(6, "iTrusChina: f", creator_domain="itrus.cn"),  # label starts the name
        bug(7, "DigiCert: g", creator_domain="disabled.tld"),  # unknown
        bug(8, "no prefix here", creator="x@foo.example"),  # unknown CA, no assignee -> unknown
        bug(9, "no prefix here", creator="a@ca.example", assigned_to="b@ca.example"),  # assignee's domain
        bug(10, "Foo CA: h", creator="someone@bar.example"),  # a domain, not the CA's -> third party
        bug(11, "Foo CA: i", creator="ops@foo.example", whiteboard="[reporter-external]"),
    ]
    for r in records:
        if "creator_domain" in r:
            r.pop("creator")
    frame, problems = load(tmp_path, records)
    assert problems == []
    assert list(frame["reporter"]) == [
        "self",
        "third_party",
        "third_party",
        "self",
        "self",
        "self",
        None,
        None,
        "self",
        "third_party",
        "third_party",
    ]
    s = inc.compute_summary(frame, as_of="2026-01-01T00:00:00Z")
    # 5 self, 4 third party, 2 unknown -> 5/9
    assert s["reporters"] == {"self": 5, "third_party": 4, "unknown": 2}
    assert s["self_reported"] == round(5 / 9, 4)


# --- time to close --------------------------------------------------------------------------


def test_time_to_close_median_and_quartiles(tmp_path):
    records = [
        bug(1, creation_time="2024-01-01T00:00:00Z", cf_last_resolved="2024-01-11T00:00:00Z"),  # 10
        bug(2, creation_time="2024-02-01T00:00:00Z", cf_last_resolved="2024-02-21T00:00:00Z"),  # 20
        bug(3, creation_time="2024-03-01T00:00:00Z", cf_last_resolved="2024-04-10T00:00:00Z"),  # 40
        bug(4, creation_time="2024-05-01T00:00:00Z", cf_last_resolved="2024-08-09T00:00:00Z"),  # 100
        bug(5, creation_time="2023-06-01T00:00:00Z", cf_last_resolved="2023-06-06T00:00:00Z"),  # 5
        bug(
            6,
            resolution="INVALID",
            creation_time="2024-01-01T00:00:00Z",
            cf_last_resolved="2024-01-02T00:00:00Z",
        ),
        bug(7, status="ASSIGNED", resolution="", creation_time="2024-01-01T00:00:00Z"),
        bug(8, creation_time="2024-01-01T00:00:00Z"),  # closed, resolution time unknown
    ]
    frame, _ = load(tmp_path, records)
    s = inc.compute_summary(frame, as_of="2026-01-01T00:00:00Z")
    # sorted 5, 10, 20, 40, 100: median 20; p25 at position 1 -> 10; p75 at position 3 -> 40
    assert s["time_to_close_days"] == {
        "median": 20.0,
        "p25": 10.0,
        "p75": 40.0,
        "count": 5,
        "by_year": {"2023": 5.0, "2024": 30.0},
    }
    assert any("leaves out 1 closed bug" in n for n in s["notes"])


def test_time_to_close_is_null_without_resolution_times(tmp_path):
    frame, _ = load(tmp_path, [bug(1), bug(2)])
    s = inc.compute_summary(frame)
    assert s["time_to_close_days"] is None
    assert any("cf_last_resolved" in n for n in s["notes"])
    assert s["deadlines"] is None
    assert any("no comments were loaded" in n for n in s["notes"])


def test_resolution_time_from_history_takes_the_last_resolution(tmp_path):
    d = tmp_path / "corpus"
    write_json(d / "bugs.json", {"bugs": [bug(1, status="VERIFIED", creation_time="2025-01-01T00:00:00Z")]})
    hist = [
        ("2025-01-05T00:00:00Z", "NEW", "RESOLVED"),
        ("2025-01-10T00:00:00Z", "RESOLVED", "REOPENED"),
        ("2025-01-21T00:00:00Z", "REOPENED", "RESOLVED"),
        ("2025-01-25T00:00:00Z", "RESOLVED", "VERIFIED"),
    ]
    write_json(
        d / "1" / "history.json",
        {
            "bugs": [
                {
                    "id": 1,
                    "history": [
                        {
                            "when": w,
                            "who": "x@y.example",
                            "changes": [{"field_name": "status", "removed": a, "added": b}],
                        }
                        for w, a, b in hist
                    ],
                }
            ]
        },
    )
    corpus = inc.load_corpus(d / "bugs.json", d)
    assert corpus.bugs["resolved_at"].iloc[0] == pd.Timestamp("2025-01-21T00:00:00Z")
    assert inc.compute_summary(corpus)["time_to_close_days"]["median"] == 20.0


# --- report recognition ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("## Preliminary Incident Report\n### Summary\n...", {"preliminary"}),
        ("## Full Incident Report\n### Summary", {"full"}),
        ("**Full Incident Report**\n\nSummary", {"full"}),
        ("Incident Report\n\nSummary\nblah", {"full"}),
        ("Summary\nx\nImpact\ny\nTimeline\nz\nRoot Cause Analysis\nw", {"full"}),
        ("1. How your CA first became aware of the problem\n...\n2. A timeline of the actions", {"full"}),
        ("### Report Closure Summary\n- **Incident description:** x", {"closure"}),
        ("Incident Report Closure Summary\n- x", {"closure"}),
        ("All Action Items have been completed as described, and we request its closure.", {"closure"}),
        ("We will post the full incident report soon.", set()),
        ("Summary\nImpact\nthat is all", set()),
        ("", set()),
    ],
)
def test_classify_report_text(text, kinds):
    assert inc.classify_report_text(text) == frozenset(kinds)


# --- deadlines ------------------------------------------------------------------------------

T0 = pd.Timestamp("2025-04-01T00:00:00Z")
AS_OF = "2025-06-01T00:00:00Z"
OPS = "ops@foo.example"
RP = "rp@rootprogram.example"


def iso(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(**kw) -> str:
    return iso(T0 + pd.Timedelta(**kw))


def comments_file(d: Path, bug_id: int, items: list[tuple[str, str, str]]) -> None:
    write_json(
        d / str(bug_id) / "comments.json",
        {
            "bugs": {
                str(bug_id): {
                    "comments": [
                        {
                            "id": bug_id * 100 + i,
                            "count": i,
                            "creator": who,
                            "creation_time": when,
                            "text": text,
                        }
                        for i, (who, when, text) in enumerate(items)
                    ]
                }
            }
        },
    )


def whiteboard_history(d: Path, bug_id: int, changes: list[tuple[str, str, str]]) -> None:
    write_json(
        d / str(bug_id) / "history.json",
        {
            "bugs": [
                {
                    "id": bug_id,
                    "history": [
                        {
                            "when": w,
                            "who": RP,
                            "changes": [{"field_name": "whiteboard", "removed": a, "added": b}],
                        }
                        for w, a, b in changes
                    ],
                }
            ]
        },
    )


FULL = "## Full Incident Report\n### Summary\nx"
CLOSURE = "### Report Closure Summary\n- x\n\nwe request its closure."


@pytest.fixture
def deadline_corpus(tmp_path) -> inc.Corpus:
    d = tmp_path / "corpus"
    bugs = [
        # D1: everything on time
        bug(1, cf_last_resolved=at(days=20)),
        # D2: reported by a third party, everything late
        bug(2, creator="r@elsewhere.example", assigned_to=OPS, cf_last_resolved=at(days=30)),
        # D3: opened 10 h before the analysis time, CA silent so far
        bug(
            3,
            status="NEW",
            resolution="",
            creator="r@elsewhere.example",
            creation_time="2025-05-31T14:00:00Z",
        ),
        # D4: open; a Next-update date covers one long gap, the next one is missed by an hour
        bug(4, status="ASSIGNED", resolution="", whiteboard="[ca-compliance] Next update 2025-05-10"),
        # D5: a Next-update date set in the history covers a 24.5-day gap
        bug(5, cf_last_resolved=at(days=34)),
        # D6: INVALID
        bug(6, resolution="INVALID", cf_last_resolved=at(days=2)),
        # D7: resolved before guidelines 3.0
        bug(7, creation_time="2024-05-01T00:00:00Z", cf_last_resolved="2024-06-01T00:00:00Z"),
        # D8: closed, resolution time unknown
        bug(8),
        # D9: no CA in the title, no assignee
        bug(9, "Something odd happened", creator="r@elsewhere.example"),
    ]
    write_json(d / "bugs.json", {"bugs": bugs})
    comments_file(
        d,
        1,
        [
            (OPS, at(days=0), "## Preliminary Incident Report\n### Summary"),
            (OPS, at(days=6), "update"),
            (OPS, at(days=12), FULL),
            (OPS, at(days=18), CLOSURE),
            (RP, at(days=20), "closing"),
        ],
    )
    comments_file(
        d,
        2,
        [
            ("r@elsewhere.example", at(days=0), "I found misissued certificates."),
            (OPS, at(hours=73), "We are looking."),
            (OPS, at(days=15), FULL),
            (OPS, at(days=23), "update"),
            (RP, at(days=30), "closing"),
        ],
    )
    comments_file(d, 3, [("r@elsewhere.example", "2025-05-31T14:00:00Z", "Report.")])
    comments_file(
        d,
        4,
        [
            (OPS, at(days=0), FULL),
            (OPS, at(days=5), "update"),
            (OPS, "2025-04-30T20:00:00Z", "update"),
            (OPS, "2025-05-11T01:00:00Z", "update"),
        ],
    )
    whiteboard_history(
        d,
        4,
        [
            (at(days=6), "[ca-compliance]", "[ca-compliance] Next update 2025-04-30"),
            (
                "2025-05-01T00:00:00Z",
                "[ca-compliance] Next update 2025-04-30",
                "[ca-compliance] Next update 2025-05-10",
            ),
        ],
    )
    comments_file(
        d,
        5,
        [
            (OPS, at(days=0), FULL),
            (OPS, "2025-04-25T12:00:00Z", "update"),
            (OPS, "2025-04-30T00:00:00Z", CLOSURE),
        ],
    )
    whiteboard_history(
        d,
        5,
        [
            (at(days=2), "[ca-compliance]", "[ca-compliance] Next update 2025-04-25"),
            (at(days=30), "x", "[ca-compliance]"),
        ],
    )
    comments_file(d, 6, [(OPS, at(days=0), "We think this is not an incident.")])
    comments_file(d, 7, [(OPS, "2024-05-01T00:00:00Z", FULL), (OPS, "2024-05-07T00:00:00Z", "update")])
    comments_file(d, 8, [(OPS, at(days=0), "hello"), (OPS, at(days=3), "fixed"), (RP, at(days=5), "closing")])
    comments_file(d, 9, [("r@elsewhere.example", at(days=0), "Something.")])
    return inc.load_corpus(d / "bugs.json", d)


def outcomes(judged: pd.DataFrame, rule: str) -> dict[int, str]:
    sub = judged[judged["rule"] == rule]
    return dict(zip(sub["bug_id"], sub["outcome"], strict=True))


def test_deadline_rules_kept_and_missed(deadline_corpus):
    c = deadline_corpus
    assert c.problems == []
    judged = inc.compute_deadlines(c.bugs, c.comments, c.history, as_of=AS_OF)
    assert outcomes(judged, "first_response_72h") == {
        1: "kept",
        2: "missed",  # first CA comment at 73 h
        3: "pending",
        4: "kept",
        5: "kept",
        6: "not_applicable",
        7: "kept",
        8: "kept",
        9: "unknown",
    }
    assert outcomes(judged, "full_report_14d") == {
        1: "kept",  # day 12
        2: "missed",  # day 15
        3: "pending",
        4: "kept",
        5: "kept",
        6: "not_applicable",
        7: "kept",
        8: "missed",  # no full report, closed
        9: "unknown",
    }
    assert outcomes(judged, "updates_7d") == {
        1: "kept",  # 6-day gaps, then the closure summary ends the duty
        2: "missed",  # 11.96 and 8 days
        3: "pending",
        4: "missed",  # covered to 2025-04-30, then 2025-05-11 01:00 is an hour past 2025-05-10
        5: "kept",  # 24.5 days, covered by Next update 2025-04-25
        6: "not_applicable",
        7: "missed",  # 2024-05-07 -> resolution 2024-06-01
        8: "kept",  # ends at the last comment (resolution time unknown)
        9: "unknown",
    }
    assert outcomes(judged, "closure_summary") == {
        1: "kept",
        2: "missed",
        3: "not_applicable",
        4: "not_applicable",
        5: "kept",
        6: "not_applicable",
        7: "not_applicable",  # resolved 2024-06-01, before guidelines 3.0
        8: "unknown",
        9: "unknown",
    }


def test_deadline_shares_in_summary(deadline_corpus):
    s = inc.compute_summary(deadline_corpus, as_of=AS_OF)
    assert s["deadlines"] == {
        "first_response_72h": round(5 / 6, 4),
        "full_report_14d": round(4 / 6, 4),
        "updates_7d": 0.5,
        "closure_summary": round(2 / 3, 4),
    }
    assert s["deadline_counts"]["updates_7d"] == {
        "kept": 3,
        "missed": 3,
        "pending": 1,
        "not_applicable": 1,
        "unknown": 1,
    }


def test_next_update_needs_the_history(deadline_corpus):
    c = deadline_corpus
    judged = inc.compute_deadlines(c.bugs, c.comments, None, as_of=AS_OF)
    # D5's whiteboard no longer carries the date: without the history the 24.5-day gap is missed
    assert outcomes(judged, "updates_7d")[5] == "missed"


def test_bad_comment_files_are_reported_and_the_rest_goes_on(tmp_path):
    d = tmp_path / "corpus"
    write_json(d / "bugs.json", {"bugs": [bug(1), bug(2), bug(3), bug(4)]})
    (d / "1").mkdir()
    (d / "1" / "comments.json").write_text("<html><head><title>Bugzilla</title></head></html>")
    (d / "2").mkdir()
    (d / "2" / "comments.json").write_text('{"bugs": {"2": {"comments": [{"id": 1, "text": "abc"')
    comments_file(d, 3, [(OPS, "not a time", "x"), (OPS, at(days=0), FULL)])
    comments_file(d, 99, [(OPS, at(days=0), "stray")])
    write_json(d / "4" / "comments.json", {"bugs": {"5": {"comments": []}}})
    corpus = inc.load_corpus(d / "bugs.json", d)
    by_input = {(Path(p.input).parent.name, p.position): p.reason for p in corpus.problems}
    assert "HTML" in by_input[("1", "line 1")]
    assert any(
        k[0] == "2" and k[1].startswith("line 1 column") and "truncated" in v for k, v in by_input.items()
    )
    assert "does not parse" in by_input[("3", 'bugs["3"].comments[0]')]
    assert any(k[0] == "4" and "no comments for bug 4" in v for k, v in by_input.items())
    assert any("bug 99" in p.reason for p in corpus.problems)
    assert sorted(corpus.comments["bug_id"].unique()) == [3]
    s = inc.compute_summary(corpus, as_of=AS_OF)
    assert len(s["errors"]) == 5
    assert s["deadline_counts"]["full_report_14d"]["kept"] == 1


# --- related incidents ----------------------------------------------------------------------


def test_related_incidents(tmp_path):
    frame, _ = load(
        tmp_path,
        [
            bug(
                1,
                "Foo CA: x",
                creation_time="2024-06-01T00:00:00Z",
                whiteboard="[ca-compliance] [ov-misissuance]",
            ),
            bug(2, "Foo CA: within two years", creation_time="2023-01-01T00:00:00Z"),
            bug(3, "FOO CA: exactly two years", creation_time="2022-06-01T00:00:00Z"),
            bug(4, "Foo CA: too old", creation_time="2022-05-31T23:59:59Z"),
            bug(5, "Foo CA: later", creation_time="2024-07-01T00:00:00Z"),
            bug(
                6, "Bar CA: shares a tag", creation_time="2020-01-01T00:00:00Z", whiteboard="[ov-misissuance]"
            ),
            bug(7, "Bar CA: only ca-compliance", creation_time="2024-01-01T00:00:00Z"),
            bug(
                8,
                "Foo CA / Bar CA: both",
                creation_time="2024-05-01T00:00:00Z",
                whiteboard="[ov misissuance]",
            ),
        ],
    )
    rel = inc.related_incidents(1, frame)
    assert list(rel["id"]) == [8, 2, 3, 6]
    assert list(rel["same_ca_recent"]) == [True, True, True, False]
    assert list(rel["shared_tags"]) == [["ov-misissuance"], [], [], ["ov-misissuance"]]
    only_same_ca = inc.related_incidents(1, frame, same_ca_for_tags=True)
    assert list(only_same_ca["id"]) == [8, 2, 3]
    with pytest.raises(KeyError):
        inc.related_incidents(12345, frame)


def test_count_frames(tmp_path):
    frame, _ = load(
        tmp_path,
        [
            bug(1, creation_time="2023-01-01T00:00:00Z", whiteboard="[ca-compliance] [crl-failure]"),
            bug(2, status="NEW", creation_time="2023-06-01T00:00:00Z", whiteboard="[ca compliance]"),
            bug(
                3, creation_time="2024-01-01T00:00:00Z", whiteboard="[__-misissuance] Next update 2024-02-01"
            ),
        ],
    )
    by_year = inc.counts_by_year(frame)
    assert by_year.to_dict("list") == {
        "year": [2023, 2024],
        "total": [2, 1],
        "open": [1, 0],
        "closed": [1, 1],
    }
    by_tag = inc.counts_by_tag(frame)
    assert by_tag.to_dict("list") == {
        "tag": ["ca-compliance", "crl-failure"],
        "total": [2, 1],
        "open": [1, 0],
    }
    s = inc.compute_summary(frame)
    assert s["whiteboard"] == {"next_update": 1, "close_on": 0, "placeholders": 1}


# --- the embedded demo ----------------------------------------------------------------------


def test_demo_corpus_rebuilds_byte_identically(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_corpus", DEMO / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.build(tmp_path)
    assert written
    for f in written:
        rel = f.relative_to(tmp_path)
        assert filecmp.cmp(f, DEMO / rel, shallow=False), rel
    committed = {p.relative_to(DEMO) for p in DEMO.rglob("*.json")}
    assert committed == {f.relative_to(tmp_path) for f in written}


# --- the real dump --------------------------------------------------------------------------


def test_real_dump_loads_without_a_row_lost():
    if not REAL_DUMP.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the real Bugzilla dump is missing: {REAL_DUMP}")
        pytest.skip(f"real Bugzilla dump not present at {REAL_DUMP}")
    n_in = len(json.loads(REAL_DUMP.read_text(encoding="utf-8"))["bugs"])
    assert n_in == 1688
    corpus = inc.load_corpus(REAL_DUMP)
    s = inc.compute_summary(corpus, as_of="2026-03-15T00:00:00Z")
    assert s["total"] == 1688 == len(corpus.bugs)
    assert sum(s["by_year"].values()) == 1688
    assert not [p for p in corpus.problems if "skipped" in p.reason]
    assert s["open"] == 80  # 76 ASSIGNED + 4 UNCONFIRMED
    assert s["time_to_close_days"] is None  # the dump has no cf_last_resolved
    assert s["deadlines"] is None
    assert s["by_tag"]["ca-compliance"] == 1640  # 1,638 spelt right + 2 "[ca compliance]"
    assert s["by_tag"]["disclosure-failure"] == 145  # 138 + 7 "[disclosure failure]"
    assert "disclosure failure" not in s["by_tag"]


# --- command line ---------------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["incidents", "summary", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_demo_json(capsys):
    status, out, err = run_cli(capsys, "--format", "json", "--as-of", "2026-03-15T00:00:00Z")
    assert status == 0
    s = json.loads(out)
    assert s["total"] == 10 and s["open"] == 3 and s["closed"] == 7
    assert s["by_year"] == {"2023": 2, "2024": 3, "2025": 4, "2026": 1}
    assert s["by_ca"] == {"Example Trust": 4, "Demo PKI": 3, "Sample Certs": 3, "unknown": 1}
    assert s["by_tag"]["ca-compliance"] == 10 and s["by_tag"]["ov-misissuance"] == 1
    assert s["self_reported"] == round(6 / 9, 4)
    assert s["time_to_close_days"] == {
        "median": 40.0,
        "p25": 30.0,
        "p75": 57.5,
        "count": 6,
        "by_year": {"2023": 45.0, "2024": 30.0, "2025": 50.0},
    }
    assert s["deadlines"] == {
        "first_response_72h": 0.75,
        "full_report_14d": 0.75,
        "updates_7d": 0.5,
        "closure_summary": 0.5,
    }
    assert s["whiteboard"] == {"next_update": 3, "close_on": 2, "placeholders": 1}
    assert s["errors"] == []
    assert any("demo corpus" in n for n in s["notes"])
    assert s["as_of"] == "2026-03-15T00:00:00+00:00"


def test_cli_demo_table(capsys):
    status, out, _ = run_cli(capsys, "--as-of", "2026-03-15")
    assert status == 0
    lines = out.splitlines()
    assert "By CA" in lines
    assert "  Example Trust  4" in lines
    assert "  2023  2" in lines
    assert any(line.startswith("  updates_7d") and "50.0%" in line for line in lines)


def test_cli_exit_statuses(capsys, tmp_path):
    html = tmp_path / "bugs.json"
    html.write_text("<html><body>Too many requests</body></html>")
    status, _, err = run_cli(capsys, "--bugs", str(html))
    assert status == 2 and "HTML" in err

    status, _, err = run_cli(capsys, "--bugs", str(tmp_path / "missing.json"))
    assert status == 2 and "no such file" in err

    empty = write_json(tmp_path / "empty.json", {"bugs": []})
    status, _, err = run_cli(capsys, "--bugs", str(empty), "--format", "json")
    assert status == 2 and "no usable bug" in err

    messy = write_json(tmp_path / "messy.json", {"bugs": [bug(1), {"id": 2}]})
    status, out, err = run_cli(capsys, "--bugs", str(messy), "--format", "json")
    assert status == 0
    s = json.loads(out)
    assert s["total"] == 1
    assert s["errors"] == [
        {
            "input": str(messy),
            "position": "bugs[1] (bug 2)",
            "reason": "missing field(s) summary, status, creation_time; bug skipped",
        }
    ]
    assert "bugs[1] (bug 2)" in err
    assert not any("demo" in n for n in s["notes"])
    status, _, _ = run_cli(capsys, "--bugs", str(messy), "--strict")
    assert status == 1

    status, _, err = run_cli(capsys, "--alias", "nonsense")
    assert status == 2 and "PREFIX=CA" in err


def test_cli_alias_option(capsys, tmp_path):
    f = write_json(tmp_path / "b.json", {"bugs": [bug(1, "Foo Trust Services: x"), bug(2, "Foo Trust: y")]})
    status, out, _ = run_cli(
        capsys, "--bugs", str(f), "--format", "json", "--alias", "Foo Trust Services=Foo Trust"
    )
    assert status == 0
    assert json.loads(out)["by_ca"] == {"Foo Trust": 2}


def test_cli_corpus_folder_alone(capsys, tmp_path):
    d = tmp_path / "corpus"
    write_json(d / "7" / "bug.json", {"bugs": [bug(7, creation_time="2025-04-01T00:00:00Z")]})
    comments_file(d, 7, [(OPS, at(hours=1), "We are on it.")])
    status, out, _ = run_cli(capsys, "--comments", str(d), "--format", "json", "--as-of", AS_OF)
    assert status == 0
    s = json.loads(out)
    assert s["total"] == 1
    assert s["deadline_counts"]["first_response_72h"]["kept"] == 1
    status, out2, _ = run_cli(capsys, "--bugs", str(d), "--format", "json", "--as-of", AS_OF)
    assert status == 0 and json.loads(out2)["deadlines"] == s["deadlines"]
