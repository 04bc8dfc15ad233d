"""Incident spreadsheets (xlsx and csv, as CAs attach them) -> certificates and revocations frames.

CAs attach their certificate lists in many shapes: the CCADB appendix columns, title rows and
merged cells above the header, bilingual headers, times in a local zone stated in the header or in a
note, serials with colons, reasons with a translation beside them. `load_spreadsheet` finds the
header row, maps columns by synonyms (`COLUMN_SYNONYMS`), reads every row it can, and reports each
row it skipped as a `Problem` with its row number; it never guesses silently: which columns it
mapped, which it left, and which zone it read the times in are all in the result.

Modules: synonyms (fields and header texts), header (header row and column mapping), cells (cell
values), csv_text and workbook (reading text and xlsx), reading (file -> sheets), sheet (one sheet
-> records), limits (bounds).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...errors import InputError, Problem, UsageError
from ...revocations import RevocationData, is_revocations_csv
from ...revocations import parse_reason_name as parse_reason
from ...schema import coerce_certificates, coerce_revocations, empty_certificates, empty_revocations
from .cells import _normalise_issuer
from .header import match_header
from .limits import FULL_LOAD_CELLS as FULL_LOAD_CELLS
from .limits import MAX_CELLS as MAX_CELLS
from .limits import MAX_COLS as MAX_COLS
from .limits import MAX_FILE_BYTES as MAX_FILE_BYTES
from .limits import MAX_PART_XML as MAX_PART_XML
from .limits import MAX_ROWS as MAX_ROWS
from .limits import MAX_SHEET_XML as MAX_SHEET_XML
from .reading import _read_bytes, _sheets
from .sheet import SheetInfo, _read_sheet
from .synonyms import CCADB_APPENDIX_FIELDS, COLUMN_SYNONYMS

__all__ = [
    "CCADB_APPENDIX_FIELDS",
    "COLUMN_SYNONYMS",
    "SheetInfo",
    "SpreadsheetResult",
    "load_spreadsheet",
    "match_header",
    "parse_reason",
    "spreadsheet_revocations",
]

KINDS = ("auto", "certificates", "revocations")


@dataclass
class SpreadsheetResult:
    """Frames in the canonical schema plus what the loader decided and what it skipped.

    `mapped` (header -> canonical field), `unmapped`, `header_row` (1-based), `zone`, `layout` and
    `sheet` describe the first sheet read; `sheets` has the same for every sheet read.
    """

    certificates: pd.DataFrame
    revocations: pd.DataFrame
    mapped: dict[str, str]
    unmapped: list[str]
    problems: list[Problem]
    header_row: int | None
    zone: dt.tzinfo | None
    zone_source: str | None = None
    layout: str = "generic"
    sheet: str | None = None
    sheets: list[SheetInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = "auto"


def load_spreadsheet(
    path_or_bytes: str | Path | bytes,
    *,
    kind: str = "auto",
    source: str | None = None,
    issuer: str | None = None,
) -> SpreadsheetResult:
    """Read an incident spreadsheet (xlsx or csv) into the certificates and revocations frames.

    `kind`: "certificates" fills only the certificates frame, "revocations" only the revocations
    frame (every row is taken as a revocation unless its Is revoked? column says otherwise), "auto"
    both (a row becomes a revocation when it has a revocation date or says Is revoked? = Yes).
    `source` names the input in `source` columns and problems (default: the path, or "spreadsheet").
    `issuer` is used for rows without an issuer (a sheet with no issuer column).

    Never raises for bad input: a file that cannot be read at all (missing, .xls, a broken zip,
    binary data) is one Problem with empty frames; every skipped row is a Problem with its row.
    Raises UsageError for an unknown `kind`.
    """
    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    default_issuer = _normalise_issuer(issuer) if issuer else None
    read_problems: list[Problem] = []
    try:
        data, name, suffix = _read_bytes(path_or_bytes, source)
        sheets = _sheets(data, name, suffix, read_problems)
    except InputError as exc:
        # the whole file is unusable: one problem, empty frames, and the caller goes on
        return SpreadsheetResult(
            certificates=_with_precert(empty_certificates()),
            revocations=empty_revocations(),
            mapped={},
            unmapped=[],
            problems=[Problem(exc.input, exc.position, exc.reason)],
            header_row=None,
            zone=None,
            kind=kind,
        )

    problems: list[Problem] = read_problems  # what reading cut comes first
    warn: list[str] = []
    infos: list[SheetInfo] = []
    certs: list[dict] = []
    revs: list[dict] = []
    for sheet_name, grid in sheets:
        got = _read_sheet(
            grid,
            sheet=sheet_name,
            source=name,
            kind=kind,
            default_issuer=default_issuer,
            problems=problems,
            warn=warn,
        )
        if got is None:
            continue
        info, c, r = got
        infos.append(info)
        certs.extend(c)
        revs.extend(r)
    if not infos:
        nonempty = [s for s, g in sheets if any(not c.empty() for row in g for c in row)]
        if nonempty or not sheets:
            reason = "no header row found (no row names a serial number and another known column)"
        else:
            reason = "the spreadsheet is empty"
        problems.append(Problem(name, None, reason))
    first = infos[0] if infos else SheetInfo(None, None)
    cert_frame = coerce_certificates(pd.DataFrame(certs)) if certs else _with_precert(empty_certificates())
    rev_frame = coerce_revocations(pd.DataFrame(revs)) if revs else empty_revocations()
    if certs:
        cert_frame["precert_sha256"] = cert_frame["precert_sha256"].astype("string")
    return SpreadsheetResult(
        certificates=cert_frame,
        revocations=rev_frame,
        mapped=dict(first.mapped),
        unmapped=list(first.unmapped),
        problems=problems,
        header_row=first.header_row,
        zone=first.zone,
        zone_source=first.zone_source,
        layout=first.layout,
        sheet=first.name,
        sheets=infos,
        warnings=warn,
        kind=kind,
    )


def _with_precert(df: pd.DataFrame) -> pd.DataFrame:
    df["precert_sha256"] = pd.Series([], dtype="string")
    return df


def spreadsheet_revocations(path: Path) -> RevocationData | None:
    """The revocations of an incident spreadsheet (xlsx, or a CSV without the canonical revocation
    header); None for any other file, which `analysis.revocations.load_revocations` reads itself.
    Passed to it as `reader` by the input layer (analysis.inputs.load_revocation_files)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm") and not (suffix in (".csv", ".tsv") and not is_revocations_csv(path)):
        return None
    result = load_spreadsheet(path, kind="revocations")
    return RevocationData(coerce_revocations(result.revocations), [], list(result.problems))
