"""Build the embedded demo incident: certificates and CRLs of the fictional CA "Example Trust".

The incident mirrors Bugzilla bug 1927384: the CA's revocation tooling defaulted the CRL reason to
keyCompromise, so eight subscriber keys were "revoked as compromised" (first on 2018-12-24 16:00 UTC),
and the CA kept issuing certificates on those same keys until 2024-10 (33 more issuances, 41 in all).
Around them sits unrelated issuance on unique keys: other revocation reasons, a certificateHold later
lifted, precertificate/final pairs, a precertificate without a final certificate, and one serial number
used by both issuing CAs.

Everything below is driven by the tables at the top of this file (KEYS, INCIDENT, UNRELATED, ROUTINE).
Keys derive from fixed labels, dates are fixed and every signature is deterministic (RSA PKCS#1 v1.5,
RFC 6979 ECDSA, Ed25519), so each run writes the same bytes. No private key is written anywhere.

    python data/demo/build_demo.py [--out DIR]      # default: the folder this script lives in

Writes certs/*.pem, crls/*.crl (DER) and expected.json (the ground truth, from these tables).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent


def t(text: str) -> datetime:
    """'2018-12-24 16:00' (UTC) -> aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------
# The incident, as tables
# ---------------------------------------------------------------------------------------------------

AS_OF = t("2024-11-01 00:00")  # the analysis time the README's "remaining valid" figure refers to
SCT_DELAYS = (62, 97)  # seconds after not_before at which the two CT logs stamp a precertificate

# Key name -> key type. K1..K8 are the eight keys of the incident; every other certificate has its own
# key, named after the certificate id. Types: "EC-P256", "RSA-2048", "Ed25519".
COMPROMISED_KEY_TYPES = {
    "K1": "EC-P256",
    "K2": "RSA-2048",
    "K3": "EC-P256",
    "K4": "EC-P256",
    "K5": "EC-P256",
    "K6": "RSA-2048",
    "K7": "EC-P256",
    "K8": "EC-P256",
}

# The issuing CAs. "root" is self-signed; "rsa" and "ecc" are its intermediates.
CAS = {
    "root": dict(
        cn="Example Trust Root CA",
        key="EC-P384:root",
        issuer="root",
        not_before="2018-01-01 00:00",
        days=9131,
        slug="root",
    ),
    "rsa": dict(
        cn="Example Trust RSA CA 2018",
        key="RSA-2048:rsa-ca",
        issuer="root",
        not_before="2018-06-01 00:00",
        days=3652,
        slug="rsa2018",
    ),
    "ecc": dict(
        cn="Example Trust ECC CA 2020",
        key="EC-P384:ecc-ca",
        issuer="root",
        not_before="2020-02-01 00:00",
        days=3652,
        slug="ecc2020",
    ),
}


@dataclass(frozen=True)
class Cert:
    """One issuance. ct=True: a precertificate and a final certificate with two embedded SCTs."""

    id: str
    ca: str  # "rsa" | "ecc"
    key: str  # "K1".."K8", or "" for a key of its own
    cn: str
    not_before: str
    days: int
    ct: bool = False
    final: bool = True  # False: only the precertificate exists (the final one was never logged)
    revoked: str | None = None  # revocationDate, "YYYY-mm-dd HH:MM" UTC
    reason: str | None = None  # RFC 5280 reason name; None = no reasonCode extension (unspecified)
    invalidity: str | None = None  # an invalidityDate entry extension (must NOT be used as the date)
    hold_lifted: str | None = None  # with reason certificateHold: removeFromCRL in the 2nd snapshot
    serial_of: str | None = None  # reuse the serial number of another certificate (other CA)
    org: str | None = None  # OV certificate: O= in the subject
    note: str = ""


