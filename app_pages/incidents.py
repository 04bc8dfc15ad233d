"""Incidents: the Bugzilla CA compliance corpus per year, CA and tag; time to close; deadlines."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data
from app_pages._figures import figure

ds = _data.current_dataset()
st.title("Incidents")

filters = _data.corpus_filters(ds.key, ds.fingerprint)
if filters is None:
    st.info(
        "This data set has no bug corpus. Fetch bugs from Bugzilla or upload a bug list (bugs.json) on "
        "the Data page, or switch to the demo data set in the sidebar."
    )
    st.stop()

st.caption(f"{filters['n']} bugs from {ds.label}. Years are the year the bug was filed (UTC).")
years = filters["years"]
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
cas = c1.multiselect("CA", filters["cas"], key="inc_cas", placeholder="All CAs")
tags = c2.multiselect("Tag", filters["tags"], key="inc_tags", placeholder="All tags")
if len(years) > 1:
    yr = c3.slider("Filed", years[0], years[-1], (years[0], years[-1]), key="inc_years")
else:
    yr = (years[0], years[0]) if years else None
status = c4.radio("Status", ["all", "open", "closed"], key="inc_status")
v = _data.corpus_filtered(ds.key, ds.fingerprint, tuple(cas), tuple(tags), tuple(yr) if yr else None, status)

m = st.columns(4)
figure(m[0], "Bugs", f"{v['n']:,}")
figure(m[1], "Open", f"{v['open']:,}")
figure(m[2], "Median days to close", "n/a" if v["median_days"] is None else f"{v['median_days']:.0f}")
figure(
    m[3],
    "Deadlines kept",
    "n/a" if v["deadline_share"] is None else f"{100 * v['deadline_share']:.0f} %",
    help="kept / (kept + missed) over every CCADB rule judged; only bugs with comments",
)

if v["n"] == 0:
    st.info("No bug matches these filters. Clear a filter to see more.")
    st.stop()

# One view at a time: tabs would draw every chart at once, which slows the first paint.
view = st.radio(
    "View",
    ["Per year", "Per CA", "Per tag", "Time to close", "Deadlines", "Bugs"],
    horizontal=True,
    key="inc_view",
    label_visibility="collapsed",
)
if view == "Per year":
    st.vega_lite_chart(v["year_spec"], width="stretch")
elif view == "Per CA":
    st.vega_lite_chart(v["ca_spec"], width="stretch")
    st.caption("A bug whose title names several CAs counts for each.")
elif view == "Per tag":
    st.vega_lite_chart(v["tag_spec"], width="stretch")
elif view == "Time to close":
    st.vega_lite_chart(v["ttc_spec"], width="stretch")
    st.caption(
        "Closed bugs other than INVALID/DUPLICATE with a known resolution time; days from filing "
        "to the last resolution."
    )
elif view == "Deadlines":
    if not v["has_deadlines"]:
        st.info("Deadlines are judged only for bugs whose comments are loaded (fetch bugs on the Data page).")
    else:
        st.vega_lite_chart(v["deadline_spec"], width="stretch")
        st.dataframe(v["deadlines"], hide_index=True, key="inc_deadlines")
        st.caption(
            "CCADB guidelines: first response within 72 h, full report within 14 days, updates at "
            "least every 7 days, a closure summary before resolution (bugs fixed from 2025-03-01). "
            "The clock starts when the bug is filed."
        )
else:
    st.dataframe(
        v["bugs"],
        hide_index=True,
        column_config={"Link": st.column_config.LinkColumn("Bugzilla", display_text="open")},
        key="inc_bugs",
    )
if filters["problems"]:
    with st.expander(f"Skipped corpus items ({len(filters['problems'])})"):
        st.dataframe(app_data.problems_frame(filters["problems"]), hide_index=True)
