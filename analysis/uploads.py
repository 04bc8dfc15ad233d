"""Uploaded files: what they are (by content, never by name), safe names, and safe writes.

`classify_upload` looks at the bytes the way the command line's loaders would read them: PEM
armour, a DER certificate, CRL or key, an xlsx workbook (a zip holding ``xl/workbook.xml``), a CSV
whose header a loader maps, a Bugzilla JSON answer (found by streaming its top-level keys, so a
bug list of any size is recognised), or an incident report text. Anything else is refused with
the reason the loader gives (``empty file``, ``neither PEM nor DER (junk file)``, ...).

`write_inside` writes a file under a workspace data set's folder without following a symlink
anywhere on the way (a link planted in the workspace cannot send an upload elsewhere).
"""

from __future__ import annotations

import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

# Kind -> the suffix its loaders expect (they pick CSV / xlsx / CRL readers by suffix).
KIND_SUFFIXES = {"revocations_csv": ".csv", "revocations_xlsx": ".xlsx", "compromised_csv": ".csv"}
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_KEY_LABELS = ("PRIVATE KEY", "PUBLIC KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "RSA PUBLIC KEY")
# A report is prose: a text past this size that is no CSV or JSON is refused before parsing.
MAX_REPORT_BYTES = 16 * 1024 * 1024
NOT_RECOGNISED = "not a certificate, CRL, key, spreadsheet, CSV, Bugzilla JSON or incident report"


@dataclass(frozen=True)
class Classified:
    """What an upload is: `kind` (None when refused), why, and the suffix to store it under."""

    kind: str | None
    reason: str
    suffix: str | None = None

    @property
    def refused(self) -> bool:
        return self.kind is None


# --- names ------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w.-]+")


def safe_filename(name: str, default: str = "upload") -> str:
    """A base name safe to join to a folder: no directories, no leading dots, no odd characters.

    ``../../etc/passwd`` -> ``passwd``; ``C:\\x\\report.md`` -> ``report.md``; ``..`` -> `default`.
    Letters and digits of any script are kept (NFC), so ``证书.pem`` and ``証明書.pem`` stay two
    files; a name with none left (``★.pem``) becomes `default` plus a short hash of the original
    name, so two such uploads do not overwrite each other either.
    """
    raw = str(name or "")
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", raw)[-1])
    base = _UNSAFE.sub("_", base).strip("._-")
    base = base[:120].strip("._-")
    stem = Path(base).stem.strip("._-") if "." in base else base
    if (
        not base
        or not stem
        or stem.lower() in {"pem", "der", "crt", "cer", "crl", "csv", "json", "md", "txt"}
    ):
        if not raw.strip(" ./\\"):
            return default
        import hashlib

        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        suffix = Path(base).suffix if "." in base else ("." + base if base else "")
        return f"{default}-{digest}{suffix}"
    return base


# --- what a file is ---------------------------------------------------------------------------


def json_top_level(data: bytes | str, limit: int = 64) -> tuple[str | None, list[tuple[str, str]]]:
    """The top-level shape of a JSON text without parsing it: ('object', [(key, first char of its
    value), ...]) or ('array', [('', first char of the first element)]), or (None, []) when it is
    not JSON-looking. Linear in the size, no recursion (values are skipped by counting brackets
    outside strings), so a 1 GB bug list or ``[`` x 200,000 costs one pass and no stack."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    n, i = len(text), 0

    def ws(j: int) -> int:
        while j < n and text[j] in " \t\r\n":
            j += 1
        return j

    def string_end(j: int) -> int:  # text[j] == '"'; index after the closing quote
        j += 1
        while j < n:
            c = text[j]
            if c == "\\":
                j += 2
                continue
            if c == '"':
                return j + 1
            j += 1
        return n

    def skip_value(j: int) -> int:
        j = ws(j)
        if j >= n:
            return n
        if text[j] == '"':
            return string_end(j)
        if text[j] not in "[{":
            while j < n and text[j] not in ",}]":
                j += 1
            return j
        depth = 0
        while j < n:
            c = text[j]
            if c == '"':
                j = string_end(j)
                continue
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return n

    i = ws(i)
    if i >= n or text[i] not in "[{":
        return None, []
    if text[i] == "[":
        j = ws(i + 1)
        return "array", [("", text[j] if j < n else "")]
    keys: list[tuple[str, str]] = []
    i = ws(i + 1)
    while i < n and text[i] == '"' and len(keys) < limit:
        end = string_end(i)
        key = text[i + 1 : end - 1]
        i = ws(end)
        if i >= n or text[i] != ":":
            break
        i = ws(i + 1)
        keys.append((key, text[i] if i < n else ""))
        i = ws(skip_value(i))
        if i < n and text[i] == ",":
            i = ws(i + 1)
            continue
        break
    return "object", keys


def _decode_text(data: bytes) -> str | None:
    """The text of a text file (UTF-8, UTF-16 with BOM, Windows-1252), None for binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:65536]:
        return None
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        head = text[:65536]
        controls = sum(1 for c in head if ord(c) < 32 and c not in "\t\r\n\f")
        return None if controls > len(head) // 100 else text
    return None


