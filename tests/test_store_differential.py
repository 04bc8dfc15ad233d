"""The store's SQL (DuckDB) against the pandas path: identical findings on every key-reuse scenario.

Every test of tests/test_keyreuse.py runs again here with its `run` helper replaced by one that
also ingests the same frames into a store, runs the rules SQL, and requires the whole JSON object
to be identical (except `inputs`, which names the store's ingests). The hand-worked assertions of
those tests still apply to the pandas result, so a scenario checks both the rules and the match.
Then the demo incident (files -> store), and hypothesis-generated scenarios aimed at the rules'
edges: precert pairs, shared serials, cross-issuer compromise, holds and removals, boundary times.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.keyreuse import find_key_reuse
from analysis.schema import coerce_certificates, coerce_compromised_keys, coerce_revocations
from analysis.store import find_key_reuse_store, ingest_frames

pytest.importorskip("duckdb")

HERE = Path(__file__).parent


def _load_rules_tests():
    spec = importlib.util.spec_from_file_location("_keyreuse_rules_cases", HERE / "test_keyreuse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _load_rules_tests()
CASE_NAMES = sorted(n for n in dir(CASES) if n.startswith("test_"))


def both(certs: pd.DataFrame, revs: pd.DataFrame | None, comp: pd.DataFrame | None, **kw):
    """(pandas findings, store findings) for the same frames. The store is analysed twice: in one
    unit of work, and with units of one entry (every SPKI-prefix partition alone, split by key hash
    into as many parts as it has entries), which must not change a thing."""
    pandas_findings = find_key_reuse(certs, revs, comp, **kw)
    with tempfile.TemporaryDirectory(prefix="store-") as d:
        ingest_frames(d, certificates=certs, revocations=revs, compromised=comp)
        store_findings = find_key_reuse_store(d, all_keys=True, **kw)
        split_findings = find_key_reuse_store(d, all_keys=True, unit_rows=1, **kw)
    assert_identical(pandas_findings, split_findings)
    return pandas_findings, store_findings


def assert_identical(a, b) -> None:
    da, db = a.to_dict(), b.to_dict()
    da.pop("inputs"), db.pop("inputs")
    for key in da:
        assert db[key] == da[key], key
    assert set(da) == set(db)


def differential_run(certs, revs=(), comp=(), **kw):
    kw.setdefault("as_of", CASES.AS_OF)
    c = coerce_certificates(pd.DataFrame(certs))
    r = coerce_revocations(pd.DataFrame(list(revs))) if revs else None
    k = coerce_compromised_keys(pd.DataFrame(list(comp))) if comp else None
    a, b = both(c, r, k, **kw)
    assert_identical(a, b)
    return a


@pytest.mark.parametrize("name", CASE_NAMES)
def test_every_rules_scenario_gives_identical_findings(name, monkeypatch):
    monkeypatch.setattr(CASES, "run", differential_run)
    getattr(CASES, name)()


def test_the_cases_were_found():
    # One scenario per rules-table row and more: a rename must not silently empty this file.
    assert len(CASE_NAMES) >= 25


def test_demo_incident_identical_from_files_and_store(tmp_path):
    from analysis.demo import demo_as_of, demo_paths
    from analysis.inputs import load_keyreuse_inputs
    from analysis.store import ingest

    d = demo_paths()
    ingest(tmp_path / "s", certs=d["certs"], crls=d["crls"])
    for scope in ("global", "issuer"):
        a = load_keyreuse_inputs(d["certs"], d["crls"]).analyse(scope=scope, as_of=demo_as_of())
        b = find_key_reuse_store(tmp_path / "s", scope=scope, as_of=demo_as_of(), all_keys=True)
        assert b.to_dict() == a.to_dict()  # inputs too: the store lists the same files and entries
    # The figures, stated by the demo's design (data/demo/README.md).
    s = b.summary
    assert (s["compromised_keys"], s["violating_issuances"], s["reused_compromised_keys"]) == (8, 26, 8)


# --- generated scenarios ----------------------------------------------------------------------

CA_A = "CN=Example CA A,O=Example Trust,C=US"
CA_A_CRTSH = "C=US, O=Example Trust, CN=Example CA A"  # same issuer, crt.sh's spelling
CA_B = "CN=Example CA B,O=Example Trust,C=US"
KEYS = ["a" * 64, "b" * 64, "c" * 64, "d" * 64]  # the last one never has a certificate
T0 = dt.datetime(2020, 10, 17, tzinfo=dt.UTC)
# Times on a 12-hour grid across the BR 6.1.1.3(4) date (2020-10-19T00:00Z): equal times, the 24 h
# deadline exactly, and the rule's effective date all occur.
TIMES = [T0 + dt.timedelta(hours=12 * i) for i in range(9)]
REASONS = {0: "unspecified", 1: "keyCompromise", 4: "superseded", 6: "certificateHold", 8: "removeFromCRL"}

times = st.sampled_from(TIMES)
maybe_time = st.one_of(st.none(), times)


@st.composite
def certificate(draw, n: int):
    nb = draw(times)
    return {
        "cert_sha256": f"{n:064x}",
        "spki_sha256": draw(st.sampled_from(KEYS[:3])),
        "issuer_dn": draw(st.sampled_from([CA_A, CA_A, CA_A_CRTSH, CA_B])),
        "serial": draw(st.sampled_from(["1", "2", "3"])),
        "subject_dn": "CN=www.example.test",
        "subject_cn": "www.example.test",
        "san_dns": ["www.example.test"],
        "not_before": nb,
        "not_after": nb + draw(st.sampled_from([dt.timedelta(hours=h) for h in (12, 24, 36, 96)])),
        "is_precert": draw(st.booleans()),
        "is_ca": draw(st.sampled_from([False, False, False, True])),
        "key_type": "EC-P256",
        "crtsh_id": draw(st.one_of(st.none(), st.integers(1, 5))),
        "first_seen": draw(maybe_time),
        "source": f"gen#block {n}",
        "sct_time": draw(maybe_time),
    }


@st.composite
def scenario(draw):
    distinct = [draw(certificate(n)) for n in range(draw(st.integers(1, 7)))]
    # Entries: every certificate once, some again (a certificate read twice is one certificate).
    order = list(range(len(distinct))) + draw(st.lists(st.integers(0, len(distinct) - 1), max_size=3))
    order = draw(st.permutations(order))
    certs = [dict(distinct[i]) for i in order]
    revs = [
        {
            "issuer_dn": draw(
                st.sampled_from([CA_A, CA_A_CRTSH, CA_B, "Example CA B", "Nobody CA"])
            ),  # bare CNs resolve against loaded issuers, or are skipped and reported
            "serial": draw(st.sampled_from(["1", "2", "3"])),
            "revoked_at": draw(times),
            "reason_code": (code := draw(st.sampled_from(list(REASONS)))),
            "reason": REASONS[code],
            "source": f"crl:gen.crl#{i}",
        }
        for i in range(draw(st.integers(0, 6)))
    ]
    # The same entry again in a second CRL snapshot: several sources for one issuance, equal times.
    for i in draw(st.lists(st.integers(0, len(revs) - 1), max_size=2)) if revs else []:
        revs.append({**revs[i], "source": f"crl:snapshot2.crl#{i}"})
    comp = [
        {
            "spki_sha256": draw(st.sampled_from(KEYS)),
            "reported_at": draw(maybe_time),
            "source": f"list:k.csv line {i}",
        }
        for i in range(draw(st.integers(0, 3)))
    ]
    return certs, revs, comp, draw(st.sampled_from(["global", "issuer"])), draw(times)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_generated_scenarios_give_identical_findings(case):
    certs, revs, comp, scope, as_of = case
    c = coerce_certificates(pd.DataFrame(certs))
    r = coerce_revocations(pd.DataFrame(revs)) if revs else None
    k = coerce_compromised_keys(pd.DataFrame(comp)) if comp else None
    a, b = both(c, r, k, scope=scope, as_of=as_of)
    assert_identical(a, b)


# --- the command line: the same bytes from files and from a store -----------------------------


def test_keyreuse_store_prints_the_same_output_as_from_files(tmp_path, capsys):
    from analysis.cli import main
    from analysis.demo import demo_paths

    d = demo_paths()
    certs, crls = str(d["certs"][0]), str(d["crls"][0].parent)
    assert main(["ingest", "--store", str(tmp_path / "s"), "--certs", certs, "--crl", crls]) == 0
    capsys.readouterr()
    out = {}
    for fmt in ("json", "csv", "table"):
        assert (
            main(["keyreuse", "--certs", certs, "--crl", crls, "--as-of", "2024-11-01", "--format", fmt]) == 0
        )
        from_files = capsys.readouterr().out
        assert (
            main(["keyreuse", "--store", str(tmp_path / "s"), "--as-of", "2024-11-01", "--format", fmt]) == 0
        )
        out[fmt] = capsys.readouterr().out
        assert out[fmt] == from_files, fmt
    d = json.loads(out["json"])
    assert d["summary"]["violating_issuances"] == 33 and len(d["keys"]) == 51  # every key, streamed