# fmt: off
# The 8 keys' certificates. "-0" is the certificate whose keyCompromise revocation (the faulty default)
# marks the key as compromised; "-r1".. are the 33 issuances on the same key after that moment.
INCIDENT = [
    # K1: the first faulty keyCompromise revocation, 2018-12-24 16:00 UTC (invalidityDate 2018-12-20).
    Cert("K1-0", "rsa", "K1", "shop.example-retail.test", "2018-10-02 10:00", 365,
         revoked="2018-12-24 16:00", reason="keyCompromise", invalidity="2018-12-20 00:00"),
    Cert("K1-r1", "rsa", "K1", "shop.example-retail.test", "2019-03-01 09:00", 365),
    Cert("K1-r2", "rsa", "K1", "shop.example-retail.test", "2020-02-20 11:00", 398, ct=True),
    Cert("K1-r3", "ecc", "K1", "shop.example-retail.test", "2021-03-10 08:00", 398),
    Cert("K1-r4", "ecc", "K1", "shop.example-retail.test", "2022-04-05 08:30", 398, ct=True),
    Cert("K1-r5", "ecc", "K1", "shop.example-retail.test", "2023-05-02 08:00", 398),
    Cert("K1-r6", "ecc", "K1", "shop.example-retail.test", "2024-05-20 08:00", 398,
         revoked="2024-10-29 10:00", reason="keyCompromise"),
    # K2
    Cert("K2-0", "rsa", "K2", "mail.example-logistics.test", "2019-01-15 00:00", 398,
         revoked="2019-05-14 09:30", reason="keyCompromise", org="Example Logistics Ltd"),
    Cert("K2-r1", "rsa", "K2", "mail.example-logistics.test", "2019-05-20 12:00", 365,
         org="Example Logistics Ltd"),
    Cert("K2-r2", "rsa", "K2", "mail.example-logistics.test", "2020-05-25 12:00", 398,
         revoked="2020-05-25 18:00", reason="superseded", org="Example Logistics Ltd",
         note="replaced 6 h after issue (typo in the order): revoked within 24 h, not a delay"),
    Cert("K2-r3", "rsa", "K2", "mail.example-logistics.test", "2020-05-26 09:00", 398,
         org="Example Logistics Ltd"),
    Cert("K2-r4", "rsa", "K2", "mail.example-logistics.test", "2022-06-27 09:00", 398, ct=True,
         org="Example Logistics Ltd"),
    Cert("K2-r5", "rsa", "K2", "mail.example-logistics.test", "2024-03-04 09:00", 398,
         revoked="2024-10-29 11:00", reason="keyCompromise", org="Example Logistics Ltd"),
    # K3: its first serial number is reused by the ECC CA for an unrelated certificate (U-trap).
    Cert("K3-0", "rsa", "K3", "portal.example-health.test", "2019-08-01 00:00", 365,
         revoked="2019-11-07 03:15", reason="keyCompromise"),
    Cert("K3-r1", "rsa", "K3", "portal.example-health.test", "2020-01-08 10:00", 365),
    Cert("K3-r2", "rsa", "K3", "portal.example-health.test", "2021-01-12 10:00", 365, ct=True),
    Cert("K3-r3", "rsa", "K3", "portal.example-health.test", "2022-01-15 10:00", 398),
    Cert("K3-r4", "rsa", "K3", "portal.example-health.test", "2024-02-16 10:00", 365,
         revoked="2024-10-30 09:00", reason="superseded"),
    # K4
    Cert("K4-0", "rsa", "K4", "api.example-bank.test", "2020-02-03 00:00", 365,
         revoked="2020-06-18 12:00", reason="keyCompromise", org="Example Bank plc"),
    Cert("K4-r1", "rsa", "K4", "api.example-bank.test", "2020-07-01 06:00", 365, org="Example Bank plc"),
    Cert("K4-r2", "rsa", "K4", "api.example-bank.test", "2021-06-30 06:00", 365, org="Example Bank plc"),
    Cert("K4-r3", "ecc", "K4", "api.example-bank.test", "2023-10-02 06:00", 398,
         revoked="2024-10-30 09:30", reason="superseded", org="Example Bank plc"),
    Cert("K4-r4", "ecc", "K4", "api.example-bank.test", "2024-07-22 06:00", 90, ct=True,
         org="Example Bank plc"),
    # K5
    Cert("K5-0", "ecc", "K5", "cdn.example-media.test", "2020-04-01 00:00", 365,
         revoked="2020-09-02 07:45", reason="keyCompromise"),
    Cert("K5-r1", "ecc", "K5", "cdn.example-media.test", "2020-09-02 20:00", 365,
         revoked="2020-09-03 10:00", reason="keyCompromise",
         note="re-issued 12 h after the compromise, revoked 14 h after its own issue: not a delay"),
    Cert("K5-r2", "ecc", "K5", "cdn.example-media.test", "2021-09-01 00:00", 365),
    Cert("K5-r3", "ecc", "K5", "cdn.example-media.test", "2022-08-25 00:00", 398, ct=True),
    Cert("K5-r4", "ecc", "K5", "cdn.example-media.test", "2024-09-10 00:00", 398),
    # K6
    Cert("K6-0", "ecc", "K6", "vpn.example-energy.test", "2020-11-16 00:00", 365,
         revoked="2021-02-11 22:10", reason="keyCompromise", org="Example Energy AG"),
    Cert("K6-r1", "ecc", "K6", "vpn.example-energy.test", "2021-03-01 00:00", 365, org="Example Energy AG"),
    Cert("K6-r2", "ecc", "K6", "vpn.example-energy.test", "2022-02-28 00:00", 365, org="Example Energy AG"),
    Cert("K6-r3", "rsa", "K6", "vpn.example-energy.test", "2022-11-23 00:00", 365, ct=True,
         org="Example Energy AG"),
    Cert("K6-r4", "ecc", "K6", "vpn.example-energy.test", "2024-10-14 00:00", 90, org="Example Energy AG"),
    # K7
    Cert("K7-0", "rsa", "K7", "www.example-travel.test", "2021-04-06 00:00", 365,
         revoked="2021-07-29 05:20", reason="keyCompromise"),
    Cert("K7-r1", "rsa", "K7", "www.example-travel.test", "2022-03-14 00:00", 365),
    Cert("K7-r2", "rsa", "K7", "www.example-travel.test", "2023-03-13 00:00", 398),
    Cert("K7-r3", "rsa", "K7", "www.example-travel.test", "2024-04-08 00:00", 365, ct=True,
         revoked="2024-10-31 09:00", reason="keyCompromise"),
    # K8: its first certificate is itself a precertificate/final pair.
    Cert("K8-0", "ecc", "K8", "login.example-edu.test", "2021-09-20 00:00", 365, ct=True,
         revoked="2021-12-03 14:00", reason="keyCompromise"),
    Cert("K8-r1", "ecc", "K8", "login.example-edu.test", "2022-09-19 08:00", 365),
    Cert("K8-r2", "ecc", "K8", "login.example-edu.test", "2023-09-18 08:00", 365),
    Cert("K8-r3", "ecc", "K8", "login.example-edu.test", "2024-09-16 08:00", 180),
]

