#!/usr/bin/env python3
"""The sweep against the naive route, on crt.sh's schema in a local PostgreSQL, in one run.

Starts a throwaway PostgreSQL (as the tests do: tests/pg.py), creates crt.sh's tables, indexes and
x509_* functions (tests/crtsh_schema.py, PL/Python) and fills `--rows` certificates over 20 CAs in
SQL (default 1,000,000: every 7th certificate revoked, every 91st keyCompromise, keys shared by a
few certificates; about two minutes to build). Then, for one CA (`--ca`, default 100):

  sweep  `analysis.sweep.run_sweep` over crt.sh's statements (`analysis/sources/crtsh_db.py`):
         keyCompromise entries by range scan, keys by serial, certificates by SPKI, DER by id.
  naive  download every certificate of the CA and every revocation it has, then `find_key_reuse`
         on all of it (what a script without the database join does; it also misses reuse at
         other CAs, which the sweep finds).

Prints, for each: wall time, rows and bytes transferred from the server, and the findings'
violation count; then the ratios. No assertion: the figures are for people and for the issue notes.

    benchmarks/sweep_speed.py [--rows 1000000] [--ca 100]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

NAIVE_CERTS_SQL = "SELECT c.id, c.certificate FROM certificate c WHERE c.issuer_ca_id = %(ca)s"
NAIVE_REVOKED_SQL = (
    "SELECT cr.serial_number, cr.reason_code, cr.revocation_date FROM crl_revoked cr WHERE cr.ca_id = %(ca)s"
)


def build(dsn: str, rows: int) -> float:
    import psycopg
    from crtsh_schema import create_certificate_indexes, create_crtsh_schema, fill_bulk

    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_crtsh_schema(conn, indexes=False)
        fill_bulk(conn, rows)
        create_certificate_indexes(conn)
    return time.perf_counter() - t0


def run_sweep_route(dsn: str, ca: int) -> dict:
    from analysis.sources.crtsh_db import CrtshDB, find_cas
    from analysis.sweep import run_sweep

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as state, CrtshDB(dsn) as db:
        cas = find_cas(db, ids=[ca])
        result = run_sweep(
            db,
            cas,
            state_dir=Path(state) / "sweep",
            since=dt.datetime(2013, 1, 1, tzinfo=dt.UTC),
            until=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            as_of="2025-01-01",
            progress=False,
        )
        return {
            "seconds": time.perf_counter() - t0,
            "rows": db.rows,
            "bytes": db.bytes,
            "statements": db.statements,
            "violations": result.findings.summary["violating_issuances"],
            "violations_at_this_ca": result.cas[0].violations_issued,
        }


def run_naive_route(dsn: str, ca: int) -> dict:
    import pandas as pd
    import psycopg

    from analysis.certificates import load_certificates
    from analysis.formats import format_serial
    from analysis.keyreuse import find_key_reuse
    from analysis.schema import REASON_NAMES, coerce_revocations

    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        certs_rows = conn.execute(NAIVE_CERTS_SQL, {"ca": ca}).fetchall()
        revoked_rows = conn.execute(NAIVE_REVOKED_SQL, {"ca": ca}).fetchall()
    nbytes = sum(len(der) for _, der in certs_rows) + sum(len(s) for s, _, _ in revoked_rows)
    # One PEM bundle: the loader's fast path, as a script saving the download to a file would get.
    pem = b"".join(
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(bytes(der)) + b"-----END CERTIFICATE-----\n"
        for _, der in certs_rows
    )
    certs, _ = load_certificates(pem, names=False)
    issuer = certs["issuer_dn"].iloc[0] if len(certs) else "?"
    revs = coerce_revocations(
        pd.DataFrame(
            {
                "issuer_dn": issuer,
                "serial": [format_serial(int.from_bytes(bytes(s), "big")) for s, _, _ in revoked_rows],
                "revoked_at": [r for _, _, r in revoked_rows],
                "reason": [REASON_NAMES.get(c or 0, "unspecified") for _, c, _ in revoked_rows],
                "reason_code": [c or 0 for _, c, _ in revoked_rows],
                "source": "naive",
            }
        )
    )
    findings = find_key_reuse(certs, revs, as_of="2025-01-01")
    return {
        "seconds": time.perf_counter() - t0,
        "rows": len(certs_rows) + len(revoked_rows),
        "bytes": nbytes,
        "statements": 2,
        "violations": findings.summary["violating_issuances"],
        "violations_at_this_ca": findings.summary["violating_issuances"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="certificate rows to generate")
    ap.add_argument("--ca", type=int, default=100, help="the crt.sh CA id to sweep (100..119)")
    args = ap.parse_args()

    from pg import running_postgres

    with running_postgres() as dsn:
        print(f"building {args.rows:,} certificate rows in PostgreSQL ...", flush=True)
        print(f"  built in {build(dsn, args.rows):.1f} s", flush=True)
        sweep = run_sweep_route(dsn, args.ca)
        naive = run_naive_route(dsn, args.ca)
    print()
    print(f"{'route':<8} {'seconds':>9} {'statements':>11} {'rows':>10} {'bytes':>13} {'violations':>11}")
    for name, r in (("sweep", sweep), ("naive", naive)):
        print(
            f"{name:<8} {r['seconds']:>9.2f} {r['statements']:>11} {r['rows']:>10,} {r['bytes']:>13,}"
            f" {r['violations']:>11} (issued by CA {args.ca}: {r['violations_at_this_ca']})"
        )
    print()
    print(f"time: naive / sweep = {naive['seconds'] / sweep['seconds']:.1f}x")
    print(f"rows transferred: naive / sweep = {naive['rows'] / max(sweep['rows'], 1):.1f}x")
    print(f"bytes transferred: naive / sweep = {naive['bytes'] / max(sweep['bytes'], 1):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
