"""SpreadsheetML (xlsx) read element by element within limits, for workbooks too big or too odd
to load whole (issue 13): a cell at XFD1048576 or 20 million rows of XML in a small zip.

`measure` streams each worksheet's XML once and stops at the first limit passed; `read_sheets`
reads every sheet's cells (shared strings, inline strings, numbers, booleans, formulas with their
cached values) up to the row, column and cell limits and says what it cut. No dense grid is ever
built, and no part is read past its limit. Merged cells and cell hyperlinks are not read here.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import fromstring, iterparse

_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml$")

Cell = tuple[object, str | None]  # (value, formula text without "=") of a cell with content


@dataclass(frozen=True)
class Limits:
    rows: int  # rows read a sheet
    cols: int  # columns read
    cells: int  # cells with content a workbook
    whole_load_cells: int  # `measure` says "fits" up to here
    sheet_xml: int  # a sheet's XML (uncompressed bytes) past this does not fit a whole load
    part_xml: int  # workbook.xml, its relationships and the shared strings: bytes at most


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def column_number(letters: str) -> int:
    """ "A" -> 1, "XFD" -> 16384."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def measure(data: bytes, limits: Limits) -> tuple[bool, dict[str, str]]:
    """(whether the workbook fits a whole load, {sheet part: the limit it passes})."""
    fits, notes = True, {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        cells = 0
        for info in zf.infolist():
            if not _SHEET_PART.match(info.filename):
                continue
            if info.file_size > limits.sheet_xml:
                fits = False
                notes[info.filename] = f"{info.file_size:,} bytes of XML"
                continue
            rows = 0
            with zf.open(info) as fh:
                for _, el in iterparse(fh, events=("end",)):
                    tag = _local(el.tag)
                    if tag == "c":
                        cells += 1
                        m = _CELL_REF.match(el.get("r") or "")
                        if m and (column_number(m.group(1)) > limits.cols or int(m.group(2)) > limits.rows):
                            fits = False
                            notes[info.filename] = f"a cell at {m.group(0)}"
                    elif tag == "row":
                        rows += 1
                        el.clear()
                    if rows > limits.rows:
                        fits = False
                        notes.setdefault(info.filename, f"more than {limits.rows:,} rows")
                    elif cells > limits.whole_load_cells:
                        fits = False
                        notes.setdefault(info.filename, f"more than {limits.whole_load_cells:,} cells")
                    if not fits:
                        break
            if not fits:
                break
    return fits, notes


def _small_part(zf: zipfile.ZipFile, path: str, limits: Limits):
    info = zf.getinfo(path)
    if info.file_size > limits.part_xml:
        raise ValueError(f"{path} is {info.file_size:,} bytes")
    return fromstring(zf.read(path))


def _sheet_parts(zf: zipfile.ZipFile, limits: Limits) -> list[tuple[str, str, str]]:
    """(name, state, part path) of every sheet, in workbook order."""
    book = _small_part(zf, "xl/workbook.xml", limits)
    rels = _small_part(zf, "xl/_rels/workbook.xml.rels", limits)
    targets = {}
    for rel in rels:
        target = rel.get("Target") or ""
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    out = []
    for el in book.iter():
        if _local(el.tag) == "sheet":
            path = targets.get(el.get(f"{_REL_NS}id"))
            if path:
                out.append((el.get("name") or "", el.get("state") or "visible", path))
    return out


def _shared_strings(zf: zipfile.ZipFile, limits: Limits, notes: list) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    strings: list[str] = []
    chars = 0
    with zf.open("xl/sharedStrings.xml") as fh:
        for _, el in iterparse(fh, events=("end",)):
            if _local(el.tag) == "si":
                text = "".join(t.text or "" for t in el.iter() if _local(t.tag) == "t")
                strings.append(text)
                chars += len(text)
                el.clear()
                if len(strings) > limits.cells or chars > limits.part_xml:
                    notes.append((None, f"more than {len(strings):,} shared strings; the rest not read"))
                    break
    return strings


def _cell(el, shared: list[str]) -> Cell:
    kind = el.get("t", "n")
    value = formula = None
    for child in el:
        tag = _local(child.tag)
        if tag == "v":
            value = child.text
        elif tag == "f":
            formula = child.text
        elif tag == "is":
            value = "".join(t.text or "" for t in child.iter() if _local(t.tag) == "t")
    if value is None:
        return None, formula
    if kind == "s":
        try:
            return shared[int(value)], formula
        except (ValueError, IndexError):
            return None, formula
    if kind == "b":
        return value.strip() == "1", formula
    if kind in ("str", "inlineStr"):
        return value, formula
    if kind == "e":
        return None, formula
    try:
        number = float(value)
    except ValueError:
        return value, formula
    whole = number.is_integer() and "." not in value and "e" not in value.lower()
    return (int(number) if whole else number), formula


def read_sheets(
    data: bytes, limits: Limits
) -> tuple[list[tuple[str, list[list[Cell | None]]]], list[tuple[str | None, str]]]:
    """Every sheet that is not veryHidden as (name, rows of cells or None), and what was cut as
    (position, reason). Raises zipfile/XML errors (ValueError and friends) on a broken file."""
    notes: list[tuple[str | None, str]] = []
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        shared = _shared_strings(zf, limits, notes)
        names = set(zf.namelist())
        total = 0
        for title, state, path in _sheet_parts(zf, limits):
            if state == "veryHidden" or path not in names:
                continue
            grid: list[list[Cell | None]] = []
            wide = 0
            stop = None
            row: list[Cell | None] = []
            r = 0
            with zf.open(path) as fh:
                for event, el in iterparse(fh, events=("start", "end")):
                    tag = _local(el.tag)
                    if event == "start":
                        if tag == "row":
                            ref = el.get("r") or ""
                            r = int(ref) if ref.isdigit() else r + 1
                            if r > limits.rows:
                                stop = (f"row {r}", f"rows after row {limits.rows:,} not read (limit)")
                                break
                            while len(grid) < r - 1:
                                grid.append([])
                            row = []
                        continue
                    if tag == "c":
                        m = _CELL_REF.match(el.get("r") or "")
                        col = column_number(m.group(1)) if m else len(row) + 1
                        if col > limits.cols:
                            wide += 1
                        else:
                            value, formula = _cell(el, shared)
                            if value is not None or formula:
                                row.extend(None for _ in range(col - len(row)))
                                row[col - 1] = (value, formula)
                                total += 1
                        el.clear()
                    elif tag == "row":
                        grid.append(row)
                        el.clear()
                        if total > limits.cells:
                            stop = (f"row {r}", f"more than {limits.cells:,} cells; the rest not read")
                            break
            if stop is not None:
                notes.append((f"sheet {title} {stop[0]}", stop[1]))
            if wide:
                notes.append((f"sheet {title}", f"{wide:,} value(s) beyond column {limits.cols} not read"))
            out.append((title, grid))
            if total > limits.cells:
                break
    return out, notes
