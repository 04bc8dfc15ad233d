"""The demo incident through the key-reuse engine: the figures the issue and data/demo/README.md
state (worked out by hand from the incident's design), per key and per violation."""

from __future__ import annotations

import json

import pytest

from analysis.commands.keyreuse import to_table
from analysis.demo import DEMO_DIR, demo_as_of, demo_paths
from analysis.inputs import load_keyreuse_inputs

EXPECTED = json.loads((DEMO_DIR / "expected.json").read_text())


@pytest.fixture(scope="module")
def findings():
    d = demo_paths()
    inputs = load_keyreuse_inputs(d["certs"], d["crls"])
    return inputs.analyse(as_of=demo_as_of())


def test_issue_figures(findings):
    s = findings.summary
    # Stated in the Foundation issue.
    assert (s["compromised_keys"], s["issuances_with_compromised_keys"]) == (8, 41)
    assert (s["violating_issuances"], s["reused_compromised_keys"]) == (33, 8)


def test_all_figures_from_the_demo_readme(findings):
    assert findings.summary == {
        "certificate_entries": 106,
        "distinct_certificates": 104,
        "issuances": 84,
        "distinct_keys": 51,
        "compromised_keys": 8,
        "issuances_with_compromised_keys": 41,
        "violating_issuances": 33,
        "reused_compromised_keys": 8,
        "revocation_delays": 31,
        "remaining_valid": 3,
    }
    assert findings.problems == []


def test_compromise_times_per_key(findings):
    got = {k["spki_sha256"]: k["compromised_at"] for k in findings.to_dict()["keys"] if k["compromised_at"]}
    want = {k["spki_sha256"]: k["compromised_at"] for k in EXPECTED["keys"]}
    assert got == want
    assert min(got.values()) == "2018-12-24T16:00:00+00:00"


def test_violations_are_the_designed_ones(findings):
    from analysis.names import common_name

    got = {
        (common_name(v["issuer_dn"]), v["serial"], v["issued_at"], v["same_issuer"], v["before_br_6_1_1_3_4"])
        for v in findings.to_dict()["violations"]
    }
    want = {
        (v["issuer_cn"], v["serial"], v["issued_at"], v["same_issuer"], v["before_br_6_1_1_3_4"])
        for v in EXPECTED["violations"]
    }
    assert len(want) == 33 and got == want


def test_scope_issuer_keeps_only_same_issuer_compromise():
    d = demo_paths()
    f = load_keyreuse_inputs(d["certs"], d["crls"]).analyse(scope="issuer", as_of=demo_as_of())
    # data/demo/README.md: 7 violations have same_issuer false -> 26 remain, all 8 keys still reused.
    assert f.summary["violating_issuances"] == 26
    assert f.summary["reused_compromised_keys"] == 8


def test_table_lists_reused_keys(findings):
    text = to_table(findings)
    assert "violating issuances" in text and "Reused compromised keys (8)" in text
