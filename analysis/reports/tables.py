"""Action-item tables: GFM pipe tables, tab/space-separated lines, and flattened rendered rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .vocabulary import _key, _strip_md

# --- action-item tables -----------------------------------------------------------------------

_COLUMNS = ("id", "item", "kind", "root_cause", "evaluation", "due", "status")


def _column_of(header_cell: str) -> str | None:
    k = _key(header_cell)
    if k in {"no", "id", "number", "num"} or header_cell.strip() in {"#", "No.", "no."}:
        return "id"
    if not k:
        return None
    if "root cause" in k:
        return "root_cause"
    if "evaluation" in k or "criteria" in k:
        return "evaluation"
    if k.startswith("status") or k == "state":
        return "status"
    if k.startswith("kind") or k == "type":
        return "kind"
    if "due" in k or k in {"date", "target date", "completion date", "deadline"}:
        return "due"
    if k.startswith("action") or k in {"item", "description", "remediation"}:
        return "item"
    return None


def _split_cells(line: str, style: str) -> list[str]:
    if style == "md":
        s = line.strip()
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|") and not s.endswith("\\|"):
            s = s[:-1]
        return [c.strip() for c in re.split(r"(?<!\\)\|", s)]
    if style == "tab":
        return [c.strip() for c in line.strip("\n").split("\t")]
    return [c.strip() for c in re.split(r"\s{2,}", line.strip())]


def _header_style(line: str) -> tuple[str, list[str | None]] | None:
    """If `line` is an action-item table header, its style and column mapping."""
    if "action" not in line.lower():
        return None
    for style in ("md", "tab", "space"):
        if style == "md" and "|" not in line:
            continue
        if style == "tab" and "\t" not in line:
            continue
        cells = _split_cells(line, style)
        if len(cells) < 3:
            continue
        cols = [_column_of(c) for c in cells]
        if "item" in cols and len({c for c in cols if c and c != "item"}) >= 2:
            return style, cols
    return None


@dataclass
class _Table:
    line: int
    update: bool
    rows: list[dict] = field(default_factory=list)


_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_EMPTY_CELL = {"", "-", "\u2013", "\u2014", "n/a", "na", "none", "tbd", "tba", "?"}


def _parse_tables(lines: list[tuple[int, str]], update_lines: set[int]) -> list[_Table]:
    """Every action-item table in `lines` (number, text); chrome already removed."""
    tables: list[_Table] = []
    i = 0
    n = len(lines)
    while i < n:
        num, text = lines[i]
        hs = _header_style(text)
        if not hs:
            i += 1
            continue
        style, cols = hs
        table = _Table(line=num, update=num in update_lines)
        i += 1
        while i < n:
            num, text = lines[i]
            if style == "md":
                if _MD_SEPARATOR.match(text):
                    i += 1
                    continue
                if "|" not in text:
                    break
            elif style == "tab":
                if "\t" not in text:
                    break
            else:
                if not text.strip() or len(_split_cells(text, style)) < 3:
                    break
            cells = _split_cells(text, style)
            if _header_style(text):
                break
            row: dict = {"source_line": num}
            for col, cell in zip(cols, cells, strict=False):
                if col and col not in row:
                    row[col] = _strip_md(cell.replace("<br>", " "))
            if row.get("item") and _key(row["item"]):
                table.rows.append(row)
            i += 1
        tables.append(table)
    return tables
