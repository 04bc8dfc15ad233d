"""analysis.drafting and `ca-incidents report`: lint, closure-summary drafts, full-report skeleton,
appendix CSV. Expected values are written by hand (fixtures' `lint` and `draft` keys, the demo
README's figures), not copied from output."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.drafting import (
    APPENDIX_COLUMNS,
    CUSTOM_COLUMNS,
    LINT_RULES,
    appendix_rows,
    draft_closure_summary,
    draft_full_report,
    has_errors,
    lint_report,
    to_appendix,
    to_appendix_csv,
    to_closure_markdown,
    to_lint_table,
)
from analysis.reports import ATTESTATION, load_report, parse_report

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


def expected(name: str) -> dict:
    return json.loads((DATA / (name.rsplit(".", 1)[0] + ".expected.json")).read_text())


def _key(t):
    return (t[0], t[1], -1 if t[2] is None else t[2])


# --- lint ---------------------------------------------------------------------------------------


def test_lint_codes_and_severities_are_stable():
    issue_codes = {
        "section.missing",
        "field.missing",
        "action_item.no_kind",
        "action_item.no_due_date",
        "action_item.no_status",
        "action_item.none",
        "timeline.no_zone",
        "timeline.unparsed_row",
        "closure.open_action_items",
        "closure.no_attestation",
        "closure.field_missing",
        "counts.mismatch",
    }
    assert issue_codes <= set(LINT_RULES)
    assert set(LINT_RULES.values()) <= {"error", "warning", "notice"}
    for code in ("section.missing", "closure.no_attestation", "closure.open_action_items", "counts.mismatch"):
        assert LINT_RULES[code] == "error"


@pytest.mark.parametrize("name", FIXTURES)
def test_lint_fixture(name):
    findings = lint_report(load_report(DATA / name))
    got = sorted(((f["code"], f["severity"], f["line"]) for f in findings), key=_key)
    assert got == sorted((tuple(x) for x in expected(name)["lint"]), key=_key)
    for f in findings:
        assert f["message"] and f["severity"] == LINT_RULES[f["code"]]


def test_lint_messages_name_the_thing():
    # plain-v20 was written in November 2024 (its last timeline row): guidelines 2.0 applied,
    # which had no Related Incidents section and no required fields
    findings = lint_report(load_report(DATA / "plain-v20.txt"))
    assert [f["code"] for f in findings] == ["timeline.unparsed_row"]
    # the same report filed after 3.0 took effect is judged by 3.x, and the finding says so
    findings = lint_report(load_report(DATA / "plain-v20.txt"), filed=dt.date(2025, 4, 2))
    assert findings[0] == {
        "code": "section.missing",
        "severity": "error",
        "message": "Section 'Related Incidents' is missing "
        "(CCADB Incident Reporting Guidelines 3.x, in force on 2025-04-02)",
        "line": 1,
    }
    closure = lint_report(load_report(DATA / "closure-2024.txt"))
    assert closure[0]["message"] == (
        "Closure requested while action item 'Hardware security module upgrade' is Ongoing"
    )


def test_lint_action_item_checks():
    text = (
        "### Action Items\n\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| A | | | |\n| B | Prevent | TBD | Canceled |\n"
    )
    got = [(f["code"], f["line"]) for f in lint_report(parse_report(text))]
    # A: no kind, no due date, no status (sorted by line, severity, code); B: canceled, so a missing
    # due date is fine
    assert got == [("action_item.no_due_date", 5), ("action_item.no_kind", 5), ("action_item.no_status", 5)]


def test_full_report_without_action_items():
    text = "## Full Incident Report\n\n### Summary\n\nx\n\n### Action Items\n\nNone yet.\n"
    codes = [f["code"] for f in lint_report(parse_report(text))]
    assert "action_item.none" in codes


def test_counts_mismatch_only_with_data():
    report = load_report(DATA / "full-v32.md")
    assert lint_report(report) == []
    data = {"issuances_with_compromised_keys": 11, "remaining_valid": 0, "compromised_keys": 3}
    assert lint_report(report, data) == [
        {
            "code": "counts.mismatch",
            "severity": "error",
            "message": "The text says 12 (Total number of certificates), the data says 11 certificates on "
            "compromised keys",
            "line": 17,
        }
    ]


def test_counts_mismatch_on_keys_stated_in_prose():
    report = load_report(DEMO)
    data = {"issuances_with_compromised_keys": 41, "compromised_keys": 8}
    assert lint_report(report, data) == []
    data["compromised_keys"] = 7
    got = lint_report(report, data)
    assert [(f["code"], f["line"]) for f in got] == [("counts.mismatch", 15)]
    assert got[0]["message"] == "The text says 8 keys, the data says 7 compromised keys"


def test_demo_report_lints_clean():
    assert lint_report(load_report(DEMO)) == []


def test_lint_table():
    findings = lint_report(load_report(DATA / "closure-no-items.md"))
    table = to_lint_table(findings)
    assert table.splitlines()[0].split() == ["LINE", "SEVERITY", "CODE", "MESSAGE"]
    assert "closure.field_missing" in table and table.rstrip().endswith("2 errors")
    assert has_errors(findings) and not has_errors([])
    assert to_lint_table([]) == "No findings.\n"


# --- closure summary ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["closure-current.md", "closure-2024.txt", "closure-no-items.md"])
def test_closure_draft_fixture(name):
    assert draft_closure_summary(load_report(DATA / name)) == expected(name)["draft"]


def test_closure_draft_from_a_full_report_with_an_open_item():
    draft = draft_closure_summary(load_report(DATA / "full-v32.md"))
    assert draft == {
        "incident_description": "Northwind Certificates issued 12 TLS certificates whose organizationName "
        "contained a trailing space. The report counts 12 affected certificates.",
        "root_causes": "Input was not trimmed.",
        "remediation": "Completed: Trim all subject fields in the form.",
        "commitments": "Preventive and detective actions: Trim all subject fields in the form; and add a "
        "pre-issuance lint for leading/trailing spaces.",
        "attestation": False,
        "open_items": [
            {
                "item": "Add a pre-issuance lint for leading/trailing spaces",
                "status": "Ongoing",
                "due": "2025-02-28",
                "source_line": 62,
            }
        ],
        "canceled_items": [],
        "still_valid": 0,
        "data_predates": [],
    }


def test_closure_markdown_attestation_only_when_all_done():
    done = to_closure_markdown(draft_closure_summary(load_report(DATA / "closure-current.md")))
    assert done.startswith("### Report Closure Summary\n\n- **Incident description:** 5 certificates")
    assert done.rstrip().endswith(ATTESTATION)
    assert "Canceled: Re-validate affected domains." in done
    # the markdown a draft produces parses back to the same four fields and the attestation
    back = parse_report(done)["closure_summary"]
    assert back["attestation"] is True and all(back[k] for k in ("root_causes", "remediation", "commitments"))

    open_ = to_closure_markdown(draft_closure_summary(load_report(DATA / "closure-2024.txt")))
    assert ATTESTATION not in open_
    assert "- Hardware security module upgrade (Ongoing, due 2025-09-30)" in open_

    none = to_closure_markdown(draft_closure_summary(load_report(DATA / "closure-no-items.md")))
    assert ATTESTATION not in none and "No action items were found" in none


def test_demo_closure_draft_with_data():
    summary = {
        "compromised_keys": 8,
        "issuances_with_compromised_keys": 41,
        "violating_issuances": 33,
        "remaining_valid": 3,
    }
    draft = draft_closure_summary(load_report(DEMO), summary)
    # every item is Complete or Canceled, but the data shows 3 certificates still valid: no attestation
    assert draft["attestation"] is False
    assert draft["still_valid"] == 3
    assert "Closure cannot be requested yet: the data shows 3 certificates" in to_closure_markdown(draft)
    assert ATTESTATION not in to_closure_markdown(draft)
    assert draft["canceled_items"] == ["Ask the eight subscribers whether their keys were compromised"]
    assert (
        "The data shows 41 certificates on 8 compromised keys, 33 of them issued after the key's compromise."
        in (draft["incident_description"])
    )
    assert draft["root_causes"].startswith(
        "3 contributing factors: The revocation tool pre-selected keyCompromise"
    )
    assert draft["remediation"].endswith("3 certificates on compromised keys still remain valid in the data.")


def test_demo_closure_draft_with_data_as_of_its_snapshot_attests():
    # The demo data is as of 2024-11-01; "Revoke the three remaining certificates ..." is due
    # 2024-11-02 and marked Complete in the 2024-12-13 update: the data predates it, so its 3
    # valid certificates neither confirm nor contradict it, and the CA's attestation stands.
    summary = {"compromised_keys": 8, "issuances_with_compromised_keys": 41, "violating_issuances": 33}
    draft = draft_closure_summary(
        load_report(DEMO), {**summary, "remaining_valid": 3}, data_as_of="2024-11-01"
    )
    assert draft["attestation"] is True
    assert draft["data_predates"] == [
        {
            "item": "Revoke the three remaining certificates on the eight keys with the reason keyCompromise",
            "completed": "2024-11-02",
        }
    ]
    assert to_closure_markdown(draft).rstrip().endswith(ATTESTATION)
    assert "as of 2024-11-01, was gathered before the revocations were completed" in draft["remediation"]


# --- full report skeleton -----------------------------------------------------------------------

TEMPLATE_FIELDS = [
    "CA Owner CCADB unique ID",
    "Incident description",
    "Timeline summary",
    "Non-compliance start date",
    "Non-compliance identified date",
    "Non-compliance end date",
    "Relevant policies",
    "Source of incident disclosure",
    "Total number of certificates",
    'Total number of "remaining valid" certificates',
    "Affected certificate types",
    "Incident heuristic",
    "Was issuance stopped in response to this incident, and why not?",
    "Analysis",
    "Additional considerations",
    "What went well",
    "What didn't go well",
    "Where we got lucky",
    "Additional",
]


def test_full_report_skeleton_has_every_field_and_lints_structurally_clean():
    text = draft_full_report()
    for label in TEMPLATE_FIELDS:
        assert f"**{label}:**" in text
    parsed = parse_report(text)
    assert set(parsed["sections"]) == {
        "Summary",
        "Impact",
        "Timeline",
        "Related Incidents",
        "Root Cause Analysis",
        "Lessons Learned",
        "Action Items",
        "Appendix",
    }
    assert parsed["fields"]["CA Owner CCADB unique ID"] == "N/A"
    codes = {f["code"] for f in lint_report(parsed)}
    assert not codes & {"section.missing", "field.missing"}


def test_full_report_skeleton_from_data_and_an_earlier_report():
    summary = {
        "compromised_keys": 8,
        "issuances_with_compromised_keys": 41,
        "violating_issuances": 33,
        "reused_compromised_keys": 8,
        "revocation_delays": 31,
        "remaining_valid": 3,
    }
    events = [{"when_utc": "2018-12-24T16:00:00+00:00", "text": "Key K1 compromised."}]
    prelim = parse_report(
        "## Preliminary Incident Report\n\n### Summary\n\n- **Incident description:** Keys were reused.\n"
        "- **Relevant policies:** BR 6.1.1.3\n- **Source of incident disclosure:** Third Party Reported\n\n"
        "### Timeline\n\n- 2024-10-26 16:00 UTC+8: Report received.\n"
    )
    text = draft_full_report(prelim, summary, events=events)
    fields = parse_report(text)["fields"]
    assert fields["Incident description"] == "Keys were reused."
    assert fields["Total number of certificates"] == "41"
    assert fields['Total number of "remaining valid" certificates'] == "3"
    assert fields["Analysis"] == (
        "8 compromised keys; 33 of the 41 certificates on them were issued after the compromise "
        "(8 keys reused); 31 revocations later than 24 hours."
    )
    assert "| 2018-12-24T16:00:00+00:00 | Key K1 compromised. |" in text
    assert "| 2024-10-26T08:00:00+00:00 | Report received. |" in text
    assert text.index("Key K1") < text.index("Report received")


# --- appendix -----------------------------------------------------------------------------------


def _rows():
    base = {
        "subject_dn": "CN=a.test",
        "issuer_dn": "CN=Example CA,O=Example,C=US",
        "spki_sha256": "CC" * 32,
        "compromised_at": "2024-06-01T12:00:00Z",
    }
    return [
        # revoked keyCompromise: the certificate that set the compromise time
        {
            **base,
            "precert_sha256": "BB" * 32,
            "cert_sha256": "AA" * 32,
            "serial": "00:1A:2B",
            "san_dns": ["a.test", "www.a.test"],
            "not_before": "2024-01-01T00:00:00Z",
            "not_after": "2025-01-01T00:00:00Z",
            "revoked_at": "2024-06-01T12:00:00Z",
            "revocation_reason": "keyCompromise",
            "violation": False,
        },
        # expired before the analysis time, never revoked
        {
            **base,
            "cert_sha256": "dd" * 32,
            "serial": 255,
            "san_dns": [],
            "not_before": "2023-03-01T00:00:00Z",
            "not_after": "2024-06-20T00:00:00Z",
            "revoked_at": None,
            "violation": False,
        },
        # a violation issued 2024-06-02, still valid and unrevoked on 2024-07-01: Delayed
        {
            **base,
            "cert_sha256": "ee" * 32,
            "serial": "0f",
            "san_dns": "a.test",
            "issued_at": "2024-06-02T00:00:00Z",
            "not_before": "2024-06-02T00:00:00Z",
            "not_after": "2024-09-01T00:00:00Z",
            "violation": True,
        },
        # a violation issued 12 h before the analysis time: Planned
        {
            **base,
            "cert_sha256": "ff" * 32,
            "serial": "10",
            "issued_at": "2024-06-30T12:00:00Z",
            "not_before": "2024-06-30T12:00:00Z",
            "not_after": "2024-09-28T12:00:00Z",
            "violation": True,
        },
    ]


def test_appendix_rows_by_hand():
    rows = appendix_rows(_rows(), as_of="2024-07-01T00:00:00Z")
    assert [r["Is revoked?"] for r in rows] == ["Yes", "N/A", "Delayed", "Planned"]
    first = rows[0]
    assert first == {
        "Precertificate SHA-256 hash": "bb" * 32,
        "Certificate SHA-256 hash": "aa" * 32,
        "Subject": "CN=a.test",
        "Issuer": "CN=Example CA,O=Example,C=US",
        "Not before": "2024-01-01T00:00:00+00:00",
        "Not after": "2025-01-01T00:00:00+00:00",
        "Serial # (hex)": "1a2b",
        "dNSNames": "a.test, www.a.test",
        "Is revoked?": "Yes",
        "Revocation date": "2024-06-01T12:00:00+00:00",
        "Revocation reason": "keyCompromise",
        "SPKI SHA-256": "cc" * 32,
        "compromised_at": "2024-06-01T12:00:00+00:00",
        "violation": "false",
    }
    assert rows[1]["Serial # (hex)"] == "ff" and rows[1]["dNSNames"] == ""
    assert rows[1]["Revocation date"] == "" and rows[1]["Revocation reason"] == ""


def test_appendix_planned_within_24h_of_compromise_for_earlier_certificates():
    row = {
        "cert_sha256": "ab" * 32,
        "serial": "1",
        "not_before": "2024-01-01T00:00:00Z",
        "not_after": "2025-01-01T00:00:00Z",
        "compromised_at": "2024-06-30T06:00:00Z",
        "violation": False,
    }
    assert appendix_rows([row], as_of="2024-07-01T00:00:00Z")[0]["Is revoked?"] == "Planned"
    assert appendix_rows([row], as_of="2024-07-01T06:00:01Z")[0]["Is revoked?"] == "Delayed"


def test_appendix_csv_columns_in_order():
    text = to_appendix_csv(_rows(), as_of="2024-07-01T00:00:00Z")
    header = next(csv.reader(io.StringIO(text)))
    assert header == [
        "Precertificate SHA-256 hash",
        "Certificate SHA-256 hash",
        "Subject",
        "Issuer",
        "Not before",
        "Not after",
        "Serial # (hex)",
        "dNSNames",
        "Is revoked?",
        "Revocation date",
        "Revocation reason",
        "SPKI SHA-256",
        "compromised_at",
        "violation",
    ]
    assert header == [*APPENDIX_COLUMNS, *CUSTOM_COLUMNS]
    assert len(list(csv.DictReader(io.StringIO(text)))) == 4


def test_appendix_switches_to_crtsh_links_at_the_limit():
    text = to_appendix(_rows(), limit=3)
    assert text.splitlines() == [f"https://crt.sh/?sha256={h * 32}" for h in ("aa", "dd", "ee", "ff")]


# --- the command line ---------------------------------------------------------------------------


def run(capsys, *argv):
    status = main(["report", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_parse_json(capsys):
    status, out, _ = run(capsys, "parse", str(DATA / "closure-2024.txt"))
    assert status == 0
    obj = json.loads(out)
    assert obj["schema_version"] == 1 and obj["kind"] == "closure"
    assert obj["closure_summary"]["attestation"] is True


def test_cli_parse_nothing_recognised_exits_0(capsys):
    status, out, _ = run(capsys, "parse", str(DATA / "nothing.txt"))
    obj = json.loads(out)
    assert status == 0 and obj["kind"] is None and obj["problems"][0]["code"] == "report.unrecognised"


def test_cli_parse_markdown(capsys):
    status, out, _ = run(capsys, "parse", str(DATA / "bug-page.txt"), "--format", "markdown")
    assert status == 0 and out.startswith("# Parsed incident report (mixed)")


def test_cli_unreadable_file_exits_2(capsys, tmp_path):
    status, _, err = run(capsys, "parse", str(tmp_path / "missing.md"))
    assert status == 2 and "cannot read" in err
    status, _, err = run(capsys, "lint")
    assert status == 2 and "no report" in err


# plain-v20 (filed under guidelines 2.0) has only a warning now: exit 0
@pytest.mark.parametrize("name, status", [("full-v32.md", 0), ("plain-v20.txt", 0), ("closure-2024.txt", 1)])
def test_cli_lint_exit_status(capsys, name, status):
    got, out, _ = run(capsys, "lint", str(DATA / name), "--format", "json")
    assert got == status
    obj = json.loads(out)
    assert [f["code"] for f in obj["findings"]] == [f["code"] for f in lint_report(load_report(DATA / name))]
    assert obj["summary"]["error"] == sum(f["severity"] == "error" for f in obj["findings"])


def test_cli_closure_summary(capsys):
    status, out, _ = run(capsys, "closure-summary", str(DATA / "closure-current.md"))
    assert status == 0 and out.rstrip().endswith(ATTESTATION)
    status, out, _ = run(capsys, "closure-summary", str(DATA / "closure-2024.txt"), "--format", "json")
    assert status == 0 and json.loads(out)["attestation"] is False


def test_cli_draft_needs_something(capsys):
    status, _, err = run(capsys, "draft")
    assert status == 2 and "nothing to draft from" in err
    status, _, err = run(capsys, "appendix")
    assert status == 2 and "key-reuse inputs" in err


# The demo end to end: the figures are the demo README's hand-worked ones (as of 2024-11-01).


def test_demo_lint_with_data_warns_that_the_data_predates_the_revocation(capsys):
    # the demo's last update marks "Revoke the three remaining certificates ..." (due 2024-11-02)
    # Complete while the demo data, as of 2024-11-01, still has 3 valid certificates on compromised
    # keys: the data is older than the revocation, so one warning (not an error), nothing else
    status, out, _ = run(capsys, "lint", "--demo", "--format", "json")
    obj = json.loads(out)
    assert status == 0, obj["findings"]
    assert [(f["code"], f["severity"]) for f in obj["findings"]] == [
        ("action_item.unconfirmed_by_data", "warning")
    ]
    assert obj["findings"][0]["message"].startswith("Action item 'Revoke the three remaining")
    assert "after the data's date (2024-11-01)" in obj["findings"][0]["message"]
    assert obj["data"]["issuances_with_compromised_keys"] == 41 and obj["data"]["remaining_valid"] == 3


def test_demo_appendix(capsys, tmp_path):
    out_path = tmp_path / "appendix.csv"
    status, _, _ = run(capsys, "appendix", "--demo", "--out", str(out_path))
    assert status == 0
    rows = list(csv.DictReader(out_path.open(newline="", encoding="utf-8")))
    assert len(rows) == 41
    assert Counter(r["Is revoked?"] for r in rows) == {"Yes": 15, "N/A": 23, "Delayed": 3}
    assert Counter(r["violation"] for r in rows) == {"true": 33, "false": 8}
    assert len({r["SPKI SHA-256"] for r in rows}) == 8
    # 8 pairs among the issuances on the 8 keys carry both hashes (K1-r2, K1-r4, K2-r4, K3-r2,
    # K4-r4, K5-r3, K6-r3, K7-r3, K8-0 are the pairs: 9)
    assert sum(bool(r["Precertificate SHA-256 hash"] and r["Certificate SHA-256 hash"]) for r in rows) == 9
    k1_0 = next(r for r in rows if r["Serial # (hex)"] == "f9e576ad1055c4943117ba1e0d22b6ca")
    assert (k1_0["Is revoked?"], k1_0["Revocation date"], k1_0["Revocation reason"]) == (
        "Yes",
        "2018-12-24T16:00:00+00:00",
        "keyCompromise",
    )
    k4 = next(r for r in rows if r["Serial # (hex)"] == "802ea83f4b7ca9ed817f2a397d8bf77")
    assert k4["Serial # (hex)"] == "802ea83f4b7ca9ed817f2a397d8bf77"  # 31 hex digits, no leading zero


def test_demo_draft(capsys):
    status, out, _ = run(capsys, "draft", "--demo")
    assert status == 0
    fields = parse_report(out)["fields"]
    assert fields["Total number of certificates"] == "41"
    assert fields['Total number of "remaining valid" certificates'] == "3"
    assert "| 2018-12-24T16:00:00+00:00 | Key 08a21aba99e8ddd5" in out
    assert "/work/" not in out and "data/demo" not in out  # no local paths in a draft
    # --demo promises the demo incident: its report's own words fill the fields the data cannot
    assert fields["CA Owner CCADB unique ID"] == "A999901"
    assert fields["Source of incident disclosure"] == "Third Party Reported"


# --bug against a local server that answers like Bugzilla's REST API


class _Bugzilla(BaseHTTPRequestHandler):
    comments: list = []

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/rest/bug/1999998/comment"):
            body = json.dumps({"bugs": {"1999998": {"comments": self.comments}}, "comments": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        else:
            body = b'{"error": true, "code": 101, "message": "Bug does not exist."}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bugzilla():
    _Bugzilla.comments = json.loads((DATA / "comments.json").read_text())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bugzilla)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_cli_bug_reads_comments(capsys, tmp_path, bugzilla):
    status, out, err = run(
        capsys, "parse", "--bug", "1999998", "--bugzilla-url", bugzilla, "--cache-dir", str(tmp_path)
    )
    assert status == 0, err
    obj = json.loads(out)
    assert obj["source"] == "bug 1999998"
    assert [c["kind"] for c in obj["comments"]] == ["preliminary", "other", "full", "closure"]
    assert obj["action_items"][0]["status"] == "Complete"


def test_cli_bug_and_file_together_is_a_usage_error(capsys):
    status, _, err = run(capsys, "parse", str(DATA / "nothing.txt"), "--bug", "1")
    assert status == 2 and "not both" in err
