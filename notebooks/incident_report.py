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
# # An incident report: parse, timeline, closure summary, lint
#
# This notebook reads a CCADB incident report the way a root program reviewer would: it parses the
# report into sections, timeline and action items, lays the report's timeline next to what the
# certificate data shows, drafts the Report Closure Summary, and lints the report and the draft
# against the CCADB guidelines and the data's counts.
#
# It opens on the demo incident's report (`data/demo/report.md`) and data. The next cell is tagged
# `parameters`: change it (or pass values with papermill) to read your own report, or a Bugzilla bug.

# %% tags=["parameters"]
report = None  # report text/markdown, or Bugzilla comments JSON; None: the demo report
certs = None  # certificates to check the report's counts against; None: the demo's; [] for none
crls = None  # CRLs for those certificates; None: the demo's
revocations = None  # revocation tables (CSV/xlsx)
compromised = None  # compromised-key lists
as_of = None  # analysis time; None: the demo's report date, or now
out_dir = None  # where closure-summary.md is written; None: a new temporary folder
fetch = False  # True: read the report from Bugzilla bug `bug_id` instead of `report`
bug_id = None  # a Bugzilla bug number, used when fetch is True
bugzilla_url = None  # another Bugzilla (a test server); None: https://bugzilla.mozilla.org
cache_dir = None  # HTTP cache; None: the user cache folder

# %%
# ruff: noqa: E402, B018 (notebook: imports follow the parameters; a bare last expression is shown)
import tempfile
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from analysis import charts
from analysis.demo import demo_as_of, demo_paths
from analysis.drafting import draft_closure_summary, lint_report, to_closure_markdown
from analysis.inputs import load_keyreuse_inputs
from analysis.reports import load_report, parse_comments, parse_report
from analysis.timeline import build_events

demo = demo_paths()
use_demo = certs is None
out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ca-incidents-report-"))
out_dir.mkdir(parents=True, exist_ok=True)

charts.render_offline()  # charts as SVG: shown offline and in static viewers, no CDN

# %% [markdown]
# ## Parse the report
#
# `load_report` reads a report file (markdown or plain text, or a bug's comments as JSON). With
# `fetch = True` the bug's comments come from Bugzilla and every incident report among them is
# read, the latest version of each part winning.

# %%
if fetch and bug_id is not None:
    from analysis.sources import bugzilla
    from analysis.sources.http import Session

    session = Session(cache_dir=cache_dir, urls={"bugzilla": bugzilla_url} if bugzilla_url else None)
    parsed = parse_comments(bugzilla.fetch_comments(session, int(bug_id)))
    source = f"bug {bug_id}"
else:
    source = Path(report) if report is not None else demo["report"][0]
    parsed = load_report(source)
print(f"{source}: a {parsed['kind']} report")
pd.DataFrame(parsed["outline"])[["line", "level", "title"]]

# %% [markdown]
# The fields the report fills in (`- **Label:** value` lines), and anything the parser could not
# read (a date it cannot parse, an ambiguous zone, an action item without a status...).

# %%
display(pd.Series(parsed["fields"], name="value").to_frame())
pd.DataFrame(parsed["problems"], columns=["code", "line", "message"])

# %% [markdown]
# ## The report's timeline
#
# Each row keeps its time as stated (`when`, with the report's offset) and adds `when_utc`. A date
# without a time stays a date; converted, it is midnight in the report's zone.

# %%
timeline = pd.DataFrame(parsed["timeline"])
timeline

# %% [markdown]
# Action items, root causes, and the counts the text states (checked against the data below).

# %%
display(pd.DataFrame(parsed["action_items"]))
display(pd.DataFrame(parsed["root_causes"]))
pd.DataFrame(parsed["counts"])

# %% [markdown]
# ## The data behind the report
#
# The key-reuse analysis of the certificates and CRLs (the demo's by default). Its summary is what
# the counts in the text are compared with, and what the closure summary quotes.

# %%
certs = list(demo["certs"]) if certs is None else [Path(p) for p in certs]
crls = list(demo["crls"]) if crls is None else [Path(p) for p in crls]
if as_of is None and use_demo:
    as_of = demo_as_of()
findings = None
if certs:
    inputs = load_keyreuse_inputs(certs, crls, [Path(p) for p in revocations or []], compromised or [])
    findings = inputs.analyse(as_of=as_of)
    display(pd.Series(findings.summary, name="data").to_frame())
else:
    print("No certificates given: the report is linted on its text alone.")
summary = findings.summary if findings is not None else None
data_as_of = findings.as_of if findings is not None else None

# %% [markdown]
# ## One timeline: the data and the report
#
# One events frame: per compromised key, issuances, revocations and the compromise time from the
# data, and the report's own timeline rows (`kind` "report", with the time as stated). In the chart
# the report's rows are purple dashed lines: where the report and the data disagree, the lines and
# the marks do not line up.

# %%
events = build_events(findings, parsed)
display(charts.key_timeline(events))
events[["time", "kind", "key", "certificate", "text", "stated"]]

# %% [markdown]
# ## Draft the Report Closure Summary
#
# The draft takes the report's own description, root causes and action items, and the data's counts.
# The closure attestation is added only when every action item is Complete or Canceled; otherwise
# the open items are listed instead. Data gathered before a revocation was completed can neither
# confirm nor contradict it: `data_predates` names such items. Edit the draft before posting it.

# %%
draft = draft_closure_summary(parsed, summary, data_as_of=data_as_of)
for it in draft["data_predates"]:
    print(
        f"note: the data predates '{it['item']}' (completed {it['completed']}); load a later CRL to confirm it"
    )
closure_md = to_closure_markdown(draft)
closure_path = out_dir / "closure-summary.md"
closure_path.write_text(closure_md, encoding="utf-8")
print(f"written to {closure_path}")
Markdown(closure_md)

# %% [markdown]
# ## Lint
#
# The report, then the draft, checked pkilint-style: missing sections and fields, action items
# without a status or due date, timeline rows without a zone, and counts in the text that differ
# from the data (`counts.mismatch`). An empty table means nothing was found.

# %%
columns = ["line", "severity", "code", "message"]
report_findings = pd.DataFrame(lint_report(parsed, summary, data_as_of=data_as_of), columns=columns)
draft_findings = pd.DataFrame(
    lint_report(
        parse_report(closure_md), summary, data_as_of=data_as_of, context_items=parsed["action_items"]
    ),
    columns=columns,
)
print(f"report: {len(report_findings)} findings; closure draft: {len(draft_findings)} findings")
display(report_findings)
draft_findings
