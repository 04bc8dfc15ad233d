"""Key reuse after compromise: issuances, compromise times, violations, revocation delays.

Implements design.md's key-reuse rules table exactly; each rule is a named step below. Every
finding is a lead for review, not a verdict (the JSON says so once, in `notes`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import Problem
from .formats import TIME_DTYPE, format_time
from .names import NameParseError, dn_key, match_issuer
from .revocations import RevocationData, effective_revocations
from .schema import CERTIFICATE_COLUMNS, empty_compromised_keys, empty_revocations

SCHEMA_VERSION = 1
BR_6_1_1_3_4_EFFECTIVE = pd.Timestamp("2020-10-19T00:00:00Z")
REVOCATION_DEADLINE = pd.Timedelta(hours=24)
KEY_COMPROMISE = 1
CAVEAT = (
    "Every finding is a lead for review, not a verdict: a keyCompromise reason is not proof that "
    "the CA was notified through its own problem-reporting procedure."
)
BACKDATING_NOTE = (
    "Revocation dates are the CRL entries' revocationDate as published; BR 7.2.2 lets a CA change "
    "a reason to keyCompromise later and backdate that date, so dates can differ between snapshots."
)
SUMMARY_KEYS = (
    "certificate_entries",
    "distinct_certificates",
    "issuances",
    "distinct_keys",
    "compromised_keys",
    "issuances_with_compromised_keys",
    "violating_issuances",
    "reused_compromised_keys",
    "revocation_delays",
    "remaining_valid",
)
# Field lists of the JSON object (design.md, Command line); the CSV and the tables use them too.
KEY_FIELDS = (
    "spki_sha256",
    "key_type",
    "issuances",
    "issuers",
    "first_issued",
    "last_issued",
    "compromised_at",
    "compromise_source",
    "issued_after_compromise",
    "revocation_delays",
)
VIOLATION_FIELDS = (
    "spki_sha256",
    "issuer_dn",
    "serial",
    "issued_at",
    "compromised_at",
    "compromise_source",
    "same_issuer",
    "before_br_6_1_1_3_4",
    "revoked_at",
    "revocation_reason",
    "crtsh_url",
)
DELAY_FIELDS = (
    "spki_sha256",
    "issuer_dn",
    "serial",
    "compromised_at",
    "revoked_at",
    "hours_after_compromise",
)


@dataclass
class Findings:
    """The result of `find_key_reuse`: frames for the app and notebooks, `to_dict` for JSON."""

    summary: dict
    issuances: pd.DataFrame  # one row per issuance with its revocation and compromise columns
    keys: pd.DataFrame
    violations: pd.DataFrame
    revocation_delays: pd.DataFrame
    listed_keys_without_certificates: list[str]
    notes: list[str]
    problems: list[Problem] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    scope: str = "global"
    as_of: pd.Timestamp | None = None

    def to_dict(self) -> dict:
        """The `keyreuse --format json` object (design.md, Command line)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "summary": dict(self.summary),
            "keys": _records(self.keys, KEY_FIELDS),
            "violations": _records(self.violations, VIOLATION_FIELDS),
            "revocation_delays": _records(self.revocation_delays, DELAY_FIELDS),
            "listed_keys_without_certificates": list(self.listed_keys_without_certificates),
            "inputs": list(self.inputs),
            "errors": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
        }

    def compromised_issuances(self) -> pd.DataFrame:
        """The issuances on compromised keys in the appendix's order (by SPKI, then issue time):
        what `report appendix` and the dashboard's appendix download both list."""
        iss = self.issuances
        if "key_compromised" not in iss.columns:
            return iss.iloc[0:0]
        rows = iss[iss["key_compromised"].astype(bool)]
        return rows.sort_values(["spki_sha256", "issued_at"], kind="stable")


