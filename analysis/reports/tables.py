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
        parts = s.split("|") if "\\" not in s else _UNESCAPED_PIPE.split(s)
        return [c.strip() for c in parts]
    if style == "tab":
        return [c.strip() for c in line.strip("\n").split("\t")]
    return [c.strip() for c in _SPACE_RUN.split(line.strip())]


_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_SPACE_RUN = re.compile(r"\s{2,}")


_HEADER_HINTS = (
    "kind",
    "status",
    "due",
    "date",
    "root cause",
    "evaluation",
    "criteria",
    "type",
    "state",
    "deadline",
)


def _header_style(line: str) -> tuple[str, list[str | None]] | None:
    """If `line` is an action-item table header, its style and column mapping."""
    low = line[:400].lower()
    if "action" not in low or len(line) > 400:
        return None
    # a header names at least two other columns: a cheap test before splitting cells
    hints = 0
    for w in _HEADER_HINTS:
        if w in low:
            hints += 1
            if hints == 2:
                break
    else:
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


_EMPTY_CELL = {"", "-", "\u2013", "\u2014", "n/a", "na", "none", "tbd", "tba", "?"}


def is_separator(line: str) -> bool:
    """A GFM delimiter row ("|---|:--:|") or a rule of dashes; checked without a regular expression
    so that 50 KB of such characters costs one pass."""
    s = line.strip()
    return len(s) >= 3 and "--" in s and not s.strip("|-: \t")


# --- flattened tables (a rendered bug page copied as text) ------------------------------------

# Column names as they run together in a flattened header ("Action Item Kind Due Date"), longest
# first so that "due date" wins over "date".
_HEADER_PHRASES = [
    ("corresponding root cause s", "root_cause"),
    ("corresponding root causes", "root_cause"),
    ("corresponding root cause", "root_cause"),
    ("root cause s", "root_cause"),
    ("root causes", "root_cause"),
    ("root cause", "root_cause"),
    ("evaluation criteria", "evaluation"),
    ("completion date", "due"),
    ("target date", "due"),
    ("due date", "due"),
    ("action items", "item"),
    ("action item", "item"),
    ("description", "item"),
    ("status", "status"),
    ("kind", "kind"),
    ("type", "kind"),
    ("date", "due"),
    ("no", "id"),
]


def flat_header(line: str) -> list[str] | None:
    """The columns of a flattened header line ("Action Item Kind Due Date Status"), or None."""
    if len(line) > 200 or "action" not in line.lower():
        return None
    k = _key(line)
    cols: list[str] = []
    while k:
        for phrase, col in _HEADER_PHRASES:
            if k == phrase or k.startswith(phrase + " "):
                cols.append(col)
                k = k[len(phrase) :].lstrip()
                break
        else:
            return None
    if "item" in cols and len(set(cols) - {"item", "id"}) >= 2:
        return cols
    return None


_TRAIL_DATE = re.compile(
    r"(?:^|\s)(?P<v>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}/\d{1,2}/\d{4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|Q[1-4] \d{4}|N/?A|TBD)$",
    re.IGNORECASE,
)
_TRAIL_KIND = re.compile(r"(?:^|\s)(?P<v>(?:prevent(?:ion|ive)?|detect(?:ion|ive)?|mitigat(?:e|ion)))$", re.I)
_TRAIL_STATUS = re.compile(
    r"(?:^|\s)(?P<v>complete[d]?|done|ongoing|in progress|delayed|cancel+ed|planned|open|finished|"
    r"implemented|not started)(?P<on> on| since| in)?$",
    re.IGNORECASE,
)
_TRAIL_ROOT = re.compile(
    r"(?:^|\s)(?P<v>(?:contributing factor|root cause|rc)\s?#?\s?\d+(?:\s?(?:,|and|&)\s?#?\d+)*)$", re.I
)


def split_flat_row(text: str) -> dict | None:
    """A flattened row: trailing Kind / Status / Due / root-cause cells peeled off from the right,
    whatever their order (columns are misused: a status word in the Kind column). None when the
    line ends in none of them (then it is prose, not a row)."""
    s = " ".join(_strip_md(text).split()).rstrip(" |")
    s = s[:2000]  # a row is short; bound the work on hostile lines
    row: dict = {}
    cells: list[tuple[str, str]] = []
    while s:
        last = s[-1]
        for col, rx, ends in _TRAILING:
            if not (last in ends or (ends is _DATE_ENDS and last.isdecimal())):
                continue  # the cell's pattern cannot end in this character: skip the search
            m = rx.search(s[-80:])
            if m:
                if col == "status" and m.groupdict().get("on") and cells and cells[-1][0] == "due":
                    cells[-1] = ("completed", cells[-1][1])  # "Completed on 2024-12-02": not the due date
                cells.append((col, m.group("v")))
                s = s[: len(s) - len(m.group(0))].rstrip(" |\t")
                break
        else:
            break
    if not cells or not _key(s):
        return None
    mid = _MID_KIND.search(s)
    if mid and "kind" not in dict(cells):
        # "item Prevent Contributing Factor #2 evaluation criteria": the Kind cell sits mid-line
        cells.append(("kind", mid.group("kind")))
        if mid.group("root"):
            cells.append(("root_cause", mid.group("root")))
        if s[mid.end() :].strip():
            cells.append(("evaluation", s[mid.end() :].strip()))
        s = s[: mid.start()]
    for col, value in cells:
        if col == "kind" or col == "status":
            # a status word where the Kind belongs (and the reverse) goes to its own column
            row.setdefault(col, value)
        elif col not in row:
            row[col] = value
    row["item"] = s.rstrip(" .:;") + ("." if s.endswith(".") else "")
    return row