def _pem(data: bytes, label: str, name: str) -> Classified:
    if label == "X509 CRL":
        from .revocations import load_crl_bytes

        got = load_crl_bytes(data, name)
        if not got.crls and got.problems:
            return Classified(None, got.problems[0].reason)
        return Classified("crls", "PEM X509 CRL")
    if label in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
        from .certificates import load_certificate_bytes

        frame, problems = load_certificate_bytes(data, name)
        if frame.empty:
            return Classified(None, problems[0].reason if problems else "no readable certificate")
        return Classified("certs", "PEM certificates")
    if label in _KEY_LABELS:
        from .keys import spki_sha256_from_key

        try:
            spki_sha256_from_key(data)
        except ValueError as exc:
            return Classified(None, str(exc))
        return Classified("compromised", "PEM key", ".pem")
    return Classified(None, f"PEM {label} blocks are not an input of ca-incidents")


def _der(data: bytes, name: str) -> Classified:
    from .certificates import load_certificate_bytes

    frame, problems = load_certificate_bytes(data, name)
    if not frame.empty:
        return Classified("certs", "DER certificate", ".der")
    from .revocations import load_crl_bytes

    crl = load_crl_bytes(data, name)
    if crl.crls:
        return Classified("crls", "DER CRL", ".crl")
    from .keys import spki_sha256_from_key

    try:
        spki_sha256_from_key(data)
        return Classified("compromised", "DER key", ".der")
    except ValueError:
        pass
    return Classified(None, problems[0].reason if problems else "not a valid DER certificate, CRL or key")


def _csv(text: str, data: bytes, name: str) -> Classified | None:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delim = max(",\t;", key=first.count)
    cols = {c.strip().strip('"').lower() for c in first.split(delim)}
    if first.count(delim) < 1:
        return None
    if "spki_sha256" in cols and "serial" not in cols:
        from .keys import load_compromised_csv

        frame, problems = load_compromised_csv(text.encode("utf-8"), name)
        if frame.empty:
            return Classified(None, str(problems[0].reason) if problems else "no compromised key listed")
        return Classified("compromised", "compromised-keys CSV", ".csv")
    if {"issuer_dn", "revoked_at"} <= cols:
        return Classified("revocations", "revocations CSV", ".csv")
    from .sources.spreadsheets import load_spreadsheet

    result = load_spreadsheet(data, kind="auto", source=name)
    if "serial" in set(result.mapped.values()) or len(result.revocations) or len(result.certificates):
        return Classified("revocations", "incident spreadsheet (CSV)", ".csv")
    return None


def _json(text: str, name: str) -> Classified | None:
    """Bugzilla JSON: the shape from the streamed top-level keys, then the records checked."""
    import json

    shape, keys = json_top_level(text)
    if shape is None:
        return None
    first = dict(keys)
    if shape == "object" and first.get("bugs") not in ("[", "{") and first.get("comments") not in ("[", "{"):
        return Classified(None, _JSON_REFUSED)
    try:
        obj = json.loads(text)
    except RecursionError:
        return Classified(None, "JSON nested too deeply")
    except ValueError as exc:
        return Classified(None, f"not valid JSON: {exc}")
    if shape == "object" and first.get("bugs") == "[":
        bugs = obj.get("bugs") if isinstance(obj, dict) else None
        records = [b for b in bugs or [] if isinstance(b, dict)]
        if (
            records
            and all("id" in b for b in records)
            and any("summary" in b or "status" in b for b in records)
        ):
            return Classified("corpus", "Bugzilla bug list")
        if records and all("history" in b for b in records):
            return Classified(None, "a Bugzilla history answer: fetch the bug on this page instead")
        return Classified(None, _JSON_REFUSED)
    if _comments_of(obj):
        return Classified("report", "Bugzilla comments (JSON)")
    bugs = obj.get("bugs") if isinstance(obj, dict) else None
    if isinstance(bugs, dict) and len(bugs) > 1:
        return Classified(None, f"comments of {len(bugs)} bugs: a report is one bug's comments")
    return Classified(None, _JSON_REFUSED)


