"""Build the demo's small fictional Bugzilla corpus (every name, address and word is made up).

Three fictional CAs -- Example Trust (the demo incident's CA), Sample Certs and Demo PKI -- and ten
bugs chosen so that every metric of `ca-incidents incidents summary` has something to show: a
multi-CA title, a " - " title, a title without a CA, a case variant, a misspelt tag, a placeholder,
Next-update dates in several forms, a "[close on ...]", open and closed bugs, a duplicate, a
resolution time known only from the history, and each deadline rule both kept and missed.

    python data/demo/corpus/build_corpus.py [--out DIR]     # default: this folder

Writes bugs.json (REST search shape) and <id>/{bug,comments,history,attachments}.json in the layout
that `ca-incidents fetch bug ID --out DIR` writes (see analysis/incidents.py). Deterministic: the same
bytes every run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

ET = "compliance@exampletrust.example"
SC = "bob@samplecerts.example"
DP = "carol@demopki.example"
RP = "dave@rootprogram.example"
RS = "alice@researcher.example"
WB1 = "[ca-compliance] [dv-misissuance] [leaf-revocation-delay]"

BUGS = [
    {
        "id": 9100001,
        "summary": "Example Trust: Certificates issued on keys previously revoked for key compromise",
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": WB1 + " [close on 2025-03-19]",
        "creation_time": "2024-10-28T03:00:00Z",
        "cf_last_resolved": "2025-03-20T03:00:00Z",
        "creator": ET,
        "assigned_to": ET,
    },
    {
        "id": 9100002,
        "summary": "Example Trust: OCSP responder answers 'unknown' for revoked certificates",
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": "[ca-compliance] [ocsp-failure]",
        "creation_time": "2023-05-10T12:00:00Z",
        "cf_last_resolved": None,
        "creator": RS,
        "assigned_to": ET,
    },
    {
        "id": 9100003,
        "summary": "Sample Certs: Delayed revocation of certificates with a wrong organizationName",
        "status": "ASSIGNED",
        "resolution": "",
        "whiteboard": "[ca-compliance] [leaf-revocation-delay] [ov misissuance] Next update 2025-09-30",
        "creation_time": "2025-06-02T09:00:00Z",
        "cf_last_resolved": None,
        "creator": SC,
        "assigned_to": SC,
    },
    {
        "id": 9100004,
        "summary": "Demo PKI - CRL not reissued within the required interval",
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": "[ca-compliance] [crl-failure] [close on 2025-05-20]",
        "creation_time": "2025-04-01T00:00:00Z",
        "cf_last_resolved": "2025-05-21T00:00:00Z",
        "creator": DP,
        "assigned_to": DP,
    },
    {
        "id": 9100005,
        "summary": "Example Trust / Sample Certs: Cross-certificate not disclosed in CCADB",
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": "[ca-compliance] [disclosure failure] [external]",
        "creation_time": "2024-02-14T00:00:00Z",
        "cf_last_resolved": "2024-03-15T00:00:00Z",
        "creator": RP,
        "assigned_to": ET,
    },
    {
        "id": 9100006,
        "summary": "EXAMPLE TRUST: Audit statement delivered late",
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": "[ca-compliance] [audit-delay]",
        "creation_time": "2023-01-20T00:00:00Z",
        "cf_last_resolved": "2023-02-19T00:00:00Z",
        "creator": ET,
        "assigned_to": ET,
    },
    {
        "id": 9100007,
        "summary": "Sample Certs: Revocation of mis-issued certificates not yet done",
        "status": "RESOLVED",
        "resolution": "DUPLICATE",
        "whiteboard": "[ca-compliance] [__-misissuance]",
        "creation_time": "2025-06-03T00:00:00Z",
        "cf_last_resolved": "2025-06-04T00:00:00Z",
        "creator": "erin@researcher.example",
        "assigned_to": SC,
    },
    {
        "id": 9100008,
        "summary": "Certificates with an invalid dNSName after a problem report",
        "status": "UNCONFIRMED",
        "resolution": "",
        "whiteboard": "[ca-compliance] [dv-misissuance] Next update 12-Dec-2025",
        "creation_time": "2025-11-05T00:00:00Z",
        "cf_last_resolved": None,
        "creator": "frank.reporter@gmail.com",
        "assigned_to": "nobody@mozilla.org",
    },
    {
        "id": 9100009,
        "summary": "Demo PKI: Incorrect keyUsage in S/MIME certificates",
        "status": "ASSIGNED",
        "resolution": "",
        "whiteboard": "[ca-compliance] [smime-misissuance] Next update 2026-Feb-20",
        "creation_time": "2026-01-12T00:00:00Z",
        "cf_last_resolved": None,
        "creator": DP,
        "assigned_to": DP,
    },
    {
        "id": 9100010,
        "summary": "Demo PKI: Policy documents not reviewed within 365 days",
        "status": "RESOLVED",
        "resolution": "FIXED",
        "whiteboard": "[ca-compliance] [policy-failure]",
        "creation_time": "2024-07-01T00:00:00Z",
        "cf_last_resolved": "2024-07-21T00:00:00Z",
        "creator": DP,
        "assigned_to": DP,
    },
]

PRELIM_1 = """## Preliminary Incident Report

