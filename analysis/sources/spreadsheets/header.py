"""Header detection (the row naming a serial and another known column) and column mapping (a
second header row, zones in headers, decimal serials, the CCADB appendix layout).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .cells import _ZONE_BEIJING, _ZONE_OFFSET, _Cell, _find_zone
from .synonyms import _CJK, _CONTAINED, _DATE_FIELDS, _EXACT, _HEADER_SCAN_ROWS, CCADB_APPENDIX_FIELDS, _norm

# --- header detection and column mapping ----------------------------------------------------


def _parts(text: str) -> list[str]:
    t = unicodedata.normalize("NFKC", text)
    t = _ZONE_OFFSET.sub(" ", t)
    t = _ZONE_BEIJING.sub(" ", t)
    out = []
    for piece in re.split(r"[\n\r/|()\[\]{}:;,]+", t):
        out.extend(re.findall(f"[{_CJK}]+|[^{_CJK}]+", piece))
    return [p for p in (_norm(x) for x in out) if p]


_NOT_SHA256 = re.compile(r"sha1|md5", re.IGNORECASE)


def _match(text: str) -> tuple[str | None, int]:
    """(canonical field, quality): 2 for a synonym (whole header or one part of it), 1 when a
    synonym is only contained in the header, (None, 0) for no match."""
    if not text or not str(text).strip():
        return None, 0
    key = _norm(text)
    if key in _EXACT:
        return _EXACT[key], 2
    for part in _parts(str(text)):
        if part in _EXACT:
            return _EXACT[part], 2
    if _NOT_SHA256.search(key) and "sha256" not in key:
        return None, 0  # a SHA-1 or MD5 fingerprint column is not a SHA-256 one
    best: tuple[int, int, str] | None = None
    for syn, fld in _CONTAINED:
        pos = key.find(syn)
        if pos >= 0 and (best is None or (pos, -len(syn)) < (best[0], best[1])):
            best = (pos, -len(syn), fld)
    return (best[2], 1) if best else (None, 0)


def match_header(text: str) -> str | None:
    """The canonical field a column header names (see COLUMN_SYNONYMS), or None.

    Matching is case-, space- and punctuation-insensitive (NFKC), on the whole header, then on its
    parts (split at line breaks, slashes, brackets, and between Chinese and Latin text, with any
    zone such as "(UTC+8)" left out), then on a synonym contained in it ("Certificate Serial
    Number" -> serial; the earliest and longest wins: "Issuer Common Name" -> issuer_dn).
    """
    return _match(text)[0]


def _exact_header(text: str) -> str | None:
    """match_header without the containment fallback (for second header rows)."""
    f, q = _match(text)
    return f if q == 2 else None


def _row_fields(row: list[_Cell]) -> dict[int, str]:
    found: dict[int, str] = {}
    for i, cell in enumerate(row):
        if isinstance(cell.value, str):
            f = match_header(cell.value)
            if f is not None:
                found[i] = f
    return found


def _find_header(grid: list[list[_Cell]]) -> int | None:
    """Index of the header row: among the first rows naming at least two known columns, the one
    whose mapping (with a second header row under it, if any) covers the most fields."""
    best, best_score = None, 0
    for r, row in enumerate(grid[:_HEADER_SCAN_ROWS]):
        if len(set(_row_fields(row).values())) < 2:
            continue
        fields = set(_map_columns(grid, r).by_field)
        score = len(fields) + (1 if "serial" in fields else 0)
        if score > best_score:
            best, best_score = r, score
    return best


@dataclass
class _Columns:
    by_field: dict[str, int]
    mapped: dict[str, str]
    unmapped: list[str]
    header_zones: dict[str, tuple[dt.tzinfo | None, str, str | None]]  # field -> (zone, header, error)
    decimal_serial: bool
    header_rows: int  # 1, or 2 when a second header row (other language, sub-headers) follows


def _map_columns(grid: list[list[_Cell]], h: int) -> _Columns:
    def cell(r: int, c: int) -> _Cell:
        return grid[r][c] if r < len(grid) and c < len(grid[r]) else _Cell()

    width = max(len(grid[h]), len(grid[h + 1]) if h + 1 < len(grid) else 0)
    top = [cell(h, c).raw() for c in range(width)]
    # A second header row: the same headers in another language, or sub-headers under a merged
    # group header ("Revocation" over "Date" and "Reason"). Data rows hold no such text.
    nxt_cells = [cell(h + 1, c) for c in range(width)]
    nxt = [c.raw() for c in nxt_cells]
    # a sub-header counts when it is a known header itself, or names one together with the group
    # header above it as a whole ("Revocation" + "Date"); a data cell under "序列号" does neither
    f_next = {c: _EXACT.get(_norm(f"{top[c]} {t}")) or _exact_header(t) for c, t in enumerate(nxt) if t}
    two_rows = sum(1 for f in f_next.values() if f) >= 2 and not any(
        isinstance(c.value, (int, float, dt.datetime, dt.date)) for c in nxt_cells
    )
    columns: list[tuple[int, str, str | None, int]] = []  # (column, header text, field, quality)
    for c in range(width):
        text = top[c]
        f, q = _match(text) if text else (None, 0)
        if two_rows and nxt[c]:
            if f is None or q < 2:
                f, q = (f_next[c], 2) if f_next.get(c) else (f, q)
            if nxt[c] != text:
                text = f"{text} / {nxt[c]}" if text else nxt[c]
        if text:
            columns.append((c, text, f, q))
    # A field goes to its first exact match; a header that only contains a synonym gets the field
    # only when no column names it exactly ("Domain validation method" does not take dNSNames).
    by_field: dict[str, int] = {}
    for quality in (2, 1):
        for c, _text, f, q in columns:
            if f is not None and q == quality and f not in by_field:
                by_field[f] = c
    mapped: dict[str, str] = {}
    unmapped: list[str] = []
    header_zones: dict[str, tuple[dt.tzinfo | None, str, str | None]] = {}
    decimal = False
    for c, text, f, _q in columns:
        key = text if text not in mapped and text not in unmapped else f"{text} (column {c + 1})"
        if f is None or by_field.get(f) != c:
            unmapped.append(key)
            continue
        mapped[key] = f
        if f in _DATE_FIELDS:
            zone, token, err = _find_zone(text)
            if token:
                header_zones[f] = (zone, text, err)
        if f == "serial" and re.search(r"decimal|十进制|\bdec\b", text, re.IGNORECASE):
            decimal = True
    return _Columns(by_field, mapped, unmapped, header_zones, decimal, 2 if two_rows else 1)


def _is_ccadb(cols: _Columns) -> bool:
    """True when the CCADB appendix columns come first among the mapped ones, side by side, in order."""
    order = sorted(cols.by_field.items(), key=lambda kv: kv[1])[: len(CCADB_APPENDIX_FIELDS)]
    if tuple(f for f, _ in order) != CCADB_APPENDIX_FIELDS:
        return False
    positions = [c for _, c in order]
    return positions == list(range(positions[0], positions[0] + len(CCADB_APPENDIX_FIELDS)))