# Unrelated issuance on unique keys that exercises the rules.
UNRELATED = [
    Cert("U-superseded", "rsa", "", "www.example-news.test", "2019-02-11 00:00", 398,
         revoked="2019-06-03 10:00", reason="superseded", note="RSA-2048 subscriber key"),
    Cert("U-cessation", "ecc", "", "shop.example-garden.test", "2021-05-10 00:00", 365,
         revoked="2021-08-16 13:00", reason="cessationOfOperation"),
    Cert("U-affiliation", "rsa", "", "intranet.example-consult.test", "2020-03-16 00:00", 365,
         revoked="2020-10-05 08:00", reason="affiliationChanged", org="Example Consulting GmbH"),
    Cert("U-noreason", "ecc", "", "status.example-cloud.test", "2021-10-04 00:00", 365,
         revoked="2021-12-20 17:30", reason=None, note="CRL entry without reasonCode = unspecified"),
    Cert("U-hold", "ecc", "", "pay.example-market.test", "2021-06-01 00:00", 398,
         revoked="2021-09-15 06:00", reason="certificateHold", hold_lifted="2022-01-20 06:00",
         note="on hold in the 2022 snapshot, removeFromCRL in the 2024 one: never revoked"),
    Cert("U-trap", "ecc", "", "docs.example-library.test", "2021-11-08 00:00", 365, serial_of="K3-0",
         note="same serial as K3-0 under the RSA CA; not revoked"),
    Cert("U-ed25519", "ecc", "", "git.example-dev.test", "2022-03-07 00:00", 365, note="Ed25519 key"),
    Cert("U-rsa-ct", "rsa", "", "www.example-hotel.test", "2023-01-09 00:00", 398, ct=True,
         note="RSA-2048 subscriber key"),
    Cert("U-ct", "ecc", "", "app.example-fitness.test", "2024-06-03 00:00", 90, ct=True),
    Cert("U-precert-only", "ecc", "", "beta.example-games.test", "2024-08-12 00:00", 90, ct=True,
         final=False, note="precertificate without a final certificate: still one issuance"),
    Cert("U-cessation-2024", "rsa", "", "old.example-radio.test", "2024-02-05 00:00", 365,
         revoked="2024-10-30 12:00", reason="cessationOfOperation"),
    # Replacement certificates on fresh keys, issued when the CA cleaned up (2024-10-29..31).
    Cert("U-new-K1", "ecc", "", "shop.example-retail.test", "2024-10-29 09:00", 90, ct=True),
    Cert("U-new-K2", "rsa", "", "mail.example-logistics.test", "2024-10-29 10:30", 90,
         org="Example Logistics Ltd"),
    Cert("U-new-K3", "rsa", "", "portal.example-health.test", "2024-10-30 08:00", 90),
    Cert("U-new-K4", "ecc", "", "api.example-bank.test", "2024-10-30 08:30", 90, org="Example Bank plc"),
    Cert("U-new-K7", "rsa", "", "www.example-travel.test", "2024-10-31 08:00", 90),
]

