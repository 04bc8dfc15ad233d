"""crt.sh's public PostgreSQL database (certwatch): revocation history and the sweep's queries.

The schema is crt.sh's own (crtsh/certwatch_db, functions from crtsh/libx509pq): `ca`,
`certificate` (partitioned by notAfter), `crl`, `crl_revoked` (primary key (CA_ID, SERIAL_NUMBER),
index (CA_ID, REVOCATION_DATE), none on REASON_CODE) and `ct_log_entry`; expression indexes on
`x509_serialNumber(CERTIFICATE)` and `digest(x509_publicKey(CERTIFICATE), 'sha256')`.
SERIAL_NUMBER holds the DER INTEGER content octets (a leading 00 is kept); REASON_CODE is NULL
when the CRL entry's reason is not a one-byte ENUMERATED (read here as "unspecified").

The guest server sits behind a statement-mode pooler: autocommit and no server-side prepare, no
`options` startup parameter (so no client statement_timeout), statements cancelled by the server's
timeout, connections that drop, a pool that parallel clients exhaust. So: one connection, small
statements that each use an index, reconnection with backoff, and cancellations reported to the
caller (`analysis.errors.Cancelled`) so that it can narrow the work and try again.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from ..errors import Cancelled, OfflineMiss, Problem, UpstreamError
from ..formats import TIME_DTYPE, format_serial, parse_serial
from ..schema import REASON_NAMES
from .http import UpstreamProblem

CRTSH_DSN = "host=crt.sh port=5432 dbname=certwatch user=guest"
APPLICATION_NAME = "ca-incidents"
KEY_COMPROMISE = 1

REVOCATION_DB_COLUMNS: dict[str, str] = {
    "ca_id": "Int64",
    "serial": "string",
    "revoked_at": TIME_DTYPE,
    "reason": "string",  # RFC 5280 name; "unspecified" when crt.sh has no reason code
    "reason_code": "Int64",
    "last_seen_check_date": TIME_DTYPE,
    "source": "string",
}


def der_serial_hex(serial: int) -> str:
    """The hex crt.sh uses for a serial: the DER INTEGER content bytes (a 00 before a high bit)."""
    return serial.to_bytes(serial.bit_length() // 8 + 1, "big").hex()


def crtsh_dsn(value: str | None = None) -> str:
    """The connection string: `value` (--crtsh-db/--dsn), else env CRTSH_DB, else crt.sh's public one."""
    return value or os.environ.get("CRTSH_DB") or CRTSH_DSN


def redact_dsn(dsn: str) -> str:
    """``postgresql://user@host:port/dbname`` without any password, for messages."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        d = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - an unparsable DSN must not leak into a message either
        return "postgresql://(unparsable connection string)"
    return (
        f"postgresql://{d.get('user', '')}@{d.get('host', '')}:{d.get('port', '5432')}/{d.get('dbname', '')}"
    )


def _progress(iterable, *, total: int, desc: str, progress: bool | None, unit: str = "batch"):
    from tqdm import tqdm

    return tqdm(
        iterable, total=total, desc=desc, unit=unit, disable=None if progress is None else not progress
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


# --- one connection, as the pooler wants it ---------------------------------------------------


class CrtshDB:
    """One autocommit connection without server-side prepared statements, reconnected with
    exponential backoff when it drops. `query` raises Cancelled when the server cancels
    a statement and UpstreamError when the database stays unusable after `retries`.

    `on_statement(sql, params)` sees every statement before it is sent (logging, EXPLAIN tests).
    Counts what crossed the wire: `statements`, `rows`, `bytes`, `reconnects`, `cancelled`.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        retries: int = 4,
        backoff: float = 2.0,
        connect_timeout: int = 30,
        sleep: Callable[[float], None] = time.sleep,
        on_statement: Callable[[str, dict], None] | None = None,
    ) -> None:
        self.dsn = crtsh_dsn(dsn)
        self.shown = redact_dsn(self.dsn)
        self.retries = retries
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self.sleep = sleep
        self.on_statement = on_statement
        self.conn = None
        self.connected = False
        self.statements = self.rows = self.bytes = self.reconnects = self.cancelled = 0

    def _connect(self):
        if self.conn is None or self.conn.closed:
            self.conn = self._open()
            self.connected = True
        return self.conn

    def _open(self):
        import psycopg

        return psycopg.connect(
            self.dsn,
            autocommit=True,
            prepare_threshold=None,
            connect_timeout=self.connect_timeout,
            application_name=APPLICATION_NAME,
        )

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = None

    def __enter__(self) -> CrtshDB:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def query(self, sql: str, params: dict) -> list[tuple]:
        import psycopg
        from psycopg import errors

        for attempt in range(self.retries + 1):
            try:
                conn = self._connect()
                if self.on_statement is not None:
                    self.on_statement(sql, params)
                self.statements += 1
                with conn.cursor() as cur:
                    cur.execute(sql, params)
                    rows = cur.fetchall()
            except errors.QueryCanceled as exc:
                self.cancelled += 1
                raise Cancelled(self.shown, _first_line(exc)) from exc
            except psycopg.OperationalError as exc:  # dropped, refused, terminated, pool full
                self.close()
                # A server never reached once (a wrong DSN, no network) gets one more try, not all.
                if attempt >= (self.retries if self.connected else min(self.retries, 1)):
                    raise UpstreamError(
                        self.shown, None, reason=f"{_first_line(exc)} (after {attempt + 1} attempts)"
                    ) from exc
                self.reconnects += 1
                self.sleep(self.backoff * 2**attempt)
                continue
            except psycopg.Error as exc:
                raise UpstreamError(self.shown, None, reason=_first_line(exc)) from exc
            self.rows += len(rows)
            self.bytes += sum(
                len(v) for r in rows for v in r if isinstance(v, (bytes, bytearray, memoryview))
            )
            return rows
        raise AssertionError("unreachable")  # pragma: no cover

    # The sweep's source interface (analysis/sweep.py).
    def key_compromise_page(self, ca_id, lo, hi, *, after=None, page=1000):
        return fetch_key_compromise_page(self, ca_id, lo, hi, after=after, page=page)

    def key_certificates(self, spkis):
        return fetch_key_certificates(self, spkis)

    def certificate_details(self, ids):
        return fetch_certificate_details(self, ids)

    def crl_coverage(self, ca_ids):
        return fetch_crl_coverage(self, ca_ids)


