"""A minimal DER reader for X.509 certificates: the fast path of the certificate loader.

It walks the TBSCertificate once and takes exactly the bytes the key-reuse rules need (serial,
issuer, validity, subject, SubjectPublicKeyInfo, a few extensions) without building objects.
The SPKI hash is over the SPKI bytes as they stand, so keys OpenSSL cannot decode still hash.
Anything it cannot read raises `DERError`; the loader then tries `cryptography` before giving up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

try:  # the optional C accelerator (setup.py builds it where a compiler is available)
    from . import _cder
except ImportError:  # pragma: no cover - depends on the build
    _cder = None


class DERError(ValueError):
    """Bytes that are not a well-formed certificate."""


def tlv(buf: bytes, i: int, limit: int | None = None) -> tuple[int, int, int]:
    """Read one TLV at `i`: returns (tag, content_start, content_end)."""
    end_limit = len(buf) if limit is None else limit
    if i + 2 > end_limit:
        raise DERError(f"truncated at byte {i}")
    tag = buf[i]
    length = buf[i + 1]
    i += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4:
            raise DERError(f"unsupported length form at byte {i - 1}")
        if i + n > end_limit:
            raise DERError(f"truncated length at byte {i}")
        length = int.from_bytes(buf[i : i + n], "big")
        i += n
    end = i + length
    if end > end_limit:
        raise DERError(f"truncated: element at byte {i} needs {length} bytes, {end_limit - i} left")
    return tag, i, end


def decode_oid(content: bytes) -> str:
    """DER OID content bytes -> dotted string."""
    if not content:
        raise DERError("empty OID")
    if content[-1] & 0x80:  # the last arc never ends (every byte says "more follows")
        raise DERError(f"malformed OID {content.hex()}")
    parts: list[int] = []
    value = 0
    for b in content:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    first = parts[0]
    if first < 40:
        head = [0, first]
    elif first < 80:
        head = [1, first - 40]
    else:
        head = [2, first - 80]
    return ".".join(str(p) for p in head + parts[1:])


# Extension OIDs as DER content bytes, to compare without decoding.
OID_BASIC_CONSTRAINTS = bytes.fromhex("551d13")
OID_SAN = bytes.fromhex("551d11")
OID_CT_POISON = bytes.fromhex("2b06010401d679020403")
OID_SCT_LIST = bytes.fromhex("2b06010401d679020402")
OID_RSA = bytes.fromhex("2a864886f70d010101")
OID_EC = bytes.fromhex("2a8648ce3d0201")
OID_ED25519 = bytes.fromhex("2b6570")
OID_ED448 = bytes.fromhex("2b6571")
OID_DSA = bytes.fromhex("2a8648ce380401")
OID_CN = bytes.fromhex("550403")

EC_CURVES = {
    "1.2.840.10045.3.1.7": "P256",
    "1.3.132.0.34": "P384",
    "1.3.132.0.35": "P521",
    "1.3.132.0.10": "secp256k1",
    "1.2.840.10045.3.1.1": "P192",
    "1.3.132.0.33": "P224",
}


_DAYS: dict[tuple[int, int], int] = {}  # (tag, YYMMDD or YYYYMMDD) -> days since the epoch


def parse_time(buf: bytes, tag: int, a: int, b: int) -> int:
    """UTCTime / GeneralizedTime content -> microseconds since the epoch (UTC)."""
    s = buf[a:b]
    # Fast path for the DER forms (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ): one int() over the digits.
    n = b - a
    if (n == 13 and tag == 0x17) or (n == 15 and tag == 0x18):
        digits = s[:-1]
        if s[-1] == 0x5A and digits.isdigit():
            date, hms = divmod(int(digits), 1_000_000)
            hour, rest = divmod(hms, 10_000)
            minute, second = divmod(rest, 100)
            key = (tag, date)
            days = _DAYS.get(key)
            if days is None:
                year, md = divmod(date, 10_000)
                month, day = divmod(md, 100)
                if tag == 0x17:
                    year += 1900 if year >= 50 else 2000
                if not (1 <= month <= 12 and 1 <= day <= 31):
                    raise DERError(f"time out of range: {s!r}")
                days = _DAYS[key] = _days_from_civil(year, month, day)
            if hour < 24 and minute < 60 and second < 61:
                return (days * 86400 + hour * 3600 + minute * 60 + second) * 1_000_000
            raise DERError(f"time out of range: {s!r}")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMM[SS]Z
            yy = int(s[0:2])
            year = 1900 + yy if yy >= 50 else 2000 + yy
            rest = s[2:]
        elif tag == 0x18:  # GeneralizedTime YYYYMMDDHHMMSS[.fff]Z
            year = int(s[0:4])
            rest = s[4:]
        else:
            raise DERError(f"not a time (tag {tag:#x})")
        month, day, hour, minute = int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8])
        tail = rest[8:]
        second = 0
        if tail[:1].isdigit():
            second = int(tail[0:2])
            tail = tail[2:]
        micros = 0
        if tail[:1] in (b".", b","):
            j = 1
            while j < len(tail) and tail[j : j + 1].isdigit():
                j += 1
            frac = tail[1:j].decode()
            micros = int((frac + "000000")[:6])
            tail = tail[j:]
        if tail != b"Z":
            raise DERError(f"time without Z: {s!r}")
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
            raise DERError(f"time out of range: {s!r}")
    except (ValueError, IndexError) as exc:
        raise DERError(f"bad time {s!r}") from exc
    return (
        _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    ) * 1_000_000 + micros


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def key_type(spki: bytes) -> str:
    """ "RSA-2048", "EC-P256", "Ed25519", "DSA-2048", or the algorithm OID when unknown."""
    _, a, b = tlv(spki, 0)
    t, aa, ab = tlv(spki, a, b)  # AlgorithmIdentifier
    t, oa, ob = tlv(spki, aa, ab)
    oid = spki[oa:ob]
    bt, ba, bb = tlv(spki, ab, b)  # BIT STRING
    if oid == OID_RSA:
        try:
            _, ra, rb = tlv(spki, ba + 1, bb)
            _, ma, mb = tlv(spki, ra, rb)
            modulus = int.from_bytes(spki[ma:mb], "big")
            return f"RSA-{modulus.bit_length()}"
        except DERError:
            return "RSA"
    if oid == OID_EC:
        if ob < ab:
            pt, pa, pb = tlv(spki, ob, ab)
            if pt == 0x06:
                curve = decode_oid(spki[pa:pb])
                return "EC-" + EC_CURVES.get(curve, curve)
        return "EC"
    if oid == OID_ED25519:
        return "Ed25519"
    if oid == OID_ED448:
        return "Ed448"
    if oid == OID_DSA:
        try:
            _, pa, pb = tlv(spki, ob, ab)  # Dss-Parms SEQUENCE
            _, qa, qb = tlv(spki, pa, pb)
            return f"DSA-{int.from_bytes(spki[qa:qb], 'big').bit_length()}"
        except DERError:
            return "DSA"
    return decode_oid(oid)


@dataclass(slots=True)
class RawCert:
    """What the fast path takes from one certificate, still as bytes where decoding can wait."""

    cert_sha256: str
    spki_sha256: str
    serial: int
    issuer: bytes
    subject: bytes
    spki: bytes
    not_before_us: int
    not_after_us: int
    is_precert: bool
    is_ca: bool
    sct_us: int | None
    san: bytes | None  # GeneralNames DER, decoded only when asked
    sct_ignored: int = 0  # SCTs whose timestamp is out of range (see MAX_SCT_MS), left out of sct_us


# An SCT timestamp is an unsigned 64-bit count of milliseconds; times are kept as signed 64-bit
# microseconds, so a timestamp above this (the high bit set, or within 1000x of it) cannot be
# one. Both readers leave such an SCT out of the earliest-SCT time and count it as ignored.
MAX_SCT_MS = (2**63 - 1) // 1000


def _hdr(buf: bytes, i: int) -> tuple[int, int, int]:
    """Unchecked TLV header read for the hot loop: (tag, content_start, content_end).

    Bounds are checked by the caller against the enclosing element; IndexError means truncation.
    """
    length = buf[i + 1]
    if length < 0x80:
        return buf[i], i + 2, i + 2 + length
    n = length & 0x7F
    if n == 1:
        length = buf[i + 2]
    elif n == 2:
        length = (buf[i + 2] << 8) | buf[i + 3]
    elif n == 3:
        length = (buf[i + 2] << 16) | (buf[i + 3] << 8) | buf[i + 4]
    else:
        raise DERError(f"unsupported length form at byte {i + 1}")
    return buf[i], i + 2 + n, i + 2 + n + length


_TLV_BASIC_CONSTRAINTS = b"\x06\x03" + OID_BASIC_CONSTRAINTS
_TLV_SAN = b"\x06\x03" + OID_SAN
_TLV_CT_POISON = b"\x06\x0a" + OID_CT_POISON
_TLV_SCT_LIST = b"\x06\x0a" + OID_SCT_LIST
_CT_ARC = bytes.fromhex("2b06010401d6790204")


def _find_ext(der: bytes, tlv_oid: bytes, start: int, end: int) -> int | None:
    """Position just after `tlv_oid` where it opens an Extension (SEQUENCE header right before)."""
    p = der.find(tlv_oid, start, end)
    while p != -1:
        if (
            (p - 2 >= start and der[p - 2] == 0x30)
            or (p - 3 >= start and der[p - 3] == 0x30 and der[p - 2] == 0x81)
            or (p - 4 >= start and der[p - 4] == 0x30 and der[p - 3] == 0x82)
        ):
            return p + len(tlv_oid)
        p = der.find(tlv_oid, p + 1, end)
    return None


def _ext_value(der: bytes, k: int, end: int) -> tuple[int, int]:
    """The extnValue OCTET STRING content after an extension's OID (skipping `critical`)."""
    vt, va, vb = _hdr(der, k)
    if vt == 0x01:
        vt, va, vb = _hdr(der, vb)
    if vt != 0x04 or vb > end:
        raise DERError("malformed extension")
    return va, vb


