"""Hostile local files end cleanly (issue 13): one bad certificate is skipped with its file and
position, never the bundle; out-of-range SCTs are ignored and reported by both readers; a -1 us
not-before is a time, not "missing"; FIFOs, unreadable files, Latin-1/UTF-16 CSVs, huge CSV fields,
deep JSON and big junk files are reported and the rest is read; CSV output neutralises formulas;
an unexpected error is one line and exit status 4. Expected values worked out by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import struct

import pandas as pd
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from analysis import certificates, der
from analysis.certificates import load_certificates
from analysis.cli import main
from analysis.keys import load_compromised_keys
from analysis.revocations import load_revocations
from analysis.safety import neutralise_cell

UTC = dt.UTC
CA_KEY = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())
LEAF_KEY = ec.derive_private_key(0xBEEF, ec.SECP256R1())
SCT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def spki_hex(key) -> str:
    import hashlib

    return hashlib.sha256(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).hexdigest()


def make_cert(
    serial: int,
    *,
    issuer: x509.Name | None = None,
    sans: tuple[str, ...] = ("ok.example.test",),
    sct_times: tuple[int, ...] = (),
    not_before: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=UTC),
) -> x509.Certificate:
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
        .issuer_name(issuer or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Test CA")]))
        .public_key(LEAF_KEY.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    )
    if sct_times:
        b = b.add_extension(x509.UnrecognizedExtension(SCT_OID, sct_extension(sct_times)), critical=False)
    return b.sign(CA_KEY, hashes.SHA256())


def sct_extension(times_ms: tuple[int, ...]) -> bytes:
    """RFC 6962 SignedCertificateTimestampList in an OCTET STRING (the extension's value)."""
    items = b""
    for ms in times_ms:
        sct = (
            b"\x00"
            + bytes(32)
            + struct.pack(">Q", ms)
            + b"\x00\x00"
            + b"\x04\x03"
            + b"\x00\x02"
            + b"\x30\x00"
        )
        items += struct.pack(">H", len(sct)) + sct
    tls = struct.pack(">H", len(items)) + items
    return b"\x04" + _der_len(len(tls)) + tls


def _der_len(n: int) -> bytes:
    return bytes([n]) if n < 128 else b"\x81" + bytes([n]) if n < 256 else b"\x82" + n.to_bytes(2, "big")


def pem(*certs: x509.Certificate | bytes) -> bytes:
    out = b""
    for c in certs:
        out += c if isinstance(c, bytes) else c.public_bytes(serialization.Encoding.PEM)
    return out


def to_pem(der_bytes: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der_bytes)
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"


def v4_multivalued_issuer(serial: int) -> bytes:
    """A certificate our name decoder declines (a multi-valued issuer RDN: cryptography decides)
    whose version field says v4, which cryptography refuses (InvalidVersion)."""
    issuer = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "Odd CA"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "O"),
                ]
            )
        ]
    )
    raw = bytearray(make_cert(serial, issuer=issuer).public_bytes(serialization.Encoding.DER))
    at = raw.index(b"\xa0\x03\x02\x01\x02")
    raw[at + 4] = 3
    return bytes(raw)


# --- one bad certificate never loses the bundle --------------------------------------------------


@pytest.mark.parametrize("names", [True, False])
def test_name_fallback_failure_skips_that_certificate(tmp_path, names):
    bundle = tmp_path / "bundle.pem"
    first = pem(make_cert(1))
    bundle.write_bytes(first + pem(to_pem(v4_multivalued_issuer(2)), make_cert(3)))
    frame, problems = load_certificates(bundle, names=names)
    assert frame["serial"].tolist() == ["1", "3"]
    assert [(p.input, p.position) for p in problems] == [(str(bundle), f"block 2 (byte {len(first)})")]
    assert "issuer name cannot be decoded (InvalidVersion" in problems[0].reason


def test_name_fallback_failure_in_the_parallel_loader(tmp_path, monkeypatch):
    monkeypatch.setattr(certificates, "PARALLEL_MIN_BYTES", 1)
    good = [make_cert(n) for n in range(10, 30)]
    bundle = tmp_path / "big.pem"
    bundle.write_bytes(pem(*good[:15], to_pem(v4_multivalued_issuer(99)), *good[15:]))
    frame, problems = load_certificates(bundle, names=False, workers=2)
    assert len(frame) == 20
    assert len(problems) == 1 and problems[0].position.startswith("block 16 ")