### Summary

- **Incident description:** Our certificate tooling accepted public keys that had earlier been revoked
  for key compromise, because the revocation reason had been set by a faulty default. We found
  certificates issued on eight such keys.
- **Relevant policies:** TLS Baseline Requirements 6.1.1.3 item 4.
- **Source of incident disclosure:** Self Reported

A full report will follow within 14 days."""

FULL_1 = """## Full Incident Report

### Summary

- **CA Owner CCADB unique ID:** A009999
- **Incident description:** Certificates were issued on 8 keys that our own CRLs listed as compromised.
- **Timeline summary:** non-compliance started 2018-12-24; identified 2024-10-26; ended 2024-10-29.
- **Relevant policies:** TLS BR 6.1.1.3 item 4; BR 4.9.1.1.
- **Source of incident disclosure:** Self Reported

### Impact

- **Total number of certificates:** 33
- **Total number of "remaining valid" certificates:** 0

### Timeline

All times are UTC+8.

| Date | Event |
|---|---|
| 2024-10-26 10:00 | A reviewer notices a reissued certificate on a revoked key. |
| 2024-10-29 18:00 | Issuance on the affected keys is blocked. |

### Root Cause Analysis

**Contributing Factor 1: revocation reason defaulted to keyCompromise.**

### Lessons Learned

- **What went well:** the block was in place within three days.

### Action Items

| Action Item | Kind | Corresponding Root Cause(s) | Evaluation Criteria | Due Date | Status |
|---|---|---|---|---|---|
| Check new keys against every keyCompromise revocation | Prevent | 1 | Test suite | 2025-01-31 | Ongoing |"""

CLOSURE_1 = """### Report Closure Summary

- **Incident description:** certificates were issued on keys our CRLs listed as compromised.
- **Incident Root Cause(s):** a default revocation reason, and no check of new keys against it.
- **Remediation description:** corrected the reasons; new keys are checked against all revocations.
- **Commitment summary:** every key is checked before issuance, and the check is tested daily.

All Action Items disclosed in this report have been completed as described, and we request its closure."""

OLD_REPORT_2 = """Incident Report

Summary
The OCSP responder for one issuing CA answered "unknown" for certificates revoked after a migration.

Impact
About 1,200 revoked certificates were reported as unknown for 9 days.

Timeline
2023-05-10 report received from a researcher
2023-05-12 cause found in the responder's data import

Root Cause Analysis
The import job skipped rows with an empty reason code.

Lessons Learned
Monitoring did not compare the responder with the CRL.