def parse_certificate(der: bytes) -> RawCert:
    """Walk one DER certificate. Raises DERError on anything malformed or truncated."""
    return RawCert(*parse_certificate_fields(der))


def parse_certificate_fields(der: bytes) -> tuple:
    """`parse_certificate` as a plain tuple in RawCert's field order (the loader's hot path)."""
    if _cder is not None:
        r = _cder.parse(der)
        if r is not None:
            sa, se, i_s, i_e, s_s, s_e, k_s, k_e, nb, na, precert, ca, sct, san_a, san_e, ignored = r
            spki = der[k_s:k_e]
            return (
                hashlib.sha256(der).hexdigest(),
                hashlib.sha256(spki).hexdigest(),
                int.from_bytes(der[sa:se], "big", signed=True),
                der[i_s:i_e],
                der[s_s:s_e],
                spki,
                nb,
                na,
                precert,
                ca,
                sct,
                der[san_a:san_e] if san_a >= 0 else None,
                ignored,
            )
        # None: an unusual shape; the Python reader below decides and words any error.
    return parse_certificate_fields_py(der)


def parse_certificate_fields_py(der: bytes) -> tuple:
    """The pure-Python reader (the reference the C accelerator is tested against)."""
    try:
        return _parse_certificate(der)
    except IndexError as exc:
        raise DERError("truncated certificate") from exc


