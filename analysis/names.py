"""Distinguished names: parse the forms crt.sh, OpenSSL, RFC 4514 and spreadsheets write into one
comparable key (attribute types case-folded, values whitespace-normalised, RDN order ignored).

Every join on an issuer goes through `dn_key`; `match_issuer` resolves a bare CN against the
issuers actually loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Attribute type synonyms -> one short lower-case name.
_TYPE_ALIASES = {
    "commonname": "cn",
    "2.5.4.3": "cn",
    "c": "c",
    "countryname": "c",
    "2.5.4.6": "c",
    "o": "o",
    "organizationname": "o",
    "2.5.4.10": "o",
    "ou": "ou",
    "organizationalunitname": "ou",
    "2.5.4.11": "ou",
    "l": "l",
    "localityname": "l",
    "2.5.4.7": "l",
    "st": "st",
    "s": "st",
    "stateorprovincename": "st",
    "2.5.4.8": "st",
    "street": "street",
    "streetaddress": "street",
    "2.5.4.9": "street",
    "serialnumber": "serialnumber",
    "2.5.4.5": "serialnumber",
    "dc": "dc",
    "domaincomponent": "dc",
    "0.9.2342.19200300.100.1.25": "dc",
    "uid": "uid",
    "userid": "uid",
    "0.9.2342.19200300.100.1.1": "uid",
    "e": "emailaddress",
    "email": "emailaddress",
    "emailaddress": "emailaddress",
    "1.2.840.113549.1.9.1": "emailaddress",
    "organizationidentifier": "organizationidentifier",
    "2.5.4.97": "organizationidentifier",
    "title": "title",
    "2.5.4.12": "title",
    "givenname": "givenname",
    "gn": "givenname",
    "2.5.4.42": "givenname",
    "surname": "sn",
    "sn": "sn",
    "2.5.4.4": "sn",
    "postalcode": "postalcode",
    "2.5.4.17": "postalcode",
    "businesscategory": "businesscategory",
    "2.5.4.15": "businesscategory",
    "jurisdictionc": "jurisdictionc",
    "jurisdictioncountryname": "jurisdictionc",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionc",
    "jurisdictionst": "jurisdictionst",
    "jurisdictionstateorprovincename": "jurisdictionst",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionst",
    "jurisdictionl": "jurisdictionl",
    "jurisdictionlocalityname": "jurisdictionl",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionl",
    "x500uniqueidentifier": "x500uniqueidentifier",
    "2.5.4.45": "x500uniqueidentifier",
    "inn": "inn",
    "1.2.643.3.131.1.1": "inn",
    "ogrn": "ogrn",
    "1.2.643.100.1": "ogrn",
}

_TYPE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9\-]*|\d+(?:\.\d+)+)\s*=")
_WS = re.compile(r"\s+")


class NameParseError(ValueError):
    """The text is not a distinguished name in any form we read."""


def _split(text: str, seps: str) -> list[tuple[str, str]]:
    """Split on separator characters outside quotes and not escaped; returns (piece, sep_before)."""
    pieces: list[tuple[str, str]] = []
    buf: list[str] = []
    sep_before = ""
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i : i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch in seps and not quoted:
            pieces.append(("".join(buf), sep_before))
            buf = []
            sep_before = ch
        else:
            buf.append(ch)
        i += 1
    pieces.append(("".join(buf), sep_before))
    return pieces


def _unescape(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    out: list[str] = []
    i = 0
    while i < len(v):
        ch = v[i]
        if ch == "\\" and i + 1 < len(v):
            nxt = v[i + 1 : i + 3]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", nxt):
                # hex pair escapes a UTF-8 byte; collect a run of them
                raw = bytearray()
                while (
                    i + 2 < len(v) + 1 and v[i] == "\\" and re.fullmatch(r"[0-9A-Fa-f]{2}", v[i + 1 : i + 3])
                ):
                    raw.append(int(v[i + 1 : i + 3], 16))
                    i += 3
                out.append(raw.decode("utf-8", errors="replace"))
                continue
            out.append(v[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _norm_type(t: str) -> str:
    key = t.strip().casefold()
    return _TYPE_ALIASES.get(key, key)


def _norm_value(v: str) -> str:
    v = _WS.sub(" ", v).strip()
    if v.startswith("#"):
        return v.lower()
    return v


@lru_cache(maxsize=65536)
def parse_dn(text: str) -> tuple[tuple[str, str], ...]:
    """Parse a DN in any supported form into (type, value) pairs, in the order written.

    Types are normalised (case-folded, synonyms merged); values unescaped and whitespace-normalised.
    Raises NameParseError when nothing of the form type=value is found.
    """
    if text is None:
        raise NameParseError("empty name")
    s = str(text).strip()
    if not s:
        raise NameParseError("empty name")
    # OpenSSL's "oneline" form: /C=US/O=Org/CN=Name
    if s.startswith("/") and _TYPE_RE.match(s[1:]):
        pieces = _split(s[1:], "/")
    else:
        pieces = _split(s, ",;+")
    pairs: list[list[str]] = []
    for piece, sep in pieces:
        if _TYPE_RE.match(piece):
            t, v = piece.split("=", 1)
            pairs.append([t, v])
        elif pairs:
            # An unescaped separator inside a value ("O=VeriSign, Inc."): glue it back.
            pairs[-1][1] += sep + piece
        elif piece.strip():
            raise NameParseError(f"not a distinguished name: {text!r}")
    if not pairs:
        raise NameParseError(f"not a distinguished name: {text!r}")
    return tuple((_norm_type(t), _norm_value(_unescape(v))) for t, v in pairs)


@lru_cache(maxsize=65536)
def dn_key(text: str) -> str:
    """One comparable key for a DN in any form; equal keys mean the same name (RDN order ignored)."""
    pairs = sorted(parse_dn(text))
    return "\x1f".join(f"{t}={v}" for t, v in pairs)


def same_dn(a: str, b: str) -> bool:
    """True when two DN strings name the same entity."""
    return dn_key(a) == dn_key(b)


def common_name(text: str) -> str | None:
    """The (last) CN of a DN, or None."""
    cns = [v for t, v in parse_dn(text) if t == "cn"]
    return cns[-1] if cns else None


def is_bare_cn(text: str) -> bool:
    """True for a name given without any type=value pair (a spreadsheet's 'Issuer: R3')."""
    try:
        parse_dn(text)
    except NameParseError:
        return bool(str(text).strip())
    return False


def match_issuer(text: str, known: Iterable[str]) -> str:
    """Resolve a DN or a bare CN against loaded issuer DNs; returns the matching known DN.

    A full DN matches by `dn_key`. A bare CN matches when exactly one known issuer has that CN.
    Raises LookupError with a reason otherwise.
    """
    known = list(dict.fromkeys(known))
    if is_bare_cn(text):
        want = _norm_value(str(text))
        hits = []
        for k in known:
            try:
                if common_name(k) == want:
                    hits.append(k)
            except NameParseError:
                continue
        hits = list(dict.fromkeys(dn_key(h) for h in hits))
        if len(hits) == 1:
            return next(k for k in known if dn_key(k) == hits[0])
        if not hits:
            raise LookupError(f"no loaded issuer has CN {want!r}")
        raise LookupError(f"{len(hits)} loaded issuers have CN {want!r}; give the full name")
    key = dn_key(text)
    for k in known:
        try:
            if dn_key(k) == key:
                return k
        except NameParseError:
            continue
    raise LookupError(f"no loaded issuer is named {text!r}")


def to_rfc4514(pairs: Iterable[tuple[str, str]]) -> str:
    """Render (type, value) pairs, most significant first, as an RFC 4514 string (reversed)."""
    out = []
    for t, v in reversed(list(pairs)):
        v = v.replace("\\", "\\\\")
        for ch in ',+"<>;=':
            v = v.replace(ch, "\\" + ch)
        if v.startswith((" ", "#")):
            v = "\\" + v
        if v.endswith(" "):
            v = v[:-1] + "\\ "
        out.append(f"{t.upper() if len(t) <= 2 else t}={v}")
    return ",".join(out)