# Routine DV issuance on unique keys, never revoked (every third one a precertificate/final pair).
ROUTINE = [
    Cert(f"R{i:02d}", ca, "", cn, nb, days, ct=(i % 3 == 0))
    for i, (ca, cn, nb, days) in enumerate(
        [
            ("rsa", "www.example-bakery.test", "2018-09-03 00:00", 365),
            ("rsa", "blog.example-photo.test", "2019-01-07 00:00", 365),
            ("rsa", "www.example-school.test", "2019-04-15 00:00", 398),
            ("rsa", "mx.example-mail.test", "2019-07-22 00:00", 365),
            ("rsa", "www.example-florist.test", "2019-10-14 00:00", 365),
            ("rsa", "shop.example-books.test", "2020-01-20 00:00", 365),
            ("ecc", "www.example-cycling.test", "2020-04-20 00:00", 365),
            ("ecc", "api.example-weather.test", "2020-08-03 00:00", 398),
            ("rsa", "www.example-museum.test", "2020-11-09 00:00", 365),
            ("ecc", "cdn.example-video.test", "2021-02-15 00:00", 365),
            ("ecc", "www.example-dental.test", "2021-05-24 00:00", 398),
            ("rsa", "portal.example-city.test", "2021-08-30 00:00", 365),
            ("ecc", "www.example-chess.test", "2021-12-06 00:00", 90),
            ("ecc", "app.example-notes.test", "2022-03-21 00:00", 365),
            ("rsa", "www.example-farm.test", "2022-06-13 00:00", 398),
            ("ecc", "mail.example-club.test", "2022-09-26 00:00", 365),
            ("ecc", "www.example-gallery.test", "2023-01-16 00:00", 90),
            ("rsa", "www.example-insure.test", "2023-04-24 00:00", 398),
            ("ecc", "api.example-maps.test", "2023-08-07 00:00", 365),
            ("ecc", "www.example-coffee.test", "2023-11-20 00:00", 90),
            ("rsa", "shop.example-shoes.test", "2024-02-26 00:00", 365),
            ("ecc", "www.example-zoo.test", "2024-05-13 00:00", 180),
            ("ecc", "api.example-tickets.test", "2024-08-19 00:00", 90),
            ("ecc", "www.example-choir.test", "2024-10-07 00:00", 90),
        ]
    )
]

# fmt: on

CERTS = INCIDENT + UNRELATED + ROUTINE
UNIQUE_KEY_TYPES = {"U-superseded": "RSA-2048", "U-rsa-ct": "RSA-2048", "U-ed25519": "Ed25519"}

# CRL snapshots: every issuing CA publishes a full CRL on these dates. This CA never drops entries of
# expired certificates, so each snapshot lists every revocation dated before it.
CRL_SNAPSHOTS = ["2022-01-01 00:00", "2024-11-01 00:00"]
CRL_NEXT_UPDATE = timedelta(days=7)

# Fictional CT logs that sign the SCTs (keys from fixed labels, like everything else).
CT_LOGS = ["Example CT Log Argon", "Example CT Log Xenon"]

# The figures, worked out by hand from design.md's key-reuse rules and the tables above; the build
# recomputes them from the tables and refuses to write anything if they disagree.
EXPECTED_SUMMARY = {
    "certificate_entries": 106,  # 104 distinct + the two intermediates repeated at the top of each bundle
    "distinct_certificates": 104,  # 3 CA + 80 final certificates + 21 precertificates (one has no final)
    "issuances": 84,  # 3 CA + 41 on the 8 keys + 16 unrelated + 24 routine
    "distinct_keys": 51,  # 3 CA keys + 8 incident keys + 40 unique subscriber keys
    "compromised_keys": 8,
    "issuances_with_compromised_keys": 41,
    "violating_issuances": 33,
    "reused_compromised_keys": 8,
    "revocation_delays": 31,  # the 33 violations minus K2-r2 and K5-r1 (revoked within 24 h of issue)
    "remaining_valid": 3,  # K5-r4, K6-r4, K8-r3 as of 2024-11-01T00:00:00+00:00
}
EXPECTED_EXTRA = {
    "violations_before_br_6_1_1_3_4": 8,  # issue time before 2020-10-19
    "violations_same_issuer": 26,  # K1-r3..r6, K4-r3, K4-r4 (ECC CA) and K6-r3 (RSA CA) are cross-issuer
    "violating_issuances_scope_issuer": 26,
    "reused_compromised_keys_scope_issuer": 8,
    "violations_revoked_2024_10_29_to_31": 5,
    "violations_expired_unrevoked": 23,
}

# ---------------------------------------------------------------------------------------------------
# Deterministic keys
# ---------------------------------------------------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _is_probable_prime(n: int) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _SMALL_PRIMES[:24]:  # fixed Miller-Rabin bases: deterministic, ample for random candidates
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int, e: int) -> int:
    n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1  # top two bits set: p*q has exactly 2*bits bits
    while not (_is_probable_prime(n) and (n - 1) % e != 0):
        n += 2
    return n


