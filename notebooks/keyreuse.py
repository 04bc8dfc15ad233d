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
# # Key reuse after compromise
#
# This notebook walks through the key-reuse analysis `ca-incidents keyreuse` runs: load certificates
# and CRLs, group the issuances by public key (SPKI SHA-256), find certificates issued on a key after
# that key was known to be compromised, plot issuance against compromise per key, and write the CCADB
# appendix CSV.
#
# It opens on the embedded demo incident (a fictional CA, "Example Trust"). To run it on your own
# files, change the parameters below (or pass them with papermill: the next cell is tagged
# `parameters`). Relative paths are read from the folder the notebook runs in.
#
# Every finding is a lead for review, not a verdict: the rules are in `design.md` ("Key-reuse rules").

# %% tags=["parameters"]
certs = None  # PEM/DER files or folders; None: the demo incident; [] for none (crt.sh only)
crls = None  # CRL files (DER or PEM); None: the demo's CRLs
revocations = None  # revocation tables (CSV/xlsx, e.g. a CCADB incident appendix)
compromised = None  # compromised-key lists (CSV spki_sha256,reported_at,source or key files)
as_of = None  # analysis time for "remaining valid"; None: the demo's report date, or now
scope = "global"  # "global", or "issuer": count only compromise known to the same issuer
out_dir = None  # where appendix.csv is written; None: a new temporary folder
fetch = False  # True: also download the certificates of the keys in crtsh_spki from crt.sh
crtsh_spki = []  # SPKI SHA-256 (hex) to search on crt.sh when fetch is True
crtsh_url = None  # another crt.sh (a mirror or a test server); None: https://crt.sh
cache_dir = None  # HTTP cache; None: the user cache folder

# %% [markdown]
# ## Inputs
#
# `None` means "the demo incident". The demo is analysed as of the day its report was posted
# (2024-11-01), so "remaining valid" means what the report meant; your own data defaults to now.

# %%
# ruff: noqa: E402, B018 (notebook: imports follow the parameters; a bare last expression is shown)
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import display

from analysis import charts
from analysis.demo import demo_as_of, demo_paths
from analysis.drafting import to_appendix_csv
from analysis.inputs import load_keyreuse_inputs
from analysis.timeline import build_events

demo = demo_paths()
use_demo = certs is None
certs = list(demo["certs"]) if certs is None else [Path(p) for p in certs]
crls = list(demo["crls"]) if crls is None else [Path(p) for p in crls]
revocations = [Path(p) for p in revocations or []]
compromised = [Path(p) for p in compromised or []]
if as_of is None and use_demo:
    as_of = demo_as_of()
out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ca-incidents-keyreuse-"))
out_dir.mkdir(parents=True, exist_ok=True)
print("as of:", as_of or "now", "| scope:", scope, "| output folder:", out_dir)

charts.render_offline()  # charts as SVG: shown offline and in static viewers, no CDN

# %% [markdown]
# ## Optional: fetch from crt.sh
#
# With `fetch = True`, every certificate crt.sh lists for each SPKI in `crtsh_spki` is downloaded
# (politely: rate-limited, retried, cached) into `out_dir/crtsh/` and analysed with the local files.
# Nothing is fetched by default.

# %%
if fetch and crtsh_spki:
    from analysis.sources import crtsh
    from analysis.sources.http import Session

    session = Session(cache_dir=cache_dir, urls={"crtsh": crtsh_url} if crtsh_url else None)
    fetched = out_dir / "crtsh"
    for spki in crtsh_spki:
        rows, problems = crtsh.search_spki(session, spki)  # raises when crt.sh fails after retries
        items, more = crtsh.fetch_row_certificates(session, rows)
        crtsh.save_certificates(fetched, items, rows)  # <id>.pem and crtsh.json (first_seen)
        for p in problems + more:
            print("crt.sh:", p)
        print(f"crt.sh: {len(items)} certificates for SPKI {spki}")
    if fetched.is_dir():
        certs.append(fetched)
else:
    print("Fetching is off: local files only.")

# %% [markdown]
# ## Load certificates and CRLs
#
# Every PEM block and DER file is one *certificate entry*. Revocations attach to certificates by
# (issuer, serial), never by serial alone. Anything that could not be read is listed under
# "skipped" with its file and position, and left out of the analysis.

