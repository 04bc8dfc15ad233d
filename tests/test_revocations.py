"""Revocations from real CRLs (PKITS and pyca vectors) and from CSV; expectations read off
`openssl crl -text` of each file, not off our own output."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.certificates import load_certificates
from analysis.keyreuse import find_key_reuse
from analysis.revocations import effective_revocations, load_crl_bytes, load_revocations, load_revocations_csv

DATA = Path(__file__).parent / "data"
CRLS = DATA / "crls"
T0 = pd.Timestamp("2010-01-01T08:30:00Z")


def load(name):
    return load_crl_bytes((CRLS / name).read_bytes(), name)


def test_every_reason_with_missing_reason_as_unspecified():
    d = load("every-reason.pem")
    assert d.problems == []
    got = dict(zip(d.frame["serial"], d.frame["reason"], strict=True))
    assert got == {
        "0": "unspecified",  # no reasonCode extension
        "1": "unspecified",
        "2": "keyCompromise",
        "3": "cACompromise",
        "4": "affiliationChanged",
        "5": "superseded",
        "6": "cessationOfOperation",
        "7": "certificateHold",
        "8": "removeFromCRL",
        "9": "privilegeWithdrawn",
        "a": "aACompromise",
        "b": "keyCompromise",
    }
    assert list(d.frame["reason_code"]) == [0, 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 1]
    assert d.crls[0].issuer_dn == "CN=cryptography.io,C=US"


def test_unknown_reason_is_reported_not_fatal():
    d = load("unknown-reason-12.pem")
    assert d.frame.empty
    assert len(d.problems) == 1
    p = d.problems[0]
    assert p.input == "unknown-reason-12.pem"
    assert p.position.startswith("entry 1 ") and p.position.endswith("serial 0")
    assert "unknown CRL reason code 12" in p.reason


def test_indirect_crl_certificate_issuer_carries_forward():
    d = load("indirect-certificate-issuer.crl")
    ca5 = "OU=indirectCRL CA5,O=Test Certificates 2011,C=US"
    ca6 = "CN=indirectCRL CA6,O=Test Certificates 2011,C=US"
    ca7 = "CN=indirectCRL CA7,O=Test Certificates 2011,C=US"
    # openssl: 02 names CA6, 05 names CA7, 08 names CA6, 0A names CA5; each holds until the next.
    expected = [ca5, ca6, ca6, ca6, ca7, ca7, ca7, ca6, ca6, ca5, ca5]
    assert list(d.frame["issuer_dn"]) == expected
    assert set(d.frame["reason"]) == {"keyCompromise"}
    assert (d.frame["revoked_at"] == T0).all()


def test_revocation_dates_as_published():
    d = load("keycompromise-two-entries.crl")
    assert list(d.frame["serial"]) == ["e", "f"]
    assert list(d.frame["revoked_at"]) == [T0, T0 + pd.Timedelta(seconds=1)]


def test_empty_crl_still_covers_its_issuer():
    d = load("no-entries.pem")
    assert d.frame.empty and d.problems == []
    assert d.covered_issuers() == {"CN=r509 CRL Delegate,O=r509 LLC,L=Chicago,ST=Illinois,C=US"}


def test_pkits_certificates_and_crls_find_the_compromised_keys():
    certs, problems = load_certificates(DATA / "pkits_certs")
    assert problems == []
    revs = load_revocations(
        [
            CRLS / "keycompromise-two-entries.crl",
            CRLS / "keycompromise-one-entry.crl",
            CRLS / "keycompromise-and-hold.crl",
        ]
    )
    f = find_key_reuse(certs, revs, as_of="2011-01-01T00:00:00Z")
    # keyCompromise: Good CA 14 (RevokedsubCA), 15 (InvalidRevokedEETest3), Trust Anchor 104
    # (SeparateCertificateandCRLKeysCA2CRLSigningCert), deltaCRL CA1 2 (InvaliddeltaCRLTest3EE).
    # deltaCRL CA1 4 (ValiddeltaCRLTest5EE) is only on hold: not revoked.
    assert f.summary["compromised_keys"] == 4
    assert f.summary["violating_issuances"] == 0
    comp = set(f.keys.loc[f.keys["compromised_at"].notna(), "spki_sha256"])
    assert comp == {
        "2fdafcd95c7d071e9291e74d63a2c355b067a5dab02d714734c9e4ca695f7b34",
        "45f37c95ad3036c7f6656fb6eaff35141c51b9bd391d5d6f54e90a7136fd2aeb",
        "eae63ca57fbfa15ab395ae00f5caafe260238636129fd16dfb6d12a50e233f2d",
        "7312642e9582a230610f2b51856e124ad3e87dca84673fd13ccd398d5de1e1b8",
    }
    held = f.issuances.set_index("spki_sha256").loc[
        "4fceaa2781bd38e510818253943e7fa714b12b11fe88be11eb8b6c5cbbe7ba77"
    ]
    assert pd.isna(held["revoked_at"])


def test_certificate_given_as_crl_is_reported():
    d = load_revocations([DATA / "pkits_certs" / "GoodCACert.crt"])
    assert d.frame.empty
    assert d.problems[0].position == "byte 0" and "certificate" in d.problems[0].reason


def test_csv_canonical_columns_and_bad_rows(tmp_path):
    path = tmp_path / "revs.csv"
    path.write_text(
        "issuer_dn,serial,revoked_at,reason\n"
        '"C=US, O=Example Trust, CN=Example CA A",00:AB:CD,2019-06-01T00:00:00Z,keyCompromise\n'
        "CN=Example CA A,zz-not-hex,2019-06-01T00:00:00Z,keyCompromise\n"
        "CN=Example CA A,0x1f,2019-06-02 12:00:00,4\n"
        "CN=Example CA A,20,2019-06-03T00:00:00Z,sevenish\n"
    )
    d = load_revocations_csv(path)
    assert list(d.frame["serial"]) == ["abcd", "1f"]
    assert list(d.frame["reason"]) == ["keyCompromise", "superseded"]
    assert d.frame["revoked_at"].iloc[1] == pd.Timestamp("2019-06-02T12:00:00Z")
    assert [(p.position, p.reason.split(":")[0]) for p in d.problems] == [
        ("line 3", "bad serial"),
        ("line 5", "unknown CRL reason 'sevenish'"),
    ]


def test_effective_revocation_prefers_key_compromise():
    frame = load("every-reason.pem").frame
    twice = pd.concat(
        [frame.assign(serial="2", reason="superseded", reason_code=4), frame], ignore_index=True
    )
    eff = effective_revocations(twice)
    assert eff.set_index("serial").loc["2", "reason"] == "keyCompromise"
    # holds and removeFromCRL are not revocations
    assert not {"7", "8"} & set(eff["serial"])


def _spreadsheet_inputs(tmp_path):
    """A CSV in an incident spreadsheet's layout and an xlsx with one revocation each."""
    import openpyxl

    sheet_csv = tmp_path / "incident.csv"
    sheet_csv.write_text(
        "Serial Number,Issuer,Revocation Date,Revocation Reason\n"
        "0A:0B,CN=Sheet CA,2021-03-04 05:06:07,keyCompromise\n"
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Serial Number", "Issuer", "Revocation Date", "Revocation Reason"])
    ws.append(["1F", "CN=Sheet CA", "2022-01-02 00:00:00", "superseded"])
    xlsx = tmp_path / "incident.xlsx"
    wb.save(xlsx)
    return sheet_csv, xlsx


def test_the_public_loader_routes_spreadsheets_to_the_spreadsheet_loader(tmp_path):
    import analysis

    sheet_csv, xlsx = _spreadsheet_inputs(tmp_path)
    d = analysis.load_revocations([sheet_csv, xlsx, CRLS / "keycompromise-one-entry.crl"])
    sheets = d.frame[d.frame["issuer_dn"] == "CN=Sheet CA"]
    # serial 0A:0B -> hex a0b; 1F -> 1f; no zone stated anywhere, so the times are read as UTC
    assert sorted(zip(sheets["serial"], sheets["reason"], sheets["revoked_at"], strict=True)) == [
        ("1f", "superseded", pd.Timestamp("2022-01-02T00:00:00Z")),
        ("a0b", "keyCompromise", pd.Timestamp("2021-03-04T05:06:07Z")),
    ]
    assert len(d.frame) == 3 and len(d.crls) == 1  # and the CRL's one entry beside them


def test_the_core_loader_reads_only_crls_and_canonical_csv(tmp_path):
    sheet_csv, xlsx = _spreadsheet_inputs(tmp_path)
    d = load_revocations([sheet_csv, xlsx])
    assert d.frame.empty
    assert [(p.input, p.position) for p in d.problems][0] == (str(sheet_csv), "line 1")
    assert "missing columns" in d.problems[0].reason
    assert d.problems[1].input == str(xlsx) and len(d.problems) == 2
