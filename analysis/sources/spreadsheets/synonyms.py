"""Canonical fields and the header texts CAs write for them, and the normalised keys they are
matched by (exactly, or by containment for the longer synonyms).
"""

from __future__ import annotations

import re
import unicodedata

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