def test_cli_keyreuse_and_appendix_go_on_past_the_bad_certificate(tmp_path, capsys):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pem(make_cert(1), to_pem(v4_multivalued_issuer(2)), make_cert(3)))
    assert main(["keyreuse", "--certs", str(bundle), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["summary"]["certificate_entries"] == 2
    assert f"{bundle} block 2" in err and "Traceback" not in err
    keys = tmp_path / "keys.csv"
    keys.write_text(f"spki_sha256,reported_at,source\n{spki_hex(LEAF_KEY)},,test\n")
    out_csv = tmp_path / "appendix.csv"
    argv = ["report", "appendix", "--certs", str(bundle), "--compromised", str(keys), "--out", str(out_csv)]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert sorted(r["Serial # (hex)"] for r in rows) == ["1", "3"]
    capsys.readouterr()


# --- SCT timestamps out of range -----------------------------------------------------------------


def test_sct_with_high_bit_is_ignored_and_reported_by_both_readers(tmp_path):
    # 1,600,000,000,000 ms = 2020-09-13T12:26:40Z; 2**63 + 5 ms has the high bit set.
    cert = make_cert(7, sct_times=(2**63 + 5, 1_600_000_000_000))
    blob = cert.public_bytes(serialization.Encoding.DER)
    fields_py = der.parse_certificate_fields_py(blob)
    assert fields_py[10] == 1_600_000_000_000_000 and fields_py[12] == 1
    if der._cder is not None:
        assert der.parse_certificate_fields(blob) == fields_py
    path = tmp_path / "sct.pem"
    path.write_bytes(pem(cert))
    frame, problems = load_certificates(path)
    assert frame["sct_time"].iloc[0] == pd.Timestamp("2020-09-13T12:26:40Z")
    assert (
        len(problems) == 1
        and "1 embedded SCT(s) with an out-of-range timestamp ignored" in problems[0].reason
    )
    only_bad = make_cert(8, sct_times=(2**64 - 1,)).public_bytes(serialization.Encoding.DER)
    assert der.parse_certificate_fields_py(only_bad)[10] is None
    if der._cder is not None:
        assert der.parse_certificate_fields(only_bad)[10:13:2] == (None, 1)


# --- the missing marker ---------------------------------------------------------------------------


def _with_not_before(blob: bytes, generalized: bytes) -> bytes:
    """The certificate with its not-before UTCTime swapped for a GeneralizedTime, re-encoded."""

    def tlv(tag: int, content: bytes) -> bytes:
        return bytes([tag]) + _der_len(len(content)) + content

    _, cs, ce = der.tlv(blob, 0)
    _, ts, te = der.tlv(blob, cs)
    tbs = blob[ts:te]
    v = tbs.index(b"\x30\x1e\x17\x0d")  # Validity: two 13-byte UTCTimes
    validity = tlv(0x18, generalized) + tbs[v + 2 + 15 : v + 32]
    tbs = tbs[:v] + tlv(0x30, validity) + tbs[v + 32 :]
    return tlv(0x30, tlv(0x30, tbs) + blob[te:ce])


def test_not_before_one_microsecond_before_the_epoch_is_a_time(tmp_path):
    blob = make_cert(9, not_before=dt.datetime(2019, 1, 1, tzinfo=UTC)).public_bytes(
        serialization.Encoding.DER
    )
    odd = _with_not_before(blob, b"19691231235959.999999Z")
    path = tmp_path / "epoch.der"
    path.write_bytes(odd)
    frame, problems = load_certificates(path)
    assert problems == []
    assert frame["not_before"].iloc[0] == pd.Timestamp("1969-12-31T23:59:59.999999Z")


# --- local files that are not what they claim ---------------------------------------------------


def test_fifo_in_a_folder_and_given_directly(tmp_path):
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "a.pem").write_bytes(pem(make_cert(1)))
    os.mkfifo(folder / "pipe.pem")
    frame, problems = load_certificates(folder)
    assert frame["serial"].tolist() == ["1"]
    assert [(p.input, p.reason) for p in problems] == [
        (str(folder / "pipe.pem"), "not a regular file (a FIFO); skipped")
    ]
    frame, problems = load_certificates(folder / "pipe.pem")
    assert frame.empty and len(problems) == 1


def test_unreadable_files_are_reported(tmp_path, capsys, monkeypatch):
    # Root reads any file whatever its mode, so the refusal is played by open() itself.
    real_open = open

    def refusing_open(path, *a, **kw):
        if os.path.basename(str(path)).startswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **kw)

    monkeypatch.setattr("builtins.open", refusing_open)
    locked = {name: tmp_path / f"locked.{name}" for name in ("crl", "csv", "pem")}
    for path in locked.values():
        path.write_bytes(b"x")
    good = tmp_path / "good.pem"
    good.write_bytes(pem(make_cert(1)))
    argv = ["keyreuse", "--certs", str(good), "--certs", str(locked["pem"]), "--crl", str(locked["crl"])]
    argv += ["--compromised", str(locked["csv"]), "--revocations", str(locked["csv"]), "--format", "json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert d["summary"]["certificate_entries"] == 1
    assert sorted((e["input"], e["reason"]) for e in d["errors"]) == sorted(
        [
            (str(locked["pem"]), "cannot read: Permission denied"),
            (str(locked["crl"]), "cannot read: Permission denied"),
            (str(locked["csv"]), "cannot read: Permission denied"),
            (str(locked["csv"]), "cannot read: Permission denied"),
        ]
    )


def test_fifo_as_crl_and_compromised_input(tmp_path, capsys):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    data = load_revocations([pipe])
    assert [p.reason for p in data.problems] == ["not a regular file (a FIFO); skipped"]
    frame, problems = load_compromised_keys([pipe])
    assert frame.empty and [p.reason for p in problems] == ["not a regular file (a FIFO); skipped"]
    good = tmp_path / "good.pem"
    good.write_bytes(pem(make_cert(1)))
    assert main(["keyreuse", "--certs", str(good), "--crl", str(pipe), "--compromised", str(pipe)]) == 0
    assert capsys.readouterr().err.count("not a regular file") == 2


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "utf-16-le"])
def test_compromised_csv_in_other_encodings(tmp_path, encoding):
    spki = spki_hex(LEAF_KEY)
    text = f"spki_sha256,reported_at,source\n{spki},2020-01-02T03:04:05Z,Müller's list\n"
    path = tmp_path / "keys.csv"
    path.write_bytes(text.encode(encoding))
    frame, problems = load_compromised_keys([path])
    assert problems == []
    assert frame["spki_sha256"].tolist() == [spki]
    assert frame["reported_at"].iloc[0] == pd.Timestamp("2020-01-02T03:04:05Z")
    assert "Müller's list" in frame["source"].iloc[0]


