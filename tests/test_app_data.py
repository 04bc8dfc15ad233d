"""The dashboard's data layer (analysis/app_data/): workspace safety, upload sorting, page frames,
and fetching into a workspace against the local upstream server. Expected values are by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import app_data
from analysis.demo import DEMO_DIR
from analysis.errors import InputError

PEM = (DEMO_DIR / "certs" / "chain.pem").read_bytes()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CA_INCIDENTS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.md", "report.md"),
        ("..", "upload"),
        ("", "upload"),
        (".bashrc", "bashrc"),
        ("a b/c d.pem", "c_d.pem"),
        ("ünïcode name.crl", "ünïcode_name.crl"),
        ("/abs/path/leaf.pem", "leaf.pem"),
    ],
)
def test_safe_filename(name, safe):
    assert app_data.safe_filename(name) == safe


def test_dataset_names(cache):
    assert app_data.safe_dataset_name("../My Incident!") == "My_Incident"
    with pytest.raises(InputError):
        app_data.safe_dataset_name("demo")
    with pytest.raises(InputError):
        app_data.safe_dataset_name("../..")
    ds = app_data.create_dataset("bug 1927384")
    assert ds.key == "bug_1927384"
    assert app_data.list_datasets() == ["demo", "bug_1927384"]
    assert app_data.workspace_dir() == cache / "workspace"


def test_uploads_never_leave_the_data_set_folder(cache, tmp_path):
    ds = app_data.create_dataset("x")
    pem = PEM
    path = app_data.save_upload(ds, "../../../outside.pem", pem)
    assert path == cache / "workspace" / "x" / "certs" / "outside.pem"
    assert path.read_bytes() == pem
    assert not (tmp_path / "outside.pem").exists() and not (cache / "outside.pem").exists()
    listed = app_data.workspace_files(app_data.get_dataset("x"))
    assert listed["File"].tolist() == ["certs/outside.pem"]


def test_the_demo_is_read_only(cache):
    with pytest.raises(InputError, match="read-only"):
        app_data.save_upload(app_data.demo_dataset(), "a.pem", b"x")


def test_bug_lists_merge_by_id(cache):
    ds = app_data.create_dataset("bugs")
    app_data.save_upload(
        ds,
        "bugs.json",
        json.dumps({"bugs": [{"id": 2, "summary": "old"}, {"id": 1, "summary": "a"}]}).encode(),
    )
    app_data.save_upload(
        ds, "more.json", json.dumps({"bugs": [{"id": 2, "summary": "new"}]}).encode(), kind="corpus"
    )
    bugs = json.loads((cache / "workspace" / "bugs" / "corpus" / "bugs.json").read_text())["bugs"]
    assert bugs == [{"id": 1, "summary": "a"}, {"id": 2, "summary": "new"}]
    with pytest.raises(InputError):
        app_data.save_upload(ds, "bad.json", b"[1, 2]", kind="corpus")


def test_input_parsers():
    assert app_data.parse_bug_ids(
        "1927384, https://bugzilla.mozilla.org/show_bug.cgi?id=1927385 1927384"
    ) == [
        1927384,
        1927385,
    ]
    spki = "AB:" * 31 + "AB"
    assert app_data.parse_crtsh_queries(f"{spki}\n\n example.com \n") == [
        ("spki", "ab" * 32),
        ("domain", "example.com"),
    ]


def test_short_source():
    assert (
        app_data.short_source("crl:/a/b/ca-2022.crl#CN=CA/1,O=X serial 1a")
        == "crl:ca-2022.crl#CN=CA/1,O=X serial 1a"
    )
    assert app_data.short_source("/data/keys.csv line 3") == "keys.csv line 3"


def test_claimed_vs_data_by_hand():
    report = {
        "counts": [
            {
                "measure": "certificates",
                "value": 41,
                "field": "Total number of certificates",
                "sentence": "",
                "source_line": 3,
            },
            {"measure": "certificates", "value": 33, "field": None, "sentence": "", "source_line": 5},
            {"measure": "keys", "value": 9, "field": None, "sentence": "", "source_line": 6},
            {"measure": "certificates", "value": 7, "field": None, "sentence": "", "source_line": 7},
        ]
    }
    summary = {
        "issuances_with_compromised_keys": 40,
        "violating_issuances": 33,
        "compromised_keys": 8,
        "revocation_delays": 1,
        "remaining_valid": 0,
    }
    t = app_data.claimed_vs_data(report, summary).set_index("Line")
    assert (t.loc[3, "Data value"], bool(t.loc[3, "Agrees"])) == (40, False)
    assert (t.loc[5, "Data figure"], bool(t.loc[5, "Agrees"])) == ("Issued after compromise", True)
    assert (t.loc[6, "Data value"], bool(t.loc[6, "Agrees"])) == (8, False)
    assert pd.isna(t.loc[7, "Data value"]) and t.loc[7, "Data figure"] == "no figure with this value"


def test_claimed_vs_data_never_sets_certificates_against_keys():
    # The demo report's "Eight certificates" beside 8 compromised keys: no certificate figure is 8,
    # so the count has no figure; "9 keys" is set against the 8 compromised keys and disagrees.
    report = {
        "counts": [
            {"measure": "certificates", "value": 8, "field": None, "sentence": "", "source_line": 13},
            {"measure": "keys", "value": 9, "field": None, "sentence": "", "source_line": 14},
            {"measure": "roots", "value": 2, "field": None, "sentence": "", "source_line": 15},
        ]
    }
    summary = {
        "issuances_with_compromised_keys": 41,
        "violating_issuances": 33,
        "revocation_delays": 31,
        "remaining_valid": 3,
        "compromised_keys": 8,
        "reused_compromised_keys": 8,
    }
    t = app_data.claimed_vs_data(report, summary).set_index("Line")
    assert t.loc[13, "Data figure"] == "no figure with this value" and pd.isna(t.loc[13, "Data value"])
    assert (t.loc[14, "Data figure"], t.loc[14, "Data value"], bool(t.loc[14, "Agrees"])) == (
        "Compromised keys",
        8,
        False,
    )
    assert t.loc[15, "Data figure"] == "not compared" and pd.isna(t.loc[15, "Agrees"])


def test_empty_data_set_gives_empty_findings(cache):
    ds = app_data.create_dataset("empty")
    f = app_data.analyse(ds)
    assert set(f.summary.values()) == {0}
    assert app_data.key_table(f).empty
    assert app_data.events(f).empty
    assert "No certificates are loaded" in app_data.overview(f)["sentence"]


def test_filter_bugs():
    bugs = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "cas": [["A"], [], ["A", "B"]],
            "tags": [["x"], ["y"], ["x", "y"]],
            "year": pd.array([2023, 2024, 2025], dtype="Int64"),
            "is_open": [False, True, False],
        }
    )
    ids = lambda **kw: app_data.filter_bugs(bugs, **kw)["id"].tolist()  # noqa: E731
    assert ids(cas=["B"]) == [3]
    assert ids(cas=["unknown"]) == [2]
    assert ids(tags=["y"], status="closed") == [3]
    assert ids(years=(2024, 2025)) == [2, 3]


# --- fetching, against the local upstream server ----------------------------------------------------

upstream_server = pytest.importorskip(
    "tests.upstream_server", reason="tests/upstream_server.py has not landed"
)


@pytest.fixture(scope="module")
def upstream():
    up = upstream_server.Upstream()
    yield up
    up.close()


def _session(up, tmp_path):
    from analysis.sources.http import Session

    return Session(cache_dir=tmp_path / "http", urls=up.urls, retries=1, backoff=0.01, timeout=(2, 2))


def test_fetch_crtsh_saves_certificates_and_reports_failures_per_item(cache, tmp_path, upstream):
    ds = app_data.create_dataset("fetch")
    calls = []
    results = app_data.fetch_crtsh(
        ds,
        [
            ("spki", upstream_server.SPKI_REUSED),
            ("spki", upstream_server.SPKI_503),
            ("domain", "empty.example"),
        ],
        progress=lambda done, total, text: calls.append((done, total)),
        session=_session(upstream, tmp_path),
    )
    assert [r.item.split()[0] for r in results] == ["spki", "spki", "domain"]
    assert results[0].saved == 3 and results[0].ok
    assert results[1].saved == 0 and results[1].errors  # crt.sh's 503 page, after the retry
    assert results[2].saved == 0 and results[2].ok
    assert calls[-1] == (3, 3)
    saved = sorted(p.name for p in (cache / "workspace" / "fetch" / "certs" / "crtsh").iterdir())
    assert len([n for n in saved if n.endswith(".pem")]) == 3 and len(saved) == 4  # + crt.sh's index
    f = app_data.analyse(app_data.get_dataset("fetch"))
    assert f.summary["certificate_entries"] == 3


def test_fetch_bugs_writes_the_corpus_and_the_report(cache, tmp_path, upstream):
    ds = app_data.create_dataset("bz")
    results = app_data.fetch_bugs(
        ds, [upstream_server.BUG_MAIN, 999999999], as_report=True, session=_session(upstream, tmp_path)
    )
    assert results[0].saved == 4
    assert results[1].saved == 0 and results[1].errors
    folder = cache / "workspace" / "bz"
    assert (folder / "corpus" / str(upstream_server.BUG_MAIN) / "comments.json").is_file()
    bugs = json.loads((folder / "corpus" / "bugs.json").read_text())["bugs"]
    assert [b["id"] for b in bugs] == [upstream_server.BUG_MAIN]
    ds = app_data.get_dataset("bz")
    assert ds.files("report") and ds.files("corpus")
    report, _, problems = app_data.load_dataset_report(ds)
    assert report is not None and not problems


def test_delete_dataset_removes_only_that_workspace_folder(cache, tmp_path):
    keep = app_data.create_dataset("keep")
    gone = app_data.create_dataset("gone")
    pem = PEM
    app_data.save_upload(gone, "a.pem", pem)
    app_data.save_upload(gone, "b.pem", pem)
    app_data.save_upload(keep, "c.pem", pem)
    assert app_data.delete_dataset("gone") == 2  # the two uploads
    assert app_data.list_datasets() == ["demo", "keep"]
    assert (cache / "workspace" / "keep" / "certs" / "c.pem").is_file()
    # Refused, and nothing touched: the demo, names that are not plain folder names, a folder that
    # is not there, and a symlink that leads out of the workspace.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("x")
    (cache / "workspace" / "link").symlink_to(outside, target_is_directory=True)
    for bad in ("demo", "..", "../outside", "keep/certs", "missing", "link"):
        with pytest.raises(InputError):
            app_data.delete_dataset(bad)
    assert (outside / "precious.txt").is_file()
    assert (cache / "workspace" / "keep" / "certs" / "c.pem").is_file()


def test_fetch_bugs_sends_the_api_key_in_the_header_and_never_writes_it(cache, tmp_path, upstream):
    secret = "bmo-key-from-the-dashboard-0123"
    ds = app_data.create_dataset("bzkey")
    upstream.reset()
    results = app_data.fetch_bugs(
        ds, [upstream_server.BUG_MAIN], api_key=secret, session=_session(upstream, tmp_path)
    )
    assert results[0].saved == 4 and results[0].ok
    seen = [r for r in upstream.requests if r.role == "bugzilla"]
    assert seen and all(r.headers.get("X-BUGZILLA-API-KEY") == secret for r in seen)
    assert all(secret not in str(r.query) for r in seen)
    for folder in (cache, tmp_path / "http"):
        for f in folder.rglob("*"):
            if f.is_file():
                assert secret.encode() not in f.read_bytes(), f


def test_offline_fetch_answers_from_the_cache_and_names_each_miss(cache, tmp_path, upstream):
    from analysis.sources.http import Session

    ds = app_data.create_dataset("off")
    online = Session(cache_dir=tmp_path / "http", urls=upstream.urls, retries=1, backoff=0.01, timeout=(2, 2))
    first = app_data.fetch_crtsh(ds, [("spki", upstream_server.SPKI_REUSED)], session=online)
    assert first[0].saved == 3
    upstream.reset()
    offline = Session(cache_dir=tmp_path / "http", urls=upstream.urls, offline=True)
    again = app_data.fetch_crtsh(
        ds, [("spki", upstream_server.SPKI_REUSED), ("domain", "never-fetched.example")], session=offline
    )
    assert again[0].saved == 3 and again[0].ok  # all from the cache
    assert again[1].saved == 0 and "offline" in again[1].errors[0]
    assert upstream.count() == 0  # no request reached the server
    # The dashboard's switch builds that session itself from the workspace cache.
    assert app_data._session(offline=True).offline is True


def test_fetch_bugs_takes_the_api_key_from_the_environment_when_none_is_given(
    cache, tmp_path, upstream, monkeypatch
):
    monkeypatch.setenv("BUGZILLA_API_KEY", "key-from-env-77")
    ds = app_data.create_dataset("bzenv")
    upstream.reset()
    app_data.fetch_bugs(ds, [upstream_server.BUG_MAIN], session=_session(upstream, tmp_path))
    seen = [r for r in upstream.requests if r.role == "bugzilla"]
    assert seen and all(r.headers.get("X-BUGZILLA-API-KEY") == "key-from-env-77" for r in seen)
