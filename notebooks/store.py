# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Key reuse over a Parquet store, a page at a time
#
# A store is the folder `ca-incidents ingest --store DIR` or `ca-incidents sweep ... --store DIR`
# writes: Parquet files for certificates, revocations and compromised keys, and a `manifest.json`
# saying what was added from where. This notebook opens a store, describes it from its manifest
# alone, runs the key-reuse rules over it as SQL (DuckDB, within a memory budget), and pages through
# the findings. Only the compromised keys' issuances come into memory; the other keys are read from
# the engine one page at a time, so a store of 100 million certificates pages like a small one.
#
# It opens on a store built here from the embedded demo incident (a fictional CA, "Example Trust"),
# in a temporary folder. Set `store` to your own store's folder to look at it instead.
#
# Every finding is a lead for review, not a verdict: the rules are in `design.md` ("Key-reuse rules").

# %% tags=["parameters"]
store = None  # a store folder; None: a new temporary store holding the demo incident
as_of = None  # analysis time for "remaining valid"; None: the demo's report date, or now
scope = "global"  # "global", or "issuer": count only compromise known to the same issuer
page_size = 10  # rows per page
memory_limit = "2GB"  # DuckDB's budget (it spills to disk beyond three quarters of it)

# %% [markdown]
# ## The store
#
# With `store = None`, the demo's certificates and CRLs are ingested into a new store, exactly as
# `ca-incidents ingest --store DIR --certs data/demo/certs --crl ...` would.

# %%
# ruff: noqa: E402, B018 (notebook: imports follow the parameters; a bare last expression is shown)
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import display

from analysis.demo import demo_as_of, demo_paths
from analysis.store import find_key_reuse_store, ingest, open_store
from analysis.store.pages import describe_store, findings_page, page_frame

if store is None:
    demo = demo_paths()
    store = Path(tempfile.mkdtemp(prefix="ca-incidents-store-")) / "demo"
    ingest(store, certs=demo["certs"], crls=demo["crls"])
    if as_of is None:
        as_of = demo_as_of()
store = Path(store)
print("store:", store, "| as of:", as_of or "now", "| scope:", scope)

# %% [markdown]
# ## What it holds, from the manifest
#
# `describe_store` reads `manifest.json` only (no Parquet file): how many ingests, the entries per
# kind of input, and how many items the ingests skipped. Below it, one row per ingest.

# %%
info = describe_store(store)
print(f"{info.ingests} ingests; entries per kind: {info.entries}; skipped items: {info.skipped}")
ingests = pd.DataFrame(
    [
        {
            "kind": i["kind"],
            "path_or_url": i["path_or_url"],
            "entries": i.get("entries", 0),
            "skipped": len(i.get("problems", [])),
            "ingested_at": i.get("ingested_at"),
        }
        for i in open_store(store).manifest["ingests"]
    ]
)
ingests

# %% [markdown]
# ## The findings
#
# `find_key_reuse_store` runs the same rules as `ca-incidents keyreuse --store DIR` and returns the
# same summary; it keeps the engine open so that the keys can be paged. Close it at the end.

# %%
findings = find_key_reuse_store(store, as_of=as_of, scope=scope, memory_limit=memory_limit)
pd.Series(findings.summary, name="value").to_frame()

# %% [markdown]
# ## Paging
#
# `findings_page(findings, table, offset, limit)` gives one page of `violations`,
# `revocation_delays` or `keys` as JSON records (the JSON output's fields) and the table's row count.


# %%
def show(table: str, page: int = 1) -> pd.DataFrame:
    rows, total = findings_page(findings, table, (page - 1) * page_size, page_size)
    pages = max(1, -(-total // page_size))
    print(f"{table}: page {page} of {pages} ({total} rows, {len(rows)} on this page)")
    return page_frame(rows)


violations_page_1 = show("violations", 1)
display(violations_page_1)

# %%
# The last page of the violations.
rows, total = findings_page(findings, "violations", 0, 0)
last = max(1, -(-total // page_size))
violations_last_page = show("violations", last)
display(violations_last_page)

# %% [markdown]
# Keys: the compromised ones come first (most issuances first), then the others, which are read
# from the store page by page.

# %%
keys_page_1 = show("keys", 1)
display(
    keys_page_1[
        ["spki_sha256", "issuances", "compromised_at", "issued_after_compromise", "revocation_delays"]
    ]
)

# %%
delays_page_1 = show("revocation_delays", 1)
display(delays_page_1)

# %%
findings.close()  # ends the DuckDB engine kept open for paging the keys