def _parse_certificate(der: bytes) -> tuple:
    size = len(der)
    t, s, e = _hdr(der, 0)
    if t != 0x30:
        raise DERError("not a SEQUENCE at byte 0")
    if e != size:
        if e > size:
            raise DERError(f"truncated: the certificate needs {e} bytes, {size} present")
        raise DERError(f"{size - e} stray bytes after the certificate")
    t, ts, te = _hdr(der, s)
    if t != 0x30 or te > e:
        raise DERError("TBSCertificate is not a SEQUENCE")
    i = ts
    t, a, b = _hdr(der, i)
    if t == 0xA0:  # [0] EXPLICIT version
        i = b
        t, a, b = _hdr(der, i)
    if t != 0x02:
        raise DERError("serialNumber is not an INTEGER")
    serial = int.from_bytes(der[a:b], "big", signed=True)
    _, _, i = _hdr(der, b)  # signature AlgorithmIdentifier
    t, a, b = _hdr(der, i)
    if t != 0x30:
        raise DERError("issuer is not a Name")
    issuer = der[i:b]
    t, a, i = _hdr(der, b)
    if t != 0x30:
        raise DERError("validity is not a SEQUENCE")
    t1, a1, b1 = _hdr(der, a)
    t2, a2, b2 = _hdr(der, b1)
    not_before = parse_time(der, t1, a1, b1)
    not_after = parse_time(der, t2, a2, b2)
    t, a, b = _hdr(der, i)
    if t != 0x30:
        raise DERError("subject is not a Name")
    subject = der[i:b]
    i = b
    t, a, b = _hdr(der, i)
    if t != 0x30 or b > te:
        raise DERError("subjectPublicKeyInfo is not a SEQUENCE")
    spki = der[i:b]
    i = b
    is_precert = is_ca = False
    sct_us: int | None = None
    sct_ignored = 0
    san = None
    while i < te:
        t, a, b = _hdr(der, i)
        if b > te:
            raise DERError("truncated extensions")
        if t == 0xA3:
            _, xa, xb = _hdr(der, a)
            if xb > b:
                raise DERError("truncated extensions")
            # Find the few extensions we read by their OID's TLV (C-speed search) instead of
            # walking every extension; each hit is checked to start an Extension SEQUENCE.
            has_ct = der.find(_CT_ARC, xa, xb) != -1  # both CT extensions share this OID arc
            is_precert = has_ct and _find_ext(der, _TLV_CT_POISON, xa, xb) is not None
            k = _find_ext(der, _TLV_BASIC_CONSTRAINTS, xa, xb)
            if k is not None:
                va, vb = _ext_value(der, k, xb)
                _, ba, bb = _hdr(der, va)
                if ba < bb:
                    ct, ca, cb = _hdr(der, ba)
                    is_ca = ct == 0x01 and cb > ca and der[ca] != 0
            k = _find_ext(der, _TLV_SCT_LIST, xa, xb) if has_ct else None
            if k is not None:
                va, vb = _ext_value(der, k, xb)
                sct_us, sct_ignored = _earliest_sct(der, va, vb)
            k = _find_ext(der, _TLV_SAN, xa, xb)
            if k is not None:
                va, vb = _ext_value(der, k, xb)
                san = der[va:vb]
        i = b
    return (
        hashlib.sha256(der).hexdigest(),
        hashlib.sha256(spki).hexdigest(),
        serial,
        issuer,
        subject,
        spki,
        not_before,
        not_after,
        is_precert,
        is_ca,
        sct_us,
        san,
        sct_ignored,
    )


