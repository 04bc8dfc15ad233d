"""crt.sh: rows into a typed frame, searches, PEM downloads, the fetch command, and revocations from
a real local PostgreSQL with crt.sh's crl_revoked table."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os

import pandas as pd
import pytest
from cryptography import x509

from analysis.commands import fetch as fetch_command
from analysis.errors import Problem
from analysis.formats import TIME_DTYPE
from analysis.sources import crtsh, http
from analysis.sources.http import UpstreamProblem

try:
    from pg import CRL_REVOKED_DDL, postgres_dsn  # noqa: F401
    from upstream_server import (  # noqa: F401
        CA_CRTSH_NAME,
        CA_ID,
        SERIAL_LATER,
        SERIAL_PAIR,
        SPKI_503,
        SPKI_OTHER,
        SPKI_REUSED,
        make_session,
        upstream,
        upstream_server,
    )
except ImportError:  # tests/ imported as a package
    from tests.pg import CRL_REVOKED_DDL, postgres_dsn  # noqa: F401
    from tests.upstream_server import (  # noqa: F401
        CA_CRTSH_NAME,
        CA_ID,
        SERIAL_LATER,
        SERIAL_PAIR,
        SPKI_503,
        SPKI_OTHER,
        SPKI_REUSED,
        make_session,
        upstream,
        upstream_server,
    )

UTC = dt.UTC

# Rows written by hand in crt.sh's format (serial with a leading 00, times without a zone and with
# 1, 3 or no fraction digits, a null entry_timestamp), expected values worked out by hand.
ROWS = [
    {
        "issuer_ca_id": 7,
        "issuer_name": "C=XX, O=Example Trust, CN=Example Trust TLS CA 1",
        "name_value": "a\nb",
        "id": 11,
        "entry_timestamp": "2019-03-01T10:02:03.5",
        "not_before": "2019-03-01T10:00:00",
        "not_after": "2020-02-29T10:00:00",
        "serial_number": "008a3f",
        "result_count": 0,
    },
    {
        "issuer_ca_id": 7,
        "issuer_name": "C=XX, O=Example Trust, CN=Example Trust TLS CA 1",
        "name_value": "a",
        "id": 12,
        "entry_timestamp": "2019-03-01T10:02:04.123",
        "not_before": "2019-03-01T10:00:00",
        "not_after": "2020-02-29T10:00:00",
        "serial_number": "008a3f",
        "result_count": 0,
    },
    {
        "issuer_ca_id": 8,
        "issuer_name": "C=XX, O=Other, CN=Other CA",
        "name_value": "c",
        "id": 13,
        "entry_timestamp": None,
        "not_before": "2021-05-05T00:00:00",
        "not_after": "2021-08-03T00:00:00",
        "serial_number": "0400",
        "result_count": 0,
    },
    {"issuer_ca_id": 8, "issuer_name": "x", "name_value": "d", "id": 14, "serial_number": "not hex"},
]


def test_parse_rows_types_and_values():
    frame, problems = crtsh.parse_rows(ROWS, query="spkisha256=ab", source="test")
    assert list(frame.columns) == list(crtsh.ROW_COLUMNS)
    assert len(frame) == 3
    assert [p.position for p in problems] == ["row 4"]
    assert str(frame["first_seen"].dtype) == TIME_DTYPE
    assert frame["crtsh_id"].tolist() == [11, 12, 13]
    assert frame["serial"].tolist() == ["8a3f", "8a3f", "400"]
    assert frame["crtsh_serial"].tolist() == ["008a3f", "008a3f", "0400"]
    assert frame.loc[0, "first_seen"] == pd.Timestamp("2019-03-01 10:02:03.500", tz="UTC")
    assert frame.loc[1, "first_seen"] == pd.Timestamp("2019-03-01 10:02:04.123", tz="UTC")
    assert pd.isna(frame.loc[2, "first_seen"])
    assert frame.loc[2, "not_after"] == pd.Timestamp("2021-08-03", tz="UTC")
    assert frame["name_value"].tolist() == [["a", "b"], ["a"], ["c"]]
    assert frame["issuance_rows"].tolist() == [2, 2, 1]
    pairs = crtsh.find_precert_pairs(frame)
    assert pairs.to_dict("records") == [{"issuer_ca_id": 7, "serial": "8a3f", "crtsh_ids": [11, 12]}]


def test_parse_rows_refuses_a_non_array():
    with pytest.raises(ValueError):
        crtsh.parse_rows({"error": "x"})
    frame, problems = crtsh.parse_rows([])
    assert len(frame) == 0 and problems == [] and list(frame.columns) == list(crtsh.ROW_COLUMNS)


def test_der_serial_hex():
    assert crtsh.der_serial_hex(0x7F) == "7f"
    assert crtsh.der_serial_hex(0x80) == "0080"
    assert crtsh.der_serial_hex(0x100) == "0100"
    assert crtsh.der_serial_hex(0) == "00"


def test_search_spki_lists_precert_and_final(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    frame, problems = crtsh.search_spki(session, SPKI_REUSED.upper())
    assert problems == []
    assert sorted(frame["crtsh_id"]) == [9100000001, 9100000002, 9100000003]
    assert upstream.requests[-1].query == {"spkisha256": SPKI_REUSED, "output": "json"}
    pair = crtsh.find_precert_pairs(frame)
    assert pair.to_dict("records") == [
        {"issuer_ca_id": CA_ID, "serial": format(SERIAL_PAIR, "x"), "crtsh_ids": [9100000001, 9100000002]}
    ]


def test_search_serial_sends_crtsh_der_hex(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    # a canonical serial with the high bit set goes out with the 00 crt.sh stores
    frame, _ = crtsh.search_serial(session, "8A:3F:0C:2E:91:D4:B7:65:00:11:22:33:44:55:66:77")
    assert upstream.requests[-1].query["serial"] == "008a3f0c2e91d4b7650011223344556677"
    assert sorted(frame["crtsh_id"]) == [9100000001, 9100000002]
    assert set(frame["serial"]) == {format(SERIAL_PAIR, "x")}


def test_identity_search_cap_is_reported(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    frame, problems = crtsh.search_identity(session, "cap.example")
    assert len(frame) == 10_000
    assert len(problems) == 1 and "10000" in problems[0].reason and "incomplete" in problems[0].reason
    frame, problems = crtsh.search_identity(session, "example.test")
    assert problems == [] and len(frame) == 4


def test_identity_search_refuses_a_sha256():
    with pytest.raises(ValueError):
        crtsh.search_identity(None, "a" * 64)


def test_empty_identity_search_is_an_empty_frame(upstream, tmp_path):
    frame, problems = crtsh.search_identity(make_session(upstream, tmp_path), "empty.example")
    assert len(frame) == 0 and problems == []


def test_fetch_spki_certificates_returns_pems_with_meta(upstream, tmp_path):
    session = make_session(upstream, tmp_path)
    items, problems = crtsh.fetch_spki_certificates(session, SPKI_REUSED, progress=False)
    assert problems == []
    by_id = {meta["crtsh_id"]: (pem, meta) for pem, meta in items}
    assert sorted(by_id) == [9100000001, 9100000002, 9100000003]
    pem, meta = by_id[9100000001]
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.serial_number == SERIAL_PAIR
    assert any(e.oid.dotted_string == "1.3.6.1.4.1.11129.2.4.3" for e in cert.extensions)
    assert meta["first_seen"] == pd.Timestamp("2019-03-01T10:02:03.5", tz="UTC")
    assert meta["issuer_ca_id"] == CA_ID and meta["issuer_name"] == CA_CRTSH_NAME
    assert meta["serial"] == format(SERIAL_PAIR, "x") and meta["crtsh_serial"].startswith("00")
    assert meta["source"].endswith("/?d=9100000001")
    assert upstream.count("crtsh") == 4
    # a second run: no request at all
    again, _ = crtsh.fetch_spki_certificates(make_session(upstream, tmp_path), SPKI_REUSED, progress=False)
    assert [m["crtsh_id"] for _, m in again] == [m["crtsh_id"] for _, m in items]
    assert upstream.count("crtsh") == 4


def test_fetch_spki_certificates_503_is_an_upstream_problem(upstream, tmp_path):
    items, problems = crtsh.fetch_spki_certificates(make_session(upstream, tmp_path, retries=1), SPKI_503)
    assert items == []
    assert len(problems) == 1 and isinstance(problems[0], UpstreamProblem) and problems[0].status == 503


def test_fetch_pem_of_unknown_id_is_an_error(upstream, tmp_path):
    with pytest.raises(http.UpstreamError) as info:
        crtsh.fetch_pem(make_session(upstream, tmp_path), 1)
    assert info.value.status == 404


# --- the fetch command ----------------------------------------------------------------------------


def run_fetch(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ca-incidents")
    fetch_command.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def crtsh_args(upstream, tmp_path) -> list[str]:
    return ["--crtsh-url", upstream.crtsh_url, "--cache-dir", str(tmp_path / "cache")]


def test_fetch_crtsh_out_dir_then_second_run_and_offline(upstream, tmp_path, capsys):
    out = tmp_path / "certs"
    argv = ["fetch", "crtsh", "--spki", SPKI_REUSED, "--out", str(out), *crtsh_args(upstream, tmp_path)]
    assert run_fetch(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "9100000001.pem",
        "9100000002.pem",
        "9100000003.pem",
        "crtsh.json",
    ]
    rows = json.loads((out / "crtsh.json").read_text())
    assert [r["id"] for r in rows] == [9100000001, 9100000002, 9100000003]
    assert rows[0]["entry_timestamp"] == "2019-03-01T10:02:03.500000"
    assert rows[0]["serial_number"] == "008a3f0c2e91d4b7650011223344556677"
    assert rows[2]["entry_timestamp"] == "2021-05-05T00:00:01"
    saved = crtsh.load_saved_index(out)
    assert saved["9100000002.pem"]["first_seen"] == pd.Timestamp("2019-03-01T10:02:04.123", tz="UTC")
    requests = upstream.count("crtsh")
    assert requests == 4

    assert run_fetch(argv) == 0  # second identical run
    assert upstream.count("crtsh") == requests
    assert run_fetch([*argv, "--offline"]) == 0
    assert upstream.count("crtsh") == requests
    capsys.readouterr()

    miss = [
        "fetch",
        "crtsh",
        "--spki",
        SPKI_OTHER,
        "--out",
        str(tmp_path / "o2"),
        "--offline",
        *crtsh_args(upstream, tmp_path),
    ]
    assert run_fetch(miss) == 3
    err = capsys.readouterr().err
    assert f"spkisha256={SPKI_OTHER}" in err and "offline" in err
    assert upstream.count("crtsh") == requests


def test_fetch_crtsh_upstream_failure_exits_3_and_keeps_the_rest(upstream, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(http, "DEFAULT_RETRIES", 0)
    out = tmp_path / "certs"
    argv = [
        "fetch",
        "crtsh",
        "--spki",
        SPKI_503,
        "--spki",
        SPKI_OTHER,
        "--out",
        str(out),
        *crtsh_args(upstream, tmp_path),
    ]
    assert run_fetch(argv) == 3
    assert (out / "9100000004.pem").exists()
    err = capsys.readouterr().err
    assert "HTTP 503" in err and SPKI_503 in err


def test_fetch_crtsh_prints_rows_without_out(upstream, tmp_path, capsys):
    assert (
        run_fetch(
            ["fetch", "crtsh", "--domain", "example.test", "--format", "csv", *crtsh_args(upstream, tmp_path)]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("crtsh_id,issuer_ca_id,serial,first_seen")
    assert len(lines) == 5
    assert run_fetch(["fetch", "crtsh", "--id", "9100000004", *crtsh_args(upstream, tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN CERTIFICATE-----")


def test_fetch_crtsh_needs_a_query(tmp_path):
    from analysis.errors import UsageError

    with pytest.raises(UsageError):
        run_fetch(["fetch", "crtsh", "--cache-dir", str(tmp_path)])


# --- revocations from crt.sh's database (a real local PostgreSQL) --------------------------------


@pytest.mark.postgres
def test_fetch_revocations_db_in_batches(postgres_dsn):
    import psycopg

    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS crl_revoked")
        conn.execute(CRL_REVOKED_DDL)
        rows = [
            # (ca_id, serial bytes as crt.sh stores them, reason, revoked, last seen)
            (
                CA_ID,
                bytes.fromhex("008a3f0c2e91d4b7650011223344556677"),
                1,
                "2018-12-24 16:00:00",
                "2024-11-01 00:00:00",
            ),
            (CA_ID, bytes.fromhex("05c3e1aa0b8e7f"), 4, "2021-06-01 08:00:00", "2024-11-01 00:00:00"),
            (CA_ID, bytes.fromhex("7e57"), None, "2024-10-30 00:00:00", "2024-11-01 00:00:00"),
            (CA_ID, bytes.fromhex("0101"), 7, "2024-10-30 00:00:00", "2024-11-01 00:00:00"),
            # the same serial under another CA must not attach
            (999, bytes.fromhex("05c3e1aa0b8e7f"), 1, "2019-01-01 00:00:00", "2024-11-01 00:00:00"),
        ]
        rows += [
            (CA_ID, (0x100000 + i).to_bytes(3, "big"), 5, "2022-01-01 00:00:00", None) for i in range(40)
        ]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO crl_revoked VALUES (%s, %s, %s, %s, %s)", rows)

    pairs = [
        (CA_ID, format(SERIAL_PAIR, "x")),  # canonical, no 00: found through the DER form
        (CA_ID, "05:C3:E1:AA:0B:8E:7F"),
        (CA_ID, 0x7E57),
        (CA_ID, "0101"),
        (CA_ID, "abcdef"),  # not revoked
        *[(CA_ID, format(0x100000 + i, "x")) for i in range(40)],
        ("x", "01"),  # unusable
    ]
    frame, problems = crtsh.fetch_revocations_db(postgres_dsn, pairs, batch_size=7)
    assert [p.position for p in problems] == ["ca_id x serial 01"]
    assert list(frame.columns) == list(crtsh.REVOCATION_DB_COLUMNS)
    assert str(frame["revoked_at"].dtype) == TIME_DTYPE
    assert len(frame) == 44
    got = frame.set_index("serial")
    assert got.loc["8a3f0c2e91d4b7650011223344556677", "reason"] == "keyCompromise"
    assert got.loc["8a3f0c2e91d4b7650011223344556677", "reason_code"] == 1
    assert got.loc["8a3f0c2e91d4b7650011223344556677", "revoked_at"] == pd.Timestamp(
        "2018-12-24T16:00", tz="UTC"
    )
    assert got.loc["5c3e1aa0b8e7f", "reason"] == "superseded"
    assert got.loc["5c3e1aa0b8e7f", "ca_id"] == CA_ID
    assert got.loc["7e57", "reason"] == "unspecified" and pd.isna(got.loc["7e57", "reason_code"])
    assert got.loc["101", "reason"] == "unknown (7)"
    assert "abcdef" not in got.index
    assert set(frame["ca_id"]) == {CA_ID}
    assert pd.isna(got.loc["100000", "last_seen_check_date"])


@pytest.mark.postgres
def test_fetch_revocations_db_unreachable_is_an_upstream_problem(postgres_dsn):
    bad = postgres_dsn.replace("dbname=postgres", "dbname=no_such_db") + " password=hunter2"
    frame, problems = crtsh.fetch_revocations_db(bad, [(1, "01")], retries=1, sleep=lambda s: None)
    assert len(frame) == 0
    assert len(problems) == 1 and isinstance(problems[0], UpstreamProblem)
    assert "hunter2" not in str(problems[0]) and "no_such_db" in problems[0].input


def test_fetch_revocations_db_offline_and_dsn_choice(monkeypatch):
    frame, problems = crtsh.fetch_revocations_db(
        "host=crt.sh port=5432 dbname=certwatch user=guest", [(1, "01")], offline=True
    )
    assert len(frame) == 0 and isinstance(problems[0], UpstreamProblem) and "offline" in problems[0].reason
    monkeypatch.delenv("CRTSH_DB", raising=False)
    assert crtsh.crtsh_dsn() == crtsh.CRTSH_DSN
    monkeypatch.setenv("CRTSH_DB", "host=localhost dbname=x")
    assert crtsh.crtsh_dsn() == "host=localhost dbname=x"
    assert crtsh.crtsh_dsn("host=h") == "host=h"
    assert crtsh.redact_dsn("host=h port=1 dbname=d user=u password=p") == "postgresql://u@h:1/d"


def test_problem_is_a_problem():
    p = UpstreamProblem("https://crt.sh/?q=x", None, "HTTP 503", status=503)
    assert isinstance(p, Problem) and p.to_dict() == {
        "input": "https://crt.sh/?q=x",
        "position": None,
        "reason": "HTTP 503",
    }


# --- real crt.sh answers (../shared/realdata; read in place, not copied) ---------------------------

REALDATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "realdata", "crtsh")


def realdata(name: str) -> list:
    path = os.path.join(REALDATA, name)
    if not os.path.exists(path):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"real data missing under CI: {path}")
        pytest.skip(f"real data not present: {path}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_real_identity_rows_with_precert_pairs():
    frame, problems = crtsh.parse_rows(realdata("crtsh_zxdev.com_rows.json"))
    assert problems == [] and len(frame) == 8
    # by hand from the file: three serials listed twice under one issuer
    assert crtsh.find_precert_pairs(frame).to_dict("records") == [
        {
            "issuer_ca_id": 295810,
            "serial": "655c8bb655cfec7b70ba9eeb9059be3f9cd",
            "crtsh_ids": [19779099779, 19779100583],
        },
        {
            "issuer_ca_id": 295813,
            "serial": "676e3f05c270fa5af31a3a416ccc12fd074",
            "crtsh_ids": [21155961688, 21155962885],
        },
        {
            "issuer_ca_id": 295817,
            "serial": "603cfef517089fefaa0fca914e8a9d38a59",
            "crtsh_ids": [20600816078, 20600817466],
        },
    ]
    row = frame.set_index("crtsh_id").loc[20213881401]
    assert row["serial"] == "86a28e859ea6fd09130742534fc2b8e5" and row["crtsh_serial"].startswith("0086")
    first = frame.set_index("crtsh_id").loc[21535723622]
    assert first["first_seen"] == pd.Timestamp("2025-10-07T02:42:38.340", tz="UTC")
    assert first["name_value"] == ["*.zxdev.com", "zxdev.com"]


def test_real_identity_rows_without_result_count():
    frame, problems = crtsh.parse_rows(realdata("crtsh_github.com_subdomains.json"))
    assert problems == [] and len(frame) == 11
    assert len(crtsh.find_precert_pairs(frame)) == 0
    assert (frame["issuance_rows"] == 1).all()
    assert frame.set_index("crtsh_id").loc[7998084684, "issuer_ca_id"] == 244621


def test_saved_folder_reads_back_with_first_seen(upstream, tmp_path):
    """`fetch crtsh --out DIR` then the certificate loader on DIR keeps crt.sh's id and entry time."""
    certificates = pytest.importorskip("analysis.certificates")
    out = tmp_path / "certs"
    argv = ["fetch", "crtsh", "--spki", SPKI_REUSED, "--out", str(out), *crtsh_args(upstream, tmp_path)]
    assert run_fetch(argv) == 0
    frame, problems = certificates.load_certificates([str(out)])
    assert problems == []
    got = frame.set_index("crtsh_id").sort_index()
    assert got.index.tolist() == [9100000001, 9100000002, 9100000003]
    assert got.loc[9100000001, "is_precert"] and not got.loc[9100000002, "is_precert"]
    assert got.loc[9100000002, "first_seen"] == pd.Timestamp("2019-03-01T10:02:04.123", tz="UTC")
    assert set(got["spki_sha256"]) == {SPKI_REUSED}
