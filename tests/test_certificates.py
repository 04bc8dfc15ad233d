"""Certificate loading: real certificates against the openssl-computed SPKI hashes of
shared/realdata/MANIFEST.md, the columns of design.md, and bad input reported by position."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.certificates import fill_names, load_certificates

DATA = Path(__file__).parent / "data"
CERTS = DATA / "certs"

# SPKI SHA-256 as computed by the openssl command line (MANIFEST.md), not by our code.
MANIFEST_SPKI = {
    "rsa4096-leaf.pem": "8de1e6291d413be60abd1dd17b6e6455b6c1722ee0dd3139d775348b5a3697c2",
    "precert-shares-key-with-sct-cert.pem": "106ec12c1cf9ad271c41a614e416cfea3b997e8133b81f4df5528f4ae5893639",
    "sct-embedded-shares-key-with-precert.pem": "106ec12c1cf9ad271c41a614e416cfea3b997e8133b81f4df5528f4ae5893639",
    "sct-embedded-rsa2048.pem": "f522e496c72fccc623f1ffb9da5a79cdefe16340851f22d23d0cd2a58608066f",
    "ec-p384-root.pem": "b94c198300cec5c057ad0727b70bbe91816992256439a7b32f4598119dda9c97",
    "gost-key-openssl-cannot-decode.der": "37e08785533e9aebac4dca974222eb5a8b9cc3e947bb454a553614ae2f2494c7",
    "rsa2048-intermediate.pem": "60b87575447dcba2a36b7d11ac09fb24a9db406fee12d2cc90180517616e8a18",
    "utf8-in-dnsname.pem": "13542892694d8cee3e1ebdbcccd4799bd44db61e3c80684b1f3bde26fcfa23cd",
    "bitstring-attribute-in-subject.pem": "0b3d0ef1b80305df5f4c0f349a170c992fd2b75acdc438c28147448f720f1d34",
    "many-cn-attributes.pem": "d8f100295059819102eda7751c839c56a2ce11bf11368d4c29ac121dbec74be2",
}


def one(name: str) -> pd.Series:
    df, problems = load_certificates(CERTS / name)
    assert problems == []
    assert len(df) == 1
    return df.iloc[0]


@pytest.mark.parametrize("name,spki", sorted(MANIFEST_SPKI.items()))
def test_spki_sha256_matches_openssl(name, spki):
    assert one(name)["spki_sha256"] == spki


def test_gost_key_hashes_raw_spki_and_reports_oid_as_key_type():
    row = one("gost-key-openssl-cannot-decode.der")
    assert row["key_type"] == "1.2.643.2.2.19"  # GOST R 34.10-2001, unknown to us by name
    assert row["source"].endswith("gost-key-openssl-cannot-decode.der")


def test_chain_file_is_two_entries_in_block_order():
    df, problems = load_certificates(CERTS / "chain-leaf-and-intermediate.pem")
    assert problems == []
    assert list(df["spki_sha256"]) == [
        MANIFEST_SPKI["rsa4096-leaf.pem"],
        "e97d2234042d3c88d728455ca99070c8c711c2ad725bad39e3d6b16adbb7a031",
    ]
    assert list(df["is_ca"]) == [False, True]
    assert df["source"].str.endswith(("#block 1", "#block 2")).all()


def test_precert_flag_serial_and_fields():
    row = one("precert-shares-key-with-sct-cert.pem")
    assert bool(row["is_precert"]) is True
    assert row["serial"] == "31c787a7dc90295007bc5f2220b3b527af0"  # MANIFEST 031C78... without the leading 0
    assert row["issuer_dn"] == "CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US"
    assert row["not_before"] == pd.Timestamp("2018-07-28T10:15:02Z")
    assert row["key_type"] == "RSA-2048"


def test_embedded_sct_time_is_read():
    row = one("sct-embedded-shares-key-with-precert.pem")
    assert bool(row["is_precert"]) is False
    # openssl x509 -text shows the SCTs at Sep 26 20:56:33.769 2018 GMT (and later).
    assert row["sct_time"] == pd.Timestamp("2018-09-26T20:56:33.769Z")


def test_columns_and_dtypes_are_canonical():
    from analysis.schema import validate_certificates

    df, _ = load_certificates(CERTS)
    validate_certificates(df)
    assert str(df["not_before"].dtype) == "datetime64[us, UTC]"


def test_names_sans_and_key_types():
    row = one("rsa4096-leaf.pem")
    assert row["subject_cn"] == "www.cryptography.io"
    assert row["san_dns"] == ["www.cryptography.io", "cryptography.io"]
    assert row["key_type"] == "RSA-4096"
    assert one("ec-p384-root.pem")["key_type"] == "EC-P384"
    # dNSName holding UTF-8 is read as UTF-8, like cryptography does.
    assert "biztosítás.hu" in one("utf8-in-dnsname.pem")["san_dns"]


def test_unusual_subject_falls_back_to_cryptography():
    row = one("bitstring-attribute-in-subject.pem")
    assert row["subject_cn"] == "ScottishPower"
    # RFC 4514 order (MANIFEST: x500UniqueIdentifier=#03...,OU=02,CN=ScottishPower); the BIT STRING
    # value is rendered as #hex by cryptography, which the fast reader defers to.
    assert row["subject_dn"].startswith("2.5.4.45=#")
    assert row["subject_dn"].endswith(",OU=02,CN=ScottishPower")


def test_most_specific_cn_of_several():
    assert one("many-cn-attributes.pem")["subject_cn"] == "U.S. Department of State AD Root CA"


def test_directory_recursive_and_duplicates_are_entries(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    leaf = (CERTS / "rsa4096-leaf.pem").read_bytes()
    (tmp_path / "a" / "one.pem").write_bytes(leaf)
    (tmp_path / "a" / "b" / "two.pem").write_bytes(b"notes before\n" + leaf + b"\nnotes between\n" + leaf)
    df, problems = load_certificates(tmp_path)
    assert problems == []
    assert len(df) == 3 and df["cert_sha256"].nunique() == 1


def test_bytes_input_pem_and_der():
    der = (CERTS / "gost-key-openssl-cannot-decode.der").read_bytes()
    df, problems = load_certificates(der)
    assert problems == [] and df.iloc[0]["spki_sha256"] == MANIFEST_SPKI["gost-key-openssl-cannot-decode.der"]
    df, _ = load_certificates((CERTS / "chain-leaf-and-intermediate.pem").read_bytes(), label="upload.pem")
    assert list(df["source"]) == ["upload.pem#block 1", "upload.pem#block 2"]


def test_corrupt_pem_block_is_skipped_and_named(tmp_path):
    leaf = (CERTS / "rsa4096-leaf.pem").read_bytes()
    lines = leaf.splitlines(keepends=True)
    broken = b"".join(lines[:5] + [b"!!!!not base64 at all, and not a certificate!!!!\n"] + lines[-1:])
    path = tmp_path / "bundle.pem"
    path.write_bytes(leaf + broken + leaf)
    df, problems = load_certificates(path)
    assert len(df) == 2
    assert len(problems) == 1
    p = problems[0]
    assert p.input == str(path)
    assert p.position == f"block 2 (byte {len(leaf)})"


def test_junk_file_and_truncated_der(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"hello, this is not a certificate")
    der = (CERTS / "gost-key-openssl-cannot-decode.der").read_bytes()
    trunc = tmp_path / "cut.der"
    trunc.write_bytes(der[: len(der) // 2])
    good = tmp_path / "good.der"
    good.write_bytes(der)
    df, problems = load_certificates(tmp_path)
    assert len(df) == 1
    by_file = {Path(p.input).name: p for p in problems}
    assert set(by_file) == {"notes.txt", "cut.der"}
    assert "junk" in by_file["notes.txt"].reason
    assert by_file["cut.der"].position == "byte 0"
    assert "truncated" in by_file["cut.der"].reason


def test_pem_without_end_line(tmp_path):
    leaf = (CERTS / "rsa4096-leaf.pem").read_bytes()
    path = tmp_path / "cut.pem"
    path.write_bytes(leaf + leaf[: len(leaf) // 2])
    df, problems = load_certificates(path)
    assert len(df) == 1
    assert [p.position for p in problems] == [f"block 2 (byte {len(leaf)})"]
    assert "no END line" in problems[0].reason


def test_missing_path_is_a_problem(tmp_path):
    df, problems = load_certificates(tmp_path / "nope.pem")
    assert df.empty and problems[0].reason == "no such file or directory"


def test_fast_path_without_names_then_fill(tmp_path):
    df, _ = load_certificates(CERTS / "chain-leaf-and-intermediate.pem", names=False)
    assert df["subject_cn"].isna().all()
    filled = fill_names(df, df["is_ca"] == False)  # noqa: E712
    assert filled.iloc[0]["subject_cn"] == "www.cryptography.io"
    assert pd.isna(filled.iloc[1]["subject_cn"])


def test_crtsh_rows_file_gives_ids_and_first_seen(tmp_path):
    (tmp_path / "12345.pem").write_bytes((CERTS / "rsa4096-leaf.pem").read_bytes())
    (tmp_path / "crtsh.json").write_text('[{"id": 12345, "entry_timestamp": "2014-10-15T12:30:00.123"}]')
    df, problems = load_certificates(tmp_path)
    assert problems == []
    assert df.iloc[0]["crtsh_id"] == 12345
    assert df.iloc[0]["first_seen"] == pd.Timestamp("2014-10-15T12:30:00.123Z")


def test_parallel_split_gives_the_same_frame_and_positions(tmp_path, monkeypatch):
    import analysis.certificates as certificates

    leaf = (CERTS / "rsa4096-leaf.pem").read_bytes()
    chain = (CERTS / "chain-leaf-and-intermediate.pem").read_bytes()
    bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    path = tmp_path / "big.pem"
    path.write_bytes(chain * 20 + bad + leaf * 20)
    one, p1 = load_certificates(path, workers=1)
    monkeypatch.setattr(certificates, "PARALLEL_MIN_BYTES", 0)
    two, p2 = load_certificates(path, workers=2)
    cols = ["cert_sha256", "spki_sha256", "serial", "source", "subject_cn", "not_before"]
    pd.testing.assert_frame_equal(one[cols], two[cols])
    assert len(two) == 60
    # the 41st block is the corrupt one, whichever worker read it
    assert [p.position for p in p2] == [p.position for p in p1] == [f"block 41 (byte {len(chain) * 20})"]
    assert two["source"].iloc[-1] == f"{path}#block 61"
