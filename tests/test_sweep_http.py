"""`sweep --via http` against the fake crt.sh and CRL host of tests/upstream_server.py.

The fixture's CA "Example Trust TLS CA 1" (crt.sh ca id 424242) publishes good.crl with one entry:
serial 05c3e1aa0b8e7f, keyCompromise, 2018-12-24 16:00 UTC. crt.sh knows that serial as id
9100000003 (issued 2021-05-05, first seen 2021-05-05 00:00:01) on the key SPKI_REUSED, which also
carries serial 8a3f0c2e91d4b7650011223344556677 as a precertificate/final pair (ids 9100000001/2,
first seen 2019-03-01 10:02:03.5 and 10:02:04.123, valid 365 days from 10:00).

By hand, as of 2024-01-01: the key is compromised at 2018-12-24 16:00 by its own CA; both
issuances come after it (2 violations, same issuer; the 2019 one before BR 6.1.1.3(4)); the 2019
pair was never revoked and was valid 24 h after its issue (1 revocation delay); the 2021
certificate's own revocation sets the compromise time, so it is not judged for delay; nothing is
still valid in 2024.
"""

from __future__ import annotations

import json

from analysis import cli

try:
    from upstream_server import CA_CRTSH_NAME, CA_ID, SPKI_REUSED, upstream, upstream_server  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.upstream_server import (  # noqa: F401
        CA_CRTSH_NAME,
        CA_ID,
        SPKI_REUSED,
        upstream,
        upstream_server,
    )

EXPECTED_SUMMARY = {
    "certificate_entries": 3,
    "distinct_certificates": 3,
    "issuances": 2,
    "distinct_keys": 1,
    "compromised_keys": 1,
    "issuances_with_compromised_keys": 2,
    "violating_issuances": 2,
    "reused_compromised_keys": 1,
    "revocation_delays": 1,
    "remaining_valid": 0,
}
EXPECTED_VIOLATIONS = {
    "8a3f0c2e91d4b7650011223344556677": (
        "2019-03-01T10:02:03+00:00",
        "2018-12-24T16:00:00+00:00",
        True,
        True,
        None,
        "https://crt.sh/?id=9100000002",
    ),
    "5c3e1aa0b8e7f": (
        "2021-05-05T00:00:01+00:00",
        "2018-12-24T16:00:00+00:00",
        True,
        False,
        "2018-12-24T16:00:00+00:00",
        "https://crt.sh/?id=9100000003",
    ),
}


def _run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _check(d: dict) -> None:
    assert d["summary"] == EXPECTED_SUMMARY
    got = {
        v["serial"]: (
            v["issued_at"],
            v["compromised_at"],
            v["same_issuer"],
            v["before_br_6_1_1_3_4"],
            v["revoked_at"],
            v["crtsh_url"],
        )
        for v in d["violations"]
    }
    assert got == EXPECTED_VIOLATIONS
    assert [k["spki_sha256"] for k in d["keys"]] == [SPKI_REUSED]
    (line,) = d["sweep"]["cas"]
    assert (line["ca_id"], line["ca_name"]) == (CA_ID, CA_CRTSH_NAME)
    assert (line["keycompromise_entries"], line["compromised_keys"], line["keys_reused"]) == (1, 1, 1)
    assert line["violations_issued"] == 2


def test_sweep_via_http(upstream, tmp_path, capsys):
    good, missing = f"{upstream.crl_url}/crl/good.crl", f"{upstream.crl_url}/crl/missing.crl"
    both = tmp_path / "crls.json"
    both.write_text(json.dumps([good, missing]))
    common = [
        "sweep",
        "--via",
        "http",
        "--ca-id",
        str(CA_ID),
        "--as-of",
        "2024-01-01",
        "--format",
        "json",
        "--crtsh-url",
        upstream.crtsh_url,
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    code, out, err = _run([*common, "--crl-list", str(both)], capsys)
    assert code == 3, err  # the missing CRL is an upstream failure; the rest is still there
    d = json.loads(out)
    _check(d)
    (problem,) = d["errors"]
    assert problem["input"] == missing and "404" in problem["reason"]
    # One serial search, one download of the revoked certificate, one SPKI search, two more downloads.
    assert upstream.count("crtsh", serial="05c3e1aa0b8e7f", output="json") == 1
    assert upstream.count("crtsh", spkisha256=SPKI_REUSED, output="json") == 1
    assert upstream.count("crtsh", d="9100000003") == 1

    # Again from the cache alone, with only the good CRL: the same answer, no request at all.
    before = len(upstream.requests)
    code, out, err = _run([*common, "--crl", good, "--offline"], capsys)
    assert code == 0, err
    _check(json.loads(out))
    assert len(upstream.requests) == before


def test_sweep_via_http_other_ca_finds_nothing_and_needs_crls(upstream, tmp_path, capsys):
    good = f"{upstream.crl_url}/crl/good.crl"
    code, out, err = _run(
        [
            "sweep",
            "--via",
            "http",
            "--ca-id",
            "7",
            "--crl",
            good,
            "--format",
            "json",
            "--crtsh-url",
            upstream.crtsh_url,
            "--cache-dir",
            str(tmp_path),
        ],
        capsys,
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["summary"]["certificate_entries"] == 0 and d["sweep"]["cas"] == []
    code, _, err = _run(["sweep", "--via", "http", "--ca-id", "7", "--cache-dir", str(tmp_path)], capsys)
    assert code == 2 and "--crl-list" in err
    bad = tmp_path / "not-a-list.json"
    bad.write_text('{"crls": "http://x"}')
    code, _, err = _run(
        ["sweep", "--via", "http", "--all-cas", "--crl-list", str(bad), "--cache-dir", str(tmp_path)], capsys
    )
    assert code == 2 and str(bad) in err and "Traceback" not in err


def test_sweep_via_http_into_a_store(upstream, tmp_path, capsys):
    """--store: the CRL's entry and the key's 3 certificates go to the store; `keyreuse --store`
    then gives the sweep's findings (the module docstring's expectations) and its inputs."""
    store = tmp_path / "store"
    good = f"{upstream.crl_url}/crl/good.crl"
    argv = ["sweep", "--via", "http", "--ca-id", str(CA_ID), "--crl", good, "--as-of", "2024-01-01"]
    argv += ["--format", "json", "--crtsh-url", upstream.crtsh_url, "--cache-dir", str(tmp_path / "c")]
    code, out, err = _run([*argv, "--store", str(store)], capsys)
    assert code == 0, err
    swept = json.loads(out)
    _check(swept)
    assert f"store {store}: appended 3 certificates (0 already there" in err and "1 revocations" in err
    (rec,) = json.loads((store / "manifest.json").read_text())["ingests"]
    assert (rec["kind"], rec["entries"], rec["revocation_entries"]) == ("crtsh-sweep-http", 3, 1)
    assert rec["path_or_url"] == f"crl {good}" and len(rec["crls"]) == 1

    code, out, err = _run(
        ["keyreuse", "--store", str(store), "--as-of", "2024-01-01", "--format", "json"], capsys
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["summary"] == EXPECTED_SUMMARY
    assert {v["serial"]: v["crtsh_url"] for v in got["violations"]} == {
        s: want[-1] for s, want in EXPECTED_VIOLATIONS.items()
    }
    swept.pop("sweep")
    swept["notes"] = [n for n in swept["notes"] if not n.startswith("Sweep (--via http)")]
    assert got == swept  # inputs too: the CRL and the crt.sh SPKI search
    assert [i["kind"] for i in got["inputs"]] == ["crl", "crtsh-spki"]