def _rsa_key(label: str) -> rsa.RSAPrivateKey:
    rng = random.Random(f"example-trust rsa {label}")  # str seeds hash with SHA-512: stable everywhere
    e = 65537
    p = _prime(rng, 1024, e)
    q = _prime(rng, 1024, e)
    while q == p:
        q = _prime(rng, 1024, e)
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, p * q),
    )  # fmt: skip
    return numbers.private_key()


def _secret(label: str) -> bytes:
    return hashlib.sha256(f"example-trust key {label}".encode()).digest()


def make_key(spec: str):
    """'EC-P256:label', 'EC-P384:label', 'RSA-2048:label' or 'Ed25519:label' -> private key."""
    kind, label = spec.split(":", 1)
    if kind == "RSA-2048":
        return _rsa_key(label)
    if kind == "Ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(_secret(label))
    curve = {"EC-P256": ec.SECP256R1(), "EC-P384": ec.SECP384R1()}[kind]
    # 248 bits + 1: a fixed integer below the order of both curves.
    return ec.derive_private_key(int.from_bytes(_secret(label)[:31], "big") + 1, curve)


def key_spec(cert: Cert) -> str:
    if cert.key:
        return f"{COMPROMISED_KEY_TYPES[cert.key]}:{cert.key}"
    return f"{UNIQUE_KEY_TYPES.get(cert.id, 'EC-P256')}:{cert.id}"


def spki_der(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki_sha256(public_key) -> str:
    return hashlib.sha256(spki_der(public_key)).hexdigest()


def sign_kwargs(private_key) -> dict:
    if isinstance(private_key, rsa.RSAPrivateKey):
        return {"algorithm": hashes.SHA256()}  # PKCS#1 v1.5: deterministic
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        algorithm = hashes.SHA384() if private_key.curve.key_size == 384 else hashes.SHA256()
        return {"algorithm": algorithm, "ecdsa_deterministic": True}  # RFC 6979
    return {"algorithm": None}  # Ed25519


# ---------------------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------------------


def serial_for(cert_id: str) -> int:
    """A 128-bit serial number from the certificate id (about half need a leading 00 in DER)."""
    return int.from_bytes(hashlib.sha256(f"example-trust serial {cert_id}".encode()).digest()[:16], "big")


def not_after(not_before: datetime, days: int) -> datetime:
    return not_before + timedelta(days=days) - timedelta(seconds=1)


def ca_name(ca: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust"),
            x509.NameAttribute(NameOID.COMMON_NAME, CAS[ca]["cn"]),
        ]
    )


def subject_name(cert: Cert) -> x509.Name:
    attrs = []
    if cert.org:
        attrs += [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, cert.org),
        ]
    return x509.Name(attrs + [x509.NameAttribute(NameOID.COMMON_NAME, cert.cn)])


def sans(cn: str) -> list[str]:
    """dNSNames: the CN, plus the bare domain for a www. name."""
    host, _, domain = cn.partition(".")
    return [cn, domain] if host == "www" else [cn]


def sct_list_extension(log_keys, signed_data_for, timestamps_ms) -> x509.UnrecognizedExtension:
    """RFC 6962 SignedCertificateTimestampList, TLS-encoded, inside the extension's OCTET STRING."""
    scts = b""
    for log_key, ts in zip(log_keys, timestamps_ms, strict=True):
        log_id = hashlib.sha256(spki_der(log_key.public_key())).digest()
        signature = log_key.sign(signed_data_for(ts), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        sct = (
            b"\x00"  # v1
            + log_id
            + struct.pack(">Q", ts)
            + struct.pack(">H", 0)  # no extensions
            + b"\x04\x03"  # hash sha256, signature ecdsa
            + struct.pack(">H", len(signature))
            + signature
        )
        scts += struct.pack(">H", len(sct)) + sct
    tls = struct.pack(">H", len(scts)) + scts
    return x509.UnrecognizedExtension(
        x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), _der_octet_string(tls)
    )


def _der_octet_string(data: bytes) -> bytes:
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x04" + length + data