# --- the sweep's statements -------------------------------------------------------------------
# Each one is a range or point lookup on an index crt.sh has (the EXPLAIN test checks it):
# crlr_ca_revdate (CA_ID, REVOCATION_DATE), c_serial, c_spki_sha256, c_id, crlr_pk, ctle_c.
# `issuer_ca_id + 0` keeps the planner off the (ISSUER_CA_ID, notBefore) index, which would read
# every certificate of a big CA; a certificate's own revocation is a per-row subquery so that it
# stays a primary-key lookup whatever the planner thinks of the batch.

KEY_COMPROMISE_SQL = """
SELECT kc.revocation_date, kc.serial_number, c.id, digest(x509_publicKey(c.certificate), 'sha256')
  FROM (SELECT cr.serial_number, cr.revocation_date
          FROM crl_revoked cr
         WHERE cr.ca_id = %(ca_id)s
           AND cr.revocation_date >= %(after_date)s AND cr.revocation_date < %(hi)s
           AND (cr.revocation_date, cr.serial_number) > (%(after_date)s, %(after_serial)s)
           AND cr.reason_code = 1
         ORDER BY cr.revocation_date, cr.serial_number
         LIMIT %(page)s) kc
  LEFT JOIN certificate c
         ON x509_serialNumber(c.certificate) = kc.serial_number AND c.issuer_ca_id + 0 = %(ca_id)s
 ORDER BY kc.revocation_date, kc.serial_number, c.id
"""

KEY_CERTIFICATES_SQL = """
SELECT c.id, c.issuer_ca_id, digest(x509_publicKey(c.certificate), 'sha256'),
       x509_serialNumber(c.certificate), x509_notBefore(c.certificate), x509_notAfter(c.certificate),
       (SELECT cr.reason_code FROM crl_revoked cr
         WHERE cr.ca_id = c.issuer_ca_id AND cr.serial_number = x509_serialNumber(c.certificate)),
       (SELECT cr.revocation_date FROM crl_revoked cr
         WHERE cr.ca_id = c.issuer_ca_id AND cr.serial_number = x509_serialNumber(c.certificate))
  FROM certificate c
 WHERE digest(x509_publicKey(c.certificate), 'sha256') = ANY(%(spkis)s::bytea[])
"""

CERTIFICATE_DETAILS_SQL = """
SELECT c.id, c.certificate,
       (SELECT min(ctle.entry_timestamp) FROM ct_log_entry ctle WHERE ctle.certificate_id = c.id)
  FROM certificate c
 WHERE c.id = ANY(%(ids)s::bigint[])
"""

CA_BY_ID_SQL = "SELECT ca.id, ca.name FROM ca WHERE ca.id = ANY(%(ids)s::integer[]) ORDER BY ca.id"
CA_BY_NAME_SQL = "SELECT ca.id, ca.name FROM ca WHERE lower(ca.name) LIKE %(pattern)s ORDER BY ca.id"
CA_WITH_CRLS_SQL = """
SELECT ca.id, ca.name FROM ca WHERE ca.id IN (SELECT crl.ca_id FROM crl) ORDER BY ca.id
"""
CRL_COVERAGE_SQL = """
SELECT crl.ca_id, count(*) FROM crl WHERE crl.ca_id = ANY(%(ids)s::integer[]) GROUP BY crl.ca_id
"""


