"""Units of work for the DuckDB plan (engine._by_partition): the store's SPKI-prefix partitions in
groups sized to the memory budget, the (issuer, serial) hashes kept on disk between units, and the
per-issuer figures of the units added up."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import UsageError
from .layout import Store


def units_of(st: Store, unit_rows: int) -> list[tuple[list[str], int]]:
    """The store's certificate files as units of work: whole SPKI-prefix partitions, several small
    ones together up to `unit_rows` entries, a bigger one alone with the number of key-hash splits
    that brings each below it."""
    units: list[tuple[list[str], int]] = []
    current: list[str] = []
    current_rows = 0
    for _prefix, files in sorted(st.cert_files_by_prefix().items()):
        rows = sum(row_count(f) for f in files)
        if rows > unit_rows:
            units.append((files, math.ceil(rows / unit_rows)))
            continue
        if current and current_rows + rows > unit_rows:
            units.append((current, 1))
            current, current_rows = [], 0
        current = current + files
        current_rows += rows
    if current or not units:
        units.append((current or st.files("certs"), 1))
    return units


def row_count(path: str) -> int:
    if "://" in path:  # a URL is for Spark; DuckDB reads local files
        raise UsageError(f"{path}: the DuckDB engine reads local files; use --engine spark for URLs")
    return pq.read_metadata(path).num_rows


class PairHashes:
    """The (issuer, serial) hash of every issuance, with its unit, in 16 bucket files on disk (a
    100M-entry store has 90M of them: 1 GB, more than the memory budget allows to hold)."""

    BUCKETS = 16

    def __init__(self, folder: str) -> None:
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="pairs-", dir=folder)
        self.files = [
            (open(os.path.join(self.dir, f"{b}.h"), "wb"), open(os.path.join(self.dir, f"{b}.u"), "wb"))
            for b in range(self.BUCKETS)
        ]

    def add(self, hashes, unit: int) -> None:
        hashes = np.asarray(hashes, dtype=np.uint64)
        bucket = (hashes >> np.uint64(60)).astype(np.intp)
        for b in np.unique(bucket):
            sel = hashes[bucket == b]
            sel.tofile(self.files[b][0])
            np.full(len(sel), unit, dtype=np.uint32).tofile(self.files[b][1])

    def repeated(self) -> dict[int, set[int]]:
        """Hashes seen more than once -> the units they were seen in. Removes the files."""
        import shutil

        for fh, fu in self.files:
            fh.close()
            fu.close()
        out: dict[int, set[int]] = {}
        try:
            for b in range(self.BUCKETS):
                h = np.fromfile(os.path.join(self.dir, f"{b}.h"), dtype=np.uint64)
                if len(h) < 2:
                    continue
                # Sorting the hashes alone is cheaper than ordering the units with them.
                s = np.sort(h)
                dup = np.unique(s[1:][s[1:] == s[:-1]])
                del s
                if not len(dup):
                    continue
                u = np.fromfile(os.path.join(self.dir, f"{b}.u"), dtype=np.uint32)
                hit = np.isin(h, dup)
                for hv, uv in zip(h[hit].tolist(), u[hit].tolist(), strict=True):
                    out.setdefault(int(hv), set()).add(int(uv))
                del h, u, hit
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return out


def merge_issuer_figures(partials: list[pd.DataFrame]) -> tuple[pd.DataFrame, set[int]]:
    """Per-issuer figures of disjoint units added up; also the units holding each issuer's first
    (leaf) issuance, where the coverage notes look its name up."""
    cols = ["issuer_key", "first_opos", "first_leaf_opos", "issuances", "entries", "distinct_certs"]
    frames = [p for p in partials if len(p)]
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols}), set()
    allp = pd.concat(frames, ignore_index=True)
    for c in ("first_opos", "first_leaf_opos", "issuances", "entries", "distinct_certs"):
        allp[c] = pd.to_numeric(allp[c])
    units = set()
    for c in ("first_opos", "first_leaf_opos"):
        valid = allp[allp[c].notna()]
        if len(valid):
            units.update(int(u) for u in valid.loc[valid.groupby("issuer_key")[c].idxmin(), "unit"])
    g = allp.groupby("issuer_key", sort=True, dropna=False)
    merged = pd.DataFrame(
        {
            "first_opos": g["first_opos"].min(),
            "first_leaf_opos": g["first_leaf_opos"].min(),
            "issuances": g["issuances"].sum(),
            "entries": g["entries"].sum(),
            "distinct_certs": g["distinct_certs"].sum(),
        }
    ).reset_index()
    return merged[cols], units
