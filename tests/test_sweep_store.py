"""`sweep --store DIR`: the sweep's certificates and revocations appended to a Parquet store batch
by batch, then `keyreuse --store DIR` on them, against the local PostgreSQL of test_sweep.py.

The scenario is test_sweep.py's (its docstring has the table). Worked out by hand from it:
- the sweep downloads 9 certificates: 101-108 (keys K1, K2) and 111 (K4); 109/110 (K3) are never
  swept and 112 expired before K4's compromise;
- their own crl_revoked rows give 5 revocations: A 1001 (101 and 102 share it), A 1002 (103/104),
  A 1003 (105), A 8a3c5e7f01 (107), B 2003 (111);
- both CAs have a CRL row, so both issuers are covered (2 CRL issuers in the manifest);
- positions: certificate crt.sh id N is `seq` 2N and its own revocation 2N + 1 (a fresh store
  starts at 0), so 101 -> 202, 104 -> 208, the 1001 revocation -> 203 (from 101, its first cert);
- sweeping CA 22 alone afterwards downloads only 111 (already in the store: a repeat), so the
  store holds 10 entries and 9 distinct certificates, with the same findings.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
from pathlib import Path

import psycopg
import pyarrow.parquet as pq
import pytest

from analysis import cli
from analysis.sources.crtsh_db import CrtshDB
from analysis.store.ingest import StoreAppender
from analysis.sweep import run_sweep

try:
    from crtsh_schema import create_crtsh_schema, plpython_available
    from pg import postgres_dsn  # noqa: F401
    from test_sweep import A_NAME, B_NAME, SWEEP, A, B, check_findings, load_scenario, new_database, spki_hex
except ImportError:  # tests/ imported as a package
    from tests.crtsh_schema import create_crtsh_schema, plpython_available
    from tests.pg import postgres_dsn  # noqa: F401
    from tests.test_sweep import (
        A_NAME,
        B_NAME,
        SWEEP,
        A,
        B,
        check_findings,
        load_scenario,
        new_database,
        spki_hex,
    )

pytestmark = pytest.mark.postgres
pytest.importorskip("duckdb")
store_ingest = importlib.import_module("analysis.store.ingest")  # the package exports a function of that name
AS_OF = "2023-06-01"


@pytest.fixture(scope="module")
def sweep_db(postgres_dsn):  # noqa: F811
    reason = plpython_available()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    dsn = new_database(postgres_dsn, "certwatch_store")
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_crtsh_schema(conn)
        load_scenario(conn)
        conn.execute("ANALYZE")
    return dsn


def run_cli(argv, capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sweep_argv(dsn: str, cache: Path, store: Path, *cas: int) -> list:
    ids = [x for ca in (cas or (A, B)) for x in ("--ca-id", ca)]
    return ["sweep", *ids, *SWEEP, "--dsn", dsn, "--cache-dir", cache, "--format", "json", "--store", store]


def keyreuse_store(store: Path, capsys) -> dict:
    code, out, err = run_cli(["keyreuse", "--store", store, "--as-of", AS_OF, "--format", "json"], capsys)
    assert code == 0, err
    return json.loads(out)


def manifest(store: Path) -> dict:
    return json.loads((store / "manifest.json").read_text())


def table_rows(store: Path, table: str) -> list[dict]:
    m = manifest(store)
    return [r for f in m["tables"][table] for r in pq.read_table(store / f).to_pylist()]


def without_sweep_parts(d: dict) -> dict:
    """The sweep's JSON less what only a sweep says: its `sweep` member and its own note."""
    d = {k: v for k, v in d.items() if k != "sweep"}
    d["notes"] = [n for n in d["notes"] if not n.startswith("Sweep:")]
    return d


