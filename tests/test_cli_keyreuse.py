"""`ca-incidents keyreuse`: every output format and exit status (design.md, Command line)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from analysis.cli import main

DATA = Path(__file__).parent / "data"
LEAF = DATA / "certs" / "rsa4096-leaf.pem"


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_demo_json_object(capsys):
    status, out, err = run(capsys, "keyreuse", "--demo", "--format", "json")
    assert status == 0
    d = json.loads(out)
    assert d["schema_version"] == 1
    assert set(d) == {
        "schema_version",
        "summary",
        "keys",
        "violations",
        "revocation_delays",
        "listed_keys_without_certificates",
        "inputs",
        "errors",
        "notes",
    }
    s = d["summary"]
    assert (
        s["compromised_keys"],
        s["issuances_with_compromised_keys"],
        s["violating_issuances"],
        s["reused_compromised_keys"],
    ) == (8, 41, 33, 8)
    assert set(d["violations"][0]) == {
        "spki_sha256",
        "issuer_dn",
        "serial",
        "issued_at",
        "compromised_at",
        "compromise_source",
        "same_issuer",
        "before_br_6_1_1_3_4",
        "revoked_at",
        "revocation_reason",
        "crtsh_url",
    }
    assert d["violations"][0]["crtsh_url"].startswith("https://crt.sh/?")
    assert {i["kind"] for i in d["inputs"]} == {"certificates", "crl"}
    assert sum(i["entries"] for i in d["inputs"] if i["kind"] == "certificates") == 106
    assert err == ""


def test_demo_csv_is_the_violations(capsys):
    status, out, _ = run(capsys, "keyreuse", "--demo", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 33
    assert list(rows[0])[:3] == ["spki_sha256", "issuer_dn", "serial"]


def test_demo_table(capsys):
    status, out, _ = run(capsys, "keyreuse", "--demo")
    assert status == 0
    assert "violating issuances" in out and "33" in out


def test_scope_issuer_option(capsys):
    _, out, _ = run(capsys, "keyreuse", "--demo", "--scope", "issuer", "--format", "json")
    assert json.loads(out)["summary"]["violating_issuances"] == 26


def test_as_of_changes_remaining_valid(capsys):
    _, out, _ = run(capsys, "keyreuse", "--demo", "--as-of", "2030-01-01", "--format", "json")
    assert json.loads(out)["summary"]["remaining_valid"] == 0  # every demo certificate has expired by 2030


def test_skipped_input_exit_0_then_strict_exit_1(capsys, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a certificate")
    status, out, err = run(capsys, "keyreuse", "--certs", str(LEAF), "--certs", str(junk), "--format", "json")
    assert status == 0
    d = json.loads(out)
    assert d["errors"] == [
        {"input": str(junk), "position": "byte 0", "reason": "neither PEM nor DER (junk file)"}
    ]
    assert str(junk) in err and "byte 0" in err
    assert d["summary"]["certificate_entries"] == 1
    status, _, _ = run(capsys, "keyreuse", "--certs", str(LEAF), "--certs", str(junk), "--strict")
    assert status == 1


def test_compromised_key_file_and_unknown_crl_reason(capsys):
    # The RFC 9500 P-256 key is not in any of our certificates: listed, without certificates.
    status, out, _ = run(
        capsys,
        "keyreuse",
        "--certs",
        str(LEAF),
        "--compromised",
        str(DATA / "keys" / "ecdsap256-rfc9500.pub.pem"),
        "--crl",
        str(DATA / "crls" / "unknown-reason-12.pem"),
        "--format",
        "json",
    )
    d = json.loads(out)
    assert status == 0
    assert d["listed_keys_without_certificates"] == [
        "b2b04340cfaee616ec9c2c62d261b208e54bb197498df52e8cadede23ac0ba5e"
    ]
    assert [e["reason"] for e in d["errors"]] == ["unknown CRL reason code 12; entry skipped"]


def test_no_input_is_exit_2(capsys):
    status, _, err = run(capsys, "keyreuse")
    assert status == 2 and "no certificates" in err


def test_only_junk_is_exit_2(capsys, tmp_path):
    junk = tmp_path / "x.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    status, _, err = run(capsys, "keyreuse", "--certs", str(junk))
    assert status == 2
    assert "block 1 (byte 0)" in err


def test_bad_as_of_is_exit_2(capsys):
    status, _, err = run(capsys, "keyreuse", "--demo", "--as-of", "yesterday-ish")
    assert status == 2 and "--as-of" in err


def test_bad_option_is_exit_2():
    proc = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "keyreuse", "--format", "xml"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_console_script_runs_the_demo():
    exe = Path(sys.executable).parent / "ca-incidents"
    proc = subprocess.run(
        [str(exe), "keyreuse", "--demo", "--format", "json"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["summary"]["violating_issuances"] == 33


def test_table_lists_keys_without_certificates(capsys):
    key = DATA / "keys" / "ecdsap256-rfc9500.pub.pem"
    status, out, _ = run(capsys, "keyreuse", "--certs", str(LEAF), "--compromised", str(key))
    assert status == 0
    assert "Listed as compromised, no certificate loaded (1):" in out
    assert "b2b04340cfaee616ec9c2c62d261b208e54bb197498df52e8cadede23ac0ba5e" in out