def test_revocations_csv_field_over_the_limit_reported_rest_read(tmp_path):
    path = tmp_path / "revs.csv"
    rows = [
        "issuer_dn,serial,revoked_at,reason",
        "CN=Hostile Test CA,01,2020-01-01T00:00:00Z,keyCompromise",
        f"CN=Hostile Test CA,02,2020-01-01T00:00:00Z,{'x' * 140_000}",
        "CN=Hostile Test CA,03,2020-01-02T00:00:00Z,superseded",
    ]
    path.write_text("\n".join(rows) + "\n")
    data = load_revocations([path])
    assert data.frame["serial"].tolist() == ["1", "3"]
    assert [(p.position, p.reason) for p in data.problems] == [
        ("line 3", "row not read: field larger than field limit (131072)")
    ]


def test_deep_json_crtsh_rows_file_is_reported(tmp_path):
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "1.pem").write_bytes(pem(make_cert(1)))
    (folder / "crtsh.json").write_bytes(b"[" * 200_000)
    frame, problems = load_certificates(folder)
    assert len(frame) == 1
    assert [p.reason for p in problems] == ["not JSON: JSON nested too deeply to read"]


def test_deep_json_bugs_file_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "corpus.json"
    out.write_bytes(b"[" * 200_000)
    assert main(["fetch", "bugs", "--out", str(out), "--offline", "--cache-dir", str(tmp_path / "c")]) == 2
    assert "nested too deeply" in capsys.readouterr().err


