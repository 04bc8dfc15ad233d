"""Bounds on what one spreadsheet may make us hold."""

from __future__ import annotations

import sys

# Bounds on what one spreadsheet may make us hold: a cell far out (XFD1048576) or a sheet of 20
# million empty rows is cut there and reported, never expanded into a dense grid.
MAX_FILE_BYTES = 256 << 20  # a spreadsheet file larger than this is not read
MAX_ROWS = 200_000  # rows read per sheet
MAX_COLS = 256  # columns read (the CCADB appendix has 14)
MAX_CELLS = 2_000_000  # cells with a value per workbook
FULL_LOAD_CELLS = 200_000  # up to here a workbook is loaded whole (merged cells and hyperlinks kept)
MAX_SHEET_XML = 256 << 20  # a sheet's XML larger than this (uncompressed) is read in streaming mode
MAX_PART_XML = 64 << 20  # workbook.xml, its relationships and the shared strings: bytes read at most


def current_limit(name: str) -> int:
    """A limit as the package holds it now: callers and tests lower it on
    analysis.sources.spreadsheets (which re-exports the defaults above), so it is read there."""
    return getattr(sys.modules[__package__], name)
