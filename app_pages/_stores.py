"""The Data page's "Stores" section: Parquet stores (`ca-incidents ingest`) beside the data sets,
with their findings a page at a time (analysis/store/pages.py does the work)."""

from __future__ import annotations

import streamlit as st

from analysis import app_data

PAGE_SIZE = 50
TABLES = {"Violations": "violations", "Revocation delays": "revocation_delays", "Keys": "keys"}


@st.cache_resource(max_entries=4, show_spinner="Running the key-reuse rules on the store (DuckDB)…")
def _findings(path: str, stamp: float, scope: str):
    from analysis.store import find_key_reuse_store

    return find_key_reuse_store(path, scope=scope)  # `stamp` (manifest time) re-runs after an ingest


def render() -> None:
    from analysis.store.pages import describe_store, find_stores, findings_page, page_frame

    st.subheader("Stores")
    root = app_data.workspace_dir() / "stores"
    stores = find_stores(root)
    st.caption(
        "Parquet stores made by `ca-incidents ingest --store DIR` or `sweep ... --store DIR`, "
        f"found in `{root}` and in env CA_INCIDENTS_STORES. Findings are paged; the store is never "
        "loaded whole."
    )
    if not stores:
        st.write("No store yet.")
        return
    infos = [describe_store(p) for p in stores]
    st.dataframe(
        [
            {"store": str(i.path), "ingests": i.ingests, **i.entries, "skipped items": i.skipped}
            for i in infos
        ],
        hide_index=True,
    )
    path = st.selectbox("Store", [str(p) for p in stores], key="store_path")
    c1, c2 = st.columns(2)
    label = c1.radio("Findings", list(TABLES), horizontal=True, key="store_table")
    scope = c2.radio("Scope", ["global", "issuer"], horizontal=True, key="store_scope")
    stamp = (stores[[str(p) for p in stores].index(path)] / "manifest.json").stat().st_mtime
    findings = _findings(path, stamp, scope)
    s = findings.summary
    st.write(
        f"{s['certificate_entries']:,} certificate entries, {s['compromised_keys']:,} compromised keys, "
        f"{s['violating_issuances']:,} violating issuances, {s['revocation_delays']:,} revocation delays."
    )
    rows, total = findings_page(findings, TABLES[label], 0, 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = st.number_input(f"Page (of {pages:,})", 1, pages, 1, key="store_page")
    rows, total = findings_page(findings, TABLES[label], (page - 1) * PAGE_SIZE, PAGE_SIZE)
    st.caption(
        f"Rows {(page - 1) * PAGE_SIZE + 1 if rows else 0:,}–{(page - 1) * PAGE_SIZE + len(rows):,} of {total:,}"
    )
    st.dataframe(page_frame(rows), hide_index=True)
