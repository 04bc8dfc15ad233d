"""Stores for the dashboard and notebooks: find them, describe them from their manifest (no data
read), and page through findings without holding the store in memory.

Findings are computed once per (store, scope, as_of) by the caller (`find_key_reuse_store`); only
the compromised keys' issuances are in memory, and the keys without compromise are read a page at a
time from the engine (a top-N query), so a 100M-entry store pages as cheaply as a small one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..keyreuse import DELAY_FIELDS, KEY_FIELDS, VIOLATION_FIELDS, _records
from . import rules
from .engine import StoreFindings, _plain_key_records
from .layout import MANIFEST, open_store

TABLES = {"violations": VIOLATION_FIELDS, "revocation_delays": DELAY_FIELDS, "keys": KEY_FIELDS}


@dataclass
class StoreInfo:
    """A store as its manifest describes it."""

    path: Path
    ingests: int
    entries: dict[str, int]  # per input kind
    skipped: int  # inputs' problems recorded at ingest


def find_stores(*roots: str | os.PathLike) -> list[Path]:
    """Store folders directly under `roots` (or the roots themselves), sorted; env
    CA_INCIDENTS_STORES adds more roots (separated by os.pathsep)."""
    extra = [p for p in os.environ.get("CA_INCIDENTS_STORES", "").split(os.pathsep) if p]
    found: set[Path] = set()
    for root in [*roots, *extra]:
        root = Path(root)
        if (root / MANIFEST).is_file():
            found.add(root)
        elif root.is_dir():
            found.update(p for p in root.iterdir() if (p / MANIFEST).is_file())
    return sorted(found)


def describe_store(path: str | os.PathLike) -> StoreInfo:
    """What a store holds, from its manifest alone."""
    st = open_store(path)
    entries: dict[str, int] = {}
    for i in st.manifest["ingests"]:
        entries[i["kind"]] = entries.get(i["kind"], 0) + int(i.get("entries", 0))
    return StoreInfo(Path(path), len(st.manifest["ingests"]), entries, len(st.problems))


def findings_page(
    findings: StoreFindings, table: str, offset: int = 0, limit: int = 50
) -> tuple[list[dict], int]:
    """Rows [offset, offset+limit) of `violations`, `revocation_delays` or `keys` as JSON records,
    and the table's total row count. Keys without compromise come from the engine a page at a time."""
    if table not in TABLES:
        raise ValueError(f"table must be one of {sorted(TABLES)}, not {table!r}")
    offset, limit = max(0, int(offset)), max(0, int(limit))
    if table != "keys":
        frame = getattr(findings, table)
        return _records(frame.iloc[offset : offset + limit], TABLES[table]), len(frame)
    total = int(findings.summary["distinct_keys"])
    keys = findings.keys
    if findings.all_keys_loaded or findings._plain_keys is None:
        return _records(keys.iloc[offset : offset + limit], KEY_FIELDS), total
    # The compromise pipeline's keys come first (compromised ones lead the order); the rest are
    # the keys without compromise, in the order the JSON lists them.
    head = keys[keys["key_compromised"]]
    rows = _records(head.iloc[offset : offset + limit], KEY_FIELDS)
    if len(rows) < limit:
        rest = keys[~keys["key_compromised"]]
        start = max(0, offset - len(head))
        need = limit - len(rows)
        # Uncompromised keys of the pipeline (rare) merge into the engine's; fetch enough of both.
        eng = findings.extra["engine"]
        plain = eng.table(rules.plain_keys("certs", "cand") + f" LIMIT {start + need} OFFSET 0")
        merged = sorted(
            [*_records(rest, KEY_FIELDS), *_plain_key_records(plain)],
            key=lambda k: (-k["issuances"], k["spki_sha256"]),
        )
        rows += merged[start : start + need]
    return rows, total


def page_frame(rows: list[dict]) -> pd.DataFrame:
    """Records as a frame for display (lists of issuers joined)."""
    frame = pd.DataFrame(rows)
    if "issuers" in frame.columns:
        frame["issuers"] = frame["issuers"].map(lambda v: "; ".join(v) if isinstance(v, list) else v)
    return frame
