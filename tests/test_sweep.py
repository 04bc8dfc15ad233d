"""`ca-incidents sweep` against a real local PostgreSQL holding crt.sh's tables, indexes and
function names (tests/crtsh_schema.py), on one hand-worked scenario.

The scenario (times UTC; crt.sh ids in brackets; CA A is ca id 11, CA B is ca id 22):

  key K1  A serial 1001 [101 precert, 102 final]  nb 2019-03-01, CT 00:01 / 00:05, revoked
          keyCompromise 2019-06-01 12:00 (chunk 1)                 -> compromise of K1
          A serial 1002 [103 precert, 104 final]  nb 2020-02-01, CT 00:10 / 00:12, revoked
          keyCompromise 2021-01-15 (chunk 3, across a chunk boundary) -> violation, same issuer
          A serial 1003 [105]  CT exactly 2019-06-01 12:00, superseded 2019-06-02 06:00
                                                                   -> not a violation (not after)
          B serial 2001 [106]  CT 2021-05-01 08:00, never revoked  -> violation, cross-CA
  key K2  A serial 8a3c5e7f01 [107] (crl_revoked keeps 00 8a 3c 5e 7f 01), keyCompromise
          2020-07-01 (chunk 2)                                     -> compromise of K2
          B serial 2002 [108]  CT 2022-03-01 09:30, valid to 2023-09-01 -> violation, remaining valid
  key K3  A serial 1006 [109] revoked with a NULL reason 2019-05-01; A serial 1007 [110] later
                                                                   -> no compromise: never swept
  key K4  B serial 2003 [111] keyCompromise 2021-03-01; A serial 1008 [112] expired 2021-01-10
                                                                   -> compromised, no violation;
                                                                      [112] is never downloaded
  A serial 0bad: keyCompromise 2022-02-01, no certificate in crt.sh

Swept 2019-01-01 to 2023-01-01 in 365-day chunks (5 per CA), as of 2023-06-01.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from analysis import cli
from analysis.sources import crtsh_db as statements
from analysis.sources.crtsh_db import CrtshDB, find_cas
from analysis.sweep import run_sweep

try:
    from crtsh_schema import create_certificate_indexes, create_crtsh_schema, fill_bulk, plpython_available
    from pg import postgres_dsn  # noqa: F401
except ImportError:  # tests/ imported as a package
    from tests.crtsh_schema import (
        create_certificate_indexes,
        create_crtsh_schema,
        fill_bulk,
        plpython_available,
    )
    from tests.pg import postgres_dsn  # noqa: F401

pytestmark = pytest.mark.postgres
UTC = dt.UTC
A, B = 11, 22
A_NAME, B_NAME = "C=XX, O=Example Trust, CN=Example Trust CA A", "C=XX, O=Other Trust, CN=Other Trust CA B"
SWEEP = ["--since", "2019-01-01", "--until", "2023-01-01", "--chunk-days", "365", "--as-of", "2023-06-01"]


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _key(n: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(n, ec.SECP256R1())


CA_KEYS = {A: _key(0xA11CE), B: _key(0xB0B)}
CA_SUBJECT = {
    A: x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Example Trust CA A"),
        ]
    ),
    B: x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Other Trust"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Other Trust CA B"),
        ]
    ),
}
KEYS = {"K1": _key(0x1111), "K2": _key(0x2222), "K3": _key(0x3333), "K4": _key(0x4444)}


def spki_hex(name: str) -> str:
    der = (
        KEYS[name]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return hashlib.sha256(der).hexdigest()


# (crt.sh id, CA, serial, key, notBefore, notAfter, precert, CT entry time)
CERTS = [
    (101, A, 0x1001, "K1", "2019-03-01T00:00", "2020-03-01T00:00", True, "2019-03-01T00:01"),
    (102, A, 0x1001, "K1", "2019-03-01T00:00", "2020-03-01T00:00", False, "2019-03-01T00:05"),
    (103, A, 0x1002, "K1", "2020-02-01T00:00", "2021-02-01T00:00", True, "2020-02-01T00:10"),
    (104, A, 0x1002, "K1", "2020-02-01T00:00", "2021-02-01T00:00", False, "2020-02-01T00:12"),
    (105, A, 0x1003, "K1", "2019-06-01T11:00", "2020-06-01T00:00", False, "2019-06-01T12:00"),
    (106, B, 0x2001, "K1", "2021-05-01T00:00", "2022-05-01T00:00", False, "2021-05-01T08:00"),
    (107, A, 0x8A3C5E7F01, "K2", "2020-06-01T00:00", "2021-06-01T00:00", False, "2020-06-01T00:00:30"),
    (108, B, 0x2002, "K2", "2022-03-01T00:00", "2023-09-01T00:00", False, "2022-03-01T09:30"),
    (109, A, 0x1006, "K3", "2019-02-01T00:00", "2020-02-01T00:00", False, "2019-02-01T00:05"),
    (110, A, 0x1007, "K3", "2019-09-01T00:00", "2020-09-01T00:00", False, "2019-09-01T00:05"),
    (111, B, 0x2003, "K4", "2020-11-01T00:00", "2021-11-01T00:00", False, "2020-11-01T00:05"),
    (112, A, 0x1008, "K4", "2020-01-10T00:00", "2021-01-10T00:00", False, "2020-01-10T00:05"),
]
# (CA, serial content octets as crt.sh stores them, reason code, revocation date)
REVOKED = [
    (A, "1001", 1, "2019-06-01T12:00"),
    (A, "1002", 1, "2021-01-15T00:00"),
    (A, "1003", 4, "2019-06-02T06:00"),
    (A, "008a3c5e7f01", 1, "2020-07-01T00:00"),
    (A, "1006", None, "2019-05-01T00:00"),
    (B, "2003", 1, "2021-03-01T00:00"),
    (A, "0bad", 1, "2022-02-01T00:00"),
]


def certificate_der(ca: int, serial: int, key: str, nb: str, na: str, precert: bool) -> bytes:
    b = (
        x509.CertificateBuilder()
        .issuer_name(CA_SUBJECT[ca])
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"s{serial:x}.example")]))
        .public_key(KEYS[key].public_key())
        .serial_number(serial)
        .not_valid_before(t(nb))
        .not_valid_after(t(na))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"s{serial:x}.example")]), critical=False)
    )
    if precert:
        b = b.add_extension(x509.PrecertPoison(), critical=True)
    return b.sign(CA_KEYS[ca], hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def load_scenario(conn) -> None:
    with conn.cursor() as cur:
        for ca, name in ((A, A_NAME), (B, B_NAME)):
            pub = (
                CA_KEYS[ca]
                .public_key()
                .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            )
            cur.execute("INSERT INTO ca (id, name, public_key) VALUES (%s, %s, %s)", (ca, name, pub))
            cur.execute(
                "INSERT INTO crl (ca_id, distribution_point_url, is_active) VALUES (%s, %s, true)",
                (ca, f"http://crl.example/{ca}.crl"),
            )
        for cid, ca, serial, key, nb, na, pre, seen in CERTS:
            cur.execute(
                "INSERT INTO certificate (id, issuer_ca_id, certificate) VALUES (%s, %s, %s)",
                (cid, ca, certificate_der(ca, serial, key, nb, na, pre)),
            )
            cur.execute(
                "INSERT INTO ct_log_entry (certificate_id, entry_id, entry_timestamp, ct_log_id) "
                "VALUES (%s, %s, %s, 1)",
                (cid, cid, t(seen)),
            )
        for ca, serial, code, when in REVOKED:
            cur.execute(
                "INSERT INTO crl_revoked (ca_id, serial_number, reason_code, revocation_date) "
                "VALUES (%s, %s, %s, %s)",
                (ca, bytes.fromhex(serial), code, t(when)),
            )


def new_database(server_dsn: str, name: str) -> str:
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return server_dsn.replace("dbname=postgres", f"dbname={name}")


@pytest.fixture(scope="module")
def crtsh_db(postgres_dsn):  # noqa: F811
    reason = plpython_available()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    dsn = new_database(postgres_dsn, "certwatch")
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_crtsh_schema(conn)
        load_scenario(conn)
        conn.execute("ANALYZE")
    return dsn


# --- expected, worked out by hand from the scenario (see the module docstring) -----------------

EXPECTED_SUMMARY = {
    "certificate_entries": 9,  # 101-108 and 111; 109/110 (K3) never swept, 112 expired before
    "distinct_certificates": 9,
    "issuances": 7,  # 1001, 1002, 1003, 2001, 8a3c5e7f01, 2002, 2003
    "distinct_keys": 3,  # K1, K2, K4
    "compromised_keys": 3,
    "issuances_with_compromised_keys": 7,
    "violating_issuances": 3,  # 1002 (A), 2001 (B), 2002 (B)
    "reused_compromised_keys": 2,  # K1, K2
    "revocation_delays": 3,  # 1002 revoked 349 days after issue; 2001, 2002 never revoked
    "remaining_valid": 1,  # 2002 (valid until 2023-09-01)
}
EXPECTED_VIOLATIONS = {
    # serial: (issued_at, compromised_at, same_issuer, before_br, revoked_at, reason, crt.sh url)
    "1002": (
        "2020-02-01T00:10:00+00:00",
        "2019-06-01T12:00:00+00:00",
        True,
        True,
        "2021-01-15T00:00:00+00:00",
        "keyCompromise",
        "https://crt.sh/?id=104",
    ),
    "2001": (
        "2021-05-01T08:00:00+00:00",
        "2019-06-01T12:00:00+00:00",
        False,
        False,
        None,
        None,
        "https://crt.sh/?id=106",
    ),
    "2002": (
        "2022-03-01T09:30:00+00:00",
        "2020-07-01T00:00:00+00:00",
        False,
        False,
        None,
        None,
        "https://crt.sh/?id=108",
    ),
}
# 2020-02-01 00:10 -> 2021-01-15 00:00 is 349 days less 10 minutes.
DELAY_HOURS_1002 = 349 * 24 - 10 / 60
EXPECTED_CAS = {
    A: {
        "keycompromise_entries": 4,
        "entries_without_certificate": 1,
        "compromised_keys": 2,
        "keys_reused": 2,
        "violations_issued": 1,
    },
    B: {
        "keycompromise_entries": 1,
        "entries_without_certificate": 0,
        "compromised_keys": 1,
        "keys_reused": 0,
        "violations_issued": 2,
    },
}


def check_findings(d: dict) -> None:
    assert d["summary"] == EXPECTED_SUMMARY
    got = {
        v["serial"]: (
            v["issued_at"],
            v["compromised_at"],
            v["same_issuer"],
            v["before_br_6_1_1_3_4"],
            v["revoked_at"],
            v["revocation_reason"],
            v["crtsh_url"],
        )
        for v in d["violations"]
    }
    assert got == EXPECTED_VIOLATIONS
    issuers = {v["serial"]: v["issuer_dn"] for v in d["violations"]}
    assert "Example Trust CA A" in issuers["1002"] and "Other Trust CA B" in issuers["2001"]
    keys = {k["spki_sha256"]: k for k in d["keys"]}
    assert set(keys) == {spki_hex("K1"), spki_hex("K2"), spki_hex("K4")}
    k1, k2, k4 = keys[spki_hex("K1")], keys[spki_hex("K2")], keys[spki_hex("K4")]
    assert (k1["issuances"], k1["issued_after_compromise"], k1["revocation_delays"]) == (4, 2, 2)
    assert (k2["issuances"], k2["issued_after_compromise"], k2["revocation_delays"]) == (2, 1, 1)
    assert (k4["issuances"], k4["issued_after_compromise"], k4["revocation_delays"]) == (1, 0, 0)
    assert k1["compromise_source"].startswith("crtsh-db:ca_id 11#")
    assert k1["compromise_source"].endswith(" serial 1001")
    assert k2["compromise_source"].endswith(" serial 8a3c5e7f01")  # the 00 is not part of the serial
    assert k4["compromised_at"] == "2021-03-01T00:00:00+00:00"
    delays = {x["serial"]: x for x in d["revocation_delays"]}
    assert set(delays) == {"1002", "2001", "2002"}
    assert delays["1002"]["hours_after_compromise"] == pytest.approx(DELAY_HOURS_1002)
    assert delays["2001"]["revoked_at"] is None and delays["2001"]["hours_after_compromise"] is None


def check_cas(sweep: dict, *, failed_a: int = 0) -> None:
    by_id = {c["ca_id"]: c for c in sweep["cas"]}
    assert set(by_id) == {A, B}
    assert by_id[A]["ca_name"] == A_NAME
    for ca, want in EXPECTED_CAS.items():
        assert {k: by_id[ca][k] for k in want} == want, ca
    assert by_id[A]["failed_chunks"] == failed_a


def run_cli(argv, capsys) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- the scenario, end to end -------------------------------------------------------------------


def test_sweep_two_cas_json(crtsh_db, tmp_path, capsys):
    code, out, err = run_cli(
        [
            "sweep",
            "--ca-id",
            "11",
            "--ca-id",
            "22",
            *SWEEP,
            "--dsn",
            crtsh_db,
            "--cache-dir",
            str(tmp_path),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0, err
    d = json.loads(out)
    check_findings(d)
    check_cas(d["sweep"])
    assert d["errors"] == []
    assert d["sweep"]["chunks"] == 10 and d["sweep"]["chunks_from_checkpoint"] == 0
    # Only the certificates that matter were downloaded: 9 of the 12 in the database.
    assert d["sweep"]["certificates_downloaded"] == 9
    assert any("lead for review" in n for n in d["notes"])

    # The same answers again from the saved state, without the database.
    code, out2, err = run_cli(
        [
            "sweep",
            "--ca-id",
            "11",
            "--ca-id",
            "22",
            *SWEEP,
            "--dsn",
            crtsh_db,
            "--cache-dir",
            str(tmp_path),
            "--format",
            "json",
            "--offline",
        ],
        capsys,
    )
    assert code == 0, err
    d2 = json.loads(out2)
    check_findings(d2)
    assert d2["sweep"]["statements"] == 0
    assert d2["sweep"]["chunks_from_checkpoint"] == 10


def test_sweep_by_name_scope_issuer_table_and_csv(crtsh_db, tmp_path, capsys):
    common = [
        "sweep",
        "--ca-name",
        "example trust",
        "--ca-name",
        "OTHER",
        *SWEEP,
        "--dsn",
        crtsh_db,
        "--cache-dir",
        str(tmp_path),
    ]
    code, out, err = run_cli([*common, "--scope", "issuer", "--format", "csv"], capsys)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["serial"] for r in rows] == ["1002"]  # only A's own reuse counts
    assert rows[0]["same_issuer"] == "true" and rows[0]["issued_at"] == "2020-02-01T00:10:00+00:00"
    assert "| 11 | C=XX, O=Example Trust, CN=Example Trust CA A |" in err  # per-CA table on stderr

    code, out, err = run_cli([*common, "--format", "table"], capsys)
    assert code == 0, err
    assert "Sweep, per CA" in out
    row_a = next(ln for ln in out.splitlines() if ln.startswith("| 11 |"))
    # chunks, from checkpoint, narrowed, failed, entries, without certificate, keys, reused, violations
    assert [c.strip() for c in row_a.strip("|").split("|")][2:] == [
        "5",
        "0",
        "0",
        "0",
        "4",
        "1",
        "2",
        "2",
        "1",
    ]


def test_sweep_appendix(crtsh_db, tmp_path, capsys):
    code, out, err = run_cli(
        [
            "sweep",
            "--all-cas",
            *SWEEP,
            "--dsn",
            crtsh_db,
            "--cache-dir",
            str(tmp_path),
            "--format",
            "appendix",
        ],
        capsys,
    )
    assert code == 0, err
    rows = out.strip().split("\r\n")
    assert len(rows) == 1 + 7  # header + the 7 issuances on compromised keys
    header = rows[0].split(",")
    assert header[-3:] == ["SPKI SHA-256", "compromised_at", "violation"]
    violations = [r for r in rows[1:] if r.endswith(",true") or r.endswith(",True") or r.endswith(",yes")]
    assert len(violations) == 3


def test_sweep_usage_errors(crtsh_db, tmp_path, capsys):
    code, _, err = run_cli(["sweep", "--dsn", crtsh_db, "--cache-dir", str(tmp_path)], capsys)
    assert code == 2 and "--ca-id" in err
    code, _, err = run_cli(
        ["sweep", "--ca-id", "999", "--dsn", crtsh_db, "--cache-dir", str(tmp_path)], capsys
    )
    assert code == 2 and "--ca-id 999" in err
    # One CA found, one id and one name not: the sweep runs, lists both, and --strict says so.
    code, out, err = run_cli(
        [
            "sweep",
            "--ca-id",
            "22",
            "--ca-id",
            "999",
            "--ca-name",
            "Nobody CA",
            *SWEEP,
            "--dsn",
            crtsh_db,
            "--cache-dir",
            str(tmp_path),
            "--format",
            "json",
            "--strict",
        ],
        capsys,
    )
    assert code == 1, err
    d = json.loads(out)
    assert [(e["input"], e["position"]) for e in d["errors"]] == [
        ("--ca-id", "999"),
        ("--ca-name", "Nobody CA"),
    ]
    # B alone: its keyCompromise of K4 is followed; K1's compromise at A is not swept, so B's reuse
    # of K1 is not found from here (a sweep starts from the swept CAs' own revocations).
    assert d["summary"]["compromised_keys"] == 1 and d["summary"]["violating_issuances"] == 0
    code, _, err = run_cli(["sweep", "--ca-id", "11", "--since", "yesterday-ish", "--dsn", crtsh_db], capsys)
    assert code == 2 and "--since" in err


def test_unreachable_database_is_exit_3_without_the_password(tmp_path, capsys):
    dsn = f"host={tmp_path} port=1 dbname=certwatch user=guest password=hunter2"
    code, out, err = run_cli(["sweep", "--ca-id", "11", "--dsn", dsn, "--cache-dir", str(tmp_path)], capsys)
    assert code == 3
    assert "hunter2" not in err and "Traceback" not in err
    assert "postgresql://guest@" in err


def test_keyset_pages_of_one_entry_give_the_same_answer(crtsh_db, tmp_path):
    """page=1: every keyCompromise entry is its own statement, continued after the last one seen
    (the precertificate/final pair of serial 1001 still counts as one entry)."""
    with CrtshDB(crtsh_db) as db:
        cas = find_cas(db, ids=[A, B])
        r = run_sweep(
            db,
            cas,
            state_dir=tmp_path / "state",
            since=t("2019-01-01T00:00+00:00"),
            until=t("2023-01-01T00:00+00:00"),
            chunk=dt.timedelta(days=365),
            page=1,
            key_batch=1,
            cert_batch=2,
            as_of="2023-06-01",
            progress=False,
        )
        d = r.to_dict()
        check_findings(d)
        check_cas(d["sweep"])
        # ca lookup 1; keyCompromise pages: each of the 5 entries has its own page, and each of the
        # 10 chunks ends on an empty one: 15; keys one by one: K1, K2, K4 = 3; certificates two by
        # two: A's 8 (101-108) = 4, B's 1 (111) = 1; CRL coverage 1.
        assert d["sweep"]["statements"] == 1 + 15 + 3 + 5 + 1


# --- failures: statement timeouts, dropped connections, kills -----------------------------------

SLOW_SQL = r"""
CREATE SCHEMA slow;
-- Cheaper than any other qual, so it runs on every row the index range hands over: 5 ms a row,
-- 2 s for serial 0bad. A chunk costs what its rows cost, as on crt.sh.
CREATE FUNCTION slow.nap(s bytea) RETURNS boolean LANGUAGE plpgsql VOLATILE COST 0.0000001 AS $$
BEGIN
    PERFORM pg_sleep(CASE WHEN s = '\x0bad'::bytea THEN 2 ELSE 0.005 END);
    RETURN true;
