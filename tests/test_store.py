"""`ca-incidents ingest` and the store: append, dedupe by certificate hash, manifest, bounded reading,
bad input. Expected figures are counted by hand from the fixture files named in tests/data/README.md."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analysis.cli import main
from analysis.inputs import load_keyreuse_inputs
from analysis.store import find_key_reuse_store, ingest, open_store

pytest.importorskip("duckdb")

DATA = Path(__file__).parent / "data"
LEAF = DATA / "certs" / "rsa4096-leaf.pem"  # one certificate
CHAIN = DATA / "certs" / "chain-leaf-and-intermediate.pem"  # the same leaf, then its intermediate
AS_OF = "2030-01-01T00:00:00Z"


def certs_rows(store_dir: Path) -> list[dict]:
    store = open_store(store_dir)
    rows = []
    for f in store.files("certs"):
        rows += pq.read_table(f).to_pylist()
    return sorted(rows, key=lambda r: r["seq"])


def test_same_certificate_from_two_inputs_is_one_certificate_two_entries(tmp_path):
    # LEAF, then CHAIN (which starts with the same leaf): 3 entries, 2 distinct certificates,
    # 2 issuances (leaf and intermediate). The repeated leaf is stored without its names.
    ingest(tmp_path / "s", certs=[LEAF])
    ingest(tmp_path / "s", certs=[CHAIN])
    rows = certs_rows(tmp_path / "s")
    assert [r["dup"] for r in rows] == [False, True, False]
    assert rows[0]["cert_sha256"] == rows[1]["cert_sha256"]
    assert rows[0]["subject_cn"] == "www.cryptography.io" and rows[1]["subject_cn"] is None
    assert rows[1]["source"] == f"{CHAIN}#block 1"
    f = find_key_reuse_store(tmp_path / "s", as_of=AS_OF, all_keys=True)
    s = f.summary
    assert (s["certificate_entries"], s["distinct_certificates"], s["issuances"], s["distinct_keys"]) == (
        3,
        2,
        2,
        2,
    )


def test_ingesting_unchanged_input_again_is_skipped(tmp_path, capsys):
    assert main(["ingest", "--store", str(tmp_path / "s"), "--certs", str(CHAIN)]) == 0
    assert main(["ingest", "--store", str(tmp_path / "s"), "--certs", str(CHAIN)]) == 0
    out = capsys.readouterr().out
    assert "was ingested before; skipped" in out
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert [(i["kind"], i["path_or_url"], i["entries"]) for i in manifest["ingests"]] == [
        ("certificates", str(CHAIN), 2)
    ]
    assert manifest["next_seq"] == 2


def test_files_not_in_the_manifest_are_not_read(tmp_path):
    # An ingest that died after writing a file but before saving the manifest leaves an orphan.
    ingest(tmp_path / "s", certs=[CHAIN])
    store = open_store(tmp_path / "s")
    real = next(f for f in store.files("certs") if pq.read_metadata(f).num_rows)
    shutil.copy(real, Path(real).with_name("orphan.parquet"))
    f = find_key_reuse_store(tmp_path / "s", as_of=AS_OF)
    assert f.summary["certificate_entries"] == 2


def test_big_pem_file_read_in_ranges_gives_the_same_findings(tmp_path, monkeypatch):
    ingest_module = importlib.import_module("analysis.store.ingest")  # the module, not the function

    # 20 chains and a corrupt block in the middle, read in ~3 kB ranges: block numbers and the
    # corrupt block's position must come out as the whole-file reader gives them.
    bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    big = tmp_path / "big.pem"
    big.write_bytes(CHAIN.read_bytes() * 10 + bad + CHAIN.read_bytes() * 10)
    monkeypatch.setattr(ingest_module, "RANGE_BYTES", 3000)
    result = ingest(tmp_path / "s", certs=[big])
    files = load_keyreuse_inputs([big])
    assert [str(p) for p in result.problems] == [str(p) for p in files.problems]
    assert [p.position for p in result.problems] == [f"block 21 (byte {10 * len(CHAIN.read_bytes())})"]
    rows = certs_rows(tmp_path / "s")
    assert len(rows) == 40
    assert [r["source"] for r in rows] == files.certificates["source"].tolist()
    a = files.analyse(as_of=AS_OF).to_dict()
    b = find_key_reuse_store(tmp_path / "s", as_of=AS_OF, all_keys=True).to_dict()
    assert a == b


def test_junk_input_is_reported_and_the_rest_ingested(tmp_path, capsys):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a certificate")
    assert main(["ingest", "--store", str(tmp_path / "s"), "--certs", str(LEAF), "--certs", str(junk)]) == 0
    err = capsys.readouterr().err
    assert f"{junk} byte 0: neither PEM nor DER (junk file)" in err
    assert main(["keyreuse", "--store", str(tmp_path / "s"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["errors"] == [
        {"input": str(junk), "position": "byte 0", "reason": "neither PEM nor DER (junk file)"}
    ]
    assert d["summary"]["certificate_entries"] == 1
    assert main(["keyreuse", "--store", str(tmp_path / "s"), "--strict"]) == 1


def test_crtsh_folder_keeps_ids_and_first_seen(tmp_path):
    folder = tmp_path / "crtsh"
    folder.mkdir()
    (folder / "12345.pem").write_bytes(LEAF.read_bytes())
    (folder / "crtsh.json").write_text('[{"id": 12345, "entry_timestamp": "2014-10-15T12:30:00.123"}]')
    ingest(tmp_path / "s", certs=[folder])
    row = certs_rows(tmp_path / "s")[0]
    assert row["crtsh_id"] == 12345
    assert row["first_seen"].isoformat() == "2014-10-15T12:30:00.123000+00:00"


def test_usage_errors_are_one_line(tmp_path, capsys):
    assert main(["keyreuse", "--store", str(tmp_path / "missing")]) == 2
    assert main(["ingest", "--store", str(tmp_path / "s")]) == 2
    ingest(tmp_path / "s", certs=[LEAF])
    assert main(["keyreuse", "--store", str(tmp_path / "s"), "--certs", str(LEAF)]) == 2
    assert main(["keyreuse", "--store", str(tmp_path / "s"), "--memory-limit", "lots"]) == 2
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    assert main(["keyreuse", "--store", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 5 and all(line.startswith("ca-incidents: error: ") for line in err)
    assert "Traceback" not in "\n".join(err)


def test_memory_limit_sizes():
    from analysis.errors import UsageError
    from analysis.store.engine import parse_size

    assert parse_size("2GB") == 2_000_000_000
    assert parse_size("1.5GiB") == 3 * 2**29
    assert parse_size("500 MB") == 500_000_000
    for bad in ("lots", "2XB", "1MB"):  # not a size; unknown unit; under 64 MiB
        with pytest.raises(UsageError):
            parse_size(bad)
