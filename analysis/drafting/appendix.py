"""The CCADB appendix CSV of certificates on compromised keys."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping

import pandas as pd

from ..formats import format_time, normalize_serial
from ..safety import csv_dict_writer

# --- appendix ---------------------------------------------------------------------------------

#: The CCADB appendix columns, in order, then ours.
APPENDIX_COLUMNS = (
    "Precertificate SHA-256 hash",
    "Certificate SHA-256 hash",
    "Subject",
    "Issuer",
    "Not before",
    "Not after",
    "Serial # (hex)",
    "dNSNames",
    "Is revoked?",
    "Revocation date",
    "Revocation reason",
)
CUSTOM_COLUMNS = ("SPKI SHA-256", "compromised_at", "violation")
_DEADLINE = dt.timedelta(hours=24)


def _ts(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(t):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _records(rows: object) -> list[dict]:
    if isinstance(rows, pd.DataFrame):
        return rows.to_dict("records")
    return [dict(r) for r in rows]  # type: ignore[union-attr]


def _is_revoked(r: Mapping, as_of: pd.Timestamp) -> str:
    """Yes / N/A / Delayed / Planned (report appendix rule)."""
    if _ts(r.get("revoked_at")) is not None:
        return "Yes"
    not_after = _ts(r.get("not_after"))
    if not_after is not None and not_after <= as_of:
        return "N/A"
    compromised = _ts(r.get("compromised_at"))
    issued = _ts(r.get("issued_at")) or _ts(r.get("not_before"))
    violation = bool(r.get("violation")) if _text(r.get("violation")) else False
    ref = issued if (violation or compromised is None) else compromised
    if ref is None or as_of > ref + _DEADLINE:
        return "Delayed"
    return "Planned"


def appendix_rows(rows: object, *, as_of: object = None) -> list[dict]:
    """Issuances on compromised keys (dicts or a frame with the issuances columns) -> appendix rows.

    Input keys: precert_sha256, cert_sha256, subject_dn, issuer_dn, not_before, not_after, serial,
    san_dns, revoked_at, revocation_reason (or reason), spki_sha256, compromised_at, violation and,
    for "Is revoked?", issued_at. An `is_revoked` key, when present, is used as given. `as_of`
    (default now) decides expired / Delayed / Planned.
    """
    now = _ts(as_of) if as_of is not None else pd.Timestamp.now(tz="UTC")
    if now is None:
        raise ValueError(f"not a time: {as_of!r}")
    out = []
    for r in _records(rows):
        sans = r.get("san_dns")
        if isinstance(sans, str):
            names = sans
        elif sans is None or (not isinstance(sans, (list, tuple)) and _text(sans) == ""):
            names = ""
        else:
            names = ", ".join(str(x) for x in list(sans))
        serial = r.get("serial")
        try:
            serial_hex = normalize_serial(serial) if _text(serial) else ""
        except ValueError:
            serial_hex = _text(serial)
        revoked_at = _ts(r.get("revoked_at"))
        reason = _text(r.get("revocation_reason", r.get("reason"))) if revoked_at is not None else ""
        violation = r.get("violation")
        out.append(
            {
                "Precertificate SHA-256 hash": _text(r.get("precert_sha256")).lower(),
                "Certificate SHA-256 hash": _text(r.get("cert_sha256")).lower(),
                "Subject": _text(r.get("subject_dn")),
                "Issuer": _text(r.get("issuer_dn")),
                "Not before": format_time(_ts(r.get("not_before"))) or "",
                "Not after": format_time(_ts(r.get("not_after"))) or "",
                "Serial # (hex)": serial_hex,
                "dNSNames": names,
                "Is revoked?": _text(r.get("is_revoked")) or _is_revoked(r, now),
                "Revocation date": format_time(revoked_at) or "",
                "Revocation reason": reason,
                "SPKI SHA-256": _text(r.get("spki_sha256")).lower(),
                "compromised_at": format_time(_ts(r.get("compromised_at"))) or "",
                "violation": "" if not _text(violation) else ("true" if bool(violation) else "false"),
            }
        )
    return out


def to_appendix_csv(rows: object, *, as_of: object = None) -> str:
    """The CCADB appendix CSV: the eleven columns in order, then SPKI SHA-256, compromised_at,
    violation. `rows` as for `appendix_rows`; rows already in appendix form pass through."""
    recs = _records(rows)
    if recs and "Is revoked?" in recs[0]:
        table = recs
    else:
        table = appendix_rows(recs, as_of=as_of)
    buf = io.StringIO()
    w = csv_dict_writer(
        buf, [*APPENDIX_COLUMNS, *CUSTOM_COLUMNS], lineterminator="\r\n", extrasaction="ignore"
    )
    w.writeheader()
    w.writerows(table)
    return buf.getvalue()


def to_appendix_links(rows: object) -> str:
    """The listing for 10,000 certificates or more: one `https://crt.sh/?sha256=<hash>` line each
    (the final certificate's hash, else the precertificate's)."""
    out = []
    for r in _records(rows):
        h = _text(r.get("cert_sha256") or r.get("Certificate SHA-256 hash")) or _text(
            r.get("precert_sha256") or r.get("Precertificate SHA-256 hash")
        )
        if h:
            out.append(f"https://crt.sh/?sha256={h.lower()}")
    return "\n".join(out) + ("\n" if out else "")


def to_appendix(rows: object, *, as_of: object = None, limit: int = 10_000) -> str:
    """The CSV below `limit` certificates, the crt.sh link list from `limit` on (CCADB guidelines)."""
    recs = _records(rows)
    return to_appendix_csv(recs, as_of=as_of) if len(recs) < limit else to_appendix_links(recs)
