"""Defences against hostile input that more than one module needs, each defined once.

- `neutralise_cell` / `csv_writer` / `csv_dict_writer`: every CSV the project writes goes through
  them, so a certificate subject like ``=HYPERLINK(...)`` reaches a spreadsheet as text.
- `load_json`: JSON from files and upstreams; nesting too deep for Python's parser (``[`` x 200,000)
  is a ValueError like any other bad JSON, not a RecursionError.
- `safe_name` / `confined`: file names built from upstream data stay inside the output folder.
- `input_files` / `read_input`: local inputs that are FIFOs, devices, unreadable or too big are one
  InputError naming the file, never a hang or a traceback.
- `decode_text`: CSV text in UTF-8, UTF-16 (with or without BOM) or a Latin-1 family encoding.
- `csv_records` / `csv_dicts`: rows with their line numbers; a bad row (a field over the csv
  module's 131,072-character limit, a NUL byte) is reported and the rows after it still read.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError

# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection");
# tab and carriage return too, because some spreadsheets strip them before looking.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'`` so it shows as
    text. Numbers and other non-text values pass unchanged (they are ours, not an attacker's)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class _NeutralWriter:
    def __init__(self, writer) -> None:
        self._w = writer

    def writerow(self, row):
        return self._w.writerow([neutralise_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class _NeutralDictWriter:
    def __init__(self, writer: csv.DictWriter) -> None:
        self._w = writer

    def writeheader(self):
        return self._w.writeheader()

    def writerow(self, row: dict):
        return self._w.writerow({k: neutralise_cell(v) for k, v in row.items()})

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out, **kwargs) -> _NeutralWriter:
    """`csv.writer` whose cells go through `neutralise_cell`."""
    return _NeutralWriter(csv.writer(out, **kwargs))


def csv_dict_writer(out, fieldnames, **kwargs) -> _NeutralDictWriter:
    """`csv.DictWriter` whose values go through `neutralise_cell` (the header is ours)."""
    return _NeutralDictWriter(csv.DictWriter(out, fieldnames=fieldnames, **kwargs))


def load_json(data: bytes | str) -> object:
    """`json.loads` that raises ValueError (never RecursionError) for nesting too deep to parse."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply to read") from None


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: object, default: str = "file", limit: int = 120) -> str:
    """A file name from upstream text: one path component of letters, digits, ``._-`` (others
    become ``_``; accented letters lose their accents first), never ``.``, ``..`` or hidden."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    text = _UNSAFE.sub("_", text.replace("/", "_").replace("\\", "_")).strip("._")
    return text[:limit] or default


def confined(root: str | os.PathLike, *parts: str) -> Path:
    """`root/parts...`, resolved, and refused (ValueError) unless it stays inside `root`."""
    base = Path(root).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"{'/'.join(parts)!r} would leave the output folder {str(base)!r}")
    return target


# --- local input files ----------------------------------------------------------------------------


def input_files(path: str | os.PathLike) -> Iterator[Path]:
    """`path` itself, or for a folder every entry below it (recursively, hidden ones left out) that
    is not a folder: FIFOs, sockets and broken links included, so the reader can report them."""
    root = Path(path)
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if any(part.startswith(".") for part in p.relative_to(root).parts):
                continue
            if not p.is_dir():
                yield p
    else:
        yield root


def check_regular(path: str | os.PathLike) -> None:
    """Raise InputError unless `path` is a regular file (opening a FIFO would block forever)."""
    label = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(label, None, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(label, None, "a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise InputError(label, None, f"not a regular file ({kind}); skipped")


def read_input(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The bytes of a regular file; InputError (naming the file) when it is not one, cannot be
    read (PermissionError and the like), or is larger than `limit`."""
    check_regular(path)
    label = str(path)
    try:
        with open(path, "rb") as fh:
            if limit is None:
                return fh.read()
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(label, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(label, None, f"larger than {limit:,} bytes; not read")
    return data


# --- text and CSV ---------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (BOM or not), UTF-16 (BOM, or the NUL pattern of ASCII text in
    UTF-16 without one), else Windows-1252 / Latin-1, which read any byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        # ASCII text in UTF-16: every other byte is NUL (odd positions: little-endian).
        le = head[1::2].count(0) >= head[0::2].count(0)
        return data.decode("utf-16-le" if le else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def csv_records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(line number, fields, None) per record, or (line number, None, reason) for a record the csv
    module refuses (a field over its 131,072-character limit, a NUL byte); reading goes on after it."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    last = -1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if reader.line_num == last:  # no progress: the reader cannot get past this point
                return
            last = reader.line_num
            yield reader.line_num, None, f"row not read: {exc}"
            continue
        last = reader.line_num
        yield reader.line_num, row, None


def csv_dicts(text: str) -> tuple[list[str], Iterator[tuple[int, dict | None, str | None]]]:
    """The header and, like csv.DictReader, each later record as a dict (missing values None),
    with its line number; a refused record comes as (line, None, reason). Empty lines are skipped."""
    records = csv_records(text)
    header: list[str] = []
    for _, row, _ in records:
        if row:
            header = row
            break

    def rows() -> Iterator[tuple[int, dict | None, str | None]]:
        for line, row, error in records:
            if error is not None:
                yield line, None, error
            elif row:
                yield line, {h: (row[k] if k < len(row) else None) for k, h in enumerate(header)}, None

    return header, rows()


def write_inside(root: str | os.PathLike, name: str, data: bytes) -> Path:
    """Write `data` as `root/name` without following any link: the target is checked with
    `confined` and written through a fresh temporary file (O_EXCL) renamed over it, so a symlink
    planted at the name or at a temporary name cannot redirect the write. Returns the path."""
    target = confined(root, name)
    replace_file(target, data)
    return target


def replace_file(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` as `path` all at once: a fresh temporary file beside it (O_EXCL, so a link
    planted at a temporary name is never written through) renamed over it. A reader sees the old
    file or the new one, never half of it; a link at `path` itself is replaced, not followed."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