def _utc(value) -> pd.Timestamp | None:
    """A database timestamp (naive, UTC) -> an aware UTC Timestamp."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _naive(value: dt.datetime | pd.Timestamp) -> dt.datetime:
    """An aware time -> the naive UTC datetime crt.sh's `timestamp` columns compare with."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def fetch_key_compromise_page(
    db: CrtshDB,
    ca_id: int,
    lo: dt.datetime,
    hi: dt.datetime,
    *,
    after: tuple[dt.datetime, bytes] | None = None,
    page: int = 1000,
) -> tuple[list[dict], tuple[dt.datetime, bytes] | None]:
    """One keyset page of a CA's keyCompromise CRL entries with lo <= revocation_date < hi, each
    joined to the certificates crt.sh has for (issuer, serial). Returns (entries, next key or None)
    with entries {revoked_at, serial (DER content hex), crtsh_id, spki_sha256} (the last two None
    when crt.sh has no certificate for the serial; a precertificate and its certificate are two)."""
    after_date, after_serial = after if after is not None else (_naive(lo), b"")
    rows = db.query(
        KEY_COMPROMISE_SQL,
        {
            "ca_id": int(ca_id),
            "after_date": _naive(after_date),
            "after_serial": after_serial,
            "hi": _naive(hi),
            "page": int(page),
        },
    )
    out = []
    seen: dict[tuple, None] = {}
    for revoked, serial, cert_id, spki in rows:
        seen[(revoked, bytes(serial))] = None
        out.append(
            {
                "revoked_at": _utc(revoked),
                "serial": bytes(serial).hex(),
                "crtsh_id": None if cert_id is None else int(cert_id),
                "spki_sha256": None if spki is None else bytes(spki).hex(),
            }
        )
    more = list(seen)[-1] if len(seen) >= page else None
    return out, more


def fetch_key_certificates(db: CrtshDB, spkis: Sequence[str]) -> list[dict]:
    """Every certificate crt.sh has on these SPKI SHA-256s (hex), at any CA, without the DER:
    {crtsh_id, issuer_ca_id, spki_sha256, serial (DER content hex), not_before, not_after,
    reason_code, revoked_at} (the revocation from its own issuer's crl_revoked row, or None)."""
    rows = db.query(KEY_CERTIFICATES_SQL, {"spkis": [bytes.fromhex(s) for s in spkis]})
    return [
        {
            "crtsh_id": int(cid),
            "issuer_ca_id": int(ca),
            "spki_sha256": bytes(spki).hex(),
            "serial": None if serial is None else bytes(serial).hex(),
            "not_before": _utc(nb),
            "not_after": _utc(na),
            "reason_code": None if code is None else int(code),
            "revoked_at": _utc(revoked),
        }
        for cid, ca, spki, serial, nb, na, code, revoked in rows
    ]


def fetch_certificate_details(db: CrtshDB, ids: Sequence[int]) -> list[dict]:
    """The DER and the first CT log entry time of certificates by crt.sh id."""
    rows = db.query(CERTIFICATE_DETAILS_SQL, {"ids": [int(i) for i in ids]})
    return [{"crtsh_id": int(cid), "der": bytes(der), "first_seen": _utc(seen)} for cid, der, seen in rows]


def find_cas(
    db: CrtshDB, *, ids: Iterable[int] = (), names: Iterable[str] = (), all_cas: bool = False
) -> list[tuple[int, str]]:
    """(ca id, name) for the given ids, the CAs whose name contains any of `names` (any case), or
    every CA crt.sh has a CRL for (`all_cas`). Sorted by id, each once."""
    found: dict[int, str] = {}
    ids = [int(i) for i in ids]
    if ids:
        found.update({int(i): str(n) for i, n in db.query(CA_BY_ID_SQL, {"ids": ids})})
    for name in names:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", name.lower()) + "%"
        found.update({int(i): str(n) for i, n in db.query(CA_BY_NAME_SQL, {"pattern": pattern})})
    if all_cas:
        found.update({int(i): str(n) for i, n in db.query(CA_WITH_CRLS_SQL, {})})
    return sorted(found.items())


def fetch_crl_coverage(db: CrtshDB, ca_ids: Iterable[int]) -> dict[int, int]:
    """How many CRLs crt.sh knows for each CA (CAs without one are absent)."""
    ids = sorted({int(i) for i in ca_ids})
    if not ids:
        return {}
    return {int(ca): int(n) for ca, n in db.query(CRL_COVERAGE_SQL, {"ids": ids})}


