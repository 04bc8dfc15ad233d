"""Property test: the fast DER path and a plain `cryptography` parse agree field by field on
generated certificates (RSA, EC, Ed25519; with and without SANs; long serials; GeneralizedTime
after 2049; precertificates; CA certificates; awkward names)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pandas as pd
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import der
from analysis.certificates import load_certificates

# Key generation is slow; a handful of keys cover the algorithms.
KEYS = {
    "RSA-2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "RSA-1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),
    "EC-P256": ec.generate_private_key(ec.SECP256R1()),
    "EC-P384": ec.generate_private_key(ec.SECP384R1()),
    "Ed25519": ed25519.Ed25519PrivateKey.generate(),
}
SIGNER = ec.generate_private_key(ec.SECP256R1())

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20, max_codepoint=0x2FFF),
    min_size=1,
    max_size=24,
)
special = st.sampled_from(
    ["a,b", "x+y", '"quoted"', "#hash", " lead", "trail ", "semi;colon", "<a>", "back\\slash", "Ünïcødé 中文"]
)
value = st.one_of(text, special)
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
dns = st.builds(lambda parts: ".".join(parts) + ".test", st.lists(label, min_size=1, max_size=3))


@st.composite
def names(draw):
    attrs = []
    if draw(st.booleans()):
        attrs.append(
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.COUNTRY_NAME, draw(st.sampled_from(["US", "DE", "CN"])))]
            )
        )
    for oid in draw(
        st.lists(
            st.sampled_from(
                [
                    NameOID.ORGANIZATION_NAME,
                    NameOID.ORGANIZATIONAL_UNIT_NAME,
                    NameOID.LOCALITY_NAME,
                    NameOID.EMAIL_ADDRESS,
                    NameOID.SERIAL_NUMBER,
                ]
            ),
            max_size=3,
        )
    ):
        v = draw(value) if oid != NameOID.EMAIL_ADDRESS else draw(dns).replace(".", "@", 1)
        if oid == NameOID.SERIAL_NUMBER:
            v = draw(st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True))
        attrs.append(x509.RelativeDistinguishedName([x509.NameAttribute(oid, v)]))
    if draw(st.booleans()):  # a multi-valued RDN now and then
        attrs.append(
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, draw(value)),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, draw(value)),
                ]
            )
        )
    for _ in range(draw(st.integers(0, 2))):
        attrs.append(x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, draw(value))]))
    if not attrs:
        attrs.append(x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, draw(value))]))
    return x509.Name(attrs)


@st.composite
def certificates(draw):
    key_name = draw(st.sampled_from(sorted(KEYS)))
    nb = draw(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2090, 1, 1))).replace(
        microsecond=0, tzinfo=dt.UTC
    )
    lifetime = draw(st.integers(1, 40000))
    builder = (
        x509.CertificateBuilder()
        .subject_name(draw(names()))
        .issuer_name(draw(names()))
        .public_key(KEYS[key_name].public_key())
        .serial_number(draw(st.integers(1, 2**159 - 1)))
        .not_valid_before(nb)
        .not_valid_after(nb + dt.timedelta(days=lifetime))
    )
    if draw(st.booleans()):
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(d) for d in draw(st.lists(dns, min_size=1, max_size=4))]
            ),
            critical=False,
        )
    ca = draw(st.sampled_from([None, True, False]))
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if draw(st.booleans()):
        builder = builder.add_extension(x509.PrecertPoison(), critical=True)
    return key_name, builder.sign(SIGNER, hashes.SHA256())


def reference(cert: x509.Certificate) -> dict:
    """What a plain cryptography parse says, field by field."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        sans = []
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        cert.extensions.get_extension_for_class(x509.PrecertPoison)
        precert = True
    except x509.ExtensionNotFound:
        precert = False
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {
        "cert_sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "spki_sha256": hashlib.sha256(spki).hexdigest(),
        "serial": format(cert.serial_number, "x"),
        "issuer_dn": cert.issuer.rfc4514_string(),
        "subject_dn": cert.subject.rfc4514_string(),
        "subject_cn": cns[-1].value if cns else None,
        "san_dns": sans,
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "is_precert": precert,
        "is_ca": is_ca,
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(certificates())
def test_fast_path_agrees_with_cryptography(generated):
    key_name, cert = generated
    want = reference(cert)
    der_bytes = cert.public_bytes(serialization.Encoding.DER)
    # The C accelerator, where built, and the pure-Python reader give the same fields.
    if der._cder is not None:
        assert der._cder.parse(der_bytes) is not None
        assert der.parse_certificate_fields(der_bytes) == der.parse_certificate_fields_py(der_bytes)
    for blob in (
        cert.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.DER),
    ):
        df, problems = load_certificates(blob)
        assert problems == []
        row = df.iloc[0]
        got = {k: row[k] for k in want}
        got["not_before"] = row["not_before"].to_pydatetime()
        got["not_after"] = row["not_after"].to_pydatetime()
        got["is_precert"] = bool(row["is_precert"])
        got["is_ca"] = bool(row["is_ca"])
        got["subject_cn"] = (
            None if row["subject_cn"] is None or str(row["subject_cn"]) == "<NA>" else row["subject_cn"]
        )
        assert got == want
        assert row["key_type"] == key_name


SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _sct_list(times_ms: list[int]) -> bytes:
    """An RFC 6962 SignedCertificateTimestampList (v1 SCTs, empty extensions) in an OCTET STRING."""
    import struct

    items = b""
    for ms in times_ms:
        sct = b"\x00" + bytes(32) + struct.pack(">Q", ms) + b"\x00\x00" + b"\x04\x03\x00\x02\x30\x00"
        items += struct.pack(">H", len(sct)) + sct
    tls = struct.pack(">H", len(items)) + items
    return b"\x04" + (bytes([len(tls)]) if len(tls) < 128 else b"\x81" + bytes([len(tls)])) + tls


# SCT timestamps are unsigned 64-bit milliseconds: ordinary ones, the edges of what a signed 64-bit
# microsecond count holds, and high-bit ones that a signed reader would see as negative.
sct_time = st.one_of(
    st.integers(0, 4_102_444_800_000),  # up to 2100
    st.integers(0, 2**64 - 1),
    st.sampled_from([der.MAX_SCT_MS, der.MAX_SCT_MS + 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sct_time, min_size=1, max_size=4))
def test_sct_timestamps_both_readers_agree(times):
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sct.test")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
        .public_key(KEYS["EC-P256"].public_key())
        .serial_number(3)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.UnrecognizedExtension(SCT_LIST_OID, _sct_list(times)), critical=False)
        .sign(SIGNER, hashes.SHA256())
    )
    blob = cert.public_bytes(serialization.Encoding.DER)
    # The rule: an SCT whose microseconds do not fit a signed 64-bit integer is ignored and counted.
    valid = [t for t in times if t <= (2**63 - 1) // 1000]
    want = (min(valid) * 1000 if valid else None, len(times) - len(valid))
    fields = der.parse_certificate_fields_py(blob)
    assert (fields[10], fields[12]) == want
    if der._cder is not None:
        assert der._cder.parse(blob) is not None
        assert der.parse_certificate_fields(blob) == fields
    df, problems = load_certificates(blob)
    got = df.iloc[0]["sct_time"]
    assert (None if pd.isna(got) else int(got.asm8.astype("datetime64[us]").view("i8"))) == want[0]
    assert len(problems) == (1 if want[1] else 0)


def test_generalized_time_after_2049_round_trip():
    nb = dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "late")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
        .public_key(KEYS["EC-P256"].public_key())
        .serial_number(1)
        .not_valid_before(nb)
        .not_valid_after(dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC))
        .sign(SIGNER, hashes.SHA256())
    )
    df, _ = load_certificates(cert.public_bytes(serialization.Encoding.DER))
    assert df.iloc[0]["not_before"].isoformat() == "2049-12-31T23:59:59+00:00"
    assert df.iloc[0]["not_after"].isoformat() == "9999-12-31T23:59:59+00:00"


def test_c_accelerator_is_built_under_ci():
    # setup.py builds it optionally; on CI's fresh machine (gcc and Python headers) it must build.
    if os.environ.get("CI", "").lower() != "true" and der._cder is None:
        pytest.skip("the optional C accelerator is not built here; the pure-Python reader is in use")
    assert der._cder is not None


def test_unusual_shapes_fall_back_to_python():
    # A truncated certificate: the accelerator declines (None) and the Python reader words the error.
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]))
        .public_key(KEYS["EC-P256"].public_key())
        .serial_number(7)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2021, 1, 1, tzinfo=dt.UTC))
        .sign(SIGNER, hashes.SHA256())
    )
    blob = cert.public_bytes(serialization.Encoding.DER)[:-10]
    if der._cder is not None:
        assert der._cder.parse(blob) is None
    with pytest.raises(der.DERError, match="truncated"):
        der.parse_certificate_fields(blob)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
