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
# # The incident corpus: per year, per CA, per tag; time to close; deadlines
#
# This notebook summarises a corpus of Bugzilla "CA Certificate Compliance" bugs as
# `ca-incidents incidents summary` does: bugs per year, per CA and per whiteboard tag, how long bugs
# take to close, and whether the CCADB deadlines (first response, full report, updates, closure
# summary) were kept.
#
# It opens on the small fictional demo corpus (`data/demo/corpus`, ten bugs). To read the real corpus,
# set `bugs` to a bug list written by `ca-incidents fetch bugs --out FILE` (for example the dump in
# `../shared/realdata/bugzilla/`), or set `fetch = True` to download it. The next cell is tagged
# `parameters`.

# %% tags=["parameters"]
bugs = None  # a bug list {"bugs": [...]} or a corpus folder; None: the demo corpus
comments = None  # a corpus folder with <id>/comments.json and history.json; None: with the demo only
as_of = "2026-03-15T00:00:00+00:00"  # when open bugs are judged; None: now
top = 15  # rows in the per-CA and per-tag rankings
fetch = False  # True: download the corpus from Bugzilla into out_dir/bugs.json (bug list only)
since = None  # with fetch: only bugs changed since this date
bugzilla_url = None  # another Bugzilla (a test server); None: https://bugzilla.mozilla.org
cache_dir = None  # HTTP cache; None: the user cache folder
out_dir = None  # where a fetched bug list is written; None: a new temporary folder

# %% [markdown]
# ## Load the corpus
#
# The bug list gives titles (the CA is read from the title), whiteboard tags, status and dates. A
# corpus folder adds each bug's comments and history, which the deadline checks and exact resolution
# times need. Bugs that cannot be read are listed, not guessed at.

# %%
# ruff: noqa: E402, B018 (notebook: imports follow the parameters; a bare last expression is shown)
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import display

from analysis import charts, incidents

if fetch:
    from analysis.sources import bugzilla
    from analysis.sources.http import Session

    session = Session(cache_dir=cache_dir, urls={"bugzilla": bugzilla_url} if bugzilla_url else None)
    found, problems = bugzilla.search_bugs(session, since=since)
    for p in problems:
        print("Bugzilla:", p)
    folder = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ca-incidents-corpus-"))
    bugs = bugzilla.write_bugs_file(
        folder / "bugs.json",
        found,
        watermark=bugzilla.next_watermark(found, since, not problems),
        complete=not problems,
    )
    print(f"{len(found)} bugs written to {bugs}")

if bugs is None:
    bugs = incidents.DEFAULT_DEMO_CORPUS / "bugs.json"
    comments = incidents.DEFAULT_DEMO_CORPUS if comments is None else comments
elif comments is None and Path(bugs).is_dir():
    comments = bugs  # a corpus folder holds the bug list and the comments
if Path(bugs).is_dir():
    bugs = Path(bugs) / "bugs.json"

corpus = incidents.load_corpus(bugs, comments)
display(pd.DataFrame(corpus.inputs))
if corpus.problems:
    display(pd.DataFrame([p.to_dict() for p in corpus.problems]).rename(columns={"reason": "skipped"}))
summary = incidents.compute_summary(corpus, as_of=as_of)
print(
    f"{summary['total']} bugs: {summary['open']} open, {summary['closed']} closed (as of {summary['as_of']})"
)

charts.render_offline()  # charts as SVG: shown offline and in static viewers, no CDN

# %% [markdown]
# One row per bug. `cas` is read from the title (several CAs are possible), `tags` from the
# whiteboard, normalised (`[ca compliance]` becomes `ca-compliance`); `reporter` says whether the CA
# reported its own incident.

# %%
corpus.bugs[["id", "summary", "status", "resolution", "creation_time", "cas", "tags", "reporter"]].head(20)

# %% [markdown]
# ## Per year

# %%
by_year = incidents.counts_by_year(corpus.bugs)
display(by_year)
charts.bugs_per_year(by_year)

# %% [markdown]
# ## Per CA
#
# A bug whose title names several CAs counts once for each, so the column may sum past the total.

# %%
by_ca = incidents.counts_by_ca(corpus.bugs)
display(by_ca.head(top))
charts.bugs_per_category(by_ca, "ca", title="Incident bugs per CA", label="CA", top=top)

# %% [markdown]
# ## Per tag

# %%
by_tag = incidents.counts_by_tag(corpus.bugs)
display(by_tag.head(top))
charts.bugs_per_category(by_tag, "tag", title="Incident bugs per whiteboard tag", label="Tag", top=top)

# %% [markdown]
# ## Time to close
#
# Days from filing to the last resolution, for closed bugs other than INVALID/DUPLICATE, by the year
# the bug was filed. A bug list without `cf_last_resolved` and without history has no resolution
# times: the chart then says so.

# %%
ttc = incidents.time_to_close(corpus.bugs, corpus.history)
display(incidents.time_to_close_by_year(ttc))
charts.time_to_close(ttc)

# %% [markdown]
# ## Deadline adherence
#
# For bugs with comments loaded: was the first response within 72 hours, the full report within 14
# days, an update at least every 7 days (or by the whiteboard's Next-update date), and a closure
# summary posted before closing? Judged from bug creation (the CA's awareness time is not in the
# data) and recognised heuristically, so read `detail` before quoting an outcome.

# %%
if corpus.comments is not None and not corpus.comments.empty:
    deadlines = incidents.compute_deadlines(corpus.bugs, corpus.comments, corpus.history, as_of=as_of)
else:
    deadlines = None
    print("No comments loaded: deadlines cannot be judged (give `comments`, a corpus folder).")
display(charts.share_table(summary))
charts.deadline_adherence(deadlines)

# %%
deadlines

# %% [markdown]
# ## Notes
#
# How the figures above were made, and what they leave out:

# %%
for note in summary["notes"]:
    print("-", note)