# %%
inputs = load_keyreuse_inputs(certs, crls, revocations, compromised)
display(pd.DataFrame(inputs.inputs))
print(f"{len(inputs.certificates)} certificate entries, {len(inputs.revocations.frame)} revocation entries")
if inputs.problems:
    display(pd.DataFrame([p.to_dict() for p in inputs.problems]).rename(columns={"reason": "skipped"}))

# %% [markdown]
# The certificates frame: one row per entry. A precertificate and its final certificate share
# issuer and serial, and are counted as one *issuance* below.

# %%
inputs.certificates[
    ["subject_cn", "issuer_dn", "serial", "spki_sha256", "key_type", "not_before", "is_precert"]
].head(10)

# %% [markdown]
# ## Group by key and find re-issuance after compromise
#
# A key's compromise time is the earliest keyCompromise revocation of any certificate on it (from
# any issuer) or a dated entry in a compromised-key list. A *violation* is an issuance on that key
# strictly after that time.

# %%
findings = inputs.analyse(scope=scope, as_of=as_of)
s = findings.summary
print(
    f"{s['violating_issuances']} violations: certificates issued after their key's compromise, "
    f"on {s['reused_compromised_keys']} of {s['compromised_keys']} compromised keys "
    f"({s['issuances_with_compromised_keys']} certificates on those keys in all)."
)
pd.Series(s, name="count").to_frame()

# %% [markdown]
# One row per distinct key (SPKI SHA-256), compromised keys first: how many issuances it has, by
# which issuers, when it was compromised and how many issuances came after.

# %%
keys = findings.keys.sort_values(["key_compromised", "issued_after_compromise"], ascending=False)
keys[
    [
        "spki_sha256",
        "key_type",
        "issuances",
        "first_issued",
        "last_issued",
        "compromised_at",
        "issued_after_compromise",
        "revocation_delays",
    ]
].head(15)

# %% [markdown]
# The violations. `same_issuer` says whether the compromise came from the same CA's revocation;
# `before_br_6_1_1_3_4` marks issuance before 2020-10-19, when BR 6.1.1.3(4) began to require
# rejecting known-compromised keys (the flag marks, it does not exclude).

# %%
findings.violations[
    [
        "subject_cn",
        "issuer_dn",
        "serial",
        "issued_at",
        "compromised_at",
        "same_issuer",
        "before_br_6_1_1_3_4",
        "revoked_at",
        "revocation_reason",
    ]
]

# %% [markdown]
# Revocation delays: certificates on a compromised key that were not revoked within 24 hours of the
# compromise (or of their own issue, for violations).

# %%
findings.revocation_delays[
    ["spki_sha256", "issuer_dn", "serial", "compromised_at", "revoked_at", "hours_after_compromise"]
]

# %% [markdown]
# ## Issuance against compromise
#
# Certificates issued per month: red ones were issued after their key's compromise; dashed lines
# mark each key's compromise time. The same chart the dashboard shows.

# %%
charts.issuance_over_time(findings.issuances)

# %% [markdown]
# Per key: each row is one compromised key, with its issuances, revocations (coloured by reason) and
# compromise time, from the same events frame the dashboard's Timeline page draws. Drag to pan,
# scroll to zoom.

# %%
events = build_events(findings)
display(events[["time", "kind", "key", "certificate", "text"]].head(10))
charts.key_timeline(events)

# %% [markdown]
# ## The appendix CSV
#
# The CCADB incident report's certificate appendix: every certificate on a compromised key, with the
# eleven CCADB columns, then `SPKI SHA-256`, `compromised_at` and `violation`. "Is revoked?" is judged
# as of the analysis time.

# %%
on_compromised_keys = findings.issuances[findings.issuances["key_compromised"]]
appendix_path = out_dir / "appendix.csv"
appendix_path.write_text(to_appendix_csv(on_compromised_keys, as_of=findings.as_of), encoding="utf-8")
appendix = pd.read_csv(appendix_path, dtype=str, keep_default_na=False)
print(f"{len(appendix)} rows written to {appendix_path}")
appendix.head()

# %% [markdown]
# ## Notes
#
# What the analysis could not know, and how to read it:

# %%
for note in findings.notes:
    print("-", note)
