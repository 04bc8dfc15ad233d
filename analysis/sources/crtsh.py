"""crt.sh: JSON searches (SPKI SHA-256, identity, serial), PEM downloads, revocations from its
public PostgreSQL database.

crt.sh has no formal API; the behaviour below is read from its source and real answers
(reference.md): times are UTC without a zone and with a variable number of fraction digits,
``serial_number`` is the hex of the DER content bytes (a leading ``00`` when the high bit is set),
an SPKI search lists a precertificate and its final certificate as two rows with one serial,
identity searches are silently cut at 10,000 rows, and errors come back as an HTML 503 page — read
as an error here, never as "no results".

Certificates are returned as the PEM bytes crt.sh serves plus the row's metadata, so our own
parser (analysis/certificates.py) decides names, precertificate flags and SPKIs; crt.sh's entry
time becomes ``first_seen``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..errors import Problem, UpstreamError
from ..formats import TIME_DTYPE, format_serial, parse_serial
from ..safety import load_json, write_inside
from .crtsh_db import (  # noqa: F401 - the database helpers used to live here
    CRTSH_DSN,
    REVOCATION_DB_COLUMNS,
    crtsh_dsn,
    der_serial_hex,
    empty_db_revocations,
    fetch_revocations_db,
    redact_dsn,
)
from .http import Answer, InvalidAnswer, Session, UpstreamProblem, expect_json

IDENTITY_ROW_CAP = 10_000

ROW_COLUMNS: dict[str, str] = {
    "crtsh_id": "Int64",
    "issuer_ca_id": "Int64",
    "issuer_name": "string",  # as crt.sh writes it: "C=US, O=Let's Encrypt, CN=R3"
    "common_name": "string",  # identity searches only
    "name_value": "object",  # list[str]; for an SPKI search, the SPKI hex
    "first_seen": TIME_DTYPE,  # crt.sh entry_timestamp (first seen in CT), UTC
    "not_before": TIME_DTYPE,
    "not_after": TIME_DTYPE,
    "serial": "string",  # canonical: lowercase hex, no leading zeros
    "crtsh_serial": "string",  # as crt.sh wrote it (DER content bytes, may start with 00)
    "issuance_rows": "Int64",  # rows sharing (issuer_ca_id, serial): 2 for a precert/final pair
    "query": "string",  # the search that found the row, e.g. "spkisha256=ab12..."
}

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


# --- pure helpers ---------------------------------------------------------------------------------


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in ROW_COLUMNS.items()})


def parse_rows(
    rows: object, *, query: str = "", source: str = "crt.sh"
) -> tuple[pd.DataFrame, list[Problem]]:
    """crt.sh JSON rows -> the typed rows frame (ROW_COLUMNS) and the rows skipped.

    Pure. Raises ValueError when `rows` is not a JSON array of objects at all.
    """
    if not isinstance(rows, list):
        raise ValueError(f"crt.sh answer is a {type(rows).__name__}, not a JSON array")
    problems: list[Problem] = []
    records = []
    for i, row in enumerate(rows):
        where = f"row {i + 1}"
        if not isinstance(row, dict):
            problems.append(Problem(source, where, "not a JSON object"))
            continue
        try:
            crtsh_id = int(row["id"])
            raw_serial = str(row["serial_number"]).strip().lower()
            serial = format_serial(parse_serial(raw_serial))
            issuer_ca_id = row.get("issuer_ca_id")
            issuer_ca_id = int(issuer_ca_id) if issuer_ca_id is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(source, where, f"unusable crt.sh row: {exc}"))
            continue
        names = row.get("name_value") or ""
        records.append(
            {
                "crtsh_id": crtsh_id,
                "issuer_ca_id": issuer_ca_id,
                "issuer_name": row.get("issuer_name"),
                "common_name": row.get("common_name"),
                "name_value": [n for n in str(names).split("\n") if n],
                "first_seen": row.get("entry_timestamp"),
                "not_before": row.get("not_before"),
                "not_after": row.get("not_after"),
                "serial": serial,
                "crtsh_serial": raw_serial,
                "query": query,
            }
        )
    if not records:
        return empty_rows(), problems
    df = pd.DataFrame.from_records(records)
    out = {}
    for col, dtype in ROW_COLUMNS.items():
        if col == "issuance_rows":
            continue
        s = df[col]
        if dtype == TIME_DTYPE:
            try:
                s = pd.to_datetime(s, utc=True, format="ISO8601").astype(TIME_DTYPE)
            except (ValueError, TypeError):
                s = pd.Series([_time_or_nat(v) for v in s], dtype=TIME_DTYPE)
        elif dtype != "object":
            s = s.astype(dtype)
        out[col] = s
    frame = pd.DataFrame(out)
    key = frame["issuer_ca_id"].astype("string").fillna("?") + "/" + frame["serial"]
    frame["issuance_rows"] = key.map(key.value_counts()).astype("Int64")
    return frame[list(ROW_COLUMNS)], problems


def _time_or_nat(value: object):
    try:
        return pd.Timestamp(value, tz="UTC") if value is not None else pd.NaT
    except (ValueError, TypeError):
        return pd.NaT


def find_precert_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows sharing (issuer_ca_id, serial) — a precertificate and its final certificate, which the
    JSON does not tell apart (our certificate parser does, by the poison extension).

    Returns one row per issuance listed more than once: issuer_ca_id, serial, crtsh_ids (list).
    """
    cols = {"issuer_ca_id": "Int64", "serial": "string", "crtsh_ids": "object"}
    dup = rows[rows["issuance_rows"] > 1] if len(rows) else rows
    if not len(dup):
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in cols.items()})
    grouped = dup.groupby(["issuer_ca_id", "serial"], sort=True)["crtsh_id"].agg(
        lambda s: sorted(int(x) for x in s)
    )
    out = grouped.reset_index().rename(columns={"crtsh_id": "crtsh_ids"})
    return out.astype({"issuer_ca_id": "Int64", "serial": "string"})


