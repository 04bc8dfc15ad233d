"""The events frame from the demo data and the demo report (counts from data/demo/README.md and
the report's Timeline table, read by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.demo import demo_as_of, demo_paths
from analysis.inputs import load_keyreuse_inputs
from analysis.reports import load_report
from analysis.timeline import EVENT_COLUMNS, build_events, data_events, report_events


@pytest.fixture(scope="module")
def findings():
    d = demo_paths()
    return load_keyreuse_inputs(d["certs"], d["crls"]).analyse(as_of=demo_as_of())


def test_data_events_of_the_compromised_keys(findings):
    ev = data_events(findings)
    counts = ev["kind"].value_counts().to_dict()
    # 41 issuances on the 8 keys; 15 of them revoked (8 first keyCompromise + 7 later; the
    # appendix's "Is revoked? Yes" count); 8 compromise times.
    assert counts == {"issuance": 41, "revocation": 15, "compromise": 8}
    assert list(ev.columns) == EVENT_COLUMNS
    first = ev[ev["kind"] == "compromise"]["time"].min()
    assert first == pd.Timestamp("2018-12-24T16:00:00Z")


def test_report_events_keep_stated_time_and_utc():
    rep = load_report(demo_paths()["report"][0])
    ev = report_events(rep)
    assert len(ev) == 8  # the eight rows of the demo report's Timeline table
    row = ev.iloc[3]
    assert row["stated"] == "2024-10-26T16:00:00+08:00"
    assert row["time"] == pd.Timestamp("2024-10-26T08:00:00Z")
    assert row["source"] == "report line 55"


def test_build_events_orders_and_merges(findings):
    rep = load_report(demo_paths()["report"][0])
    ev = build_events(findings, rep)
    assert len(ev) == 41 + 15 + 8 + 8
    assert ev["time"].is_monotonic_increasing
    # the key filter narrows data events only
    one = findings.keys.iloc[0]["spki_sha256"]
    ev1 = build_events(findings, rep, keys=[one])
    assert set(ev1.loc[ev1["kind"] != "report", "key"]) == {one}


def test_empty_inputs_give_an_empty_frame():
    ev = build_events()
    assert ev.empty and list(ev.columns) == EVENT_COLUMNS
