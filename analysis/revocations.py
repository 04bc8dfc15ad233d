"""CRLs (DER or PEM) and revocation tables (CSV) -> the revocations frame (design.md, Frames).

CRLs are walked with `analysis.der` rather than `cryptography`, because `cryptography` raises on
an entry with an unknown reason code (7, 12) and we must report such an entry and go on.
An entry without a reasonCode extension is "unspecified". Indirect CRLs: a certificateIssuer
entry extension applies to that entry and the following ones until the next (RFC 5280 5.3.3).
The revocationDate is kept as published (BR 7.2.2 lets a CA backdate it); invalidityDate is not
used.
"""

from __future__ import annotations

import binascii
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import der as _der
from .errors import InputError, Problem
from .formats import TIME_DTYPE, format_serial, parse_serial, parse_time
from .safety import check_regular, csv_dicts, decode_text, input_files, read_input
from .schema import REASON_CODES, REASON_NAMES, coerce_revocations, empty_revocations

OID_REASON = bytes.fromhex("551d15")
OID_CERT_ISSUER = bytes.fromhex("551d1d")
PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----(.*?)-----END X509 CRL-----", re.S)


@dataclass
class CRLInfo:
    """What a loaded CRL covers: its issuer, dates and entry count (for notes and caching)."""

    source: str
    issuer_dn: str
    this_update: pd.Timestamp | None
    next_update: pd.Timestamp | None
    entries: int
    indirect_issuers: list[str] = field(default_factory=list)


