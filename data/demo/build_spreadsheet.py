"""Build the demo incident's spreadsheet: appendix.xlsx, the CCADB appendix listing of the 41 certificates
issued on the eight affected keys, as the fictional CA would attach it to its report.

It is built from the demo's own files with plain `cryptography` (not from the analysis code): the
certificates in certs/*.pem, the CRLs in crls/*.crl, and the eight keys' SPKI SHA-256 from
expected.json. The sheet has what real attachments have: a merged title row, a note row stating the
zone ("All times are UTC+8"), the eleven CCADB columns in their order, then one custom column
(SPKI SHA-256). Times are Excel date-times in UTC+8; serials are upper-case hex of the DER integer
(with the leading 00 when the top bit is set); issuers are written crt.sh style (C=..., O=..., CN=...).

Rows: one per issuance (a precertificate and its final certificate share one row), ordered by key
(K1..K8) then not_before. Is revoked?: Yes when the latest CRL of the issuer lists the serial with a
reason other than certificateHold/removeFromCRL; Delayed when not revoked and still valid at
2024-11-01T00:00Z (the report's date); N/A when it expired unrevoked.

The output is byte-identical on every run: openpyxl stamps the save time into docProps/core.xml and
zip entries carry the current time, so both are fixed here.

    python data/demo/build_spreadsheet.py [--demo DIR] [--out DIR]    # defaults: this folder
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtensionOID
from openpyxl.styles import Alignment, Font
from openpyxl.writer.excel import ExcelWriter

HERE = Path(__file__).resolve().parent
NAME = "appendix.xlsx"
AS_OF = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
ZONE = dt.timezone(dt.timedelta(hours=8))
FIXED_TIME = dt.datetime(2024, 11, 1, 0, 0, 0)  # docProps created/modified and zip entry times
POISON = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")
HEADER = [
    "Precertificate SHA-256 hash",
    "Certificate SHA-256 hash",
    "Subject",
    "Issuer",
    "Not before",
    "Not after",
    "Serial # (hex)",
    "dNSNames",
    "Is revoked?",
    "Revocation date",
    "Revocation reason",
    "SPKI SHA-256",
]
TITLE = "Example Trust - Incident Report Appendix: certificates issued on the eight affected keys"
NOTE = "All times are UTC+8"
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def load_certificates(demo: Path) -> list[x509.Certificate]:
    out = []
    for path in sorted((demo / "certs").glob("*.pem")):
        for block in _PEM.findall(path.read_bytes()):
            out.append(x509.load_pem_x509_certificate(block))
    return out


def spki_sha256(cert: x509.Certificate) -> str:
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def is_precert(cert: x509.Certificate) -> bool:
    return any(ext.oid == POISON for ext in cert.extensions)


def latest_revocations(demo: Path) -> dict[tuple[bytes, int], tuple[dt.datetime, str]]:
    """(issuer DER name, serial) -> (revocationDate, reason) from each issuer's newest CRL."""
    newest: dict[bytes, x509.CertificateRevocationList] = {}
    for path in sorted((demo / "crls").glob("*.crl")):
        crl = x509.load_der_x509_crl(path.read_bytes())
        key = crl.issuer.public_bytes()
        if key not in newest or crl.last_update_utc > newest[key].last_update_utc:
            newest[key] = crl
    out = {}
    for issuer, crl in newest.items():
        for entry in crl:
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            except x509.ExtensionNotFound:
                reason = "unspecified"
            if reason in ("certificateHold", "removeFromCRL"):
                continue
            out[(issuer, entry.serial_number)] = (entry.revocation_date_utc, reason)
    return out


def crtsh_style(name: x509.Name) -> str:
    """C=US, O=Example Trust, CN=... (most significant first, as crt.sh writes issuers)."""
    return ", ".join(a.rfc4514_string() for a in name)


def serial_hex(n: int) -> str:
    """Upper-case hex of the DER INTEGER content: a leading 00 when the top bit is set."""
    length = n.bit_length() // 8 + 1
    return n.to_bytes(length, "big").hex().upper()


def local(t: dt.datetime) -> dt.datetime:
    """UTC -> naive UTC+8 for an Excel date-time cell."""
    return t.astimezone(ZONE).replace(tzinfo=None)


def rows(demo: Path) -> list[list]:
    keys = [k["spki_sha256"] for k in json.loads((demo / "expected.json").read_text())["keys"]]
    revoked = latest_revocations(demo)
    issuances: dict[tuple[bytes, int], dict] = {}
    for cert in load_certificates(demo):
        spki = spki_sha256(cert)
        if spki not in keys:
            continue
        ident = (cert.issuer.public_bytes(), cert.serial_number)
        item = issuances.setdefault(ident, {"spki": spki})
        item["precert" if is_precert(cert) else "final"] = cert
    out = []
    for (issuer, serial), item in sorted(
        issuances.items(),
        key=lambda kv: (
            keys.index(kv[1]["spki"]),
            (kv[1].get("final") or kv[1]["precert"]).not_valid_before_utc,
        ),
    ):
        cert = item.get("final") or item["precert"]
        sans = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        rev = revoked.get((issuer, serial))
        if rev:
            status, when, reason = "Yes", local(rev[0]), rev[1]
        elif cert.not_valid_after_utc > AS_OF:
            status, when, reason = "Delayed", None, None
        else:
            status, when, reason = "N/A", None, None
        out.append(
            [
                item["precert"].fingerprint(hashes.SHA256()).hex() if "precert" in item else None,
                item["final"].fingerprint(hashes.SHA256()).hex() if "final" in item else None,
                cert.subject.rfc4514_string(),
                crtsh_style(cert.issuer),
                local(cert.not_valid_before_utc),
                local(cert.not_valid_after_utc),
                serial_hex(serial),
                ", ".join(sans.get_values_for_type(x509.DNSName)),
                status,
                when,
                reason,
                item["spki"],
            ]
        )
    return out


def workbook(demo: Path) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Appendix"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([NOTE])
    ws["A2"].font = Font(italic=True)
    ws.append(HEADER)
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows(demo):
        ws.append(row)
    for r in ws.iter_rows(min_row=4, min_col=5, max_col=10):
        for cell in r:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    widths = [20, 20, 36, 52, 20, 20, 36, 36, 11, 20, 18, 20]
    for i, w in enumerate(widths):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = w
    ws.freeze_panes = "A4"
    wb.properties.creator = "Example Trust Compliance"
    wb.properties.title = "Incident Report Appendix"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    return wb


def to_bytes(wb: openpyxl.Workbook) -> bytes:
    """Save with fixed document times and fixed zip entry times, so every run writes the same bytes."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()  # unlike openpyxl.save_workbook, keeps properties.modified
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def build(demo: Path = HERE, out: Path = HERE) -> Path:
    data = to_bytes(workbook(demo))
    out.mkdir(parents=True, exist_ok=True)
    path = out / NAME
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=HERE, help="folder with certs/, crls/, expected.json")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    print(build(args.demo, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
