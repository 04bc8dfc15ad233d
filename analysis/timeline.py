"""One events frame from the data (issuance, revocation, compromise) and a report's timeline.

Columns (EVENT_COLUMNS): `time` (UTC), `kind` ("issuance", "revocation", "compromise",
"report"), `key` (SPKI SHA-256, null for report rows), `certificate` ("<issuer CN> serial <hex>"),
`text`, `source` (the input a data event came from, or "report line N"), `reason` (revocations),
`stated` (a report row's time as written, with its offset) and `inferred_year`.
The dashboard's Timeline page and the notebooks draw from this frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from .formats import TIME_DTYPE
from .keyreuse import Findings
from .names import NameParseError, common_name

EVENT_COLUMNS = ["time", "kind", "key", "certificate", "text", "source", "reason", "stated", "inferred_year"]


def _empty() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series([], dtype="object") for c in EVENT_COLUMNS})
    df["time"] = pd.Series([], dtype=TIME_DTYPE)
    return df


def _cn(dn: object) -> str:
    try:
        return common_name(str(dn)) or str(dn)
    except NameParseError:
        return str(dn)


def data_events(findings: Findings, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Issuance, revocation and compromise events for `keys` (default: the compromised keys)."""
    iss = findings.issuances
    if iss.empty:
        return _empty()
    sub = iss[iss["key_compromised"]] if keys is None else iss[iss["spki_sha256"].isin(list(keys))]
    if sub.empty:
        return _empty()
    cert = sub["issuer_dn"].map(_cn).astype(str) + " serial " + sub["serial"].astype(str)
    after = sub["violation"].map({True: " after the key's compromise", False: ""}).astype(str)
    parts = [
        pd.DataFrame(
            {
                "time": sub["issued_at"],
                "kind": "issuance",
                "key": sub["spki_sha256"],
                "certificate": cert,
                "text": "issued" + after + " (issue time from " + sub["issue_time_basis"].astype(str) + ")",
                "source": sub["source"].astype(str),
                "reason": None,
            }
        )
    ]
    rv = sub[sub["revoked_at"].notna()]
    parts.append(
        pd.DataFrame(
            {
                "time": rv["revoked_at"],
                "kind": "revocation",
                "key": rv["spki_sha256"],
                "certificate": cert[rv.index],
                "text": "revoked: " + rv["revocation_reason"].astype(str),
                "source": rv["revocation_source"].astype(str),
                "reason": rv["revocation_reason"].astype(str),
            }
        )
    )
    cp = sub[sub["compromised_at"].notna()].drop_duplicates("spki_sha256")
    parts.append(
        pd.DataFrame(
            {
                "time": cp["compromised_at"],
                "kind": "compromise",
                "key": cp["spki_sha256"],
                "certificate": None,
                "text": "key compromised (earliest evidence)",
                "source": cp["compromise_source"].astype(str),
                "reason": None,
            }
        )
    )
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    out["stated"] = None
    out["inferred_year"] = False
    out["time"] = out["time"].astype(TIME_DTYPE)
    return out[EVENT_COLUMNS]


def report_events(report: Mapping | None) -> pd.DataFrame:
    """A parsed report's timeline rows (analysis.reports) as events; rows without a UTC time keep
    a null `time` and their stated text, so nothing is dropped."""
    rows = (report or {}).get("timeline") or []
    if not rows:
        return _empty()
    out = pd.DataFrame(
        {
            "time": pd.to_datetime(
                [r.get("when_utc") for r in rows], utc=True, errors="coerce", format="ISO8601"
            ),
            "kind": "report",
            "key": None,
            "certificate": None,
            "text": [r.get("text") for r in rows],
            "source": [f"report line {r.get('source_line')}" for r in rows],
            "reason": None,
            "stated": [r.get("when") for r in rows],
            "inferred_year": [bool(r.get("inferred_year")) for r in rows],
        }
    )
    out["time"] = out["time"].astype(TIME_DTYPE)
    return out[EVENT_COLUMNS]


_KIND_ORDER = {"compromise": 0, "revocation": 1, "issuance": 2, "report": 3}


def build_events(
    findings: Findings | None = None, report: Mapping | None = None, keys: Iterable[str] | None = None
) -> pd.DataFrame:
    """Data events and report events in one frame, oldest first (undated report rows last)."""
    parts = []
    if findings is not None:
        parts.append(data_events(findings, keys))
    if report is not None:
        parts.append(report_events(report))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    out["_order"] = out["kind"].map(_KIND_ORDER)
    out = out.sort_values(["time", "_order"], kind="stable", na_position="last").drop(columns="_order")
    return out.reset_index(drop=True)