def _comments_of(obj: object) -> list | None:
    """The comments the report loader would read from this JSON (its own shape check)."""
    try:  # the report package (analysis/reports/comments.py), or the single module before it
        from .reports.comments import _comments_from_json
    except ImportError:
        from .reports import _comments_from_json
    return _comments_from_json(obj)


_JSON_REFUSED = (
    'JSON that is neither a Bugzilla bug list ({"bugs": [{"id", "summary", ...}]}) nor a bug\'s comments'
)


def classify_upload(name: str, data: bytes) -> Classified:
    """What an uploaded file is, from its content; `kind` None (refused) with the reason."""
    label = safe_filename(name)
    if not data:
        return Classified(None, "empty file")
    head = data[:65536]
    m = _PEM_LABEL.search(head)
    if m:
        return _pem(data, m.group(1).decode(), label)
    if head[:1] == b"\x30":
        return _der(data, label)
    if head[:4] == b"PK\x03\x04":
        import io

        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            return Classified(None, f"a broken zip archive: {exc}")
        if "xl/workbook.xml" in names:
            return Classified("revocations", "xlsx workbook", ".xlsx")
        return Classified(None, "a zip archive that is not an xlsx workbook")
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return Classified(None, "an old Excel .xls (or other OLE) file: save it as .xlsx")
    text = _decode_text(data)
    if text is None:
        return Classified(None, _cli_reason(data[:4096], label))
    stripped = text.lstrip()
    if stripped[:1] in "[{":
        got = _json(stripped, label)
        if got is not None:
            return got
    got = _csv(text, data, label)
    if got is not None:
        return got
    if len(data) > MAX_REPORT_BYTES:
        return Classified(None, f"{NOT_RECOGNISED}: too large for an incident report ({len(data):,} bytes)")
    from .reports import parse_report

    report = parse_report(text)
    if (
        report.get("kind")
        or report.get("action_items")
        or report.get("timeline")
        or report.get("closure_summary")
    ):
        return Classified("report", "incident report text")
    return Classified(None, f"{NOT_RECOGNISED}: {_cli_reason(data, label)}")


def _cli_reason(data: bytes, label: str) -> str:
    """What `keyreuse --certs FILE` says of this file (the first problem the loader lists)."""
    from .certificates import load_certificate_bytes

    _, problems = load_certificate_bytes(data, label)
    return problems[0].reason if problems else "no readable content"


def check_as(kind: str, name: str, data: bytes) -> Classified:
    """An upload the user says is `kind`: accepted when that kind's loader reads something."""
    got = classify_upload(name, data)
    if got.kind == kind:
        return got
    if kind == "report" and got.kind is None and _decode_text(data) is not None and data.strip():
        return Classified("report", "text, kept as a report on request")
    if got.kind is None:
        return got
    return Classified(None, f"this is {got.reason}, not {kind}")


# --- writing inside the workspace ---------------------------------------------------------------


def _refuse(name: str, why: str) -> InputError:
    return InputError(name, None, f"refused: {why}")


def check_folder(root: Path, workspace: Path, name: str) -> None:
    """`root` is a real folder directly under `workspace` (not a symlink to elsewhere)."""
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise _refuse(name, f"{root.name} in the workspace is a symbolic link or not a folder")
    if root.resolve().parent != workspace.resolve():
        raise _refuse(name, "the data set folder is not inside the workspace")


def write_inside(root: Path, parts: tuple[str, ...], data: bytes, *, name: str, workspace: Path) -> Path:
    """Write `data` to root/parts... atomically, following no symlink below `workspace`.

    Every folder on the way must be a real folder (created when missing); the temporary file is
    created with O_EXCL|O_NOFOLLOW and renamed over the target (a rename replaces a link, it never
    writes through it)."""
    check_folder(root, workspace, name)
    folder = root
    for part in parts[:-1]:
        folder = folder / part
        if folder.is_symlink():
            raise _refuse(name, f"{folder.relative_to(root)} is a symbolic link")
        folder.mkdir(exist_ok=True)
    target = folder / parts[-1]
    tmp = folder / f".{parts[-1]}.part"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o644)
    except FileExistsError as exc:
        raise _refuse(name, "a file appeared in the way while writing") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return target