# The characters each trailing cell can end with (any case; "ſ" is an s to IGNORECASE); a date or
# root-cause reference may also end with any digit (`_DATE_ENDS` is checked with isdecimal too).
_DATE_ENDS = frozenset("aAdD")
_TRAILING = (
    ("due", _TRAIL_DATE, _DATE_ENDS),
    ("kind", _TRAIL_KIND, frozenset("eEnNtT")),
    ("status", _TRAIL_STATUS, frozenset("eEdDgGnNsS\u017f")),
    ("root_cause", _TRAIL_ROOT, _DATE_ENDS),
)

_MID_KIND = re.compile(
    r"\s(?P<kind>Prevent(?:ion|ive)?|Detect(?:ion|ive)?|Mitigat(?:e|ion))\s"
    r"(?P<root>(?:Contributing Factor|Root Cause)\s?#?\s?\d+(?:\s?(?:,|and|&)\s?#?\d+)*)?"
)


@dataclass
class _Pending:
    table: _Table
    style: str
    cols: list[str | None]


def _parse_tables(lines: list[tuple[int, str]], update_lines: set[int]) -> list[_Table]:
    """Every action-item table in `lines` (number, text); chrome already removed. Linear: each line
    is looked at a bounded number of times."""
    tables: list[_Table] = []
    i = 0
    n = len(lines)
    while i < n:
        num, text = lines[i]
        if "ction" not in text and "CTION" not in text:  # every header names the Action Item column
            i += 1
            continue
        hs = _header_style(text)
        if hs:
            style, cols = hs
            table = _Table(line=num, update=num in update_lines)
            i = _read_delimited(lines, i + 1, style, cols, table)
            tables.append(table)
            continue
        fcols = flat_header(text)
        if fcols is None:
            fcols = _cell_per_line_header(lines, i)
            if fcols is not None:
                table = _Table(line=num, update=num in update_lines)
                i = _read_cell_per_line(lines, i + len(fcols), fcols, table)
                tables.append(table)
                continue
            i += 1
            continue
        table = _Table(line=num, update=num in update_lines)
        i = _read_flat(lines, i + 1, table)
        tables.append(table)
    return tables


def _read_delimited(lines: list[tuple[int, str]], i: int, style: str, cols: list, table: _Table) -> int:
    n = len(lines)
    while i < n:
        num, text = lines[i]
        if style == "md":
            if is_separator(text):
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
        if _header_style(text):
            break
        cells = _split_cells(text, style)
        row: dict = {"source_line": num}
        for col, cell in zip(cols, cells, strict=False):
            if col and col not in row:
                row[col] = _strip_md(cell.replace("<br>", " "))
        if row.get("item") and _key(row["item"]):
            table.rows.append(row)
        i += 1
    return i


def _read_flat(lines: list[tuple[int, str]], i: int, table: _Table) -> int:
    """Rows run together, one per line, after a flattened header; a blank line ends the table
    unless the next line is a row too."""
    n = len(lines)
    while i < n:
        num, text = lines[i]
        if not text.strip():
            if i + 1 < n and lines[i + 1][1].strip() and split_flat_row(lines[i + 1][1]) is not None:
                i += 1
                continue
            break
        if _header_style(text) or flat_header(text):
            break
        row = split_flat_row(text)
        if row is None:
            break
        row["source_line"] = num
        table.rows.append(row)
        i += 1
    return i


def _cell_per_line_header(lines: list[tuple[int, str]], i: int) -> list[str] | None:
    """Header cells one per line ("Action Item" / "Kind" / "Due Date" ...), as a rendered table
    copies in some browsers."""
    if _column_of(lines[i][1]) != "item" or "action" not in lines[i][1].lower():
        return None
    cols = ["item"]
    j = i + 1
    while j < len(lines) and len(cols) < 8:
        t = lines[j][1].strip()
        c = _column_of(t) if t and len(t) < 40 else None
        if c is None or c == "item":
            break
        cols.append(c)
        j += 1
    return cols if len(set(cols)) >= 3 else None


def _read_cell_per_line(lines: list[tuple[int, str]], i: int, cols: list[str], table: _Table) -> int:
    """Rows of len(cols) lines each; a row whose Kind/Status/Due cells do not look like theirs ends
    the table."""
    n, w = len(lines), len(cols)
    while i + w <= n:
        chunk = lines[i : i + w]
        if any(not t.strip() for _, t in chunk):
            break
        row: dict = {"source_line": chunk[0][0]}
        ok = True
        for col, (_, cell) in zip(cols, chunk, strict=True):
            cell = _strip_md(cell)
            if col in ("kind", "status") and len(cell) > 40:
                ok = False
            if col == "due" and len(cell) > 40:
                ok = False
            row.setdefault(col, cell)
        if not ok:
            break
        table.rows.append(row)
        i += w
    return i
