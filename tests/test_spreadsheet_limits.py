"""Spreadsheets that would blow up memory or time are read within limits and say what was cut
(issue 13): a cell at XFD1048576, sheets with more rows than the limit, CSV fields over the csv
module's 131,072-character limit. Fixtures are built here; expected values worked out by hand."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from analysis.sources import spreadsheets
from analysis.sources.spreadsheets import load_spreadsheet

HEADER = ["Serial # (hex)", "Issuer", "Revocation date", "Revocation reason"]
ISSUER = "CN=Example Trust RSA CA 2018,O=Example Trust,C=US"


def small_sheet(ws) -> None:
    ws.append(HEADER)
    ws.append(["0a", ISSUER, "2024-10-28 08:00:00", "keyCompromise"])
    ws.append(["0b", ISSUER, "2024-10-29 08:00:00", "superseded"])


def test_one_cell_at_the_far_corner_is_cut_not_expanded(tmp_path):
    wb = openpyxl.Workbook()
    small_sheet(wb.active)
    wb.active["XFD1048576"] = "far away"
    path = tmp_path / "far.xlsx"
    wb.save(path)
    assert path.stat().st_size < 10_000
    result = load_spreadsheet(path, kind="revocations")
    # the two data rows are read; the far cell is past both limits: named, and its row not read
    assert result.revocations["serial"].tolist() == ["a", "b"]
    note, cut = result.problems
    assert note.reason.startswith(
        "large workbook (sheet1.xml has a cell at XFD1048576) read in streaming mode"
    )
    assert (cut.position, cut.reason) == (
        "sheet Sheet row 1048576",
        f"rows after row {spreadsheets.MAX_ROWS:,} not read (limit)",
    )


def test_far_column_is_cut_and_reported(tmp_path):
    wb = openpyxl.Workbook()
    small_sheet(wb.active)
    wb.active["XFD2"] = "far right"
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    result = load_spreadsheet(path, kind="revocations")
    assert result.revocations["serial"].tolist() == ["a", "b"]
    note, cut = result.problems
    assert note.reason.startswith("large workbook (sheet1.xml has a cell at XFD2) read in streaming mode")
    assert (cut.position, cut.reason) == ("sheet Sheet", "1 value(s) beyond column 256 not read")


def sheet_xml(rows: int) -> bytes:
    body = io.StringIO()
    body.write('<?xml version="1.0" encoding="UTF-8"?>')
    body.write('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    cells = [("A", "Serial # (hex)"), ("B", "Issuer"), ("C", "Revocation date")]
    body.write(
        '<row r="1">'
        + "".join(f'<c r="{c}1" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in cells)
        + "</row>"
    )
    for r in range(2, rows + 2):
        serial = format(r, "x")
        body.write(
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{serial}</t></is></c>'
            f'<c r="B{r}" t="inlineStr"><is><t>{ISSUER}</t></is></c>'
            f'<c r="C{r}" t="inlineStr"><is><t>2024-10-28 08:00:00</t></is></c></row>'
        )
    body.write("</sheetData></worksheet>")
    return body.getvalue().encode()


def workbook_with(sheet: bytes) -> bytes:
    """A minimal xlsx around one sheet's XML (the parts openpyxl needs)."""
    ns = "http://schemas.openxmlformats.org/"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{ns}package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{ns}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{ns}spreadsheetml/2006/main" xmlns:r="{ns}officeDocument/2006/relationships">'
            '<sheets><sheet name="Big" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{ns}package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{ns}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def test_rows_past_the_limit_are_cut_and_reported(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 50)
    data = workbook_with(sheet_xml(200))  # a header and 200 data rows
    result = load_spreadsheet(data, kind="revocations", source="big.xlsx")
    # rows 1..50 are read: the header and 49 data rows (serials 2..50 in hex)
    assert result.revocations["serial"].tolist() == [format(r, "x") for r in range(2, 51)]
    assert ("sheet Big row 51", "rows after row 50 not read (limit)") in [
        (p.position, p.reason) for p in result.problems
    ]


