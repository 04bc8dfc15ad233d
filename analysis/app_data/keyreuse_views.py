"""Key reuse for the Overview, Keys and Timeline pages: figures, key tables, events."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from ..formats import format_time, short_source
from .datasets import Dataset
from .display import EMPTY, _are, _join_names, _n, _text, _utc_text, plural

# Bulk data sets can be large; everything else on the pages is small.
MAX_TIMELINE_KEYS = 40


def load_inputs(dataset: Dataset):
    """A data set's key-reuse inputs (certificates, revocations, compromised keys), read once."""
    from ..inputs import load_keyreuse_inputs

    return load_keyreuse_inputs(
        dataset.files("certs"),
        dataset.files("crls"),
        dataset.files("revocations"),
        dataset.files("compromised"),
    )


def analyse(dataset: Dataset, scope: str = "global", as_of: str | None = None, inputs=None):
    """Run the key-reuse rules on a data set (as of the data set's time); `inputs` from
    `load_inputs` when already read."""
    inputs = inputs if inputs is not None else load_inputs(dataset)
    return inputs.analyse(scope=scope, as_of=as_of or dataset.as_of)


FIGURES = (
    ("issuances_with_compromised_keys", "Certificates on compromised keys"),
    ("violating_issuances", "Issued after compromise"),
    ("compromised_keys", "Compromised keys"),
    ("revocation_delays", "Revoked late (> 24 h)"),
    ("remaining_valid", "Remaining valid"),
    ("distinct_certificates", "Certificates loaded"),
)


def overview(findings, refused: Iterable[Mapping] = ()) -> dict:
    """Figures, a plain-language sentence, notes and problems for the Overview page; `refused`
    uploads (`refused_uploads`) are listed among the problems first."""
    s = findings.summary
    as_of = format_time(findings.as_of) if findings.as_of is not None else None
    if s["issuances"] == 0:
        sentence = "No certificates are loaded in this data set: add some on the Data page."
    elif s["compromised_keys"] == 0:
        sentence = (
            f"Of {_n(s['issuances'], 'issuance')} on {_n(s['distinct_keys'], 'key')}, none is on a key known to be "
            "compromised (no keyCompromise revocation and no listed key matches). "
            "Load CRLs or a compromised-keys list on the Data page if this is unexpected."
        )
    else:
        sentence = (
            f"{plural(s['compromised_keys'], 'key')} {_are(s['compromised_keys'])} on record as compromised (a "
            f"keyCompromise revocation or a compromised-keys list). "
            f"{plural(s['issuances_with_compromised_keys'], 'certificate')} "
            f"{'carries' if s['issuances_with_compromised_keys'] == 1 else 'carry'} "
            f"{'that key' if s['compromised_keys'] == 1 else 'those keys'}, "
            f"{s['violating_issuances']:,} of them issued after the key's compromise time; "
            f"{s['revocation_delays']:,} {'was' if s['revocation_delays'] == 1 else 'were'} revoked more than "
            f"24 hours after {'it' if s['revocation_delays'] == 1 else 'they'} should have been, and "
            f"{s['remaining_valid']:,} {'was' if s['remaining_valid'] == 1 else 'were'} still valid as of {as_of}. "
            "These are leads for review, not verdicts: a keyCompromise reason does not prove the CA was "
            "told through its own problem-reporting procedure."
        )
    return {
        "figures": [(label, int(s[k]), k) for k, label in FIGURES],
        "summary": dict(s),
        "sentence": sentence,
        "as_of": as_of,
        "notes": list(findings.notes),
        "problems": [dict(r) for r in refused] + [p.to_dict() for p in findings.problems],
        "listed_without": list(findings.listed_keys_without_certificates),
    }


def key_table(findings, *, compromised_only: bool = False) -> pd.DataFrame:
    """One row per SPKI with readable column names (times as ISO UTC text)."""
    k = findings.keys
    if compromised_only and len(k):
        k = k[k["key_compromised"]]
    out = pd.DataFrame(
        {
            "SPKI SHA-256": k["spki_sha256"].astype(str),
            "Key type": _text(k["key_type"]),
            "Issuances": k["issuances"].astype(int),
            "Issued after compromise": k["issued_after_compromise"].astype(int),
            "Revoked late": k["revocation_delays"].astype(int),
            "Compromised at (UTC)": _utc_text(k["compromised_at"]),
            "Compromise source": _text(k["compromise_source"].map(short_source)),
            "First issued (UTC)": _utc_text(k["first_issued"]),
            "Last issued (UTC)": _utc_text(k["last_issued"]),
            "Issuers": _text(k["issuers"].map(_join_names)),
            "Compromised": k["key_compromised"].astype(bool),
        }
    )
    return out.reset_index(drop=True)


