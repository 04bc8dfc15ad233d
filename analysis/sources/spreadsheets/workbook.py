"""xlsx workbooks as grids of cells: loaded whole with openpyxl (merged cells, hyperlinks, cached
formula results) while small, read element by element with analysis.sources.xlsx_stream when not.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings

from ...errors import InputError, Problem
from .cells import _Cell, _formula_cell
from .limits import current_limit


def _limits():
    from ..xlsx_stream import Limits

    names = ("MAX_ROWS", "MAX_COLS", "MAX_CELLS", "FULL_LOAD_CELLS", "MAX_SHEET_XML", "MAX_PART_XML")
    return Limits(*(current_limit(n) for n in names))


def _xlsx_sheets(
    data: bytes, name: str, problems: list[Problem] | None = None
) -> list[tuple[str, list[list[_Cell]]]]:
    import openpyxl

    from .. import xlsx_stream

    try:
        fits, _ = xlsx_stream.measure(data, _limits())
    except Exception as exc:  # zipfile and XML errors on junk
        raise InputError(name, None, f"not a readable xlsx workbook: {exc}") from exc
    if not fits:
        return _xlsx_sheets_streaming(data, name, problems)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds (BadZipFile, KeyError, XML errors) on junk
        raise InputError(name, None, f"not a readable xlsx workbook: {exc}") from exc
    cached = None  # the same workbook with cached formula results, loaded when first needed
    out = []
    for ws in wb.worksheets:
        if getattr(ws, "sheet_state", "visible") == "veryHidden":
            continue
        # only the cells that exist: a sheet styled down to row 1048576 is not a million rows
        cells = [c for c in ws._cells.values() if c.value is not None or c.hyperlink is not None]
        nrows = max((c.row for c in cells), default=0)
        grid: list[list[_Cell]] = [[] for _ in range(nrows)]  # ragged: no dense grid
        for c in sorted(cells, key=lambda c: (c.row, c.column)):
            v = c.value
            link = c.hyperlink.target if c.hyperlink is not None else None
            cell = _Cell(v, link)
            if isinstance(v, str) and v.startswith("="):
                fc = _formula_cell(v)
                if fc is not None:
                    cell = _Cell(fc.value, link or fc.link)
                else:
                    if cached is None:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            cached = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
                    cell = _Cell(cached[ws.title].cell(c.row, c.column).value, link)
            elif v is not None and not isinstance(v, (str, int, float, bool, dt.date, dt.time, dt.timedelta)):
                cell = _Cell(None, link)  # array formulas and other objects: no value we can read
            row = grid[c.row - 1]
            row.extend(_Cell() for _ in range(c.column - len(row)))
            row[c.column - 1] = cell
        # a merged range reads as its top-left value in every cell it covers
        for rng in ws.merged_cells.ranges:
            if rng.min_row > nrows or rng.min_col > len(grid[rng.min_row - 1]):
                continue
            top = grid[rng.min_row - 1][rng.min_col - 1]
            for r in range(rng.min_row, min(rng.max_row, nrows) + 1):
                row = grid[r - 1]
                last = min(rng.max_col, current_limit("MAX_COLS"))
                row.extend(_Cell() for _ in range(last - len(row)))
                for col in range(rng.min_col, last + 1):
                    if (r, col) != (rng.min_row, rng.min_col):
                        row[col - 1] = _Cell(top.value, top.link)
        out.append((ws.title, grid))
    return out


def _xlsx_sheets_streaming(
    data: bytes, name: str, problems: list[Problem] | None
) -> list[tuple[str, list[list[_Cell]]]]:
    """A workbook too big to load whole, read element by element (analysis.sources.xlsx_stream)
    within the row, column and cell limits; what was cut is reported. Merged cells and cell
    hyperlinks are not read in this mode (HYPERLINK() formulas are); dates come as Excel serial
    numbers, which the sheet reader converts."""
    from .. import xlsx_stream

    note = problems.append if problems is not None else (lambda p: None)
    try:
        _, parts = xlsx_stream.measure(data, _limits())
        sheets, cuts = xlsx_stream.read_sheets(data, _limits())
    except Exception as exc:  # zip and XML errors on a broken workbook
        raise InputError(name, None, f"not a readable xlsx workbook: {exc}") from exc
    what = "; ".join(f"{path.rsplit('/', 1)[-1]} has {n}" for path, n in parts.items())
    note(
        Problem(
            name,
            None,
            f"large workbook ({what}) read in streaming mode: at most {current_limit('MAX_ROWS'):,} rows and "
            f"{current_limit('MAX_COLS')} columns a sheet and {current_limit('MAX_CELLS'):,} cells; merged cells and cell "
            "hyperlinks are not read",
        )
    )
    for position, reason in cuts:
        note(Problem(name, position, reason))
    out = []
    for title, rows in sheets:
        grid = []
        for row in rows:
            cells = []
            for c in row:
                if c is None:
                    cells.append(_Cell())
                    continue
                value, formula = c
                cell = _formula_cell("=" + formula) if formula else None
                cells.append(cell or _Cell(value))
            grid.append(cells)
        out.append((title, grid))
    return out
