"""Incident spreadsheets (xlsx and csv, as CAs attach them) -> certificates and revocations frames.

CAs attach their certificate lists in many shapes: the CCADB appendix columns, title rows and
merged cells above the header, bilingual headers, times in a local zone stated in the header or in a
note, serials with colons, reasons with a translation beside them. `load_spreadsheet` finds the
header row, maps columns by synonyms (`COLUMN_SYNONYMS`), reads every row it can, and reports each
row it skipped as a `Problem` with its row number; it never guesses silently: which columns it
mapped, which it left, and which zone it read the times in are all in the result.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd

from ..errors import InputError, Problem, UsageError
from ..formats import UTC, format_serial, parse_serial, parse_zone
from ..names import NameParseError, common_name, parse_dn, to_rfc4514
from ..revocations import EMPTY_REASON_MARKS, RevocationData, is_revocations_csv
from ..revocations import parse_reason_name as parse_reason
from ..safety import csv_records, decode_text, read_input
from ..schema import (
    coerce_certificates,
    coerce_revocations,
    empty_certificates,
    empty_revocations,
)

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

# Canonical field -> header synonyms (matched case-, space- and punctuation-insensitively, NFKC).
# Field names are the frame columns where one exists; `precert_sha256`, `is_revoked` and `zone`
# are spreadsheet-only fields.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "serial": (
        "Serial Number",
        "Serial #",
        "Serial # (hex)",
        "Serial",
        "Serial No",
        "Serial Number (hex)",
        "Certificate Serial Number",
        "serial_number",
        "序列号",
        "证书序列号",
        "序列號",
        "證書序列號",
    ),
    "cert_sha256": (
        "Certificate SHA-256 hash",
        "Certificate SHA256",
        "Certificate SHA-256",
        "Certificate hash",
        "Certificate Fingerprint",
        "SHA-256 Fingerprint",
        "SHA256 Fingerprint",
        "Fingerprint",
        "SHA-256 hash",
        "SHA-256",
        "cert_sha256",
        "证书指纹",
        "证书哈希",
        "证书SHA-256",
        "指纹",
        "證書指紋",
    ),
    "precert_sha256": (
        "Precertificate SHA-256 hash",
        "Precertificate SHA-256",
        "Precertificate SHA256",
        "Precertificate hash",
        "Precertificate Fingerprint",
        "Precert SHA-256",
        "预证书指纹",
        "预签证书指纹",
        "预证书SHA-256",
    ),
    "spki_sha256": (
        "SPKI SHA-256",
        "SPKI SHA256",
        "SPKI SHA-256 hash",
        "SPKI hash",
        "SPKI",
        "Public key SHA-256",
        "Public key hash",
        "Key hash",
        "spki_sha256",
        "公钥指纹",
        "公钥哈希",
        "公钥SHA-256",
    ),
    "crtsh_id": ("crt.sh", "crt.sh ID", "crt.sh Link", "crt.sh URL", "crtsh_id", "crt.sh链接", "crt.sh 链接"),
    "subject_dn": ("Subject", "Subject DN", "Subject Name", "主题", "证书主题", "使用者", "主体"),
    "subject_cn": (
        "Common Name",
        "Subject CN",
        "Subject Common Name",
        "CN",
        "Issued to",
        "通用名",
        "通用名称",
        "颁发给",
    ),
    "san_dns": (
        "dNSNames",
        "dNSName",
        "DNS Names",
        "DNS Name",
        "SAN",
        "SANs",
        "Subject Alternative Name",
        "Subject Alternative Names",
        "Domains",
        "Domain",
        "Domain Names",
        "域名",
        "证书域名",
        "主题备用名称",
        "使用者可选名称",
        "备用名称",
    ),
    "issuer_dn": (
        "Issuer",
        "Issuer DN",
        "Issuer Name",
        "Issuing CA",
        "Issued by",
        "颁发机构名称",
        "Issuer CN",
        "CA",
        "颁发者",
        "签发者",
        "颁发机构",
        "签发机构",
        "签发CA",
        "頒發者",
    ),
    "not_before": (
        "Not before",
        "NotBefore",
        "Valid from",
        "Validity start",
        "Issued",
        "Issuance date",
        "Issue date",
        "Issued at",
        "生效时间",
        "生效日期",
        "签发时间",
        "签发日期",
        "颁发时间",
        "有效期起",
        "有效期开始",
    ),
    "not_after": (
        "Not after",
        "NotAfter",
        "Valid to",
        "Valid until",
        "Expiry",
        "Expiry date",
        "Expiration",
        "Expiration date",
        "Expires",
        "失效时间",
        "过期时间",
        "失效日期",
        "过期日期",
        "到期时间",
        "到期日期",
        "有效期至",
        "有效期截止",
    ),
    "is_revoked": (
        "Is revoked?",
        "Is revoked",
        "Revoked",
        "Revoked?",
        "Revocation status",
        "是否吊销",
        "是否撤销",
        "吊销状态",
        "撤销状态",
    ),
    "revoked_at": (
        "Revocation date",
        "Revocation Time",
        "Revocation date/time",
        "Revocation datetime",
        "Revoked at",
        "Revoked on",
        "Date revoked",
        "Revoked date",
        "Revoked time",
        "吊销时间",
        "撤销时间",
        "吊销日期",
        "撤销日期",
        "注销时间",
    ),
    "reason": (
        "Revocation reason",
        "Reason",
        "Revocation reason code",
        "Reason code",
        "CRL reason",
        "吊销原因",
        "撤销原因",
        "吊销理由",
        "撤销理由",
    ),
    "zone": ("Time zone", "Timezone", "Zone", "时区"),
}

# The CCADB Incident Reporting Guidelines' appendix columns, in their order.
CCADB_APPENDIX_FIELDS = (
    "precert_sha256",
    "cert_sha256",
    "subject_dn",
    "issuer_dn",
    "not_before",
    "not_after",
    "serial",
    "san_dns",
    "is_revoked",
    "revoked_at",
    "reason",
)

_DATE_FIELDS = ("not_before", "not_after", "revoked_at")
_HEADER_SCAN_ROWS = 40
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def _norm(text: object) -> str:
    """Header key: NFKC, case-folded, without whitespace, punctuation or underscores."""
    t = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\W_]+", "", t)


_EXACT: dict[str, str] = {}
for _field, _names in COLUMN_SYNONYMS.items():
    for _name in _names:
        _EXACT.setdefault(_norm(_name), _field)
# Containment is only tried with synonyms long enough not to hit by accident.
_CONTAINED = sorted(
    ((k, f) for k, f in _EXACT.items() if len(k) >= 5 or (len(k) >= 2 and re.match(f"[{_CJK}]", k))),
    key=lambda kf: -len(kf[0]),
)

# --- zones in text --------------------------------------------------------------------------

_ZONE_OFFSET = re.compile(r"(?:UTC|GMT)\s*[+\-\u2212]\s*\d{1,2}(?::?\d{2})?", re.IGNORECASE)
_ZONE_ABBR = re.compile(
    r"(?<![A-Za-z])(?:UTC|GMT|IST|JST|KST|CEST|CET|EEST|EET|EST|EDT|PST|PDT|CST)(?![A-Za-z])"
)
_ZONE_BEIJING = re.compile(r"beijing\s*time|北京时间|北京時間|China Standard Time", re.IGNORECASE)


def _find_zone(text: str) -> tuple[dt.tzinfo | None, str | None, str | None]:
    """The first zone written in `text`: (zone, the token as written, error). Uses formats.parse_zone."""
    t = unicodedata.normalize("NFKC", text)
    for rx in (_ZONE_OFFSET, _ZONE_BEIJING, _ZONE_ABBR):
        m = rx.search(t)
        if m:
            token = m.group(0)
            arg = "Beijing time" if rx is _ZONE_BEIJING else token
            try:
                return parse_zone(arg, context=t), token, None
            except ValueError as exc:
                return None, token, str(exc)
    return None, None, None


# --- cells ----------------------------------------------------------------------------------


@dataclass
class _Cell:
    value: Any = None
    link: str | None = None

    def text(self) -> str:
        v = self.value
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return unicodedata.normalize("NFKC", str(v)).strip()

    def raw(self) -> str:
        """The text as written (for headers reported back to the user)."""
        return str(self.value).strip() if isinstance(self.value, str) else ""

    def empty(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


_HYPERLINK = re.compile(
    r'^=\s*HYPERLINK\(\s*"(?P<url>[^"]*)"\s*(?:[,;]\s*(?:"(?P<text>[^"]*)"|(?P<num>[^)]*?)))?\s*\)\s*$',
    re.IGNORECASE,
)


def _formula_cell(formula: str) -> _Cell | None:
    m = _HYPERLINK.match(formula)
    if not m:
        return None
    url = m.group("url")
    shown = m.group("text")
    if shown is None:
        shown = (m.group("num") or "").strip() or url
    return _Cell(shown, url)


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


# --- value parsers --------------------------------------------------------------------------

_YES = {"yes", "y", "true", "1", "revoked", "是", "已吊销", "已撤销", "已注销", "吊销", "撤销", "x", "✓", "✔"}
_NO = {
    "no",
    "n",
    "false",
    "0",
    "planned",
    "delayed",
    "na",
    "notrevoked",
    "notyetrevoked",
    "pending",
    "expired",
    "否",
    "未吊销",
    "未撤销",
    "计划吊销",
    "待吊销",
    "已过期",
}


def _parse_yes_no(cell: _Cell) -> bool | None:
    v = cell.value
    if isinstance(v, bool):
        return v
    key = _norm(cell.text())
    if not key:
        return None
    if key in _YES:
        return True
    if key in _NO or key.startswith(("planned", "delayed", "notrevoked", "no")):
        return False
    if key.startswith(("yes", "revoked", "已吊销", "已撤销")):
        return True
    return None


def _parse_hash(text: str) -> str:
    t = text.strip()
    q = _crtsh_query(t)
    if q:
        for k in ("sha256", "q", "d"):
            if k in q and re.fullmatch(r"[0-9A-Fa-f]{64}", q[k]):
                return q[k].lower()
    h = re.sub(r"[\s:\-]", "", t)
    if h.lower().startswith("0x"):
        h = h[2:]
    if not re.fullmatch(r"[0-9A-Fa-f]{64}", h):
        raise ValueError(f"not a SHA-256 hash: {text!r}")
    return h.lower()


def _crtsh_query(text: str | None) -> dict[str, str] | None:
    if not text or "crt.sh" not in text.lower():
        return None
    t = text.strip()
    if not re.match(r"^[a-z]+://", t, re.IGNORECASE):
        t = "https://" + t
    try:
        u = urlparse(t)
    except ValueError:
        return None
    if not (u.hostname or "").lower().endswith("crt.sh"):
        return None
    return {k: v[0] for k, v in parse_qs(u.query).items() if v}


def _crtsh_id(cell: _Cell) -> int | None:
    """A crt.sh id from a link, a URL written in the cell, or a bare number in a crt.sh column."""
    for t in (cell.link, cell.text()):
        q = _crtsh_query(t)
        if q and re.fullmatch(r"\d+", q.get("id", "")):
            return int(q["id"])
        if q and re.fullmatch(r"\d+", q.get("d", "")):
            return int(q["d"])
    return None


_NUMERIC_DATE = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<off>Z|[+\-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_DMY_DATE = re.compile(
    r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?)?$"
)


_ISO_FAST = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+\-]\d{2}:\d{2})?$"
)


@lru_cache(maxsize=4096)
def _parse_date_text(text: str) -> tuple[dt.datetime, dt.tzinfo | None]:
    """Text -> (naive or aware datetime, zone written in the text). Raises ValueError."""
    if _ISO_FAST.match(text):
        return dt.datetime.fromisoformat(text), None
    s = unicodedata.normalize("NFKC", text).strip()
    s = re.sub(r"(\d)\s*年\s*(\d)", r"\1-\2", s)
    s = re.sub(r"(\d)\s*月\s*(\d)", r"\1-\2", s)
    s = re.sub(r"(\d)\s*日", r"\1 ", s)
    s = re.sub(r"(\d)\s*[时時点點]\s*(\d)", r"\1:\2", s)
    s = re.sub(r"(\d)\s*分\s*(\d)", r"\1:\2", s)
    s = re.sub(r"(\d)\s*[分秒]", r"\1", s)
    zone, token, err = _find_zone(s)
    if token:
        if err:
            raise ValueError(err)
        s = s.replace(token, " ")
        s = re.sub(r"\(\s*\)|（\s*）", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    m = _NUMERIC_DATE.match(s)
    if m:
        value = dt.datetime(
            int(m["y"]),
            int(m["mo"]),
            int(m["d"]),
            int(m["h"] or 0),
            int(m["mi"] or 0),
            int(m["s"] or 0),
            int((m["f"] or "0")[:6].ljust(6, "0")),
        )
        off = m["off"]
        if off:
            if off.upper() == "Z":
                value = value.replace(tzinfo=UTC)
            else:
                value = value.replace(tzinfo=parse_zone(off))
        return value, zone
    m = _DMY_DATE.match(s)
    if m:
        a, b = int(m["a"]), int(m["b"])
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a or a == b:
            day, month = b, a
        else:
            raise ValueError(f"ambiguous date {text!r} (day/month or month/day?)")
        value = dt.datetime(int(m["y"]), month, day, int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0))
        return value, zone
    if re.search(r"[A-Za-z]{3}", s):
        try:
            ts = pd.Timestamp(s)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"not a date: {text!r}") from exc
        if not pd.isna(ts):
            return ts.to_pydatetime(), zone
    raise ValueError(f"not a date: {text!r}")


# --- results --------------------------------------------------------------------------------


@dataclass
class SheetInfo:
    """What was read from one sheet (a csv file is one sheet named None)."""

    name: str | None
    header_row: int | None
    mapped: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    zone: dt.tzinfo | None = None
    zone_source: str | None = None
    layout: str = "generic"
    rows: int = 0


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


# --- reading files --------------------------------------------------------------------------


def _read_bytes(path_or_bytes: str | Path | bytes | bytearray, source: str | None) -> tuple[bytes, str, str]:
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes), source or "spreadsheet", ""
    p = Path(path_or_bytes)
    name = source or str(p)
    try:
        data = read_input(p, MAX_FILE_BYTES)  # a FIFO, an unreadable or a huge file: one clear line
    except InputError as exc:
        raise InputError(name, None, exc.reason) from exc
    return data, name, p.suffix.lower()


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


# Bounds on what one spreadsheet may make us hold: a cell far out (XFD1048576) or a sheet of 20
# million empty rows is cut there and reported, never expanded into a dense grid.
MAX_FILE_BYTES = 256 << 20  # a spreadsheet file larger than this is not read
MAX_ROWS = 200_000  # rows read per sheet
MAX_COLS = 256  # columns read (the CCADB appendix has 14)
MAX_CELLS = 2_000_000  # cells with a value per workbook
FULL_LOAD_CELLS = 200_000  # up to here a workbook is loaded whole (merged cells and hyperlinks kept)
MAX_SHEET_XML = 256 << 20  # a sheet's XML larger than this (uncompressed) is read in streaming mode


def _csv_rows(
    text: str, delimiter: str, limit: int | None = None, errors: list[tuple[int, str]] | None = None
) -> list[list[_Cell]]:
    """The CSV as rows of cells; a record the csv module refuses (a field over 131,072 characters,
    a NUL byte) is noted in `errors` as (line, reason) and the rows after it are still read."""
    grid = []
    for line, record, error in csv_records(text, delimiter):
        if record is None:
            if errors is not None:
                errors.append((line, error))
            grid.append([])  # keeps the row numbering of the rest
            continue
        row = []
        for v in record[:MAX_COLS]:
            v = v.strip()
            cell = _formula_cell(v) if v.startswith("=") else None
            row.append(cell or _Cell(v if v else None))
        grid.append(row)
        if errors is not None and len(record) > MAX_COLS:
            errors.append((line, f"{len(record) - MAX_COLS} values beyond column {MAX_COLS} not read"))
        if limit is not None and len(grid) >= limit:
            break
        if len(grid) >= MAX_ROWS:
            if errors is not None:
                errors.append((line + 1, f"rows after row {MAX_ROWS:,} not read (limit)"))
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


def _limits():
    from .xlsx_stream import Limits

    return Limits(MAX_ROWS, MAX_COLS, MAX_CELLS, FULL_LOAD_CELLS, MAX_SHEET_XML, MAX_PART_XML)


def _xlsx_sheets(
    data: bytes, name: str, problems: list[Problem] | None = None
) -> list[tuple[str, list[list[_Cell]]]]:
    import openpyxl

    from . import xlsx_stream

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
                last = min(rng.max_col, MAX_COLS)
                row.extend(_Cell() for _ in range(last - len(row)))
                for col in range(rng.min_col, last + 1):
                    if (r, col) != (rng.min_row, rng.min_col):
                        row[col - 1] = _Cell(top.value, top.link)
        out.append((ws.title, grid))
    return out


MAX_PART_XML = 64 << 20  # workbook.xml, its relationships and the shared strings: bytes read at most


def _xlsx_sheets_streaming(
    data: bytes, name: str, problems: list[Problem] | None
) -> list[tuple[str, list[list[_Cell]]]]:
    """A workbook too big to load whole, read element by element (analysis.sources.xlsx_stream)
    within the row, column and cell limits; what was cut is reported. Merged cells and cell
    hyperlinks are not read in this mode (HYPERLINK() formulas are); dates come as Excel serial
    numbers, which the sheet reader converts."""
    from . import xlsx_stream

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
            f"large workbook ({what}) read in streaming mode: at most {MAX_ROWS:,} rows and "
            f"{MAX_COLS} columns a sheet and {MAX_CELLS:,} cells; merged cells and cell "
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


# --- one sheet ------------------------------------------------------------------------------


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


@lru_cache(maxsize=1024)
def _normalise_issuer(text: str) -> str:
    """A DN in any written order -> RFC 4514 (least significant first); a bare CN as written."""
    t = re.sub(r"\s+", " ", text).strip()
    try:
        pairs = list(parse_dn(t))
    except NameParseError:
        return t
    types = [k for k, _ in pairs]
    most_significant_first = t.startswith("/") or (types[0] in ("c", "dc") and types[-1] not in ("c", "dc"))
    # to_rfc4514 takes the pairs most significant first
    return to_rfc4514(pairs if most_significant_first else list(reversed(pairs)))


def _subject(text: str) -> tuple[str | None, str | None]:
    t = re.sub(r"\s+", " ", text).strip()
    try:
        pairs = parse_dn(t)
    except NameParseError:
        return None, t
    dn = _normalise_issuer(t)
    cns = [v for k, v in pairs if k == "cn"]
    return dn, (common_name(t) if cns else None)


def _split_names(text: str) -> list[str]:
    t = re.sub(r"(?i)\bDNS(?:\s*Name)?\s*[:=]\s*", " ", text)
    return [n for n in re.split(r"[\s,;，；、]+", t) if n]


def _read_sheet(
    grid: list[list[_Cell]],
    *,
    sheet: str | None,
    source: str,
    kind: str,
    default_issuer: str | None,
    problems: list[Problem],
    warn: list[str],
) -> tuple[SheetInfo, list[dict], list[dict]] | None:
    where = f"sheet {sheet} " if sheet is not None else ""
    h = _find_header(grid)
    if h is None:
        return None
    cols = _map_columns(grid, h)
    layout = "ccadb-appendix" if _is_ccadb(cols) else "generic"
    info = SheetInfo(sheet, h + 1, cols.mapped, cols.unmapped, layout=layout)

    # a sheet-wide zone note above the header ("All times are UTC+8")
    note_zone: tuple[dt.tzinfo | None, str, str | None] | None = None

    def scan_note(row: list[_Cell]) -> None:
        nonlocal note_zone
        if note_zone is not None:
            return
        for c in row:
            if isinstance(c.value, str) and c.value.strip():
                zone, token, err = _find_zone(c.value)
                if token and re.search(r"time|zone|时间|时区|時間|utc|gmt", c.value, re.IGNORECASE):
                    note_zone = (zone, c.value.strip(), err)
                    return

    for row in grid[:h]:
        scan_note(row)
    mapped_cols = set(cols.by_field.values())
    scan_note([c for i, c in enumerate(grid[h]) if i not in mapped_cols])

    if "serial" not in cols.by_field:
        problems.append(
            Problem(source, f"{where}row {h + 1}".strip(), "no serial number column; sheet skipped")
        )
        return info, [], []
    if "issuer_dn" not in cols.by_field and default_issuer is None:
        problems.append(
            Problem(
                source,
                f"{where}row {h + 1}".strip(),
                "no issuer column and no issuer given; revocations and certificates attach by "
                "(issuer, serial) only, so the sheet was skipped",
            )
        )
        return info, [], []

    start = h + cols.header_rows
    rows: list[tuple[int, list[_Cell]]] = []
    for r in range(start, len(grid)):
        row = grid[r]
        nonempty = [c for c in row if not c.empty()]
        if not nonempty:
            continue
        serial_cell = row[cols.by_field["serial"]] if cols.by_field["serial"] < len(row) else _Cell()
        if len(nonempty) == 1 and isinstance(nonempty[0].value, str):
            try:
                parse_serial(nonempty[0].text(), decimal=cols.decimal_serial)
            except ValueError:
                scan_note(row)  # a note or a total line, not a certificate
                continue
        if serial_cell.empty() and len(nonempty) == 1:
            scan_note(row)
            continue
        rows.append((r, row))

    if note_zone is not None:
        info.zone, info.zone_source = note_zone[0], f"note {note_zone[1]!r}"
        if note_zone[2]:
            warn.append(
                f"{source} {where}note {note_zone[1]!r}: {note_zone[2]}; times without a zone read as UTC"
            )
    else:
        zones = {str(z[0]) for z in cols.header_zones.values() if z[0] is not None}
        if len(zones) == 1:
            first = next(z for z in cols.header_zones.values() if z[0] is not None)
            info.zone, info.zone_source = first[0], f"header {first[1]!r}"
    for _zone, header, err in cols.header_zones.values():
        if err:
            warn.append(
                f"{source} {where}header {header!r}: {err}; its times read in the sheet's zone or UTC"
            )

    assumed_utc: set[str] = set()
    certs: list[dict] = []
    revs: list[dict] = []

    def get(row: list[_Cell], f: str) -> _Cell:
        c = cols.by_field.get(f)
        return row[c] if c is not None and c < len(row) else _Cell()

    for r, row in rows:
        pos = f"{where}row {r + 1}"
        src = f"{source} {pos}"
        row_problem = []

        # zone for this row: its own zone column, else header, else note, else UTC
        row_zone: dt.tzinfo | None = None
        zc = get(row, "zone")
        if not zc.empty():
            try:
                row_zone = parse_zone(zc.text())
            except ValueError as exc:
                row_problem.append(f"time zone {zc.text()!r}: {exc}")

        def read_time(f: str, _row=row, _pos=pos, _row_zone=row_zone) -> pd.Timestamp | None:
            c = get(_row, f)
            if c.empty():
                return None
            v = c.value
            cell_zone = None
            if isinstance(v, dt.datetime):
                value = v
            elif isinstance(v, dt.date):
                value = dt.datetime(v.year, v.month, v.day)
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 100000:
                from openpyxl.utils.datetime import from_excel

                value = from_excel(v)
            else:
                value, cell_zone = _parse_date_text(c.text())
            if value.tzinfo is None:
                zone = cell_zone or _row_zone
                if zone is None and f in cols.header_zones and cols.header_zones[f][0] is not None:
                    zone = cols.header_zones[f][0]
                if zone is None and note_zone is not None and note_zone[0] is not None:
                    zone = note_zone[0]
                if zone is None:
                    assumed_utc.add(f)
                    zone = UTC
                value = value.replace(tzinfo=zone)
            return pd.Timestamp(value.astimezone(UTC))

        # serial
        sc = get(row, "serial")
        if sc.empty():
            problems.append(Problem(source, pos, "no serial number; row skipped"))
            continue
        sv = sc.value
        try:
            if isinstance(sv, bool):
                raise ValueError(f"not a serial number: {sv!r}")
            if isinstance(sv, float):
                if not sv.is_integer() or abs(sv) >= 2**53:
                    raise ValueError(f"serial number stored as a number ({sv!r}); precision lost")
                sv = int(sv)
            if isinstance(sv, int) and not cols.decimal_serial:
                sv = str(sv)  # digits typed into a hex column and turned into a number by Excel
            serial_int = parse_serial(sv if isinstance(sv, int) else sc.text(), decimal=cols.decimal_serial)
        except ValueError as exc:
            problems.append(Problem(source, pos, f"{exc}; row skipped"))
            continue
        serial = format_serial(serial_int)

        ic = get(row, "issuer_dn")
        issuer = _normalise_issuer(ic.text()) if not ic.empty() else default_issuer
        if issuer is None:
            problems.append(Problem(source, pos, f"serial {serial}: no issuer; row skipped"))
            continue

        rec: dict[str, Any] = {"issuer_dn": issuer, "serial": serial, "source": src}

        for f in ("not_before", "not_after"):
            try:
                rec[f] = read_time(f)
            except ValueError as exc:
                rec[f] = None
                row_problem.append(f"{f}: {exc}")
        for f in ("cert_sha256", "precert_sha256", "spki_sha256"):
            c = get(row, f)
            rec[f] = None
            if not c.empty():
                try:
                    rec[f] = _parse_hash(c.text())
                except ValueError as exc:
                    row_problem.append(f"{f}: {exc}; left empty")
        crtsh = None
        cc = get(row, "crtsh_id")
        if not cc.empty() or cc.link:
            crtsh = _crtsh_id(cc)
            if crtsh is None and re.fullmatch(r"\d+", cc.text()):
                crtsh = int(cc.text())
            if crtsh is None and rec["cert_sha256"] is None:
                try:
                    rec["cert_sha256"] = _parse_hash(cc.link or cc.text())
                except ValueError:
                    pass
        if crtsh is None:
            for c in row:
                if c.link:
                    crtsh = _crtsh_id(_Cell(None, c.link))
                    if crtsh is not None:
                        break
        rec["crtsh_id"] = crtsh
        subj = get(row, "subject_dn")
        dn, cn = _subject(subj.text()) if not subj.empty() else (None, None)
        cnc = get(row, "subject_cn")
        if not cnc.empty():
            cn = cnc.text()
        rec["subject_dn"], rec["subject_cn"] = dn, cn
        sans = get(row, "san_dns")
        rec["san_dns"] = _split_names(sans.text()) if not sans.empty() else []

        # revocation (not read at all for kind="certificates")
        emitted_rev = False
        revoked = False
        if kind != "certificates":
            revoked_flag = _parse_yes_no(get(row, "is_revoked"))
            revoked_at = None
            rev_error = None
            try:
                revoked_at = read_time("revoked_at")
            except ValueError as exc:
                rev_error = f"revocation date: {exc}"
            reason_cell = get(row, "reason")
            has_reason = not reason_cell.empty() and reason_cell.text().casefold() not in EMPTY_REASON_MARKS
            if revoked_flag is not None:
                revoked = revoked_flag  # "Planned" / "Delayed" / "N/A" beside a date is not a revocation
            else:
                revoked = (
                    revoked_at is not None or rev_error is not None or has_reason or kind == "revocations"
                )
            if revoked:
                try:
                    name, code = parse_reason(reason_cell.value if has_reason else None)
                except ValueError as exc:
                    row_problem.append(f"serial {serial}: {exc}; revocation skipped")
                else:
                    if rev_error:
                        row_problem.append(f"serial {serial}: {rev_error}; revocation skipped")
                    elif revoked_at is None:
                        row_problem.append(
                            f"serial {serial}: revoked but no revocation date; revocation skipped"
                        )
                    else:
                        emitted_rev = True
                        revs.append(
                            {
                                "issuer_dn": issuer,
                                "serial": serial,
                                "revoked_at": revoked_at,
                                "reason": name,
                                "reason_code": code,
                                "source": src,
                            }
                        )
        emitted_cert = False
        if kind != "revocations" and any(
            rec[f] is not None
            for f in ("not_before", "not_after", "cert_sha256", "precert_sha256", "spki_sha256")
        ):
            emitted_cert = True
            precert_only = rec["cert_sha256"] is None and rec["precert_sha256"] is not None
            certs.append(
                {
                    "cert_sha256": rec["precert_sha256"] if precert_only else rec["cert_sha256"],
                    "spki_sha256": rec["spki_sha256"],
                    "issuer_dn": issuer,
                    "serial": serial,
                    "subject_dn": rec["subject_dn"],
                    "subject_cn": rec["subject_cn"],
                    "san_dns": rec["san_dns"],
                    "not_before": rec["not_before"],
                    "not_after": rec["not_after"],
                    "is_precert": precert_only,
                    "is_ca": False,
                    "key_type": None,
                    "crtsh_id": rec["crtsh_id"],
                    "first_seen": None,
                    "source": src,
                    "precert_sha256": rec["precert_sha256"],
                }
            )
        for reason in row_problem:
            problems.append(Problem(source, pos, reason))
        if not row_problem and not emitted_cert and not emitted_rev and not (kind == "revocations"):
            # kind="revocations": a row marked not revoked is simply not a revocation
            problems.append(
                Problem(
                    source,
                    pos,
                    f"serial {serial}: nothing usable besides issuer and serial "
                    "(no validity dates, hashes or revocation); row skipped",
                )
            )
        info.rows += 1

    for f in sorted(assumed_utc):
        header = next((k for k, v in cols.mapped.items() if v == f), f)
        warn.append(
            f"{source} {where}column {header!r}: no time zone stated; times read as UTC".replace("  ", " ")
        )
    return info, certs, revs


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