def test_big_junk_file_is_sniffed_not_read(tmp_path, monkeypatch):
    junk = tmp_path / "big.bin"
    with open(junk, "wb") as fh:
        fh.truncate(64 << 20)  # 64 MiB of zero bytes (sparse): not PEM, not DER
    reads = []
    real_open = open

    def counting_open(path, mode="r", *a, **kw):
        fh = real_open(path, mode, *a, **kw)
        if str(path) == str(junk):
            real_read = fh.read
            fh.read = lambda n=-1: reads.append(n) or real_read(n)
        return fh

    monkeypatch.setattr("builtins.open", counting_open)
    frame, problems = load_certificates(junk)
    assert frame.empty
    assert [p.reason for p in problems] == ["neither PEM nor DER (junk file); only its first 1 MiB were read"]
    assert reads == [1 << 20]


# --- CSV injection --------------------------------------------------------------------------------


def test_neutralise_cell():
    assert [
        neutralise_cell(v) for v in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "a=b", "", 5, -2.5)
    ] == [
        "'=1+2",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "a=b",
        "",
        5,
        -2.5,
    ]


def test_appendix_csv_neutralises_hostile_names(tmp_path, capsys):
    evil = '=HYPERLINK("http://evil.test","x")'
    cert = make_cert(0x42, sans=("ok.example.test",))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Test CA")]))
        .public_key(LEAF_KEY.public_key())
        .serial_number(0x42)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(dt.datetime(2024, 4, 1, tzinfo=UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(evil), x509.DNSName("b.test")]), critical=False
        )
        .sign(CA_KEY, hashes.SHA256())
    )
    certs = tmp_path / "c.pem"
    certs.write_bytes(pem(cert))
    keys = tmp_path / "keys.csv"
    keys.write_text(f"spki_sha256,reported_at,source\n{spki_hex(LEAF_KEY)},,test\n")
    out = tmp_path / "a.csv"
    assert (
        main(["report", "appendix", "--certs", str(certs), "--compromised", str(keys), "--out", str(out)])
        == 0
    )
    (row,) = list(csv.DictReader(io.StringIO(out.read_text())))
    assert row["dNSNames"] == "'" + evil + ", b.test"
    capsys.readouterr()


def test_violations_csv_neutralises_hostile_text():
    from analysis.commands.keyreuse import write_violations_csv
    from analysis.keyreuse import VIOLATION_FIELDS as VIOLATION_CSV_COLUMNS

    class Findings:
        def to_dict(self):
            row = {c: "" for c in VIOLATION_CSV_COLUMNS}
            row.update({"issuer_dn": "@evil", "compromise_source": "=1+2", "serial": "1f"})
            return {"violations": [row]}

    buf = io.StringIO()
    write_violations_csv(Findings(), buf)
    (row,) = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert (row["issuer_dn"], row["compromise_source"], row["serial"]) == (
        "'@evil",
        "'=1+2",
        "1f",
    )


# --- the last resort ------------------------------------------------------------------------------


def test_unexpected_error_is_one_line_and_exit_4(tmp_path, capsys, monkeypatch):
    import analysis.inputs

    def boom(*a, **kw):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(analysis.inputs, "load_keyreuse_inputs", boom)
    good = tmp_path / "g.pem"
    good.write_bytes(pem(make_cert(1)))
    assert main(["keyreuse", "--certs", str(good)]) == 4
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0
    assert f"internal error in `keyreuse` on --certs {good}: RuntimeError: boom" in err
    assert "Traceback" not in err
    assert main(["keyreuse", "--certs", str(good), "--debug"]) == 4
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_deep_json_and_fifo_as_incident_inputs(tmp_path, capsys):
    deep = tmp_path / "bugs.json"
    deep.write_bytes(b"[" * 200_000)
    assert main(["incidents", "summary", "--bugs", str(deep)]) == 2
    err = capsys.readouterr().err
    assert f"{deep}: not JSON: nested too deeply to read" in err and "Traceback" not in err
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    assert main(["incidents", "summary", "--bugs", str(pipe)]) == 2
    assert "not a regular file (a FIFO); skipped" in capsys.readouterr().err


def test_deep_json_crl_list_is_reported(tmp_path, capsys):
    deep = tmp_path / "crls.json"
    deep.write_bytes(b"[" * 200_000)
    good = tmp_path / "g.pem"
    good.write_bytes(pem(make_cert(1)))
    assert main(["keyreuse", "--certs", str(good), "--crl-list", str(deep), "--offline"]) == 0
    assert "nested too deeply" in capsys.readouterr().err