def test_sweep_store_then_keyreuse_store_gives_the_sweeps_findings(sweep_db, tmp_path, capsys):
    store = tmp_path / "store"
    code, out, err = run_cli(sweep_argv(sweep_db, tmp_path / "cache", store), capsys)
    assert code == 0, err
    swept = json.loads(out)
    check_findings(swept)
    assert f"store {store}: appended 9 certificates (0 already there" in err
    assert "5 revocations" in err

    (rec,) = manifest(store)["ingests"]
    assert (rec["kind"], rec["path_or_url"], rec["entries"]) == ("crtsh-sweep", "crt.sh database", 9)
    assert (rec["revocation_entries"], rec["already_in_store"]) == (5, 0)
    assert rec["cas"] == [[A, A_NAME], [B, B_NAME]]
    assert (rec["since"], rec["until"]) == ("2019-01-01T00:00:00+00:00", "2023-01-01T00:00:00+00:00")
    assert rec["source"].startswith("postgresql://tester@") and rec["source"].endswith("/certwatch_store")
    assert len(rec["crls"]) == 2 and "Example Trust CA A" in rec["crls"][0]["issuer_dn"]
    assert rec["sweep"]["certificates_downloaded"] == 9 and rec["sweep"]["failed"] is False
    assert [c["violations_issued"] for c in rec["sweep"]["cas"]] == [1, 2]

    certs = {r["crtsh_id"]: r for r in table_rows(store, "certs")}
    assert sorted(certs) == [101, 102, 103, 104, 105, 106, 107, 108, 111]
    assert (certs[101]["seq"], certs[104]["seq"], certs[111]["seq"]) == (202, 208, 222)
    assert not any(r["dup"] for r in certs.values())
    assert certs[106]["spki_sha256"] == spki_hex("K1") and certs[106]["san_dns"] == ["s2001.example"]
    revs = {r["serial"]: r for r in table_rows(store, "revocations")}
    assert sorted(revs) == ["1001", "1002", "1003", "2003", "8a3c5e7f01"]
    assert (revs["1001"]["seq"], revs["2003"]["seq"], revs["1003"]["reason"]) == (203, 223, "superseded")
    assert manifest(store)["next_seq"] == 224

    got = keyreuse_store(store, capsys)
    check_findings(got)  # the hand-worked expectations hold for the store too
    assert got == without_sweep_parts(swept)  # and so does everything else, inputs included
    assert got["inputs"] == [{"kind": "crtsh-sweep", "path_or_url": "crt.sh database", "entries": 9}]


def test_the_same_sweep_again_replaces_its_record_and_another_adds_repeats(sweep_db, tmp_path, capsys):
    store, cache = tmp_path / "store", tmp_path / "cache"
    assert run_cli(sweep_argv(sweep_db, cache, store), capsys)[0] == 0
    code, _, err = run_cli(sweep_argv(sweep_db, cache, store), capsys)
    assert code == 0 and "replaced this sweep's earlier record" in err
    m = manifest(store)
    assert len(m["ingests"]) == 1 and m["ingests"][0]["entries"] == 9
    assert len(table_rows(store, "certs")) == 9  # the first run's files are no longer listed

    # CA 22 alone: only certificate 111 (already in the store) and its revocation.
    code, out, err = run_cli(sweep_argv(sweep_db, cache, store, B), capsys)
    assert code == 0, err
    assert "appended 1 certificates (1 already there" in err
    second = manifest(store)["ingests"][1]
    assert (second["entries"], second["already_in_store"], second["cas"]) == (1, 1, [[B, B_NAME]])
    d = keyreuse_store(store, capsys)
    assert (d["summary"]["certificate_entries"], d["summary"]["distinct_certificates"]) == (10, 9)
    check_findings({**d, "summary": {**d["summary"], "certificate_entries": 9}})


class RecordingAppender(StoreAppender):
    """A store appender that notes what is on disk each time a batch arrives, and can die."""

    def __init__(self, *args, die_at: int | None = None, **kw) -> None:
        super().__init__(*args, **kw)
        self.die_at = die_at
        self.seen: list[tuple[int, int, int]] = []  # (batch rows, cert files on disk, ingests listed)

    def add_certificates(self, frame, order=None) -> None:
        if self.die_at is not None and len(self.seen) + 1 == self.die_at:
            raise KeyboardInterrupt("killed")
        super().add_certificates(frame, order)
        on_disk = len(list((self.dir / "certs").rglob("*.parquet")))
        self.seen.append((len(frame), on_disk, len(manifest(self.dir)["ingests"])))