def _py(value: object) -> object:
    """A frame cell -> a JSON value (times as ISO UTC, NA as None, numpy scalars as Python)."""
    if isinstance(value, (list, tuple)):
        return [_py(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return format_time(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(df: pd.DataFrame, cols) -> list[dict]:
    """Rows as JSON-ready dicts, converted column-wise (times ISO UTC to the second, NA as None)."""
    if df.empty:
        return []
    out = {}
    for c in cols:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            text = s.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            out[c] = [None if pd.isna(v) else v for v in text.tolist()]
        elif s.dtype == "object":
            out[c] = [_py(v) for v in s.tolist()]
        else:
            out[c] = [
                None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
                for v in s.tolist()
            ]
    return [dict(zip(cols, row, strict=True)) for row in zip(*(out[c] for c in cols), strict=True)]


# --- rule: issuance -------------------------------------------------------------------------


def _issuer_keys(names: pd.Series) -> pd.Series:
    """dn_key for each name (computed once per distinct name)."""
    uniq = names.dropna().unique()
    mapping = {}
    for n in uniq:
        try:
            mapping[n] = dn_key(n)
        except NameParseError:
            mapping[n] = "\x00" + str(n)  # unparseable: matches only itself
    return names.map(mapping).astype("string")


def build_issuances(certs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Certificates -> one row per (issuer, serial, SPKI); a precert and its final cert are one.

    Issue time (rule "issue time"): the earliest of crt.sh first_seen and the earliest embedded
    SCT of the final certificate; when neither is known, not_before.
    Returns (issuances, warnings); the same (issuer, serial) with two SPKIs is a serial_reuse warning.
    """
    cols = [
        "issuer_key",
        "issuer_dn",
        "serial",
        "spki_sha256",
        "key_type",
        "cert_sha256",
        "precert_sha256",
        "subject_dn",
        "subject_cn",
        "san_dns",
        "not_before",
        "not_after",
        "is_ca",
        "crtsh_id",
        "issued_at",
        "issue_time_basis",
        "entries",
        "source",
    ]
    if certs.empty:
        types = {"not_before": TIME_DTYPE, "not_after": TIME_DTYPE, "issued_at": TIME_DTYPE, "is_ca": "bool"}
        types.update({"crtsh_id": "Int64", "entries": "int64", "san_dns": "object"})
        return pd.DataFrame({c: pd.Series([], dtype=types.get(c, "string")) for c in cols}), []
    wanted = list(CERTIFICATE_COLUMNS)
    c = certs[[col for col in wanted if col in certs.columns]].copy()
    c["issuer_key"] = _issuer_keys(c["issuer_dn"])
    sct = (
        certs["sct_time"]
        if "sct_time" in certs.columns
        else pd.Series(pd.NaT, index=c.index, dtype=TIME_DTYPE)
    )
    c["_sct_final"] = sct.where(~c["is_precert"])
    c["_final_sha"] = c["cert_sha256"].where(~c["is_precert"])
    c["_pre_sha"] = c["cert_sha256"].where(c["is_precert"])
    # Final certificates first, so `first` takes their names when both are loaded.
    if c["is_precert"].any():
        c = c.sort_values("is_precert", kind="stable")
    # One int64 per (issuer, serial, SPKI) from factorized codes: grouping on it is much cheaper than
    # on three string columns, and most issuances are a single entry that needs no grouping at all.
    ci, _ = pd.factorize(c["issuer_key"], use_na_sentinel=False)
    cs, us = pd.factorize(c["serial"], use_na_sentinel=False)
    ck, uk = pd.factorize(c["spki_sha256"], use_na_sentinel=False)
    pair = ci.astype("int64") * (len(us) + 1) + cs
    c["_key"] = pair * (len(uk) + 1) + ck
    c["_pair"] = pair
    multi = c["_key"].duplicated(keep=False).to_numpy()
    single = c.loc[~multi]
    parts = [
        pd.DataFrame(
            {
                "issuer_key": single["issuer_key"],
                "serial": single["serial"],
                "spki_sha256": single["spki_sha256"],
                "issuer_dn": single["issuer_dn"],
                "key_type": single["key_type"],
                "cert_sha256": single["_final_sha"],
                "precert_sha256": single["_pre_sha"],
                "subject_dn": single["subject_dn"],
                "subject_cn": single["subject_cn"],
                "not_before": single["not_before"],
                "not_after": single["not_after"],
                "is_ca": single["is_ca"],
                "crtsh_id": single["crtsh_id"],
                "first_seen": single["first_seen"],
                "sct": single["_sct_final"],
                "entries": 1,
                "source": single["source"],
                "san_dns": single["san_dns"] if "san_dns" in single.columns else None,
                "_pair": single["_pair"],
            }
        )
    ]
    if multi.any():
        g = c.loc[multi].groupby("_key", sort=False)
        grouped = g.agg(
            issuer_key=("issuer_key", "first"),
            serial=("serial", "first"),
            spki_sha256=("spki_sha256", "first"),
            issuer_dn=("issuer_dn", "first"),
            key_type=("key_type", "first"),
            cert_sha256=("_final_sha", "first"),
            precert_sha256=("_pre_sha", "first"),
            subject_dn=("subject_dn", "first"),
            subject_cn=("subject_cn", "first"),
            not_before=("not_before", "min"),
            not_after=("not_after", "max"),
            is_ca=("is_ca", "any"),
            crtsh_id=("crtsh_id", "first"),
            first_seen=("first_seen", "min"),
            sct=("_sct_final", "min"),
            entries=("cert_sha256", "size"),
            source=("source", "first"),
            _pair=("_pair", "first"),
        )
        if "san_dns" in c.columns:
            grouped["san_dns"] = g["san_dns"].first()
        parts.append(grouped.reset_index(drop=True))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    first_seen, sct = out["first_seen"], out["sct"]
    observed = first_seen.where(sct.isna() | (first_seen <= sct), sct)  # NaT-aware elementwise min
    out["issued_at"] = observed.fillna(out["not_before"]).astype(TIME_DTYPE)
    out["issue_time_basis"] = np.where(
        out["first_seen"].notna() & (out["first_seen"] <= out["sct"].fillna(out["first_seen"])),
        "crt.sh first_seen",
        np.where(out["sct"].notna(), "embedded SCT", "not_before"),
    )
    out = out.drop(columns=["first_seen", "sct"])
    warnings = []
    reused = out[out["_pair"].duplicated(keep=False).to_numpy()]
    for _, grp in reused.groupby("_pair", sort=False):
        warnings.append(
            f"serial_reuse: {grp['issuer_dn'].iloc[0]} serial {grp['serial'].iloc[0]} was issued on "
            f"{grp['spki_sha256'].nunique()} different keys"
        )
    return out[cols], warnings


# --- rules: revocation attaches, revocation date ---------------------------------------------


def _resolve_revocation_issuers(
    revocations: pd.DataFrame, issuer_names: list[str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Give every revocation an issuer_key; bare-CN issuers resolve against loaded issuers only."""
    problems: list[Problem] = []
    if revocations.empty:
        r = revocations.copy()
        r["issuer_key"] = pd.Series([], dtype="string")
        return r, problems
    r = revocations.copy()
    keys = {}
    for name in r["issuer_dn"].dropna().unique():
        try:
            keys[name] = dn_key(name)
        except NameParseError:
            try:
                keys[name] = dn_key(match_issuer(name, issuer_names))
            except LookupError as exc:
                keys[name] = None
                problems.append(Problem(str(name), None, f"revocation issuer not resolved: {exc}"))
    r["issuer_key"] = r["issuer_dn"].map(keys).astype("string")
    bad = r["issuer_key"].isna()
    for _, row in r[bad].iterrows():
        problems.append(
            Problem(str(row["source"]), f"serial {row['serial']}", "skipped: issuer not resolved")
        )
    return r[~bad].reset_index(drop=True), problems


# --- the analysis ---------------------------------------------------------------------------


def find_key_reuse(
    certs: pd.DataFrame,
    revocations: pd.DataFrame | RevocationData | None = None,
    compromised: pd.DataFrame | None = None,
    *,
    scope: str = "global",
    as_of: dt.datetime | pd.Timestamp | str | None = None,
    problems: list[Problem] | None = None,
    inputs: list[dict] | None = None,
    covered_issuers: set[str] | None = None,
) -> Findings:
    """Apply design.md's key-reuse rules to loaded certificates, revocations and compromised keys.

    `scope="issuer"` counts only compromise known to the same issuer (its own keyCompromise
    revocation of a certificate on that key). `as_of` (default now) decides "remaining valid".
    """
    if scope not in ("global", "issuer"):
        raise ValueError(f"scope must be 'global' or 'issuer', not {scope!r}")
    problems = list(problems or [])
    notes: list[str] = []
    if isinstance(revocations, RevocationData):
        rev_data = revocations
        revocations = rev_data.frame
        problems.extend(p for p in rev_data.problems if p not in problems)
        if covered_issuers is None:
            covered_issuers = rev_data.covered_issuers()
    if revocations is None:
        revocations = empty_revocations()
    if compromised is None:
        compromised = empty_compromised_keys()
    now = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    if now.tzinfo is None:
        now = now.tz_localize("UTC")
    now = now.tz_convert("UTC")

    iss, warnings = build_issuances(certs)
    notes.extend(warnings)

    # Revocations attach by (issuer, serial) only.
    rev, rev_problems = _resolve_revocation_issuers(revocations, iss["issuer_dn"].dropna().unique().tolist())
    problems.extend(rev_problems)
    eff = effective_revocations(rev, by=("issuer_key", "serial"))
    eff = eff.rename(
        columns={"revoked_at": "revoked_at", "reason": "revocation_reason", "source": "revocation_source"}
    )[["issuer_key", "serial", "revoked_at", "revocation_reason", "reason_code", "revocation_source"]]
    iss = _left_join(iss, eff, ["issuer_key", "serial"])
    iss["revoked_at"] = iss["revoked_at"].astype(TIME_DTYPE)
    iss["is_kc"] = (iss["reason_code"] == KEY_COMPROMISE).fillna(False).astype(bool)

    # Compromise time of a key: earliest keyCompromise revocation of any loaded issuance with that
    # SPKI (any issuer), or a dated list entry; an undated list entry means "before any issuance".
    kc = iss[iss["is_kc"]].sort_values("revoked_at", kind="stable")
    kc_first = kc.drop_duplicates("spki_sha256")[
        ["spki_sha256", "revoked_at", "revocation_source", "issuer_dn", "serial"]
    ]
    kc_first = kc_first.assign(
        kc_source=kc_first["revocation_source"]
        + "#"
        + kc_first["issuer_dn"]
        + " serial "
        + kc_first["serial"]
    )
    comp = compromised.copy()
    comp["spki_sha256"] = comp["spki_sha256"].str.lower()
    dated = (
        comp[comp["reported_at"].notna()]
        .sort_values("reported_at", kind="stable")
        .drop_duplicates("spki_sha256")
    )
    undated = comp[comp["reported_at"].isna()].drop_duplicates("spki_sha256")

    spkis = pd.Index(iss["spki_sha256"].dropna().unique())
    comp_at = pd.Series(pd.NaT, index=spkis, dtype=TIME_DTYPE)
    comp_src = pd.Series(None, index=spkis, dtype="object")
    comp_undated = pd.Series(False, index=spkis)
    for _, row in kc_first.iterrows():
        comp_at[row["spki_sha256"]] = row["revoked_at"]
        comp_src[row["spki_sha256"]] = row["kc_source"]
    for _, row in dated.iterrows():
        s = row["spki_sha256"]
        if s in comp_at.index and (pd.isna(comp_at[s]) or row["reported_at"] < comp_at[s]):
            comp_at[s] = row["reported_at"]
            comp_src[s] = row["source"]
    for _, row in undated.iterrows():
        s = row["spki_sha256"]
        if s in comp_at.index:
            comp_undated[s] = True
            comp_at[s] = pd.NaT
            comp_src[s] = row["source"]
    listed = set(comp["spki_sha256"].dropna())
    listed_without = sorted(listed - set(spkis))

    if comp_at.notna().any() or comp_undated.any():
        iss["compromised_at"] = iss["spki_sha256"].map(comp_at).astype(TIME_DTYPE)
        iss["compromise_source"] = iss["spki_sha256"].map(comp_src)
        iss["compromise_undated"] = iss["spki_sha256"].map(comp_undated).fillna(False).astype(bool)
    else:  # nothing is compromised: skip three lookups over every issuance
        iss["compromised_at"] = pd.Series(pd.NaT, index=iss.index, dtype=TIME_DTYPE)
        iss["compromise_source"] = pd.Series(None, index=iss.index, dtype="object")
        iss["compromise_undated"] = False
    iss["key_compromised"] = iss["compromised_at"].notna() | iss["compromise_undated"]

    # Compromise known to the same issuer: that issuer's own earliest keyCompromise revocation.
    kc_issuer = kc.drop_duplicates(["spki_sha256", "issuer_key"])[
        ["spki_sha256", "issuer_key", "revoked_at", "revocation_source", "issuer_dn", "serial"]
    ]
    kc_issuer = kc_issuer.assign(
        issuer_kc_source=kc_issuer["revocation_source"]
        + "#"
        + kc_issuer["issuer_dn"]
        + " serial "
        + kc_issuer["serial"]
    ).rename(columns={"revoked_at": "issuer_compromised_at"})[
        ["spki_sha256", "issuer_key", "issuer_compromised_at", "issuer_kc_source"]
    ]
    iss = _left_join(iss, kc_issuer, ["spki_sha256", "issuer_key"])
    iss["issuer_compromised_at"] = iss["issuer_compromised_at"].astype(TIME_DTYPE)
    iss["same_issuer"] = (iss["issued_at"] > iss["issuer_compromised_at"]).fillna(False).astype(bool)

    # Violation: issue time strictly after the compromise time (undated: always).
    if scope == "global":
        iss["violation"] = iss["compromise_undated"] | (iss["issued_at"] > iss["compromised_at"]).fillna(
            False
        )
        iss["violation_compromised_at"] = iss["compromised_at"]
        iss["violation_source"] = iss["compromise_source"]
    else:
        iss["violation"] = iss["same_issuer"]
        iss["violation_compromised_at"] = iss["issuer_compromised_at"]
        iss["violation_source"] = iss["issuer_kc_source"]
    iss["violation"] = iss["violation"].astype(bool)
    iss["before_br_6_1_1_3_4"] = iss["issued_at"] < BR_6_1_1_3_4_EFFECTIVE

    # Revocation delay: valid at the reference time (compromise, or a violation's own issue time),
    # then revoked more than 24 h later, or unrevoked while still valid 24 h later. Issuances whose
    # own keyCompromise revocation set the compromise time are not judged.
    sets_time = iss["is_kc"] & (iss["revoked_at"] == iss["compromised_at"])
    ref = iss["compromised_at"].where(~iss["violation"], iss["issued_at"])
    deadline = ref + REVOCATION_DEADLINE
    valid_at_ref = (iss["not_before"] <= ref) & (ref <= iss["not_after"])
    not_revoked_before = iss["revoked_at"].isna() | (iss["revoked_at"] >= ref)
    late = (iss["revoked_at"] > deadline) | (
        iss["revoked_at"].isna() & (iss["not_after"] > deadline) & (now >= deadline)
    )
    iss["revocation_delay"] = (
        (iss["key_compromised"] & ~sets_time & valid_at_ref & not_revoked_before & late)
        .fillna(False)
        .astype(bool)
    )
    iss["delay_reference"] = ref
    iss["hours_after_compromise"] = ((iss["revoked_at"] - ref).dt.total_seconds() / 3600).where(
        iss["revocation_delay"]
    )

    # Remaining valid: neither revoked nor expired at as_of.
    revoked_by_now = iss["revoked_at"].notna() & (iss["revoked_at"] <= now)
    iss["remaining_valid"] = (
        iss["key_compromised"] & ~revoked_by_now & (iss["not_after"] > now) & (iss["not_before"] <= now)
    ).astype(bool)
    iss["crtsh_url"] = _crtsh_urls(iss)

    violations, delays, keys = _finding_tables(iss)
    comp_keys = int(iss.loc[iss["key_compromised"], "spki_sha256"].nunique())
    summary = {
        "certificate_entries": int(len(certs)),
        "distinct_certificates": int(certs["cert_sha256"].nunique()) if len(certs) else 0,
        "issuances": int(len(iss)),
        "distinct_keys": int(iss["spki_sha256"].nunique()),
        "compromised_keys": comp_keys,
        "issuances_with_compromised_keys": int(iss["key_compromised"].sum()),
        "violating_issuances": int(iss["violation"].sum()),
        "reused_compromised_keys": int(iss.loc[iss["violation"], "spki_sha256"].nunique()),
        "revocation_delays": int(iss["revocation_delay"].sum()),
        "remaining_valid": int(iss["remaining_valid"].sum()),
    }
    notes.insert(0, CAVEAT)
    notes.append(BACKDATING_NOTE)
    if scope == "issuer":
        notes.append(
            "--scope issuer: only compromise known to the same issuer (its own keyCompromise revocation) counts."
        )
    if iss["compromise_undated"].any():
        notes.append(UNDATED_NOTE)
    notes.extend(_coverage_notes(iss, rev, covered_issuers))
    notes.append(f"remaining_valid is as of {format_time(now)}.")
    return Findings(
        summary=summary,
        issuances=iss,
        keys=keys,
        violations=violations,
        revocation_delays=delays,
        listed_keys_without_certificates=listed_without,
        notes=notes,
        problems=problems,
        inputs=list(inputs or []),
        scope=scope,
        as_of=now,
    )


def _left_join(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """`left.merge(right, how="left")`, without the join when `right` is empty (the common bulk case)."""
    if len(right):
        return left.merge(right, on=on, how="left")
    for col in right.columns:  # `left` is the caller's own working frame: add columns in place
        if col not in on:
            left[col] = pd.Series(
                pd.NA if right[col].dtype != "object" else None, index=left.index, dtype=right[col].dtype
            )
    return left


def _crtsh_urls(iss: pd.DataFrame) -> pd.Series:
    by_id = "https://crt.sh/?id=" + iss["crtsh_id"].astype("string")
    sha = iss["cert_sha256"].fillna(iss["precert_sha256"])
    by_sha = "https://crt.sh/?sha256=" + sha.astype("string")
    return by_id.fillna(by_sha)


UNDATED_NOTE = (
    "Keys listed without a date count as compromised before any issuance: every issuance on them is a "
    "violation, and revocation delays for their other certificates cannot be judged."
)


def _finding_tables(iss: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(violations, revocation delays, keys) from the judged issuances, in output order; shared by
    the pandas path and the store engines so the findings' shape is defined once."""
    violations = iss[iss["violation"]].sort_values(["spki_sha256", "issued_at"], kind="stable")
    violations = violations.assign(
        compromised_at=violations["violation_compromised_at"],
        compromise_source=violations["violation_source"],
    )
    delays = iss[iss["revocation_delay"]].sort_values(["spki_sha256", "delay_reference"], kind="stable")
    delays = delays.assign(compromised_at=delays["delay_reference"])
    return violations, delays, _keys_table(iss)


def _keys_table(iss: pd.DataFrame) -> pd.DataFrame:
    cols = list(KEY_FIELDS)
    if iss.empty:
        types = {"first_issued": TIME_DTYPE, "last_issued": TIME_DTYPE, "compromised_at": TIME_DTYPE}
        types.update({"issuances": "int64", "issued_after_compromise": "int64", "revocation_delays": "int64"})
        empty = {c: pd.Series([], dtype=types.get(c, "object")) for c in cols}
        return pd.DataFrame({**empty, "key_compromised": pd.Series([], dtype=bool)})
    g = iss.groupby("spki_sha256", sort=False)
    keys = g.agg(
        key_type=("key_type", "first"),
        issuances=("serial", "size"),
        first_issued=("issued_at", "min"),
        last_issued=("issued_at", "max"),
        compromised_at=("compromised_at", "first"),
        compromise_source=("compromise_source", "first"),
        issued_after_compromise=("violation", "sum"),
        revocation_delays=("revocation_delay", "sum"),
        key_compromised=("key_compromised", "any"),
    ).reset_index()
    # Distinct issuers per key, built from distinct pairs (a per-group lambda is slow at 1M rows).
    pairs = (
        iss[["spki_sha256", "issuer_dn"]].dropna().drop_duplicates().sort_values(["spki_sha256", "issuer_dn"])
    )
    issuers: dict[str, list[str]] = {}
    for spki, issuer in zip(pairs["spki_sha256"].tolist(), pairs["issuer_dn"].tolist(), strict=True):
        issuers.setdefault(spki, []).append(issuer)
    keys["issuers"] = [issuers.get(s, []) for s in keys["spki_sha256"].tolist()]
    keys = keys.sort_values(
        ["key_compromised", "issued_after_compromise", "issuances", "spki_sha256"],
        ascending=[False, False, False, True],
        kind="stable",
    ).reset_index(drop=True)
    keys["issued_after_compromise"] = keys["issued_after_compromise"].astype(int)
    keys["revocation_delays"] = keys["revocation_delays"].astype(int)
    return keys[[*cols, "key_compromised"]]


def _coverage_notes(iss: pd.DataFrame, rev: pd.DataFrame, covered: set[str] | None) -> list[str]:
    """Say which issuers no revocation source covers, instead of implying 'nothing revoked'."""
    if iss.empty:
        return []
    covered_keys = set()
    for name in covered or set():
        try:
            covered_keys.add(dn_key(name))
        except NameParseError:
            continue
    covered_keys.update(rev["issuer_key"].dropna().unique().tolist() if "issuer_key" in rev else [])
    if not covered_keys:
        return [
            "No revocation data was loaded: revocations, compromise known from revocations and revocation "
            "delays are unknown, not zero."
        ]
    # Work on the distinct issuers, not on every issuance.
    leaf = iss.loc[~iss["is_ca"], ["issuer_key", "issuer_dn"]] if (~iss["is_ca"]).any() else iss
    names = leaf.drop_duplicates("issuer_key")
    missing = sorted(set(names.loc[~names["issuer_key"].isin(covered_keys), "issuer_dn"].dropna()))
    if missing:
        return [
            f"No revocation source covers issuer {name}: its certificates' revocations are unknown, not absent."
            for name in missing
        ]
    return []