def test_dashboard_downloads_neutralise_too():
    # The dashboard's two CSV downloads are written by the same functions as the CLI's.
    from analysis import app_data
    from analysis.keyreuse import VIOLATION_FIELDS

    class Findings:
        as_of = pd.Timestamp("2025-01-01T00:00:00Z")
        issuances = pd.DataFrame(
            [
                {
                    "key_compromised": True,
                    "san_dns": ["+1+cmd|' /C calc'!A0"],
                    "subject_dn": "CN=x",
                    "serial": "1",
                }
            ]
        )

        def to_dict(self):
            return {"violations": [{**{c: "" for c in VIOLATION_FIELDS}, "issuer_dn": "-2+3"}]}

        def compromised_issuances(self):
            return self.issuances

    (row,) = list(csv.DictReader(io.StringIO(app_data.violations_csv(Findings()))))
    assert row["issuer_dn"] == "'-2+3"
    text, n = app_data.appendix_csv(Findings())
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert (n, row["dNSNames"]) == (1, "'+1+cmd|' /C calc'!A0")


def test_report_file_deep_json_and_fifo(tmp_path, capsys):
    deep = tmp_path / "comments.json"
    deep.write_bytes(b"[" * 200_000)
    assert main(["report", "parse", str(deep)]) == 2
    err = capsys.readouterr().err
    assert f"{deep}: not JSON: nested too deeply to read" in err and "Traceback" not in err
    pipe = tmp_path / "report.md"
    os.mkfifo(pipe)
    assert main(["report", "parse", str(pipe)]) == 2
    assert "not a regular file (a FIFO); skipped" in capsys.readouterr().err


# --- shapes the fuzzer found ----------------------------------------------------------------------


def test_crl_issuer_with_an_unterminated_oid_is_reported(tmp_path, capsys):
    # An attribute type whose every byte says "more follows" (06 03 83 83 83): the OID never ends.
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Test CA")]))
        .last_update(dt.datetime(2024, 1, 1, tzinfo=UTC))
        .next_update(dt.datetime(2024, 2, 1, tzinfo=UTC))
        .sign(CA_KEY, hashes.SHA256())
    )
    blob = crl.public_bytes(serialization.Encoding.DER)
    assert blob.count(b"\x06\x03\x55\x04\x03") == 1
    bad = blob.replace(b"\x06\x03\x55\x04\x03", b"\x06\x03\x83\x83\x83")
    from analysis.revocations import load_crl_bytes

    data = load_crl_bytes(bad, "odd.crl")
    assert data.frame.empty and data.crls == []
    assert [(p.input, p.position) for p in data.problems] == [("odd.crl", "byte 0")]
    assert "malformed OID 838383" in data.problems[0].reason
    path = tmp_path / "odd.crl"
    path.write_bytes(bad)
    good = tmp_path / "g.pem"
    good.write_bytes(pem(make_cert(1)))
    assert main(["keyreuse", "--certs", str(good), "--crl", str(path)]) == 0
    assert "malformed OID" in capsys.readouterr().err


def test_sct_extension_whose_inner_octet_string_overruns_is_refused_by_both_readers():
    # extnValue holds 04 81 f0 (an OCTET STRING of 240 bytes) followed by only 10 bytes.
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Test CA")]))
        .public_key(LEAF_KEY.public_key())
        .serial_number(5)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(dt.datetime(2024, 4, 1, tzinfo=UTC))
        .add_extension(x509.UnrecognizedExtension(SCT_OID, b"\x04\x81\xf0" + bytes(10)), critical=False)
        .sign(CA_KEY, hashes.SHA256())
    )
    blob = cert.public_bytes(serialization.Encoding.DER)
    with pytest.raises(der.DERError, match="truncated"):
        der.parse_certificate_fields_py(blob)
    if der._cder is not None:
        assert der._cder.parse(blob) is None  # the C reader defers: one answer, the Python one
    frame, problems = load_certificates(blob, label="sct.der")
    assert frame.empty
    assert [(p.input, p.position) for p in problems] == [("sct.der", "byte 0")]