END $$;
CREATE VIEW slow.crl_revoked AS SELECT * FROM public.crl_revoked WHERE slow.nap(serial_number);
CREATE ROLE sweeper LOGIN;
GRANT USAGE ON SCHEMA slow TO sweeper;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sweeper;
GRANT SELECT ON ALL TABLES IN SCHEMA slow TO sweeper;
ALTER ROLE sweeper SET statement_timeout = '500ms';
-- crt.sh's tables are too big for a sequential scan to ever win; these few rows are not.
ALTER ROLE sweeper SET enable_seqscan = off;
ALTER ROLE sweeper SET search_path = slow, public;
"""


@pytest.fixture(scope="module")
def slow_db(postgres_dsn):  # noqa: F811
    """The scenario plus 200 superseded revocations spread over 2019 at CA A, read by a role with
    a 500 ms statement_timeout through a view that costs 5 ms a row."""
    reason = plpython_available()
    if reason:
        pytest.skip(reason)
    dsn = new_database(postgres_dsn, "certwatch_slow")
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_crtsh_schema(conn)
        load_scenario(conn)
        conn.execute(
            "INSERT INTO crl_revoked (ca_id, serial_number, reason_code, revocation_date) "
            "SELECT 11, int4send(28672 + g), 4, timestamp '2019-01-02' + g * interval '1 day 18 hours' "
            "FROM generate_series(0, 199) g"
        )
        conn.execute(SLOW_SQL)
        conn.execute("ANALYZE")
    return dsn.replace("user=tester", "user=sweeper")


def test_statement_timeout_narrows_and_the_floor_goes_to_errors(slow_db, tmp_path, capsys):
    code, out, err = run_cli(
        [
            "sweep",
            "--ca-id",
            "11",
            "--ca-id",
            "22",
            *SWEEP,
            "--min-chunk-hours",
            str(40 * 24),
            "--dsn",
            slow_db,
            "--cache-dir",
            str(tmp_path),
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 3, err
    d = json.loads(out)
    check_findings(d)  # the 2019 chunk was narrowed and still found K1's compromise
    sweep = d["sweep"]
    a = next(c for c in sweep["cas"] if c["ca_id"] == A)
    assert a["narrowed"] >= 2  # 365 -> 182.5 -> 91.25 days at least
    assert a["failed_chunks"] == 1
    # The chunk holding serial 0bad (2022-02-01) failed at the floor: 365/8 = 45.625 days from 2021-12-31.
    (problem,) = d["errors"]
    assert problem["input"] == "crt.sh database ca_id 11"
    assert problem["position"] == "revocations 2021-12-31T00:00:00+00:00 to 2022-02-14T15:00:00+00:00"
    assert "canceling statement due to statement timeout" in problem["reason"]
    assert a["keycompromise_entries"] == 3 and a["entries_without_certificate"] == 0


def _wait_for_lock_waiter(admin, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'ca-incidents' "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.05)
    raise AssertionError("the sweep never waited on the locked table")


def test_dropped_connection_reconnects_and_finishes(crtsh_db, tmp_path):
    """The test locks ct_log_entry, so the sweep waits inside its first certificate download; then
    the server terminates the sweep's connection. The sweep reconnects and finishes."""
    naps: list[float] = []
    db = CrtshDB(crtsh_db, sleep=naps.append)
    result: dict = {}
    with psycopg.connect(crtsh_db, autocommit=True) as admin, psycopg.connect(crtsh_db) as locker:
        locker.execute("LOCK TABLE ct_log_entry IN ACCESS EXCLUSIVE MODE")

        def work():
            with db:
                cas = find_cas(db, ids=[A, B])
                result["r"] = run_sweep(
                    db,
                    cas,
                    state_dir=tmp_path / "state",
                    since=t("2019-01-01T00:00+00:00"),
                    until=t("2023-01-01T00:00+00:00"),
                    as_of="2023-06-01",
                    progress=False,
                )

        th = threading.Thread(target=work)
        th.start()
        pid = _wait_for_lock_waiter(admin)
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        locker.rollback()
        th.join(60)
    assert not th.is_alive()
    r = result["r"]
    check_findings(r.to_dict())
    assert db.reconnects == 1 and naps == [2.0]  # one backoff, then it worked
    assert not r.failed