Action Items
Compare OCSP and CRL status hourly - Detect - done"""


def c(count: int, who: str, when: str, text: str) -> dict:
    return {
        "id": 90000000 + count,  # replaced per bug below
        "count": count,
        "creator": who,
        "creation_time": when,
        "text": text,
        "is_markdown": True,
    }


COMMENTS: dict[int, list[dict]] = {
    9100001: [
        c(0, ET, "2024-10-28T03:00:00Z", PRELIM_1),
        c(1, ET, "2024-11-03T08:00:00Z", FULL_1),
        c(
            2,
            RP,
            "2024-11-05T10:00:00Z",
            "Please say how the eight keys were found, and whether others exist.",
        ),
        c(3, ET, "2024-11-09T08:00:00Z", "We searched all keys ever revoked for key compromise; only eight."),
        c(
            4,
            ET,
            "2024-11-15T08:00:00Z",
            "The key check is being built; we ask for a next update on 2025-01-15.",
        ),
        c(
            5,
            ET,
            "2025-01-15T07:00:00Z",
            "The key check is deployed in production and covers all issuing CAs.",
        ),
        c(6, ET, "2025-01-22T06:00:00Z", "Monitoring of the key check is live. Next update by 2025-03-01."),
        c(7, ET, "2025-02-28T10:00:00Z", CLOSURE_1),
        c(8, RP, "2025-03-20T03:00:00Z", "Thank you; closing this bug."),
    ],
    9100002: [
        c(
            0,
            RS,
            "2023-05-10T12:00:00Z",
            "The OCSP responder says 'unknown' for serials listed on the current CRL.",
        ),
        c(1, ET, "2023-05-15T12:00:00Z", "Thank you, we are looking into it."),
        c(2, ET, "2023-05-30T12:00:00Z", OLD_REPORT_2),
        c(3, ET, "2023-06-20T12:00:00Z", "The hourly comparison has run without a difference for two weeks."),
        c(4, RP, "2023-07-09T12:00:00Z", "Closing as fixed."),
    ],
    9100003: [
        c(
            0,
            SC,
            "2025-06-02T09:00:00Z",
            "## Preliminary Incident Report\n\n### Summary\n\n- **Incident description:** 40 certificates carry a "
            "misspelt organizationName; revocation will take longer than 5 days.\n"
            "- **Source of incident disclosure:** Self Reported",
        ),
        c(
            1,
            SC,
            "2025-06-12T09:00:00Z",
            "## Full Incident Report\n\n### Summary\n\nThe organization name was typed by hand.\n\n### Impact\n\n"
            "40 certificates; 12 revoked, 28 not yet revoked, 0 expired.",
        ),
        c(2, SC, "2025-06-19T09:00:00Z", "Revoked: 30. Not yet revoked: 10. Expired: 0."),
    ],
    9100004: [
        c(
            0,
            DP,
            "2025-04-01T00:00:00Z",
            "## Full Incident Report\n\n### Summary\n\nOne CRL was published 2 hours after its nextUpdate.",
        ),
        c(1, DP, "2025-04-07T00:00:00Z", "The publication job now alerts 24 hours before nextUpdate."),
        c(2, DP, "2025-04-14T00:00:00Z", "No change this week; the alert has fired as expected in tests."),
        c(3, RP, "2025-04-16T00:00:00Z", "Does the alert cover every CRL shard?"),
        c(4, DP, "2025-04-21T00:00:00Z", "Yes, all 16 shards are covered."),
        c(5, DP, "2025-04-28T00:00:00Z", "Action items on track."),
        c(6, DP, "2025-05-05T00:00:00Z", "Action items on track."),
        c(7, DP, "2025-05-12T00:00:00Z", "All action items are complete."),
        c(8, DP, "2025-05-19T00:00:00Z", "Nothing further from us."),
        c(9, RP, "2025-05-21T00:00:00Z", "Closing."),
    ],
    9100007: [
        c(
            0,
            "erin@researcher.example",
            "2025-06-03T00:00:00Z",
            "Sample Certs has not revoked the certificates.",
        ),
        c(1, RP, "2025-06-04T00:00:00Z", "This is tracked in bug 9100003."),
    ],
    9100008: [
        c(
            0,
            "frank.reporter@gmail.com",
            "2025-11-05T00:00:00Z",
            "A certificate has a dNSName ending in a dot.",
        ),
    ],
}

HISTORY: dict[int, list[dict]] = {
    9100001: [
        {
            "when": "2024-10-28T05:00:00Z",
            "who": RP,
            "changes": [{"field_name": "status", "removed": "UNCONFIRMED", "added": "ASSIGNED"}],
        },
        {
            "when": "2024-11-15T12:00:00Z",
            "who": RP,
            "changes": [
                {"field_name": "whiteboard", "removed": WB1, "added": WB1 + " Next update 2025-01-15"}
            ],
        },
        {
            "when": "2025-01-22T09:00:00Z",
            "who": RP,
            "changes": [
                {
                    "field_name": "whiteboard",
                    "removed": WB1 + " Next update 2025-01-15",
                    "added": WB1 + " Next update 2025-03-01",
                }
            ],
        },
        {
            "when": "2025-03-05T12:00:00Z",
            "who": RP,
            "changes": [
                {
                    "field_name": "whiteboard",
                    "removed": WB1 + " Next update 2025-03-01",
                    "added": WB1 + " [close on 2025-03-19]",
                }
            ],
        },
        {
            "when": "2025-03-20T03:00:00Z",
            "who": RP,
            "changes": [
                {"field_name": "status", "removed": "ASSIGNED", "added": "RESOLVED"},
                {"field_name": "resolution", "removed": "", "added": "FIXED"},
            ],
        },
    ],
    9100002: [
        {
            "when": "2023-05-11T08:00:00Z",
            "who": RP,
            "changes": [{"field_name": "status", "removed": "UNCONFIRMED", "added": "ASSIGNED"}],
        },
        {
            "when": "2023-07-09T12:00:00Z",
            "who": RP,
            "changes": [
                {"field_name": "status", "removed": "ASSIGNED", "added": "RESOLVED"},
                {"field_name": "resolution", "removed": "", "added": "FIXED"},
            ],
        },
    ],
    9100004: [
        {
            "when": "2025-05-21T00:00:00Z",
            "who": RP,
            "changes": [
                {"field_name": "status", "removed": "ASSIGNED", "added": "RESOLVED"},
                {"field_name": "resolution", "removed": "", "added": "FIXED"},
            ],
        }
    ],
    9100007: [
        {
            "when": "2025-06-04T00:00:00Z",
            "who": RP,
            "changes": [
                {"field_name": "status", "removed": "UNCONFIRMED", "added": "RESOLVED"},
                {"field_name": "resolution", "removed": "", "added": "DUPLICATE"},
            ],
        }
    ],
}

ATTACHMENTS: dict[int, list[dict]] = {
    9100001: [
        {
            "id": 9500001,
            "bug_id": 9100001,
            "file_name": "affected-certificates.csv",
            "content_type": "text/csv",
            "size": 4096,
            "is_obsolete": 0,
            "creation_time": "2024-11-03T08:00:00Z",
            "creator": ET,
            "summary": "Certificates issued on the eight keys",
        }
    ]
}


def _dump(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build(out: Path) -> list[Path]:
    """Write the corpus under `out`; returns the files written."""
    written = []
    search = [{k: v for k, v in b.items()} for b in BUGS]
    _dump(out / "bugs.json", {"bugs": search})
    written.append(out / "bugs.json")
    for bug in BUGS:
        bid = bug["id"]
        if bid not in COMMENTS:
            continue
        d = out / str(bid)
        comments = []
        for cm in COMMENTS[bid]:
            comments.append({**cm, "id": bid * 100 + cm["count"], "bug_id": bid})
        files = {
            "bug.json": {"bugs": [bug]},
            "comments.json": {"bugs": {str(bid): {"comments": comments}}},
            "history.json": {"bugs": [{"id": bid, "alias": None, "history": HISTORY.get(bid, [])}]},
            "attachments.json": {"bugs": {str(bid): ATTACHMENTS.get(bid, [])}, "attachments": {}},
        }
        if bid == 9100003:
            del files["history.json"]  # a bug fetched without its history
        for name, obj in files.items():
            _dump(d / name, obj)
            written.append(d / name)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    for p in build(args.out):
        print(p)


if __name__ == "__main__":
    main()
