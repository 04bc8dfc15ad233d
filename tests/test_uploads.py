"""Dashboard uploads (analysis/uploads.py, app_data.save_upload): sorted by content, junk refused
with the command line's reason and listed, non-ASCII names kept apart, symlinks never followed.

Expected kinds and reasons are worked out from the files (what each one is), not from the code."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from analysis import app_data, uploads
from analysis.cli import main
from analysis.demo import DEMO_DIR
from analysis.errors import InputError

DATA = Path(__file__).parent / "data"

PEM = (DEMO_DIR / "certs" / "chain.pem").read_bytes()
JUNK_TEXT = b"MIIB this is not base64 at all\n" * 40
RANDOM_20MB = random.Random(15).randbytes(20 * 1024 * 1024)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CA_INCIDENTS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _bug_list(n: int, first_key: str | None = None) -> bytes:
    bugs = [
        {"id": 1_500_000 + i, "summary": f"Example CA {i}: misissued certificate", "status": "NEW"}
        for i in range(n)
    ]
    obj = {first_key: [], "bugs": bugs} if first_key else {"bugs": bugs}
    return json.dumps(obj, indent=1).encode()


# --- by content, whatever the name says ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, kind, suffix",
    [
        ("report.md", PEM, "certs", None),  # PEM certificates named like a report
        ("x.pem", (DATA / "crls" / "keycompromise-one-entry.crl").read_bytes(), "crls", ".crl"),  # DER CRL
        ("notes.txt", (DATA / "crls" / "every-reason.pem").read_bytes(), "crls", None),  # PEM CRL
        ("keys.csv", (DATA / "keys" / "ecdsap256-rfc9500.pub.pem").read_bytes(), "compromised", ".pem"),
        ("k.bin", (DATA / "keys" / "ed25519-rfc8410.priv.pem").read_bytes(), "compromised", ".pem"),
        ("gost", (DATA / "certs" / "gost-key-openssl-cannot-decode.der").read_bytes(), "certs", ".der"),
        ("sheet.dat", (DEMO_DIR / "appendix.xlsx").read_bytes(), "revocations", ".xlsx"),
        (
            "revs.txt",
            b"issuer_dn,serial,revoked_at,reason\nCN=Example CA,1a,2024-10-26T08:00:00Z,keyCompromise\n",
            "revocations",
            ".csv",
        ),
        ("list.txt", b"spki_sha256,reported_at\n" + b"ab" * 32 + b",\n", "compromised", ".csv"),
        ("report.json", (DEMO_DIR / "report.md").read_bytes(), "report", None),
        ("notes.md", _bug_list(2), "corpus", None),
        ("c.txt", (DEMO_DIR / "corpus" / "9100001" / "comments.json").read_bytes(), "report", None),
    ],
)
def test_uploads_are_sorted_by_content(name, data, kind, suffix):
    got = uploads.classify_upload(name, data)
    assert (got.kind, got.suffix) == (kind, suffix), got.reason


def test_a_bug_list_of_any_size_is_a_bug_list():
    big = _bug_list(3000)  # ~400 KB, like the real 1,688-bug list (449 KB)
    assert len(big) > 300_000
    assert uploads.classify_upload("ca_compliance_bugs.json", big).kind == "corpus"
    # "bugs" need not be the first key (Bugzilla puts "faults" first in some answers)
    assert uploads.classify_upload("b.json", _bug_list(3000, first_key="faults")).kind == "corpus"


def test_json_top_level_streams_without_recursion():
    assert uploads.json_top_level(b'{"faults": [], "bugs": [{"id": 1}]}') == (
        "object",
        [("faults", "["), ("bugs", "[")],
    )
    assert uploads.json_top_level('{"a": "x\\"}", "bugs": {"1": {}}}') == (
        "object",
        [("a", '"'), ("bugs", "{")],
    )
    assert uploads.json_top_level(b"[" * 200_000) == ("array", [("", "[")])
    assert uploads.json_top_level(b"hello") == (None, [])


# --- junk is refused with the reason the command line gives ------------------------------------------


def _cli_reason(tmp_path, name: str, data: bytes, capsys) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["keyreuse", "--certs", str(path)]) == 2
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "skipped" in x)
    return line


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("evil.pem", JUNK_TEXT, "neither PEM nor DER (junk file)"),
        ("empty.pem", b"", "empty file"),
        ("random.bin", RANDOM_20MB, "neither PEM nor DER (junk file)"),
    ],
)
def test_junk_is_refused_with_the_command_lines_reason(tmp_path, capsys, name, data, reason):
    got = uploads.classify_upload(name, data)
    assert got.kind is None and reason in got.reason
    assert reason in _cli_reason(tmp_path, name, data, capsys)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"[" * 200_000, "nested too deeply"),
        (b'{"bugs": [{"id": 1, "history": []}]}', "history"),
        (b'{"hello": 1}', "neither a Bugzilla bug list"),
        (b"PK\x03\x04 not really a zip", "broken zip"),
        (b"Dear diary, nothing happened today.\n", "not a certificate, CRL, key"),
        (b"Dear diary, nothing happened today.\n" * 500_000, "too large for an incident report"),
    ],
)
def test_other_junk_is_refused(data, words):
    got = uploads.classify_upload("upload.json", data)
    assert got.kind is None and words in got.reason


def test_a_refused_upload_is_listed_and_nothing_is_saved(cache):
    ds = app_data.create_dataset("junk")
    with pytest.raises(InputError, match="junk file"):
        app_data.save_upload(ds, "random.bin", RANDOM_20MB[:4096])
    with pytest.raises(InputError, match="empty file"):
        app_data.save_upload(ds, "empty.pem", b"")
    ds = app_data.get_dataset("junk")
    assert app_data.workspace_files(ds).empty
    assert all(not ds.files(k) for k in app_data.KINDS)
    refused = app_data.refused_uploads(ds)
    assert [r["input"] for r in refused] == ["random.bin", "empty.pem"]
    assert refused[1]["reason"] == "upload refused: empty file"
    # A good upload under the same name takes it off the list.
    app_data.save_upload(ds, "empty.pem", PEM)
    assert [r["input"] for r in app_data.refused_uploads(ds)] == ["random.bin"]


def test_the_overview_lists_refused_uploads_first(cache):
    ds = app_data.create_dataset("mixed")
    app_data.save_upload(ds, "chain.pem", PEM)
    with pytest.raises(InputError):
        app_data.save_upload(ds, "evil.pem", JUNK_TEXT)
    ds = app_data.get_dataset("mixed")
    ov = app_data.overview(app_data.analyse(ds), refused=app_data.refused_uploads(ds))
    assert ov["problems"][0]["input"] == "evil.pem"
    assert "neither PEM nor DER (junk file)" in ov["problems"][0]["reason"]


def test_a_named_kind_is_checked_against_the_content(cache):
    ds = app_data.create_dataset("forced")
    with pytest.raises(InputError, match="not crls"):
        app_data.save_upload(ds, "chain.pem", PEM, kind="crls")
    path = app_data.save_upload(ds, "sheet", (DEMO_DIR / "appendix.xlsx").read_bytes(), kind="revocations")
    assert path.name == "sheet.xlsx"  # the spreadsheet loader picks its reader by suffix


# --- names ------------------------------------------------------------------------------------------


def test_non_ascii_names_stay_apart(cache):
    ds = app_data.create_dataset("names")
    names = ["证书.pem", "証明書.pem", "сертификат.pem", "★.pem", "☆.pem"]
    paths = [app_data.save_upload(ds, n, PEM) for n in names]
    assert len({p.name for p in paths}) == 5
    assert [p.name for p in paths[:3]] == ["证书.pem", "証明書.pem", "сертификат.pem"]
    assert all(p.name.startswith("upload-") and p.name.endswith(".pem") for p in paths[3:])
    assert len(list((cache / "workspace" / "names" / "certs").glob("*.pem"))) == 5


# --- symlinks planted in the workspace are never followed -------------------------------------------


@pytest.fixture
def outside(tmp_path):
    d = tmp_path / "outside"
    d.mkdir()
    (d / "precious.txt").write_text("keep me")
    return d


def test_a_planted_temporary_link_is_not_written_through(cache, outside):
    ds = app_data.create_dataset("x")
    certs = cache / "workspace" / "x" / "certs"
    certs.mkdir()
    (certs / ".a.pem.part").symlink_to(outside / "precious.txt")
    path = app_data.save_upload(ds, "a.pem", PEM)
    assert (outside / "precious.txt").read_text() == "keep me"
    assert path.read_bytes() == PEM and not path.is_symlink()


def test_a_link_at_the_target_name_is_replaced_not_followed(cache, outside):
    ds = app_data.create_dataset("x")
    certs = cache / "workspace" / "x" / "certs"
    certs.mkdir()
    (certs / "a.pem").symlink_to(outside / "precious.txt")
    app_data.save_upload(ds, "a.pem", PEM)
    assert (outside / "precious.txt").read_text() == "keep me"
    assert not (certs / "a.pem").is_symlink()


def test_a_linked_kind_folder_is_refused(cache, outside):
    ds = app_data.create_dataset("x")
    (cache / "workspace" / "x" / "certs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InputError, match="symbolic link"):
        app_data.save_upload(ds, "a.pem", PEM)
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_a_linked_data_set_folder_is_refused(cache, outside):
    (cache / "workspace").mkdir(parents=True)
    (cache / "workspace" / "y").symlink_to(outside, target_is_directory=True)
    ds = app_data.get_dataset("y")
    with pytest.raises(InputError, match="symbolic link"):
        app_data.save_upload(ds, "a.pem", PEM)
    with pytest.raises(InputError, match="symbolic link"):
        app_data.save_upload(ds, "bugs.json", _bug_list(1))
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_a_linked_bug_list_is_replaced_not_followed(cache, outside):
    ds = app_data.create_dataset("x")
    corpus = cache / "workspace" / "x" / "corpus"
    corpus.mkdir()
    (corpus / "bugs.json").symlink_to(outside / "precious.txt")
    app_data.save_upload(ds, "bugs.json", _bug_list(1))
    assert (outside / "precious.txt").read_text() == "keep me"
    assert json.loads((corpus / "bugs.json").read_text())["bugs"][0]["id"] == 1_500_000


def test_bug_ids_that_are_not_numbers_are_refused_with_their_position(cache):
    ds = app_data.create_dataset("ids")
    bad = json.dumps({"bugs": [{"id": 1, "summary": "a"}, {"id": "abc", "summary": "b"}]}).encode()
    with pytest.raises(InputError) as err:
        app_data.save_upload(ds, "bugs.json", bad)
    assert err.value.position == "bug 2" and "'abc'" in err.value.reason