class Builder:
    def __init__(self):
        self.ca_keys = {ca: make_key(spec["key"]) for ca, spec in CAS.items()}
        self.ca_certs: dict[str, x509.Certificate] = {}
        self.log_keys = [make_key(f"EC-P256:ct-log {name}") for name in CT_LOGS]
        self._subscriber_keys: dict[str, object] = {}
        for ca in CAS:  # root first: the intermediates need its certificate
            self.ca_certs[ca] = self._build_ca(ca)

    def subscriber_key(self, cert: Cert):
        spec = key_spec(cert)
        if spec not in self._subscriber_keys:
            self._subscriber_keys[spec] = make_key(spec)
        return self._subscriber_keys[spec]

    def _build_ca(self, ca: str) -> x509.Certificate:
        spec = CAS[ca]
        key = self.ca_keys[ca]
        issuer_key = self.ca_keys[spec["issuer"]]
        nb = t(spec["not_before"])
        builder = (
            x509.CertificateBuilder()
            .subject_name(ca_name(ca))
            .issuer_name(ca_name(spec["issuer"]))
            .public_key(key.public_key())
            .serial_number(serial_for(f"ca {ca}"))
            .not_valid_before(nb)
            .not_valid_after(not_after(nb, spec["days"]))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None if ca == "root" else 0), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=ca != "root",
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )  # fmt: skip
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if ca != "root":
            builder = (
                builder.add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
                )
                .add_extension(
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                    False,
                )
                .add_extension(_crl_dp("root"), False)
                .add_extension(x509.CertificatePolicies([x509.PolicyInformation(_DV, None)]), False)
            )
        return builder.sign(issuer_key, **sign_kwargs(issuer_key))

    def build_leaf(self, cert: Cert) -> list[tuple[str, x509.Certificate]]:
        """[('precertificate', precert), ('certificate', final)] or [('certificate', cert)]."""
        key = self.subscriber_key(cert)
        ca_key = self.ca_keys[cert.ca]
        nb = t(cert.not_before)
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject_name(cert))
            .issuer_name(ca_name(cert.ca))
            .public_key(key.public_key())
            .serial_number(serial_for(cert.serial_of or cert.id))
            .not_valid_before(nb)
            .not_valid_after(not_after(nb, cert.days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            )  # fmt: skip
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
            .add_extension(_crl_dp(cert.ca), False)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(_OV if cert.org else _DV, None)]), False
            )
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans(cert.cn)]), False)
        )
        if not cert.ct:
            return [("certificate", builder.sign(ca_key, **sign_kwargs(ca_key)))]
        precert = builder.add_extension(x509.PrecertPoison(), True).sign(ca_key, **sign_kwargs(ca_key))
        out = [("precertificate", precert)]
        if cert.final:
            issuer_key_hash = hashlib.sha256(spki_der(ca_key.public_key())).digest()
            # RFC 6962: the SCTs sign the precertificate's TBS without the poison extension, which is
            # the final certificate's TBS without the SCT list: sign that once to read its bytes.
            tbs = builder.sign(ca_key, **sign_kwargs(ca_key)).tbs_certificate_bytes

            def signed_data(ts_ms: int) -> bytes:  # RFC 6962 3.2, entry_type precert_entry
                return (
                    b"\x00\x00"
                    + struct.pack(">Q", ts_ms)
                    + b"\x00\x01"
                    + issuer_key_hash
                    + len(tbs).to_bytes(3, "big")
                    + tbs
                    + b"\x00\x00"
                )

            stamps = [int((nb + timedelta(seconds=s)).timestamp()) * 1000 for s in SCT_DELAYS]
            final = builder.add_extension(sct_list_extension(self.log_keys, signed_data, stamps), False)
            out.append(("certificate", final.sign(ca_key, **sign_kwargs(ca_key))))
        return out


_DV = x509.ObjectIdentifier("2.23.140.1.2.1")
_OV = x509.ObjectIdentifier("2.23.140.1.2.2")


def _crl_dp(ca: str) -> x509.CRLDistributionPoints:
    url = f"http://crl.example-trust.test/{CAS[ca]['slug']}.crl"
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


# ---------------------------------------------------------------------------------------------------
# CRLs
# ---------------------------------------------------------------------------------------------------

REASON_FLAGS = {
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "certificateHold": x509.ReasonFlags.certificate_hold,
    "removeFromCRL": x509.ReasonFlags.remove_from_crl,
}


def crl_entries(ca: str, snapshot: datetime) -> list[tuple[Cert, datetime, str | None]]:
    """(cert, revocationDate, reason) listed by `ca`'s CRL published at `snapshot`."""
    entries = []
    for cert in CERTS:
        if cert.ca != ca or cert.revoked is None or t(cert.revoked) >= snapshot:
            continue
        reason = cert.reason
        if reason == "certificateHold" and cert.hold_lifted and t(cert.hold_lifted) < snapshot:
            entries.append((cert, t(cert.hold_lifted), "removeFromCRL"))
        else:
            entries.append((cert, t(cert.revoked), reason))
    return sorted(entries, key=lambda e: (e[1], e[0].id))


