"""Report: the parsed incident report, stated counts against the data, and the lint findings."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Incident report")

r = _data.report(ds.key, ds.fingerprint)
rep = r["report"]
for p in r["problems"]:
    st.error(f"The report could not be read: {p}")
if rep is None:
    st.info(
        "This data set has no incident report. Upload one (markdown, text or Bugzilla comments JSON) "
        "or fetch a bug on the Data page."
    )
    st.stop()

views = _data.report_views(*args)
kind = rep.get("kind") or "not recognised"
files = ds.files("report")
st.caption(
    f"{files[0].name}: {kind} report, {app_data.plural(len(rep.get('sections', {})), 'section')}, "
    f"{app_data.plural(len(rep.get('timeline', [])), 'timeline row')}, "
    f"{app_data.plural(len(rep.get('action_items', [])), 'action item')}"
)

lint = views["lint"]
st.subheader("Lint")
if lint is None:
    st.warning("Lint is not available yet (analysis.drafting has not landed).")
elif lint.empty:
    st.success(
        "No lint findings: the report has every section and field the CCADB template asks for, and "
        "the counts it states agree with the data."
    )
else:
    n_err = int((lint["Severity"] == "error").sum())
    st.markdown(
        f"**{app_data.plural(n_err, 'error')}, {app_data.plural(len(lint) - n_err, 'warning or notice', 'warnings or notices')}**"
    )
    st.dataframe(lint, hide_index=True, key="report_lint", width="stretch")

st.subheader("Counts: the text against the data")
claims = views["claims"]
if claims.empty:
    st.write("The report states no counts.")
else:
    st.dataframe(
        claims,
        hide_index=True,
        width="stretch",
        column_config={"In the text": st.column_config.TextColumn(width="large")},
        key="report_claims",
    )
    st.caption(
        "Template fields are compared with the figure they name; a count in running text is matched "
        "with a data figure of the same measure when one equals it. A mismatch is a lead, not a verdict."
    )

st.subheader("Action items")
actions = views["actions"]
if actions.empty:
    st.write("No action items table was found.")
else:
    st.dataframe(actions, hide_index=True, key="report_actions", width="stretch")

st.subheader("Sections")
for name, text in rep.get("sections", {}).items():
    with st.expander(name):
        st.markdown(text)
cs = rep.get("closure_summary")
if cs:
    st.caption(
        "The report contains a closure summary"
        + (" with the attestation." if cs.get("attestation") else " without the attestation.")
    )