# --- searches -----------------------------------------------------------------------------------


def _expect_rows(answer: Answer) -> None:
    expect_json(answer)
    if not isinstance(answer.json(), list):
        raise InvalidAnswer(f"expected a JSON array of rows, got {type(answer.json()).__name__}", retry=False)


def _search(session: Session, params: dict[str, str], *, cap: bool) -> tuple[pd.DataFrame, list[Problem]]:
    base = session.base_url("crtsh")
    params = {**params, "output": "json"}
    answer = session.get(base + "/", params=params, kind="search", validate=_expect_rows)
    query = "&".join(f"{k}={v}" for k, v in params.items() if k != "output")
    frame, problems = parse_rows(answer.json(), query=query, source=answer.url)
    if cap and len(answer.json()) >= IDENTITY_ROW_CAP:
        problems.append(
            Problem(
                answer.url,
                None,
                f"crt.sh returned {len(answer.json())} rows, its cap for identity searches: the list is "
                "incomplete (narrow the search, e.g. exclude expired certificates)",
            )
        )
    return frame, problems


def normalize_spki(spki_hex: str) -> str:
    """A 64-hex SPKI SHA-256 (colons and spaces allowed) in lowercase; ValueError otherwise."""
    text = re.sub(r"[\s:]", "", str(spki_hex)).lower()
    if not _HEX64.match(text):
        raise ValueError(f"not a SHA-256 hex digest: {spki_hex!r}")
    return text