def key_choices(findings, *, compromised_only: bool = True, limit: int = 500) -> list[tuple[str, str]]:
    """(spki, label) for a key picker: compromised keys first, at most `limit`."""
    k = findings.keys
    if compromised_only:
        k = k[k["key_compromised"]]
    k = k.head(limit)
    return [
        (
            r.spki_sha256,
            f"{r.spki_sha256[:16]}… {r.key_type}: {plural(int(r.issuances), 'certificate')}, "
            f"{int(r.issued_after_compromise):,} after compromise",
        )
        for r in k.itertuples()
    ]


def key_certificates(findings, spki: str) -> pd.DataFrame:
    """The issuances of one key, oldest first, for the Keys page."""
    iss = findings.issuances
    sub = iss[iss["spki_sha256"] == spki].sort_values("issued_at", kind="stable")
    return pd.DataFrame(
        {
            "Serial": sub["serial"].astype(str),
            "crt.sh": _text(sub["crtsh_url"]),
            "Issued (UTC)": _utc_text(sub["issued_at"]),
            "Revoked (UTC)": _utc_text(sub["revoked_at"]).replace(EMPTY, "not revoked"),
            "Reason": _text(sub["revocation_reason"]),
            "After compromise": sub["violation"].astype(bool),
            "Revoked late": sub["revocation_delay"].astype(bool),
            "Still valid": sub["remaining_valid"].astype(bool),
            "Expires (UTC)": _utc_text(sub["not_after"]),
            "Subject CN": _text(sub["subject_cn"]),
            "Issue time from": _text(sub["issue_time_basis"]),
            "Issuer": _text(sub["issuer_dn"]),
        }
    ).reset_index(drop=True)


def violations_csv(findings) -> str:
    """The `keyreuse --format csv` text (the violations)."""
    from ..commands.keyreuse import write_violations_csv

    buf = io.StringIO()
    write_violations_csv(findings, buf)
    return buf.getvalue()


def findings_json(findings) -> str:
    return json.dumps(findings.to_dict(), indent=1, ensure_ascii=False) + "\n"


def events(findings, report: Mapping | None = None, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """`analysis.timeline.build_events`: the chosen keys' data events and the report's rows."""
    from ..timeline import build_events

    return build_events(findings, report, keys=keys)


def events_table(ev: pd.DataFrame) -> pd.DataFrame:
    """The events frame with readable names (times as ISO UTC text), oldest first."""
    is_report = ev["kind"] == "report"
    stated = ev["stated"].astype("string").fillna("") + ev["inferred_year"].map(
        {True: " (year inferred)"}
    ).astype("string").fillna("")
    stated = _text(stated.astype(object).where(is_report, ""))
    return pd.DataFrame(
        {
            "When (UTC)": _utc_text(ev["time"]),
            "As stated": stated,
            "Source": is_report.map({True: "report", False: "data"}),
            "Event": ev["kind"].astype(str),
            "Key": _text(ev["key"].astype("string").str.slice(0, 12)),
            "Detail": _text(ev["text"]),
            "Certificate": _text(ev["certificate"]),
            "From": _text(ev["source"].map(short_source)),
        }
    ).reset_index(drop=True)


def report_zone(report: Mapping | None) -> str | None:
    """The zone the report's timeline is written in, from the offsets it states (or None)."""
    offsets = set()
    for r in (report or {}).get("timeline") or []:
        m = re.search(r"([+-]\d\d:\d\d)$", str(r.get("when") or ""))
        if m:
            offsets.add("UTC" + m.group(1) if m.group(1) != "+00:00" else "UTC")
    if len(offsets) == 1:
        return offsets.pop()
    if offsets:
        return ", ".join(sorted(offsets))
    return None