def _earliest_sct(der: bytes, a: int, b: int) -> tuple[int | None, int]:
    """The SignedCertificateTimestampList (RFC 6962 3.3) inside the extension's OCTET STRING:
    (earliest timestamp in microseconds or None, SCTs ignored for an out-of-range timestamp)."""
    t, ia, ib = tlv(der, a, b)
    if t != 0x04:
        return None, 0
    data = der[ia:ib]
    if len(data) < 2:
        return None, 0
    total = int.from_bytes(data[0:2], "big")
    pos, end = 2, min(2 + total, len(data))
    best = None
    ignored = 0
    while pos + 2 <= end:
        n = int.from_bytes(data[pos : pos + 2], "big")
        item = data[pos + 2 : pos + 2 + n]
        if len(item) >= 41 and n >= 41:
            ms = int.from_bytes(item[33:41], "big")
            if ms > MAX_SCT_MS:
                ignored += 1
            elif best is None or ms < best:
                best = ms
        pos += 2 + n
    return (None if best is None else best * 1000), ignored


# --- names ---------------------------------------------------------------------------------

_SHORT_NAMES = {
    bytes.fromhex("550403"): "CN",
    bytes.fromhex("550407"): "L",
    bytes.fromhex("550408"): "ST",
    bytes.fromhex("55040a"): "O",
    bytes.fromhex("55040b"): "OU",
    bytes.fromhex("550406"): "C",
    bytes.fromhex("550409"): "STREET",
    bytes.fromhex("0992268993f22c640119"): "DC",
    bytes.fromhex("0992268993f22c640101"): "UID",
}
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "latin-1",  # PrintableString
    0x16: "latin-1",  # IA5String
    0x14: "latin-1",  # TeletexString (T61), as cryptography reads it
    0x1A: "latin-1",  # VisibleString
    0x1E: "utf-16-be",  # BMPString
    0x1C: "utf-32-be",  # UniversalString
}