@dataclass
class RevocationData:
    """Revocations plus what was covered and what was skipped."""

    frame: pd.DataFrame
    crls: list[CRLInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def covered_issuers(self) -> set[str]:
        """Issuer DNs (as written) that some revocation input speaks for, even with 0 entries."""
        out = {c.issuer_dn for c in self.crls}
        for c in self.crls:
            out.update(c.indirect_issuers)
        out.update(self.frame["issuer_dn"].dropna().unique().tolist())
        return out


def _directory_name(general_names: bytes) -> bytes | None:
    """The first directoryName ([4] EXPLICIT Name) in a GeneralNames value."""
    _, a, b = _der.tlv(general_names, 0)
    i = a
    while i < b:
        t, va, vb = _der.tlv(general_names, i, b)
        if t == 0xA4:
            return general_names[va:vb]
        i = vb
    return None


def parse_crl(der: bytes, source: str) -> tuple[list[dict], CRLInfo, list[Problem]]:
    """One DER CRL -> (entry dicts, info, problems). Raises DERError if the CRL itself is broken."""
    t, s, e = _der.tlv(der, 0)
    if t != 0x30:
        raise _der.DERError("not a SEQUENCE at byte 0")
    t, ts, te = _der.tlv(der, s, e)
    i = ts
    t, a, b = _der.tlv(der, i, te)
    if t == 0x02:  # version
        i = b
        t, a, b = _der.tlv(der, i, te)
    i = b  # signature algorithm
    t, a, b = _der.tlv(der, i, te)
    if t != 0x30:
        raise _der.DERError("no issuer Name where a CRL has one (is this a certificate?)")
    issuer_dn = _der.name_to_rfc4514_lenient(der[i:b])
    i = b
    t, a, b = _der.tlv(der, i, te)
    this_update = _der.parse_time(der, t, a, b)
    i = b
    next_update = None
    entries: list[dict] = []
    problems: list[Problem] = []
    indirect: list[str] = []
    if i < te:
        t, a, b = _der.tlv(der, i, te)
        if t in (0x17, 0x18):
            next_update = _der.parse_time(der, t, a, b)
            i = b
    if i < te:
        t, a, b = _der.tlv(der, i, te)
        if t == 0x30:  # revokedCertificates
            current_issuer = issuer_dn
            j = a
            n = 0
            while j < b:
                n += 1
                _, ea, eb = _der.tlv(der, j, b)
                position = f"entry {n} (byte {j})"
                try:
                    st, sa, sb = _der.tlv(der, ea, eb)
                    serial = int.from_bytes(der[sa:sb], "big", signed=True)
                    dt_, da, db = _der.tlv(der, sb, eb)
                    revoked_us = _der.parse_time(der, dt_, da, db)
                    reason_code: int | None = None
                    k = db
                    if k < eb:
                        _, xa, xb = _der.tlv(der, k, eb)
                        m = xa
                        while m < xb:
                            _, ya, yb = _der.tlv(der, m, xb)
                            _, oa, ob = _der.tlv(der, ya, yb)
                            vt, va, vb = _der.tlv(der, ob, yb)
                            if vt == 0x01:
                                vt, va, vb = _der.tlv(der, vb, yb)
                            oid = der[oa:ob]
                            if oid == OID_REASON:
                                _, ra, rb = _der.tlv(der, va, vb)
                                reason_code = int.from_bytes(der[ra:rb], "big")
                            elif oid == OID_CERT_ISSUER:
                                dn = _directory_name(der[va:vb])
                                if dn is not None:
                                    current_issuer = _der.name_to_rfc4514_lenient(dn)
                                    if current_issuer not in indirect:
                                        indirect.append(current_issuer)
                            m = yb
                except _der.DERError as exc:
                    problems.append(Problem(source, position, f"unreadable CRL entry: {exc}"))
                    j = eb
                    continue
                j = eb
                code = 0 if reason_code is None else reason_code
                if code not in REASON_NAMES:
                    problems.append(
                        Problem(
                            source,
                            f"{position} serial {format_serial(serial)}",
                            f"unknown CRL reason code {code}; entry skipped",
                        )
                    )
                    continue
                entries.append(
                    {
                        "issuer_dn": current_issuer,
                        "serial": format_serial(serial) if serial >= 0 else "-" + format_serial(-serial),
                        "revoked_us": revoked_us,
                        "reason": REASON_NAMES[code],
                        "reason_code": code,
                        "source": f"crl:{source}",
                    }
                )
    info = CRLInfo(
        source=source,
        issuer_dn=issuer_dn,
        this_update=pd.Timestamp(this_update, unit="us", tz="UTC"),
        next_update=None if next_update is None else pd.Timestamp(next_update, unit="us", tz="UTC"),
        entries=len(entries),
        indirect_issuers=indirect,
    )
    return entries, info, problems


def _entries_frame(entries: list[dict]) -> pd.DataFrame:
    if not entries:
        return empty_revocations()
    us = np.asarray([e.pop("revoked_us") for e in entries], dtype="int64")
    df = pd.DataFrame(entries)
    df["revoked_at"] = pd.Series(us.view("datetime64[us]")).dt.tz_localize("UTC").astype(TIME_DTYPE)
    return coerce_revocations(df)


def load_crl_bytes(data: bytes, source: str = "<bytes>") -> RevocationData:
    """One file's bytes: a DER CRL, or PEM text with one or more X509 CRL blocks."""
    problems: list[Problem] = []
    blobs: list[tuple[bytes, str]] = []
    if b"-----BEGIN" in data[:4096] or b"-----BEGIN X509 CRL" in data:
        matches = list(PEM_CRL.finditer(data))
        for n, m in enumerate(matches, 1):
            label = f"{source}#crl {n}" if len(matches) > 1 else source
            try:
                blobs.append((binascii.a2b_base64(m.group(1)), label))
            except binascii.Error as exc:
                problems.append(
                    Problem(source, f"PEM block {n} (byte {m.start()})", f"corrupt base64: {exc}")
                )
        if not blobs and not problems:
            problems.append(Problem(source, None, "PEM text without an X509 CRL block"))
    elif not data:
        problems.append(Problem(source, None, "empty file"))
    else:
        blobs.append((data, source))
    entries: list[dict] = []
    crls: list[CRLInfo] = []
    for blob, label in blobs:
        try:
            ents, info, probs = parse_crl(blob, label)
        except _der.DERError as exc:
            problems.append(Problem(label, "byte 0", f"not a valid CRL: {exc}"))
            continue
        entries.extend(ents)
        crls.append(info)
        problems.extend(probs)
    return RevocationData(_entries_frame(entries), crls, problems)


def load_revocations_csv(path: str | os.PathLike | bytes, source: str | None = None) -> RevocationData:
    """A CSV with the canonical columns (issuer_dn, serial, revoked_at, reason or reason_code).

    `serial` is hex unless the header says decimal (`serial_decimal`). A row with an unparseable
    serial, time or reason is skipped and reported by its line number.
    """
    problems: list[Problem] = []
    if isinstance(path, bytes):
        data, label = path, source or "<bytes>"
    else:
        label = source or str(path)
        try:
            data = read_input(path)
        except InputError as exc:
            return RevocationData(empty_revocations(), [], [Problem(label, None, exc.reason)])
    header, records = csv_dicts(decode_text(data))
    fields = {(f or "").strip().lower(): f for f in header}
    serial_col = fields.get("serial") or fields.get("serial_decimal")
    decimal = serial_col is not None and serial_col.strip().lower() == "serial_decimal"
    missing = [c for c in ("issuer_dn", "revoked_at") if c not in fields]
    if serial_col is None:
        missing.append("serial")
    if missing:
        problems.append(
            Problem(
                label, "line 1", f"missing columns {missing}; expected issuer_dn, serial, revoked_at, reason"
            )
        )
        return RevocationData(empty_revocations(), [], problems)
    rows = []
    for line, row, error in records:
        if row is None:
            problems.append(Problem(label, f"line {line}", error))
            continue
        get = lambda c: (row.get(fields[c]) or "").strip() if c in fields else ""  # noqa: E731, B023
        try:
            serial = format_serial(parse_serial(row.get(serial_col), decimal=decimal))
        except ValueError as exc:
            problems.append(Problem(label, f"line {line}", f"bad serial: {exc}"))
            continue
        issuer = get("issuer_dn")
        if not issuer:
            problems.append(Problem(label, f"line {line}", "empty issuer_dn"))
            continue
        try:
            revoked_at = parse_time(get("revoked_at"))
        except ValueError as exc:
            problems.append(Problem(label, f"line {line}", f"bad revoked_at: {exc}"))
            continue
        try:
            code = parse_reason(get("reason") or get("reason_code"))
        except ValueError as exc:
            problems.append(Problem(label, f"line {line}", str(exc)))
            continue
        rows.append(
            {
                "issuer_dn": issuer,
                "serial": serial,
                "revoked_at": revoked_at,
                "reason": REASON_NAMES[code],
                "reason_code": code,
                "source": f"csv:{label} line {line}",
            }
        )
    frame = coerce_revocations(pd.DataFrame(rows)) if rows else empty_revocations()
    return RevocationData(frame, [], problems)


def _reason_key(text: object) -> str:
    """NFKC, case-folded, without whitespace, punctuation or underscores."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", str(text)).casefold())


_REASON_WORDS: dict[str, str] = {_reason_key(name): name for name in REASON_CODES}
_REASON_WORDS.update(
    {
        "keycompromised": "keyCompromise",
        "compromisedkey": "keyCompromise",
        "privatekeycompromise": "keyCompromise",
        "cacompromised": "cACompromise",
        "affiliationchange": "affiliationChanged",
        "cessationofoperations": "cessationOfOperation",
        "cessation": "cessationOfOperation",
        "hold": "certificateHold",
        "onhold": "certificateHold",
        "aacompromised": "aACompromise",
        "privilegewithdrawal": "privilegeWithdrawn",
        "superceded": "superseded",
        "replaced": "superseded",
        "none": "unspecified",
        "notspecified": "unspecified",
        "unspecifiedreason": "unspecified",
    }
)
# Chinese names CAs write beside or instead of the RFC 5280 names.
_REASON_CJK: dict[str, str] = {
    "密钥泄露": "keyCompromise",
    "密钥泄漏": "keyCompromise",
    "私钥泄露": "keyCompromise",
    "私钥泄漏": "keyCompromise",
    "密钥损坏": "keyCompromise",
    "密钥受损": "keyCompromise",
    "密钥已泄露": "keyCompromise",
    "CA泄露": "cACompromise",
    "CA受损": "cACompromise",
    "CA密钥泄露": "cACompromise",
    "从属关系改变": "affiliationChanged",
    "从属关系变更": "affiliationChanged",
    "隶属关系变更": "affiliationChanged",
    "隶属关系改变": "affiliationChanged",
    "关系变更": "affiliationChanged",
    "被取代": "superseded",
    "已取代": "superseded",
    "已被取代": "superseded",
    "取代": "superseded",
    "被替代": "superseded",
    "证书替换": "superseded",
    "停止操作": "cessationOfOperation",
    "停止运营": "cessationOfOperation",
    "终止运营": "cessationOfOperation",
    "业务终止": "cessationOfOperation",
    "停止使用": "cessationOfOperation",
    "证书冻结": "certificateHold",
    "证书挂起": "certificateHold",
    "未指定": "unspecified",
    "未说明": "unspecified",
    "特权撤销": "privilegeWithdrawn",
    "权限撤销": "privilegeWithdrawn",
    "撤销特权": "privilegeWithdrawn",
}
EMPTY_REASON_MARKS = {"", "-", "--", "—", "na", "n/a", "none", "null", "无", "空"}


def parse_reason_name(value: object) -> tuple[str, int]:
    """A revocation reason as CAs write it -> (RFC 5280 name, code). Empty means unspecified.

    Accepts names ("keyCompromise", "Key Compromise", "key_compromise"), codes (1, "1"), and a name
    with a translation beside it ("keyCompromise 密钥泄露", "密钥泄露(keyCompromise)").
    Raises ValueError for anything else, and when a name and a code disagree.
    """
    if value is None or isinstance(value, bool):
        if value is None:
            return "unspecified", 0
        raise ValueError(f"unknown revocation reason {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if value in REASON_NAMES:
            return REASON_NAMES[value], value
        raise ValueError(f"unknown revocation reason code {value}")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.casefold() in EMPTY_REASON_MARKS:
        return "unspecified", 0
    latin = "".join(re.findall(r"[A-Za-z]+", text))
    # the letters of "CA泄露" belong to the Chinese name, not to an English one
    name = None
    if latin:
        name = _REASON_WORDS.get(latin.casefold())
        if name is None:
            name = _REASON_WORDS.get(_reason_key(re.sub(r"\d+", " ", text)).strip())
    if name is None:
        compact = re.sub(r"[\s()（）\[\]【】:：,，.。\-_]+", "", text)
        for zh in sorted(_REASON_CJK, key=len, reverse=True):
            if zh in compact:
                name = _REASON_CJK[zh]
                break
    numbers = re.findall(r"(?<![\w.])\d{1,2}(?![\w.])", text)
    code = int(numbers[0]) if len(numbers) == 1 else None
    if name is None:
        if code is not None and re.fullmatch(r"[\s()（）\[\]:：\-]*\d{1,2}[\s()（）\[\]:：\-]*", text):
            if code in REASON_NAMES:
                return REASON_NAMES[code], code
            raise ValueError(f"unknown revocation reason code {code}")
        raise ValueError(f"unknown revocation reason {text!r}")
    if code is not None and code in REASON_NAMES and REASON_NAMES[code] != name:
        raise ValueError(f"revocation reason {text!r}: code {code} is not {name}")
    return name, REASON_CODES[name]


def parse_reason(value: object) -> int:
    """A reason as a name ("keyCompromise", "key_compromise", "Key Compromise"), a code, or empty
    (unspecified) -> the RFC 5280 code. Raises ValueError for unknown reasons."""
    if value is None or (isinstance(value, float) and value != value):
        return 0
    text = str(value).strip()
    try:
        return parse_reason_name(text)[1]
    except ValueError:
        if re.fullmatch(r"\d+", text):
            raise ValueError(f"unknown CRL reason code {int(text)}") from None
        raise ValueError(f"unknown CRL reason {text!r}") from None


def load_revocations(
    paths: Iterable[str | os.PathLike], *, reader: Callable[[Path], RevocationData | None] | None = None
) -> RevocationData:
    """CRL files (DER/PEM) and revocation CSVs into one frame.

    `reader` lets the caller take files of other formats (the input layer passes the incident-
    spreadsheet loader, which this core module must not import): it is asked first for each file
    and returns None for the files it leaves to this module.
    """
    frames, crls, problems = [], [], []
    for p in paths:
        for f in input_files(p):
            try:
                check_regular(f)
                data = reader(f) if reader is not None else None
                if data is None:
                    if f.suffix.lower() in (".csv", ".tsv"):
                        data = load_revocations_csv(f)
                    else:
                        data = load_crl_bytes(read_input(f), str(f))
            except InputError as exc:
                problems.append(Problem(exc.input, exc.position, exc.reason))
                continue
            except OSError as exc:
                problems.append(Problem(str(f), None, f"cannot read: {exc.strerror or exc}"))
                continue
            frames.append(data.frame)
            crls.extend(data.crls)
            problems.extend(data.problems)
    frames = [f for f in frames if len(f)]
    frame = pd.concat(frames, ignore_index=True) if frames else empty_revocations()
    return RevocationData(coerce_revocations(frame), crls, problems)


def is_revocations_csv(path: Path) -> bool:
    """True when the file's header names the canonical revocation CSV columns (issuer_dn,
    revoked_at); other CSVs are incident spreadsheets exported as CSV."""
    with open(path, "rb") as fh:
        head = decode_text(fh.read(4096)).splitlines()[:1]
    cols = {c.strip().lower() for c in head[0].split(",")} if head else set()
    return {"issuer_dn", "revoked_at"} <= cols


def effective_revocations(
    revocations: pd.DataFrame, by: tuple[str, ...] = ("issuer_dn", "serial")
) -> pd.DataFrame:
    """One row per (issuer_dn, serial): the revocation that counts (design.md rules).

    certificateHold is not a revocation and removeFromCRL cancels a hold, so both are dropped.
    Several sources: keyCompromise wins if any says so, with the earliest keyCompromise date;
    otherwise the earliest revocation and its reason.
    """
    cols = list(dict.fromkeys([*by, "issuer_dn", "serial", "revoked_at", "reason", "reason_code", "source"]))
    if revocations.empty:
        return revocations[cols].copy()
    r = revocations[~revocations["reason_code"].isin([6, 8])].copy()
    r["_kc"] = r["reason_code"] == 1
    r = r.sort_values(["_kc", "revoked_at"], ascending=[False, True], kind="stable")
    return r.drop_duplicates(list(by), keep="first")[cols].reset_index(drop=True)