def test_cells_past_the_limit_are_cut_and_reported(monkeypatch):
    monkeypatch.setattr(spreadsheets, "FULL_LOAD_CELLS", 10)
    monkeypatch.setattr(spreadsheets, "MAX_CELLS", 30)
    data = workbook_with(sheet_xml(20))
    result = load_spreadsheet(data, kind="revocations", source="cells.xlsx")
    # 3 cells a row: the 11th row brings the count to 33 > 30; rows 1..11 are kept (10 data rows)
    assert len(result.revocations) == 10
    assert ("sheet Big row 11", "more than 30 cells; the rest not read") in [
        (p.position, p.reason) for p in result.problems
    ]


def test_small_workbook_keeps_the_whole_load(tmp_path):
    wb = openpyxl.Workbook()
    small_sheet(wb.active)
    path = tmp_path / "small.xlsx"
    wb.save(path)
    result = load_spreadsheet(path, kind="revocations")
    assert result.revocations["serial"].tolist() == ["a", "b"]
    assert result.problems == []


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_field_over_the_limit_reported_rest_read(delimiter):
    rows = [
        delimiter.join(HEADER),
        delimiter.join(["0a", f'"{ISSUER}"', "2024-10-28 08:00:00", "keyCompromise"]),
        delimiter.join(["0b", f'"{ISSUER}"', "2024-10-28 08:00:00", "x" * 140_000]),
        delimiter.join(["0c", f'"{ISSUER}"', "2024-10-29 08:00:00", "superseded"]),
    ]
    result = load_spreadsheet(("\n".join(rows) + "\n").encode(), kind="revocations", source="big.csv")
    assert result.revocations["serial"].tolist() == ["a", "c"]
    assert ("line 3", "row not read: field larger than field limit (131072)") in [
        (p.position, p.reason) for p in result.problems
    ]


def test_streaming_mode_reads_what_a_whole_load_reads(tmp_path, monkeypatch):
    # Shared strings, a real Excel date, a number serial column, a HYPERLINK() formula: the
    # streaming reader must give the same rows as the whole load (no merged cells or cell links).
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["crt.sh", "Serial # (hex)", "Issuer", "Revocation date", "Revocation reason"])
    ws.append(
        [
            '=HYPERLINK("https://crt.sh/?id=12345","12345")',
            "0a",
            ISSUER,
            dt.datetime(2024, 10, 28, 8, 0),
            "keyCompromise",
        ]
    )
    ws.append(
        ['=HYPERLINK("https://crt.sh/?id=67890","67890")', "0b", ISSUER, "2024-10-29 09:30:00", "superseded"]
    )
    path = tmp_path / "same.xlsx"
    wb.save(path)
    whole = load_spreadsheet(path)
    monkeypatch.setattr(spreadsheets, "FULL_LOAD_CELLS", 1)
    streamed = load_spreadsheet(path)
    assert streamed.problems[0].reason.startswith("large workbook (sheet1.xml has more than 1 cells)")
    assert whole.problems == [] and streamed.problems[1:] == []
    for a, b in ((whole.revocations, streamed.revocations), (whole.certificates, streamed.certificates)):
        assert a.drop(columns=["source"]).equals(b.drop(columns=["source"]))
    assert streamed.revocations["revoked_at"].tolist() == [
        pd.Timestamp("2024-10-28T08:00:00Z"),
        pd.Timestamp("2024-10-29T09:30:00Z"),
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_csv_with_or_without_bom(encoding):
    text = "\n".join([",".join(HEADER), f'0a,"{ISSUER}",2024-10-28 08:00:00,keyCompromise']) + "\n"
    result = load_spreadsheet(text.encode(encoding), kind="revocations", source="u16.csv")
    assert result.problems == []
    assert result.revocations["serial"].tolist() == ["a"]
