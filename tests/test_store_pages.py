"""Stores in the dashboard and notebooks: a page of findings at a time, equal to the same slice of
the pandas findings; the Data page lists a store beside the data sets and pages its findings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.demo import demo_as_of, demo_paths
from analysis.inputs import load_keyreuse_inputs
from analysis.store import find_key_reuse_store, ingest
from analysis.store.pages import describe_store, find_stores, findings_page

pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("stores")
    d = demo_paths()
    ingest(root / "demo", certs=d["certs"], crls=d["crls"])
    return root


def test_pages_are_slices_of_the_pandas_findings(demo_store):
    d = demo_paths()
    want = load_keyreuse_inputs(d["certs"], d["crls"]).analyse(as_of=demo_as_of()).to_dict()
    f = find_key_reuse_store(demo_store / "demo", as_of=demo_as_of())  # keys streamed, not loaded
    try:
        rows, total = findings_page(f, "violations", 30, 10)
        assert total == 33 and rows == want["violations"][30:33]  # the demo's 33 violations
        rows, total = findings_page(f, "keys", 0, 5)
        assert total == 51 and rows == want["keys"][:5]
        # A page that starts among the compromised keys and ends among the others (8 compromised).
        rows, _ = findings_page(f, "keys", 5, 10)
        assert rows == want["keys"][5:15]
        rows, _ = findings_page(f, "keys", 45, 10)
        assert rows == want["keys"][45:51]
        assert findings_page(f, "revocation_delays", 0, 100)[1] == 31
    finally:
        f.close()
    with pytest.raises(ValueError):
        findings_page(f, "everything")


def test_stores_are_found_and_described_from_their_manifest(demo_store, monkeypatch):
    monkeypatch.delenv("CA_INCIDENTS_STORES", raising=False)
    assert find_stores(demo_store) == [demo_store / "demo"]
    info = describe_store(demo_store / "demo")
    # 106 certificate entries in data/demo/certs; the 4 CRL snapshots hold 7 + 9 + 8 + 12 entries.
    assert info.entries == {"certificates": 106, "crl": 36}
    assert info.skipped == 0


def test_data_page_lists_a_store_and_pages_its_findings(tmp_path):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    old = os.environ.get("CA_INCIDENTS_CACHE")
    os.environ["CA_INCIDENTS_CACHE"] = str(tmp_path)
    try:
        from analysis import app_data

        d = demo_paths()
        ingest(app_data.workspace_dir() / "stores" / "demo", certs=d["certs"], crls=d["crls"])
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("app_pages/data.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        stores = next(df.value for df in at.dataframe if "store" in df.value.columns)
        assert stores["store"].tolist() == [str(app_data.workspace_dir() / "stores" / "demo")]
        assert stores["certificates"].tolist() == [106]
        page = next(df.value for df in at.dataframe if "same_issuer" in df.value.columns)
        assert len(page) == 33  # every violation fits on the first page of 50
        assert any("of 33" in c.value for c in at.caption)
    finally:
        if old is None:
            os.environ.pop("CA_INCIDENTS_CACHE", None)
        else:
            os.environ["CA_INCIDENTS_CACHE"] = old
