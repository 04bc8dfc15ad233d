"""A spreadsheet file or bytes -> its sheets as grids of cells (xlsx or text)."""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError, Problem
from ...safety import read_input
from .cells import _Cell
from .csv_text import _csv_grid
from .limits import current_limit
from .workbook import _xlsx_sheets


def _read_bytes(path_or_bytes: str | Path | bytes | bytearray, source: str | None) -> tuple[bytes, str, str]:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes), source or "spreadsheet", ""
    p = Path(path_or_bytes)
    name = source or str(p)
    try:
        data = read_input(
            p, current_limit("MAX_FILE_BYTES")
        )  # a FIFO, an unreadable or a huge file: one clear line
    except InputError as exc:
        raise InputError(name, None, exc.reason) from exc
    return data, name, p.suffix.lower()


def _sheets(
    data: bytes, name: str, suffix: str, problems: list[Problem] | None = None
) -> list[tuple[str | None, list[list[_Cell]]]]:
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(name, None, "Excel 97-2003 (.xls) workbooks are not read; save it as .xlsx or .csv")
    if data.startswith(b"PK\x03\x04"):
        return list(_xlsx_sheets(data, name, problems))
    if suffix in (".xlsx", ".xlsm"):
        raise InputError(name, None, "not a readable xlsx workbook (not a zip file)")
    return [(None, _csv_grid(data, name, problems))]