def test_database_gone_for_good_stops_and_resume_finishes(crtsh_db, tmp_path):
    """The connection drops while CA A's certificates download and the role can no longer log in:
    after its retries the sweep stops, says which CAs are left (exit status 3), and a later
    resume=True run takes A's chunks from the checkpoint and finishes."""
    with psycopg.connect(crtsh_db, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS dropper")
        admin.execute("CREATE ROLE dropper LOGIN")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO dropper")
    dsn = crtsh_db.replace("user=tester", "user=dropper")
    window = dict(since=t("2019-01-01T00:00+00:00"), until=t("2023-01-01T00:00+00:00"), as_of="2023-06-01")
    naps: list[float] = []
    db = CrtshDB(dsn, sleep=naps.append)
    result: dict = {}
    with psycopg.connect(crtsh_db, autocommit=True) as admin, psycopg.connect(crtsh_db) as locker:
        locker.execute("LOCK TABLE ct_log_entry IN ACCESS EXCLUSIVE MODE")

        def work():
            with db:
                cas = find_cas(db, ids=[A, B])
                result["r"] = run_sweep(db, cas, state_dir=tmp_path / "state", progress=False, **window)

        th = threading.Thread(target=work)
        th.start()
        pid = _wait_for_lock_waiter(admin)
        admin.execute("ALTER ROLE dropper NOLOGIN")
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        locker.rollback()
        th.join(60)
    r = result["r"]
    assert r.failed and naps == [2.0, 4.0, 8.0, 16.0]  # four reconnections refused, then it stopped
    (problem,) = r.findings.problems
    assert problem.input == "crt.sh database" and problem.position == "ca_id 11, 22"
    assert "--resume" in problem.reason and "dropper" in problem.reason
    assert r.findings.summary["certificate_entries"] == 0

    with psycopg.connect(crtsh_db, autocommit=True) as admin:
        admin.execute("ALTER ROLE dropper LOGIN")
    with CrtshDB(dsn) as db2:
        cas = find_cas(db2, ids=[A, B])
        r2 = run_sweep(db2, cas, state_dir=tmp_path / "state", resume=True, progress=False, **window)
    d = r2.to_dict()
    check_findings(d)
    by_id = {c["ca_id"]: c for c in d["sweep"]["cas"]}
    assert by_id[A]["chunks_from_checkpoint"] == 5 and by_id[B]["chunks_from_checkpoint"] == 0


def test_resume_after_kill(crtsh_db, tmp_path, capsys):
    """Kill -9 a CLI sweep while it waits inside CA A's certificate downloads: CA A's five chunks
    are checkpointed; --resume takes them from the checkpoint and sweeps CA B."""
    argv = [
        "sweep",
        "--ca-id",
        "11",
        "--ca-id",
        "22",
        *SWEEP,
        "--dsn",
        crtsh_db,
        "--cache-dir",
        str(tmp_path),
        "--format",
        "json",
    ]
    with psycopg.connect(crtsh_db, autocommit=True) as admin, psycopg.connect(crtsh_db) as locker:
        locker.execute("LOCK TABLE ct_log_entry IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [sys.executable, "-m", "analysis.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        try:
            pid = _wait_for_lock_waiter(admin)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        locker.rollback()
    assert proc.returncode == -signal.SIGKILL
    code, out, err = run_cli([*argv, "--resume"], capsys)
    assert code == 0, err
    d = json.loads(out)
    check_findings(d)
    check_cas(d["sweep"])
    by_id = {c["ca_id"]: c for c in d["sweep"]["cas"]}
    assert (by_id[A]["chunks"], by_id[A]["chunks_from_checkpoint"]) == (5, 5)
    assert (by_id[B]["chunks"], by_id[B]["chunks_from_checkpoint"]) == (5, 0)


# --- the plans: every statement on an index, over 200k certificates ---------------------------


@pytest.fixture(scope="module")
def big_db(postgres_dsn):  # noqa: F811
    reason = plpython_available()
    if reason:
        pytest.skip(reason)
    dsn = new_database(postgres_dsn, "certwatch_big")
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_crtsh_schema(conn, indexes=False)
        load_scenario(conn)
        fill_bulk(conn, 200_000)
        create_certificate_indexes(conn)
    return dsn


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_every_statement_uses_crtsh_indexes(big_db, tmp_path):
    sent: list[tuple[str, dict]] = []
    db = CrtshDB(big_db, on_statement=lambda sql, params: sent.append((sql, params)))
    with db:
        cas = find_cas(db, ids=[A, 100])
        r = run_sweep(
            db,
            cas,
            state_dir=tmp_path / "state",
            since=t("2019-01-01T00:00+00:00"),
            until=t("2023-01-01T00:00+00:00"),
            as_of="2023-06-01",
            progress=False,
        )
    assert r.cas[1].keycompromise_entries > 50  # the bulk CA has keyCompromise entries to follow
    with psycopg.connect(big_db, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM certificate").fetchone()[0]
        assert count >= 200_000
        parent = dict(
            conn.execute(
                "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent"
            ).fetchall()
        )
        used: dict[str, set[str]] = {}
        for sql, params in sent:
            if sql in (statements.CA_BY_ID_SQL, statements.CRL_COVERAGE_SQL):
                continue  # the small ca and crl tables
            (plan,) = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
            for node in _plan_nodes(plan["Plan"]):
                rel = node.get("Relation Name")
                table = parent.get(rel, rel)
                assert not (node["Node Type"] == "Seq Scan" and table in ("certificate", "crl_revoked")), (
                    sql,
                    json.dumps(plan, indent=1),
                )
                if "Index Name" in node:
                    used.setdefault(sql, set()).add(parent.get(node["Index Name"], node["Index Name"]))
    assert used[statements.KEY_COMPROMISE_SQL] >= {"crlr_ca_revdate", "c_serial"}
    assert used[statements.KEY_CERTIFICATES_SQL] >= {"c_spki_sha256", "crlr_pk"}
    assert used[statements.CERTIFICATE_DETAILS_SQL] >= {"c_id", "ctle_c"}
    assert set(used) == {
        statements.KEY_COMPROMISE_SQL,
        statements.KEY_CERTIFICATES_SQL,
        statements.CERTIFICATE_DETAILS_SQL,
    }
    assert len(sent) >= 6