def build_crl(builder: Builder, ca: str, number: int, snapshot: datetime) -> x509.CertificateRevocationList:
    key = builder.ca_keys[ca]
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_name(ca))
        .last_update(snapshot)
        .next_update(snapshot + CRL_NEXT_UPDATE)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .add_extension(x509.CRLNumber(number), False)
    )
    for cert, when, reason in crl_entries(ca, snapshot):
        entry = x509.RevokedCertificateBuilder().serial_number(serial_for(cert.serial_of or cert.id))
        entry = entry.revocation_date(when)
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(REASON_FLAGS[reason]), False)
        if cert.invalidity:
            entry = entry.add_extension(x509.InvalidityDate(t(cert.invalidity).replace(tzinfo=None)), False)
        crl = crl.add_revoked_certificate(entry.build())
    return crl.sign(key, **sign_kwargs(key))


# ---------------------------------------------------------------------------------------------------
# Ground truth, from the tables (not from any analysis code)
# ---------------------------------------------------------------------------------------------------


def iso(when: datetime | None) -> str | None:
    return None if when is None else when.astimezone(UTC).isoformat(timespec="seconds")


def issue_time(cert: Cert) -> datetime:
    """design.md: earliest embedded SCT of the final certificate, else not_before (no crt.sh here)."""
    nb = t(cert.not_before)
    return nb + timedelta(seconds=min(SCT_DELAYS)) if cert.ct and cert.final else nb


def revocation(cert: Cert) -> tuple[datetime | None, str | None]:
    """The effective revocation (a lifted hold is none; 'unspecified' when no reasonCode)."""
    if cert.revoked is None or cert.reason == "certificateHold":
        return None, None
    return t(cert.revoked), cert.reason or "unspecified"


def ground_truth(builder: Builder, entries_by_file: dict[str, int]) -> dict:
    day = timedelta(hours=24)
    spki = {c.id: spki_sha256(builder.subscriber_key(c).public_key()) for c in CERTS}
    compromised_at: dict[str, tuple[datetime, Cert]] = {}
    for c in CERTS:
        when, reason = revocation(c)
        if reason == "keyCompromise" and (c.key not in compromised_at or when < compromised_at[c.key][0]):
            compromised_at[c.key] = (when, c)
    assert set(compromised_at) == set(COMPROMISED_KEY_TYPES), "keyCompromise outside the 8 keys"

    certificates, violations, delays, remaining = [], [], [], []
    for c in CERTS:
        nb, na = t(c.not_before), not_after(t(c.not_before), c.days)
        rev_at, rev_reason = revocation(c)
        issued = issue_time(c)
        row = {
            "id": c.id,
            "issuer_cn": CAS[c.ca]["cn"],
            "serial": format(serial_for(c.serial_of or c.id), "x"),
            "spki_sha256": spki[c.id],
            "key_type": key_spec(c).split(":")[0],
            "subject_cn": c.cn,
            "not_before": iso(nb),
            "not_after": iso(na),
            "precertificate": c.ct,
            "final_certificate": c.final,
            "sct_timestamps": [iso(nb + timedelta(seconds=s)) for s in SCT_DELAYS]
            if c.ct and c.final
            else [],
            "issued_at": iso(issued),
            "revoked_at": iso(rev_at),
            "revocation_reason": rev_reason,
            "compromised_key": c.key or None,
        }
        certificates.append(row)
        if not c.key:
            continue
        comp_at, comp_cert = compromised_at[c.key]
        if c is comp_cert:
            continue  # its own keyCompromise revocation sets the compromise time: excluded from delays
        if issued > comp_at:
            violations.append(
                {
                    "id": c.id,
                    "spki_sha256": spki[c.id],
                    "issuer_cn": row["issuer_cn"],
                    "serial": row["serial"],
                    "issued_at": iso(issued),
                    "compromised_at": iso(comp_at),
                    "same_issuer": c.ca == comp_cert.ca,
                    "before_br_6_1_1_3_4": issued < t("2020-10-19 00:00"),
                    "revoked_at": iso(rev_at),
                    "revocation_reason": rev_reason,
                }
            )
            start = issued  # violations: judged from their own issue time
        elif nb <= comp_at <= na:
            start = comp_at
        else:
            continue
        late = rev_at - start > day if rev_at else na >= start + day
        if late:
            hours = None if rev_at is None else round((rev_at - start).total_seconds() / 3600, 2)
            delays.append({"id": c.id, "from": iso(start), "revoked_at": iso(rev_at), "hours_after": hours})
        if rev_at is None and na > AS_OF:
            remaining.append(c.id)

    leaf_certs = sum(2 if c.ct and c.final else 1 for c in CERTS)
    keys = []
    for k in COMPROMISED_KEY_TYPES:
        comp_at, comp_cert = compromised_at[k]
        keys.append(
            {
                "key": k,
                "spki_sha256": spki[comp_cert.id],
                "key_type": COMPROMISED_KEY_TYPES[k],
                "compromised_at": iso(comp_at),
                "compromised_by": {
                    "id": comp_cert.id,
                    "issuer_cn": CAS[comp_cert.ca]["cn"],
                    "serial": format(serial_for(comp_cert.id), "x"),
                },
                "issuances": sum(c.key == k for c in CERTS),
                "issued_after_compromise": sum(v["spki_sha256"] == spki[comp_cert.id] for v in violations),
            }
        )
    summary = {
        "certificate_entries": sum(entries_by_file.values()),
        "distinct_certificates": len(CAS) + leaf_certs,
        "issuances": len(CAS) + len(CERTS),
        "distinct_keys": len(CAS) + len(set(spki.values())),
        "compromised_keys": len(compromised_at),
        "issuances_with_compromised_keys": sum(bool(c.key) for c in CERTS),
        "violating_issuances": len(violations),
        "reused_compromised_keys": len({v["spki_sha256"] for v in violations}),
        "revocation_delays": len(delays),
        "remaining_valid": len(remaining),
    }
    extra = {
        "violations_before_br_6_1_1_3_4": sum(v["before_br_6_1_1_3_4"] for v in violations),
        "violations_same_issuer": sum(v["same_issuer"] for v in violations),
        "violating_issuances_scope_issuer": sum(v["same_issuer"] for v in violations),
        "reused_compromised_keys_scope_issuer": len(
            {v["spki_sha256"] for v in violations if v["same_issuer"]}
        ),
        "violations_revoked_2024_10_29_to_31": sum(
            bool(v["revoked_at"]) and "2024-10-29" <= v["revoked_at"][:10] <= "2024-10-31" for v in violations
        ),
        "violations_expired_unrevoked": sum(
            v["revoked_at"] is None and v["id"] not in remaining for v in violations
        ),
    }
    assert summary == EXPECTED_SUMMARY, f"tables disagree with the hand-worked figures: {summary}"
    assert extra == EXPECTED_EXTRA, f"tables disagree with the hand-worked extra figures: {extra}"
    return {
        "schema_version": 1,
        "as_of": iso(AS_OF),
        "summary": summary,
        "extra": extra,
        "remaining_valid": remaining,
        "keys": keys,
        "violations": violations,
        "revocation_delays": delays,
        "ca_certificates": [
            {
                "id": ca,
                "subject_cn": spec["cn"],
                "issuer_cn": CAS[spec["issuer"]]["cn"],
                "serial": format(serial_for(f"ca {ca}"), "x"),
                "spki_sha256": spki_sha256(builder.ca_keys[ca].public_key()),
            }
            for ca, spec in CAS.items()
        ],
        "ct_logs": [
            {
                "name": name,
                "log_id": hashlib.sha256(spki_der(key.public_key())).hexdigest(),
                "public_key_der_hex": spki_der(key.public_key()).hex(),
            }
            for name, key in zip(CT_LOGS, builder.log_keys, strict=True)
        ],
        "certificates": certificates,
        "files": {name: {"entries": n} for name, n in sorted(entries_by_file.items())},
        "notes": [
            "Written from the incident tables in build_demo.py and design.md's key-reuse rules, "
            "not from analysis code.",
            "CA certificates (root and intermediates) count as issuances and keys; none is compromised.",
        ],
    }