class UnusualName(DERError):
    """A name this reader does not render exactly like cryptography; the caller falls back."""


def _escape(val: str) -> str:
    if not val:
        return ""
    val = val.replace("\\", "\\\\").replace('"', '\\"').replace("+", "\\+").replace(",", "\\,")
    val = val.replace(";", "\\;").replace("<", "\\<").replace(">", "\\>").replace("\0", "\\00")
    if val[0] == "#" or (val[0] == " " and len(val) > 1):
        val = "\\" + val
    if val[-1] == " ":
        val = val[:-1] + "\\ "
    return val


def _rdns(name: bytes) -> list[list[tuple[bytes, int, bytes, bytes]]]:
    """Name DER -> RDNs, each a list of (oid bytes, value tag, value content, value TLV)."""
    _, a, b = tlv(name, 0)
    rdns = []
    i = a
    while i < b:
        t, sa, sb = tlv(name, i, b)
        if t != 0x31:
            raise DERError("RDN is not a SET")
        attrs = []
        j = sa
        while j < sb:
            _, aa, ab = tlv(name, j, sb)
            _, oa, ob = tlv(name, aa, ab)
            vt, va, vb = tlv(name, ob, ab)
            attrs.append((name[oa:ob], vt, name[va:vb], name[ob:ab]))
            j = ab
        rdns.append(attrs)
        i = sb
    return rdns


def name_attributes(name: bytes) -> list[list[tuple[bytes, str]]]:
    """Name DER -> RDNs, each a list of (oid bytes, value). Raises UnusualName for non-strings."""
    rdns = []
    for rdn in _rdns(name):
        attrs = []
        for oid, vt, content, _ in rdn:
            codec = _STRING_CODECS.get(vt)
            if codec is None:
                raise UnusualName(f"attribute value of tag {vt:#x}")
            try:
                attrs.append((oid, content.decode(codec)))
            except UnicodeDecodeError as exc:
                raise UnusualName("undecodable attribute value") from exc
        rdns.append(attrs)
    return rdns


def name_to_rfc4514(name: bytes) -> str:
    """Render a Name the way cryptography's `Name.rfc4514_string()` does (RDNs reversed)."""
    parts = []
    for rdn in reversed(name_attributes(name)):
        if len(rdn) > 1:
            raise UnusualName("multi-valued RDN")  # cryptography's ordering rules; let it decide
        rendered = []
        for oid, value in rdn:
            label = _SHORT_NAMES.get(oid) or decode_oid(oid)
            rendered.append(f"{label}={_escape(value)}")
        parts.append("+".join(rendered))
    return ",".join(parts)


def common_names(name: bytes) -> list[str]:
    """Every CN value in a Name, in order."""
    return [v for rdn in name_attributes(name) for oid, v in rdn if oid == OID_CN]


def san_dns_names(san: bytes) -> list[str]:
    """GeneralNames DER (the SAN extension value) -> the dNSName entries, in order."""
    _, a, b = tlv(san, 0)
    out = []
    i = a
    while i < b:
        t, va, vb = tlv(san, i, b)
        if t == 0x82:  # [2] IMPLICIT IA5String dNSName; some CAs put UTF-8 in it
            raw = san[va:vb]
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(raw.decode("latin-1"))
        i = vb
    return out


def name_to_rfc4514_lenient(name: bytes) -> str:
    """RFC 4514 rendering that never gives up: unusual values become #hex (matching by dn_key)."""
    try:
        return name_to_rfc4514(name)
    except UnusualName:
        pass
    parts = []
    for rdn in reversed(_rdns(name)):
        attrs = []
        for oid, vt, content, value_tlv in rdn:
            label = _SHORT_NAMES.get(oid) or decode_oid(oid)
            codec = _STRING_CODECS.get(vt)
            try:
                value = _escape(content.decode(codec)) if codec else "#" + value_tlv.hex()
            except UnicodeDecodeError:
                value = "#" + value_tlv.hex()
            attrs.append(f"{label}={value}")
        parts.append("+".join(attrs))
    return ",".join(parts)