def search_spki(
    session: Session, spki_sha256: str, *, exclude_expired: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Every certificate crt.sh knows with this SPKI SHA-256 (precert and final cert both listed).

    Raises ValueError for a malformed hash and UpstreamError when crt.sh fails.
    """
    params = {"spkisha256": normalize_spki(spki_sha256)}
    if exclude_expired:
        params["exclude"] = "expired"
    return _search(session, params, cap=False)


def search_identity(
    session: Session, name: str, *, exclude_expired: bool = False, deduplicate: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """crt.sh's identity search (``q=``; ``%`` is the wildcard). A 64-hex `name` would mean a
    certificate SHA-256 to crt.sh, so it is refused. Warns (as a problem) at the 10,000-row cap."""
    name = name.strip()
    if _HEX64.match(name.lower()):
        raise ValueError(f"{name!r} looks like a SHA-256; crt.sh would read it as a certificate hash")
    params = {"q": name}
    if exclude_expired:
        params["exclude"] = "expired"
    if deduplicate:
        params["deduplicate"] = "Y"
    return _search(session, params, cap=True)


def search_serial(
    session: Session, serial: object, *, exclude_expired: bool = False
) -> tuple[pd.DataFrame, list[Problem]]:
    """Certificates with this serial number (any accepted serial form) from every issuer."""
    params = {"serial": der_serial_hex(parse_serial(serial))}
    if exclude_expired:
        params["exclude"] = "expired"
    return _search(session, params, cap=False)


# --- certificates -------------------------------------------------------------------------------


def _expect_pem(answer: Answer) -> None:
    if b"-----BEGIN CERTIFICATE-----" not in answer.content:
        raise InvalidAnswer(f"not a PEM certificate: {answer.content[:80]!r}", retry=False)


def pem_url(session: Session, crtsh_id: int) -> str:
    return f"{session.base_url('crtsh')}/?d={int(crtsh_id)}"


def fetch_pem(session: Session, crtsh_id: int) -> bytes:
    """The PEM crt.sh serves for one certificate id (cached forever). Raises UpstreamError."""
    return session.get(pem_url(session, crtsh_id), kind="cert", validate=_expect_pem).content


def row_meta(row: dict, source: str) -> dict:
    """The metadata handed along with a downloaded PEM (first_seen is a UTC Timestamp or None)."""
    first_seen = row.get("first_seen")
    return {
        "crtsh_id": int(row["crtsh_id"]),
        "first_seen": None if first_seen is None or pd.isna(first_seen) else first_seen,
        "issuer_ca_id": None if pd.isna(row.get("issuer_ca_id")) else int(row["issuer_ca_id"]),
        "issuer_name": None if pd.isna(row.get("issuer_name")) else str(row["issuer_name"]),
        "serial": str(row["serial"]),
        "crtsh_serial": str(row["crtsh_serial"]),
        "source": source,
    }


def _progress(iterable, *, total: int, desc: str, progress: bool | None):
    from tqdm import tqdm

    return tqdm(
        iterable, total=total, desc=desc, unit="cert", disable=None if progress is None else not progress
    )


def fetch_row_certificates(
    session: Session, rows: pd.DataFrame, *, progress: bool | None = None
) -> tuple[list[tuple[bytes, dict]], list[Problem]]:
    """Download the PEM of every row (each crt.sh id once). A failed download is an
    UpstreamProblem naming the id; the others are still returned."""
    out: list[tuple[bytes, dict]] = []
    problems: list[Problem] = []
    seen: set[int] = set()
    records = [
        r for r in rows.to_dict("records") if not (int(r["crtsh_id"]) in seen or seen.add(int(r["crtsh_id"])))
    ]
    for row in _progress(records, total=len(records), desc="crt.sh certificates", progress=progress):
        url = pem_url(session, row["crtsh_id"])
        try:
            pem = fetch_pem(session, row["crtsh_id"])
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, f"crt.sh id {row['crtsh_id']}"))
            continue
        out.append((pem, row_meta(row, url)))
    return out, problems


def fetch_spki_certificates(
    session: Session, spki_sha256: str, *, exclude_expired: bool = False, progress: bool | None = None
) -> tuple[list[tuple[bytes, dict]], list[Problem]]:
    """Search crt.sh by SPKI SHA-256 and download every certificate it lists.

    Returns ``[(pem_bytes, meta)]`` with meta = crtsh_id, first_seen (UTC Timestamp or None),
    issuer_ca_id, issuer_name, serial, crtsh_serial, source (the download URL), and the problems:
    an `UpstreamProblem` when the search or a download failed (the rest is still returned).
    """
    try:
        rows, problems = search_spki(session, spki_sha256, exclude_expired=exclude_expired)
    except UpstreamError as exc:
        return [], [UpstreamProblem.from_error(exc, f"spki {spki_sha256}")]
    except ValueError as exc:
        return [], [Problem(f"spki {spki_sha256}", None, str(exc))]
    items, more = fetch_row_certificates(session, rows, progress=progress)
    return items, problems + more


# --- saving for a later --certs DIR -------------------------------------------------------------

ROWS_FILE = "crtsh.json"


def _naive_iso(value) -> str | None:
    """A UTC time as crt.sh writes it: ISO 8601 without a zone, fraction kept."""
    if value is None or pd.isna(value):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
    return ts.isoformat()


def to_crtsh_rows(rows: pd.DataFrame) -> list[dict]:
    """The rows frame back in crt.sh's JSON row format (serial_number as crt.sh wrote it)."""
    out = []
    for r in rows.to_dict("records"):
        row = {
            "issuer_ca_id": None if pd.isna(r["issuer_ca_id"]) else int(r["issuer_ca_id"]),
            "issuer_name": None if pd.isna(r["issuer_name"]) else str(r["issuer_name"]),
            "common_name": None if pd.isna(r["common_name"]) else str(r["common_name"]),
            "name_value": "\n".join(r["name_value"]),
            "id": int(r["crtsh_id"]),
            "entry_timestamp": _naive_iso(r["first_seen"]),
            "not_before": _naive_iso(r["not_before"]),
            "not_after": _naive_iso(r["not_after"]),
            "serial_number": str(r["crtsh_serial"]),
        }
        out.append(row)
    return out


def save_certificates(
    out_dir: str | os.PathLike, items: Iterable[tuple[bytes, dict]], rows: pd.DataFrame | None = None
) -> Path:
    """Write ``<crt.sh id>.pem`` per certificate and ``crtsh.json``, the crt.sh rows (merged by id
    with a ``crtsh.json`` already there), so that a later ``--certs DIR`` keeps crt.sh's ids and
    entry times (``first_seen``). Returns the path of ``crtsh.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_id: dict[int, dict] = {}
    index = out / ROWS_FILE
    if index.exists():
        try:
            old = load_json(index.read_bytes())
        except (OSError, ValueError):  # unreadable, bad JSON or nested too deeply: rebuilt below
            old = []
        for row in old if isinstance(old, list) else []:
            if isinstance(row, dict) and str(row.get("id", "")).isdigit():
                by_id[int(row["id"])] = row
    if rows is not None and len(rows):
        for row in to_crtsh_rows(rows):
            by_id[row["id"]] = row
    for pem, meta in items:
        write_inside(out, f"{int(meta['crtsh_id'])}.pem", pem)  # no link in DIR is followed
    text = json.dumps([by_id[k] for k in sorted(by_id)], indent=1, ensure_ascii=False) + "\n"
    return write_inside(out, ROWS_FILE, text.encode("utf-8"))


def load_saved_index(directory: str | os.PathLike) -> dict[str, dict]:
    """``crtsh.json`` of a folder written by `save_certificates`: PEM file name -> {crtsh_id,
    first_seen (UTC Timestamp or None), issuer_ca_id, serial}. Empty when there is none."""
    index = Path(directory) / ROWS_FILE
    if not index.exists():
        return {}
    try:
        rows = load_json(index.read_bytes())
    except (OSError, ValueError):
        return {}  # the loader reports a crtsh.json it cannot read
    frame, _ = parse_rows(rows, source=str(index))
    return {
        f"{r['crtsh_id']}.pem": {
            "crtsh_id": int(r["crtsh_id"]),
            "first_seen": None if pd.isna(r["first_seen"]) else r["first_seen"],
            "issuer_ca_id": None if pd.isna(r["issuer_ca_id"]) else int(r["issuer_ca_id"]),
            "serial": r["serial"],
        }
        for r in frame.to_dict("records")
    }