# ---------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------


def pem_block(label: str, cert: x509.Certificate) -> str:
    return f"# {label}\n" + cert.public_bytes(serialization.Encoding.PEM).decode()


def build(out: Path) -> dict[str, bytes]:
    builder = Builder()
    files: dict[str, bytes] = {}
    entries: dict[str, int] = {}

    chain = [pem_block(f"{CAS[ca]['cn']} (CA)", builder.ca_certs[ca]) for ca in CAS]
    files["certs/chain.pem"] = "".join(chain).encode()
    entries["certs/chain.pem"] = len(chain)

    for ca in ("rsa", "ecc"):
        blocks = [pem_block(f"{CAS[ca]['cn']} (CA, repeated from chain.pem)", builder.ca_certs[ca])]
        for cert in sorted((c for c in CERTS if c.ca == ca), key=lambda c: (c.not_before, c.id)):
            for kind, obj in builder.build_leaf(cert):
                blocks.append(pem_block(f"{cert.id} {kind}: {cert.cn} serial {obj.serial_number:x}", obj))
        name = f"certs/example-trust-{CAS[ca]['slug']}.pem"
        files[name] = "".join(blocks).encode()
        entries[name] = len(blocks)

        for number, snapshot in enumerate(CRL_SNAPSHOTS, start=1):
            crl = build_crl(builder, ca, number, t(snapshot))
            files[f"crls/example-trust-{CAS[ca]['slug']}-{snapshot[:10]}.crl"] = crl.public_bytes(
                serialization.Encoding.DER
            )

    truth = ground_truth(builder, entries)
    files["expected.json"] = (json.dumps(truth, indent=2) + "\n").encode()

    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    files = build(args.out)
    for name in sorted(files):
        print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