def _sweep(dsn: str, state: Path, appender, *, resume: bool = False):
    with CrtshDB(dsn) as db, appender:
        return run_sweep(
            db,
            [(A, A_NAME), (B, B_NAME)],
            state_dir=state,
            since=dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
            until=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
            as_of=AS_OF,
            cert_batch=2,
            sink_batch=2,  # the store gets every 2 certificates (as they are downloaded, 2 a time)
            resume=resume,
            sink=appender,
        )


def test_batches_are_written_as_they_arrive_and_a_killed_sweep_leaves_the_store_as_it_was(
    sweep_db, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(store_ingest, "BATCH_ROWS", 2)  # a Parquet file for every 2 certificates
    store, state = tmp_path / "store", tmp_path / "state"

    # Killed while the third batch arrives: two batches are on disk, the manifest lists none.
    dying = RecordingAppender(
        store, kind="crtsh-sweep", path_or_url="crt.sh database", ordered=True, die_at=3
    )
    with pytest.raises(KeyboardInterrupt):
        _sweep(sweep_db, state, dying)
    assert [rows for rows, _, _ in dying.seen] == [2, 2]
    m = manifest(store)
    assert m["ingests"] == [] and m["next_seq"] == 0
    assert len(list((store / "certs").rglob("*.parquet"))) > len(m["tables"]["certs"])  # orphans
    code, _, err = run_cli(["keyreuse", "--store", store, "--as-of", AS_OF], capsys)
    assert code == 2 and "holds no certificates" in err

    # --resume: CA A's 8 certificates in 4 batches of 2 (ids 101-108), CA B's 111 alone; each one
    # is a Parquet file before the sweep ends, and none is listed until it does.
    appender = RecordingAppender(store, kind="crtsh-sweep", path_or_url="crt.sh database", ordered=True)
    result = _sweep(sweep_db, state, appender, resume=True)
    assert [rows for rows, _, _ in appender.seen] == [2, 2, 2, 2, 1]
    files = [n for _, n, _ in appender.seen]
    assert files == sorted(files) and files[0] < files[-1]  # files appear while the sweep runs
    assert {listed for _, _, listed in appender.seen} == {0}
    assert appender.record["entries"] == 9 and len(manifest(store)["ingests"]) == 1
    d = keyreuse_store(store, capsys)
    want = result.findings.to_dict()
    want["notes"] = [n for n in want["notes"] if not n.startswith("Sweep:")]
    assert d == want


def test_store_that_is_a_file_is_one_usage_line(sweep_db, tmp_path, capsys):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    code, out, err = run_cli(sweep_argv(sweep_db, tmp_path / "cache", not_a_dir), capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1].endswith(f"{not_a_dir}: exists and is not a folder")
    assert "Traceback" not in err


def test_data_page_lists_a_store_written_by_sweep(sweep_db, tmp_path, capsys):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    old = os.environ.get("CA_INCIDENTS_CACHE")
    os.environ["CA_INCIDENTS_CACHE"] = str(tmp_path)
    try:
        from analysis import app_data

        store = app_data.workspace_dir() / "stores" / "swept"
        assert run_cli(sweep_argv(sweep_db, tmp_path / "cache", store), capsys)[0] == 0
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("app_pages/data.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        stores = next(df.value for df in at.dataframe if "store" in df.value.columns)
        assert stores["store"].tolist() == [str(store)]
        assert stores["crtsh-sweep"].tolist() == [9]
        page = next(df.value for df in at.dataframe if "same_issuer" in df.value.columns)
        assert sorted(page["serial"]) == ["1002", "2001", "2002"]
        assert any("of 3" in c.value for c in at.caption)
    finally:
        if old is None:
            os.environ.pop("CA_INCIDENTS_CACHE", None)
        else:
            os.environ["CA_INCIDENTS_CACHE"] = old
