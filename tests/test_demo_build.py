"""The embedded demo (data/demo): rebuilt byte for byte, and its files say what the README says.

The expected values below are written by hand from data/demo/README.md (the incident's design);
the certificates are read with plain `cryptography`, not with the library's loader.
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
BUILT_DIRS = ("certs", "crls")  # folders the build script owns entirely
BUILT_FILES = ("expected.json",)
SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
POISON_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.3")

RSA_CA = "Example Trust RSA CA 2018"
ECC_CA = "Example Trust ECC CA 2020"
ROOT = "Example Trust Root CA"

SUMMARY = {
    "certificate_entries": 106,
    "distinct_certificates": 104,
    "issuances": 84,
    "distinct_keys": 51,
    "compromised_keys": 8,
    "issuances_with_compromised_keys": 41,
    "violating_issuances": 33,
    "reused_compromised_keys": 8,
    "revocation_delays": 31,
    "remaining_valid": 3,
}

COMPROMISED_AT = {
    "K1": "2018-12-24T16:00:00+00:00",
    "K2": "2019-05-14T09:30:00+00:00",
    "K3": "2019-11-07T03:15:00+00:00",
    "K4": "2020-06-18T12:00:00+00:00",
    "K5": "2020-09-02T07:45:00+00:00",
    "K6": "2021-02-11T22:10:00+00:00",
    "K7": "2021-07-29T05:20:00+00:00",
    "K8": "2021-12-03T14:00:00+00:00",
}

# Precertificate/final pairs with their two SCT timestamps (not_before + 62 s and + 97 s).
SCTS = {
    "K1-r2": ("2020-02-20T11:01:02", "2020-02-20T11:01:37"),
    "K1-r4": ("2022-04-05T08:31:02", "2022-04-05T08:31:37"),
    "K2-r4": ("2022-06-27T09:01:02", "2022-06-27T09:01:37"),
    "K3-r2": ("2021-01-12T10:01:02", "2021-01-12T10:01:37"),
    "K4-r4": ("2024-07-22T06:01:02", "2024-07-22T06:01:37"),
    "K5-r3": ("2022-08-25T00:01:02", "2022-08-25T00:01:37"),
    "K6-r3": ("2022-11-23T00:01:02", "2022-11-23T00:01:37"),
    "K7-r3": ("2024-04-08T00:01:02", "2024-04-08T00:01:37"),
    "K8-0": ("2021-09-20T00:01:02", "2021-09-20T00:01:37"),
    "U-rsa-ct": ("2023-01-09T00:01:02", "2023-01-09T00:01:37"),
    "U-ct": ("2024-06-03T00:01:02", "2024-06-03T00:01:37"),
    "U-new-K1": ("2024-10-29T09:01:02", "2024-10-29T09:01:37"),
    "R00": ("2018-09-03T00:01:02", "2018-09-03T00:01:37"),
    "R03": ("2019-07-22T00:01:02", "2019-07-22T00:01:37"),
    "R06": ("2020-04-20T00:01:02", "2020-04-20T00:01:37"),
    "R09": ("2021-02-15T00:01:02", "2021-02-15T00:01:37"),
    "R12": ("2021-12-06T00:01:02", "2021-12-06T00:01:37"),
    "R15": ("2022-09-26T00:01:02", "2022-09-26T00:01:37"),
    "R18": ("2023-08-07T00:01:02", "2023-08-07T00:01:37"),
    "R21": ("2024-05-13T00:01:02", "2024-05-13T00:01:37"),
}
PRECERT_ONLY = {"U-precert-only"}

# CRL file -> {certificate id: (revocationDate, reason or None when the entry has no reasonCode)}.
_RSA_2022 = {
    "K1-0": ("2018-12-24T16:00:00", "keyCompromise"),
    "K2-0": ("2019-05-14T09:30:00", "keyCompromise"),
    "U-superseded": ("2019-06-03T10:00:00", "superseded"),
    "K3-0": ("2019-11-07T03:15:00", "keyCompromise"),
    "K2-r2": ("2020-05-25T18:00:00", "superseded"),
    "K4-0": ("2020-06-18T12:00:00", "keyCompromise"),
    "U-affiliation": ("2020-10-05T08:00:00", "affiliationChanged"),
    "K7-0": ("2021-07-29T05:20:00", "keyCompromise"),
}
_ECC_2022 = {
    "K5-0": ("2020-09-02T07:45:00", "keyCompromise"),
    "K5-r1": ("2020-09-03T10:00:00", "keyCompromise"),
    "K6-0": ("2021-02-11T22:10:00", "keyCompromise"),
    "U-cessation": ("2021-08-16T13:00:00", "cessationOfOperation"),
    "U-hold": ("2021-09-15T06:00:00", "certificateHold"),
    "K8-0": ("2021-12-03T14:00:00", "keyCompromise"),
    "U-noreason": ("2021-12-20T17:30:00", None),
}
CRLS = {
    "crls/example-trust-rsa2018-2022-01-01.crl": (RSA_CA, _RSA_2022),
    "crls/example-trust-rsa2018-2024-11-01.crl": (
        RSA_CA,
        _RSA_2022
        | {
            "K2-r5": ("2024-10-29T11:00:00", "keyCompromise"),
            "K3-r4": ("2024-10-30T09:00:00", "superseded"),
            "U-cessation-2024": ("2024-10-30T12:00:00", "cessationOfOperation"),
            "K7-r3": ("2024-10-31T09:00:00", "keyCompromise"),
        },
    ),
    "crls/example-trust-ecc2020-2022-01-01.crl": (ECC_CA, _ECC_2022),
    "crls/example-trust-ecc2020-2024-11-01.crl": (
        ECC_CA,
        _ECC_2022
        | {
            "U-hold": ("2022-01-20T06:00:00", "removeFromCRL"),
            "K1-r6": ("2024-10-29T10:00:00", "keyCompromise"),
            "K4-r3": ("2024-10-30T09:30:00", "superseded"),
        },
    ),
}
PEM_ENTRIES = {
    "certs/chain.pem": 3,
    "certs/example-trust-rsa2018.pem": 49,
    "certs/example-trust-ecc2020.pem": 54,
}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _files(root: Path) -> dict[str, bytes]:
    out = {name: (root / name).read_bytes() for name in BUILT_FILES if (root / name).exists()}
    for folder in BUILT_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [sys.executable, str(DEMO / "build_demo.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return out


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((DEMO / "expected.json").read_text())


@pytest.fixture(scope="module")
def certs() -> dict[str, list[x509.Certificate]]:
    return {name: x509.load_pem_x509_certificates((DEMO / name).read_bytes()) for name in PEM_ENTRIES}


@pytest.fixture(scope="module")
def by_id(expected, certs) -> dict[str, list[x509.Certificate]]:
    """Certificate id (README) -> [precertificate, final] or [certificate], matched on issuer + serial."""
    index: dict[tuple[str, int], list[x509.Certificate]] = {}
    for name in ("certs/example-trust-rsa2018.pem", "certs/example-trust-ecc2020.pem"):
        for cert in certs[name][1:]:
            cn = cert.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
            index.setdefault((cn, cert.serial_number), []).append(cert)
    return {row["id"]: index[(row["issuer_cn"], int(row["serial"], 16))] for row in expected["certificates"]}


def test_rebuild_is_byte_identical(rebuilt):
    committed, fresh = _files(DEMO), _files(rebuilt)
    assert sorted(fresh) == sorted(committed)
    for name, data in fresh.items():
        assert data == committed[name], f"{name} differs from the committed file; rerun build_demo.py"


def test_expected_json_figures(expected):
    assert expected["summary"] == SUMMARY
    assert expected["as_of"] == "2024-11-01T00:00:00+00:00"
    assert {k["key"]: k["compromised_at"] for k in expected["keys"]} == COMPROMISED_AT
    assert sorted(expected["remaining_valid"]) == ["K5-r4", "K6-r4", "K8-r3"]
    assert len(expected["violations"]) == 33
    assert {d["id"] for d in expected["revocation_delays"]} == {v["id"] for v in expected["violations"]} - {
        "K2-r2",
        "K5-r1",
    }


def test_files_parse_and_chain(certs):
    assert {name: len(blocks) for name, blocks in certs.items()} == PEM_ENTRIES
    root, rsa_ca, ecc_ca = certs["certs/chain.pem"]
    root.verify_directly_issued_by(root)
    for ca in (rsa_ca, ecc_ca):
        ca.verify_directly_issued_by(root)
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # Each issuing CA's bundle repeats its intermediate first, then holds only its leaves.
    for name, ca in (
        ("certs/example-trust-rsa2018.pem", rsa_ca),
        ("certs/example-trust-ecc2020.pem", ecc_ca),
    ):
        assert certs[name][0] == ca
        for leaf in certs[name][1:]:
            leaf.verify_directly_issued_by(ca)
            assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            days = (leaf.not_valid_after_utc - leaf.not_valid_before_utc + timedelta(seconds=1)).days
            assert 90 <= days <= 398
            cdp = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
            assert cdp[0].full_name[0].value.startswith("http://crl.example-trust.test/")
    everything = [c for blocks in certs.values() for c in blocks]
    assert len({c.fingerprint(hashes.SHA256()) for c in everything}) == SUMMARY["distinct_certificates"]
    spkis = {
        hashlib.sha256(
            c.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).hexdigest()
        for c in everything
    }
    assert len(spkis) == SUMMARY["distinct_keys"]


def test_certificates_match_expected_json(expected, by_id):
    for row in expected["certificates"]:
        found = by_id[row["id"]]
        for cert in found:
            der = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            assert hashlib.sha256(der).hexdigest() == row["spki_sha256"]
            assert cert.not_valid_before_utc.isoformat() == row["not_before"]
            assert cert.not_valid_after_utc.isoformat() == row["not_after"]
        kinds = ["precert" if _is_precert(c) else "final" for c in found]
        if row["id"] in SCTS:
            assert kinds == ["precert", "final"]
        elif row["id"] in PRECERT_ONLY:
            assert kinds == ["precert"]
        else:
            assert kinds == ["final"]
    # 41 issuances on the 8 keys, one spki per key.
    on_keys = [r for r in expected["certificates"] if r["compromised_key"]]
    assert len(on_keys) == 41
    assert len({r["spki_sha256"] for r in on_keys}) == 8
    assert {r["compromised_key"]: r["spki_sha256"] for r in on_keys} == {
        k["key"]: k["spki_sha256"] for k in expected["keys"]
    }


def _is_precert(cert: x509.Certificate) -> bool:
    try:
        ext = cert.extensions.get_extension_for_oid(POISON_OID)
    except x509.ExtensionNotFound:
        return False
    assert ext.critical
    return True


def test_serial_trap(expected, by_id):
    rows = {r["id"]: r for r in expected["certificates"]}
    assert rows["K3-0"]["serial"] == rows["U-trap"]["serial"]
    assert rows["K3-0"]["issuer_cn"] == RSA_CA and rows["U-trap"]["issuer_cn"] == ECC_CA
    assert rows["K3-0"]["spki_sha256"] != rows["U-trap"]["spki_sha256"]
    assert rows["U-trap"]["revoked_at"] is None


def test_embedded_scts(expected, by_id, certs):
    logs = {
        bytes.fromhex(log["log_id"]): serialization.load_der_public_key(
            bytes.fromhex(log["public_key_der_hex"])
        )
        for log in expected["ct_logs"]
    }
    cas = {RSA_CA: certs["certs/chain.pem"][1], ECC_CA: certs["certs/chain.pem"][2]}
    for cert_id, stamps in SCTS.items():
        precert, final = by_id[cert_id]
        with pytest.raises(x509.ExtensionNotFound):
            precert.extensions.get_extension_for_oid(SCT_OID)
        scts = final.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps).value
        assert [s.timestamp.isoformat() for s in scts] == list(stamps)
        assert all(
            0 < (s.timestamp.replace(tzinfo=UTC) - final.not_valid_before_utc).seconds < 120 for s in scts
        )
        row = next(r for r in expected["certificates"] if r["id"] == cert_id)
        assert row["issued_at"] == stamps[0] + "+00:00"
        # RFC 6962 3.2: each log signed the precertificate's TBS without the poison extension.
        issuer = cas[final.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value]
        issuer_key_hash = hashlib.sha256(
            issuer.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).digest()
        tbs = final.tbs_precertificate_bytes
        for sct in scts:
            ms = int(sct.timestamp.replace(tzinfo=UTC).timestamp() * 1000)
            signed = (
                b"\x00\x00"
                + struct.pack(">Q", ms)
                + b"\x00\x01"
                + issuer_key_hash
                + len(tbs).to_bytes(3, "big")
                + tbs
                + b"\x00\x00"
            )
            logs[sct.log_id].verify(sct.signature, signed, ec.ECDSA(hashes.SHA256()))
    for cert_id in PRECERT_ONLY:
        assert [_is_precert(c) for c in by_id[cert_id]] == [True]


def test_crl_entries(expected, certs):
    serial_to_id = {(r["issuer_cn"], int(r["serial"], 16)): r["id"] for r in expected["certificates"]}
    cas = {RSA_CA: certs["certs/chain.pem"][1], ECC_CA: certs["certs/chain.pem"][2]}
    for name, (issuer_cn, entries) in CRLS.items():
        crl = x509.load_der_x509_crl((DEMO / name).read_bytes())
        assert crl.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == issuer_cn
        assert crl.is_signature_valid(cas[issuer_cn].public_key())
        assert crl.last_update_utc == _utc(name[-14:-4] + "T00:00:00")
        found = {}
        for entry in crl:
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            except x509.ExtensionNotFound:
                reason = None
            found[serial_to_id[(issuer_cn, entry.serial_number)]] = (
                entry.revocation_date_utc.replace(tzinfo=None).isoformat(),
                reason,
            )
        assert found == entries, name
    # The first revocation carries an earlier invalidityDate, which must not count as the revocation date.
    crl = x509.load_der_x509_crl((DEMO / "crls/example-trust-rsa2018-2022-01-01.crl").read_bytes())
    first = min(crl, key=lambda e: e.revocation_date_utc)
    assert first.revocation_date_utc == _utc("2018-12-24T16:00:00")
    assert first.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc == _utc(
        "2018-12-20T00:00:00"
    )
    # keyCompromise appears only on the 8 keys.
    kc_ids = {i for _, entries in CRLS.values() for i, (_, r) in entries.items() if r == "keyCompromise"}
    assert {i.split("-")[0] for i in kc_ids} == set(COMPROMISED_AT)
