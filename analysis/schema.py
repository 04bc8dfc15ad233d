"""Canonical frames: column names, dtypes and one validate function per frame (design.md, Frames).

Every loader returns frames built by `empty_*` / `coerce_*` here, and every consumer may call
`validate_*` to fail early with a clear message instead of a KeyError deep in an analysis.
"""

from __future__ import annotations

import pandas as pd

from .formats import TIME_DTYPE

CERTIFICATE_COLUMNS: dict[str, str] = {
    "cert_sha256": "string",
    "spki_sha256": "string",
    "issuer_dn": "string",
    "serial": "string",
    "subject_dn": "string",
    "subject_cn": "string",
    "san_dns": "object",  # list[str]
    "not_before": TIME_DTYPE,
    "not_after": TIME_DTYPE,
    "is_precert": "bool",
    "is_ca": "bool",
    "key_type": "string",
    "crtsh_id": "Int64",
    "first_seen": TIME_DTYPE,
    "source": "string",
}
# Extra columns the loader keeps because the key-reuse rules need them (earliest embedded SCT).
CERTIFICATE_EXTRA_COLUMNS: dict[str, str] = {
    "sct_time": TIME_DTYPE,
}

REVOCATION_COLUMNS: dict[str, str] = {
    "issuer_dn": "string",
    "serial": "string",
    "revoked_at": TIME_DTYPE,
    "reason": "string",
    "reason_code": "Int64",
    "source": "string",
}

COMPROMISED_KEY_COLUMNS: dict[str, str] = {
    "spki_sha256": "string",
    "reported_at": TIME_DTYPE,
    "source": "string",
}

# RFC 5280 CRLReason codes. 7 is unused.
REASON_NAMES: dict[int, str] = {
    0: "unspecified",
    1: "keyCompromise",
    2: "cACompromise",
    3: "affiliationChanged",
    4: "superseded",
    5: "cessationOfOperation",
    6: "certificateHold",
    8: "removeFromCRL",
    9: "privilegeWithdrawn",
    10: "aACompromise",
}
REASON_CODES: dict[str, int] = {v: k for k, v in REASON_NAMES.items()}


class SchemaError(ValueError):
    """A frame does not have the canonical columns or dtypes."""


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def _coerce(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = {}
    for col, dtype in columns.items():
        if col in df.columns:
            s = df[col]
        else:
            s = pd.Series([None] * len(df), index=df.index, dtype="object")
        if dtype == TIME_DTYPE:
            s = pd.to_datetime(s, utc=True, format="mixed") if len(s) else s
            s = s.astype(TIME_DTYPE)
        elif dtype == "bool":
            s = s.fillna(False).astype(bool)
        elif dtype == "object":
            s = s.astype(object)
        else:
            s = s.astype(dtype)
        out[col] = s
    extra = [c for c in df.columns if c not in columns]
    result = pd.DataFrame(out, index=df.index)
    for c in extra:
        result[c] = df[c]
    return result.reset_index(drop=True)


def _validate(df: pd.DataFrame, columns: dict[str, str], name: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(f"{name} frame lacks columns {missing}")
    wrong = [
        f"{c} is {df[c].dtype}, expected {t}"
        for c, t in columns.items()
        if t != "object" and str(df[c].dtype) != t
    ]
    if wrong:
        raise SchemaError(f"{name} frame has wrong dtypes: " + "; ".join(wrong))
    return df


def empty_certificates() -> pd.DataFrame:
    return _empty({**CERTIFICATE_COLUMNS, **CERTIFICATE_EXTRA_COLUMNS})


def coerce_certificates(df: pd.DataFrame) -> pd.DataFrame:
    return _coerce(df, {**CERTIFICATE_COLUMNS, **CERTIFICATE_EXTRA_COLUMNS})


def validate_certificates(df: pd.DataFrame) -> pd.DataFrame:
    return _validate(df, CERTIFICATE_COLUMNS, "certificates")


def empty_revocations() -> pd.DataFrame:
    return _empty(REVOCATION_COLUMNS)


def coerce_revocations(df: pd.DataFrame) -> pd.DataFrame:
    return _coerce(df, REVOCATION_COLUMNS)


def validate_revocations(df: pd.DataFrame) -> pd.DataFrame:
    return _validate(df, REVOCATION_COLUMNS, "revocations")


def empty_compromised_keys() -> pd.DataFrame:
    return _empty(COMPROMISED_KEY_COLUMNS)


def coerce_compromised_keys(df: pd.DataFrame) -> pd.DataFrame:
    return _coerce(df, COMPROMISED_KEY_COLUMNS)


def validate_compromised_keys(df: pd.DataFrame) -> pd.DataFrame:
    return _validate(df, COMPROMISED_KEY_COLUMNS, "compromised keys")
