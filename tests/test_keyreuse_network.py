"""`keyreuse` with network inputs, against the fake upstreams on 127.0.0.1 (tests/upstream_server.py)
and a real local PostgreSQL playing crt.sh's database. Expectations worked out by hand from the
fixture's certificates (upstream_server.SPECS) and the rules."""

from __future__ import annotations

import json

import pytest

from analysis.cli import main
from analysis.sources import http

try:
    from pg import CRL_REVOKED_DDL, postgres_dsn  # noqa: F401
    from upstream_server import CA_ID, SERIAL_LATER, SERIAL_PAIR, SPKI_REUSED, upstream, upstream_server  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.pg import CRL_REVOKED_DDL, postgres_dsn  # noqa: F401
    from tests.upstream_server import CA_ID, SERIAL_LATER, SERIAL_PAIR, SPKI_REUSED, upstream, upstream_server  # noqa: F401


def args(upstream, tmp_path):
    return [
        "--crtsh-url",
        upstream.crtsh_url,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--as-of",
        "2025-01-01",
        "--format",
        "json",
    ]


def run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, (json.loads(out) if out.strip() else None), err


def test_crtsh_spki_with_crl_url(upstream, tmp_path, capsys):
    # crt.sh lists 3 certificates on the key: a precert/final pair (serial SERIAL_PAIR, first seen
    # 2019-03-01T10:02:03.5) and SERIAL_LATER (2021-05-05). good.crl revokes SERIAL_LATER for
    # keyCompromise at 2018-12-24T16:00Z -> both issuances come after the compromise.
    status, d, err = run(
        capsys,
        [
            "keyreuse",
            "--crtsh-spki",
            SPKI_REUSED,
            "--crl",
            f"{upstream.crl_url}/crl/good.crl",
            *args(upstream, tmp_path),
        ],
    )
    assert status == 0, err
    s = d["summary"]
    assert (s["certificate_entries"], s["issuances"], s["compromised_keys"]) == (3, 2, 1)
    assert (s["violating_issuances"], s["reused_compromised_keys"]) == (2, 1)
    # SERIAL_LATER's own revocation set the compromise time: only the pair is judged -> 1 delay.
    assert s["revocation_delays"] == 1
    pair = next(v for v in d["violations"] if v["serial"] == format(SERIAL_PAIR, "x"))
    assert pair["issued_at"] == "2019-03-01T10:02:03+00:00"  # crt.sh's first_seen, not not_before
    assert pair["compromised_at"] == "2018-12-24T16:00:00+00:00"
    assert pair["crtsh_url"] == "https://crt.sh/?id=9100000002"  # the final certificate's id
    assert {i["kind"] for i in d["inputs"]} == {"crtsh-spki", "crl"}


def test_crl_from_certs_on_a_private_address_is_refused_and_the_rest_goes_on(upstream, tmp_path, capsys):
    # The fixture certificates' CRL Distribution Points name the CRL host on 127.0.0.1: a URL read
    # from a certificate may not reach the machine's own network unless --allow-private-hosts.
    argv = ["keyreuse", "--crtsh-spki", SPKI_REUSED, "--crl-from-certs", *args(upstream, tmp_path)]
    status, d, err = run(capsys, argv)
    assert status == 3
    assert upstream.count("crl") == 0  # nothing was sent to the CRL host
    refused = [e for e in d["errors"] if "not a public address" in e["reason"]]
    assert refused and all(upstream.crl_url in e["input"] for e in refused)
    assert "127.0.0.1" in err and "--allow-private-hosts" in err
    # The certificates still count; without the CRL no key is known to be compromised.
    assert d["summary"]["certificate_entries"] == 3 and d["summary"]["compromised_keys"] == 0


def test_crl_from_certs_and_second_run_is_cached(upstream, tmp_path, capsys):
    argv = [
        "keyreuse",
        "--crtsh-spki",
        SPKI_REUSED,
        "--crl-from-certs",
        "--allow-private-hosts",
        *args(upstream, tmp_path),
    ]
    status, d, _ = run(capsys, argv)
    assert status == 0 and d["summary"]["violating_issuances"] == 2
    before = len(upstream.requests)
    status, d2, _ = run(capsys, argv)
    assert status == 0 and d2["summary"] == d["summary"]
    assert len(upstream.requests) == before  # everything came from the cache


def test_failed_crl_url_is_exit_3_and_the_rest_is_printed(upstream, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 0)
    status, d, err = run(
        capsys,
        [
            "keyreuse",
            "--crtsh-spki",
            SPKI_REUSED,
            "--crl",
            f"{upstream.crl_url}/crl/missing.crl",
            *args(upstream, tmp_path),
        ],
    )
    assert status == 3
    assert d["summary"]["certificate_entries"] == 3
    assert any("missing.crl" in e["input"] for e in d["errors"])
    assert "missing.crl" in err


def test_offline_miss_is_exit_3(upstream, tmp_path, capsys):
    status, d, err = run(
        capsys, ["keyreuse", "--crtsh-spki", SPKI_REUSED, "--offline", *args(upstream, tmp_path)]
    )
    assert status == 3 and d is None
    assert f"{upstream.crtsh_url}/?" in err and "--offline" in err  # the missed URL is named


def test_pwnedkeys_hit_is_an_undated_compromise(upstream, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PWNEDKEYS_URL", upstream.pwnedkeys_url)
    status, d, _ = run(
        capsys, ["keyreuse", "--crtsh-spki", SPKI_REUSED, "--pwnedkeys", *args(upstream, tmp_path)]
    )
    assert status == 0
    # pwnedkeys knows the key, undated: every issuance on it is a violation.
    assert d["summary"]["compromised_keys"] == 1
    assert d["summary"]["violating_issuances"] == 2
    assert d["keys"][0]["compromise_source"] == "pwnedkeys"


@pytest.mark.postgres
def test_crtsh_revocations_from_the_database(upstream, tmp_path, capsys, postgres_dsn):
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS crl_revoked")
        conn.execute(CRL_REVOKED_DDL)
        conn.execute(
            "INSERT INTO crl_revoked VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
            (
                CA_ID,
                bytes.fromhex("008a3f0c2e91d4b7650011223344556677"),
                1,
                "2019-06-01 00:00:00",
                "2024-11-01 00:00:00",
                999,
                SERIAL_LATER.to_bytes(7, "big"),
                1,
                "2019-01-01 00:00:00",
                "2024-11-01 00:00:00",
            ),
        )
    status, d, err = run(
        capsys,
        [
            "keyreuse",
            "--crtsh-spki",
            SPKI_REUSED,
            "--crtsh-revocations",
            "--crtsh-db",
            postgres_dsn,
            *args(upstream, tmp_path),
        ],
    )
    assert status == 0, err
    # The pair was revoked keyCompromise 2019-06-01 (crt.sh's history): compromise then; SERIAL_LATER
    # (2021) is the one violation. Another CA's row with SERIAL_LATER's serial does not attach.
    assert d["keys"][0]["compromised_at"] == "2019-06-01T00:00:00+00:00"
    assert [v["serial"] for v in d["violations"]] == [format(SERIAL_LATER, "x")]
    assert d["violations"][0]["compromise_source"].startswith("crtsh-db:ca_id 424242#")
    assert not any("No revocation source covers" in n for n in d["notes"])