_REVOKED_SQL = """
SELECT cr.ca_id, cr.serial_number, cr.reason_code, cr.revocation_date, cr.last_seen_check_date
  FROM crl_revoked cr
 WHERE (cr.ca_id, cr.serial_number) IN (SELECT * FROM unnest(%s::integer[], %s::bytea[]))
"""


def empty_db_revocations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in REVOCATION_DB_COLUMNS.items()})


def fetch_revocations_db(
    dsn: str | None,
    pairs: Iterable[tuple[int, object]],
    *,
    batch_size: int = 500,
    retries: int = 2,
    connect_timeout: int = 30,
    offline: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Revocations crt.sh has seen on CRLs for each (issuer ca_id, serial), from ``crl_revoked``.

    `pairs` are (crt.sh issuer_ca_id, serial in any accepted form: canonical hex, crt.sh's hex with
    a leading 00, an int). Looks up in batches of `batch_size`; a batch that fails after `retries`
    (replicas cancel long queries) becomes an UpstreamProblem and the other batches still count.
    Returns REVOCATION_DB_COLUMNS (serial canonical; a serial may appear once per CRL entry crt.sh
    keeps) and the problems. `dsn` None means `crtsh_dsn()`.
    """
    dsn = crtsh_dsn(dsn)
    shown = redact_dsn(dsn)
    wanted: dict[tuple[int, bytes], None] = {}
    problems: list[Problem] = []
    for ca_id, serial in pairs:
        try:
            n = parse_serial(serial)
            ca = int(ca_id)
        except (TypeError, ValueError) as exc:
            problems.append(Problem(shown, f"ca_id {ca_id} serial {serial}", str(exc)))
            continue
        wanted[(ca, bytes.fromhex(der_serial_hex(n)))] = None
        if isinstance(serial, str):  # crt.sh's own hex, possibly a non-minimal encoding
            raw = re.sub(r"[\s:]", "", serial).lower()
            if raw and len(raw) % 2 == 0 and re.fullmatch(r"[0-9a-f]+", raw):
                wanted[(ca, bytes.fromhex(raw))] = None
    keys = list(wanted)
    if not keys:
        return empty_db_revocations(), problems
    if offline:
        return empty_db_revocations(), problems + [UpstreamProblem.from_error(OfflineMiss(shown))]
    import psycopg

    records: list[tuple] = []
    batches = [keys[i : i + batch_size] for i in range(0, len(keys), batch_size)]
    conn = None
    try:
        for b, batch in enumerate(
            _progress(batches, total=len(batches), desc="crt.sh revocations", progress=progress)
        ):
            for attempt in range(retries + 1):
                try:
                    if conn is None or conn.closed:
                        conn = psycopg.connect(
                            dsn, autocommit=True, prepare_threshold=None, connect_timeout=connect_timeout
                        )
                    with conn.cursor() as cur:
                        cur.execute(_REVOKED_SQL, ([k[0] for k in batch], [k[1] for k in batch]))
                        records.extend(cur.fetchall())
                    break
                except psycopg.Error as exc:
                    reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                    if conn is not None and not conn.closed and isinstance(exc, psycopg.OperationalError):
                        conn.close()
                    if attempt < retries and isinstance(exc, psycopg.OperationalError):
                        sleep(2.0 * 2**attempt)
                        continue
                    problems.append(
                        UpstreamProblem(
                            shown, f"batch {b + 1} of {len(batches)} ({len(batch)} serials)", reason
                        )
                    )
                    break
    finally:
        if conn is not None and not conn.closed:
            conn.close()
    return _revocation_frame(records, shown), problems


def _revocation_frame(records: list[tuple], source: str) -> pd.DataFrame:
    if not records:
        return empty_db_revocations()
    rows = []
    for ca_id, serial_bytes, code, revoked, checked in records:
        code = None if code is None else int(code)
        if code is None:
            reason = "unspecified"
        else:
            reason = REASON_NAMES.get(code, f"unknown ({code})")
        rows.append(
            {
                "ca_id": int(ca_id),
                "serial": format_serial(int.from_bytes(bytes(serial_bytes), "big")),
                "revoked_at": revoked,
                "reason": reason,
                "reason_code": code,
                "last_seen_check_date": checked,
                "source": f"crt.sh crl_revoked ({source})",
            }
        )
    df = pd.DataFrame(rows)
    for col, dtype in REVOCATION_DB_COLUMNS.items():
        if dtype == TIME_DTYPE:
            df[col] = pd.to_datetime(df[col], utc=True).astype(TIME_DTYPE)
        else:
            df[col] = df[col].astype(dtype)
    df = df[list(REVOCATION_DB_COLUMNS)].drop_duplicates()
    return df.sort_values(["ca_id", "serial", "revoked_at"], kind="stable").reset_index(drop=True)
