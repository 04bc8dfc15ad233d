"""Spreadsheets saved as text: the encoding, the delimiter and the rows as cells."""

from __future__ import annotations

from ...errors import InputError, Problem
from ...safety import csv_records, decode_text
from .cells import _Cell, _formula_cell
from .header import _find_header, _map_columns
from .limits import current_limit
from .synonyms import _HEADER_SCAN_ROWS


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        return decode_text(data)  # UTF-16 without a BOM (every other byte NUL)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(name, None, "not a spreadsheet: the text is neither UTF-8 nor GB18030") from exc


def _csv_rows(
    text: str, delimiter: str, limit: int | None = None, errors: list[tuple[int, str]] | None = None
) -> list[list[_Cell]]:
    """The CSV as rows of cells; a record the csv module refuses (a field over 131,072 characters,
    a NUL byte) is noted in `errors` as (line, reason) and the rows after it are still read."""
    max_rows, max_cols = current_limit("MAX_ROWS"), current_limit("MAX_COLS")
    grid = []
    for line, record, error in csv_records(text, delimiter):
        if record is None:
            if errors is not None:
                errors.append((line, error))
            grid.append([])  # keeps the row numbering of the rest
            continue
        row = []
        for v in record[:max_cols]:
            v = v.strip()
            cell = _formula_cell(v) if v.startswith("=") else None
            row.append(cell or _Cell(v if v else None))
        grid.append(row)
        if errors is not None and len(record) > max_cols:
            errors.append((line, f"{len(record) - max_cols} values beyond column {max_cols} not read"))
        if limit is not None and len(grid) >= limit:
            break
        if len(grid) >= max_rows:
            if errors is not None:
                errors.append((line + 1, f"rows after row {max_rows:,} not read (limit)"))
            break
    return grid


def _csv_grid(data: bytes, name: str, problems: list[Problem] | None = None) -> list[list[_Cell]]:
    text = _decode(data, name)
    if "\x00" in text:
        raise InputError(name, None, "not a spreadsheet: binary data")
    # The delimiter is the one under which a header row is found with the most known columns
    # (a comma inside quoted distinguished names does not fool it); a comma when none is.
    best, best_score = ",", 0
    for delimiter in (",", ";", "\t", "|"):
        head = _csv_rows(text, delimiter, limit=_HEADER_SCAN_ROWS + 2)
        h = _find_header(head)
        score = len(_map_columns(head, h).by_field) if h is not None else 0
        if score > best_score:
            best, best_score = delimiter, score
    errors: list[tuple[int, str]] = []
    grid = _csv_rows(text, best, errors=errors)
    if problems is not None:
        problems.extend(Problem(name, f"line {line}", reason) for line, reason in errors)
    return grid
