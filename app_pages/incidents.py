"""Incidents: the Bugzilla CA compliance corpus per year, CA and tag; time to close; deadlines."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data, _url
from app_pages._figures import figure

VIEWS = ["Per year", "Per CA", "Per tag", "Time to close", "Deadlines", "Bugs"]
ds = _data.current_dataset()
st.title("Incidents")

filters = _data.corpus_filters(ds.key, ds.fingerprint)
if filters is None:
    st.info(
        "This data set has no bug corpus. Fetch bugs from Bugzilla or upload a bug list (bugs.json) on "
        "the Data page, or switch to the demo data set in the sidebar."
    )
    st.stop()

as_of = filters["as_of"]
judged = (
    f"Judged as of {as_of}" + (" (the demo corpus's fixed day)" if ds.is_demo else " (now)")
    if as_of
    else "Judged as of now"
)
st.caption(
    f"{app_data.plural(filters['n'], 'bug')} from {ds.label}. {judged}: open bugs and deadlines not yet "
    "due are counted up to this time. Years are the year the bug was filed (UTC)."
)
years = filters["years"]
_url.restore(
    "_url_incidents",
    {
        "ca": ("inc_cas", _url.some_of(filters["cas"])),
        "tag": ("inc_tags", _url.some_of(filters["tags"])),
        "years": ("inc_years", _url.year_range(years) if len(years) > 1 else lambda v: None),
        "status": ("inc_status", _url.one_of(["all", "open", "closed"])),
        "view": ("inc_view", _url.one_of(VIEWS)),
    },
)
# Filters kept from another data set must fit this one's choices (and a widget gets its value from
# session state only, never also a default: that logs a warning).
st.session_state["inc_cas"] = [c for c in st.session_state.get("inc_cas", []) if c in set(filters["cas"])]
st.session_state["inc_tags"] = [t for t in st.session_state.get("inc_tags", []) if t in set(filters["tags"])]
if len(years) > 1:
    lo, hi = st.session_state.get("inc_years", (years[0], years[-1]))
    lo, hi = max(lo, years[0]), min(hi, years[-1])
    st.session_state["inc_years"] = (lo, hi) if lo <= hi else (years[0], years[-1])
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
cas = c1.multiselect("CA", filters["cas"], key="inc_cas", placeholder="All CAs")
tags = c2.multiselect("Tag", filters["tags"], key="inc_tags", placeholder="All tags")
if len(years) > 1:
    yr = c3.slider("Filed", years[0], years[-1], key="inc_years")
else:
    yr = (years[0], years[0]) if years else None
status = c4.radio("Status", ["all", "open", "closed"], key="inc_status")
_url.publish(
    {
        "ca": list(cas),
        "tag": list(tags),
        "years": None
        if not yr or len(years) < 2 or tuple(yr) == (years[0], years[-1])
        else f"{yr[0]}-{yr[1]}",
        "status": None if status == "all" else status,
    }
)
v = _data.corpus_filtered(ds.key, ds.fingerprint, tuple(cas), tuple(tags), tuple(yr) if yr else None, status)

m = st.columns(4)
figure(m[0], "Bugs", f"{v['n']:,}")
figure(m[1], "Open", f"{v['open']:,}", help=f"Status not RESOLVED, VERIFIED or CLOSED on {as_of or 'today'}")
figure(
    m[2],
    "Median days to close",
    "n/a" if v["median_days"] is None else f"{v['median_days']:.0f}",
    help="Days from filing to the last resolution, closed bugs other than INVALID/DUPLICATE"
    + (f". n/a: {v['median_reason']}." if v["median_reason"] else ""),
)
figure(
    m[3],
    "Deadlines kept",
    "n/a" if v["deadline_share"] is None else f"{100 * v['deadline_share']:.0f} %",
    help="kept / (kept + missed) over every CCADB rule judged; only bugs with comments"
    + (f". n/a: {v['deadline_reason']}." if v["deadline_reason"] else ""),
)
reasons = [
    f"**{name} n/a**: {why}."
    for name, why in (("Median days to close", v["median_reason"]), ("Deadlines kept", v["deadline_reason"]))
    if why and v["n"]
]
if reasons:
    st.caption(" ".join(reasons))

if v["n"] == 0:
    st.info("No bug matches these filters. Clear a filter to see more.")
    st.stop()

# One view at a time: tabs would draw every chart at once, which slows the first paint.
view = st.radio(
    "View",
    VIEWS,
    horizontal=True,
    key="inc_view",
    label_visibility="collapsed",
)
_url.publish({"view": None if view == VIEWS[0] else view})
if view == "Per year":
    st.vega_lite_chart(v["year_spec"], width="stretch", height=380)  # "content" squeezes the plot
elif view == "Per CA":
    st.vega_lite_chart(v["ca_spec"], width="stretch")
    st.caption(
        "A bug whose title names several CAs counts for each. The subtitle says how many bugs the CAs "
        "beyond the top 20 have."
    )
elif view == "Per tag":
    st.vega_lite_chart(v["tag_spec"], width="stretch")
elif view == "Time to close":
    st.vega_lite_chart(v["ttc_spec"], width="stretch", height=380)
    st.caption(
        "Closed bugs other than INVALID/DUPLICATE with a known resolution time; days from filing "
        "to the last resolution."
    )
elif view == "Deadlines":
    if not v["has_deadlines"]:
        st.info("Deadlines are judged only for bugs whose comments are loaded (fetch bugs on the Data page).")
    else:
        st.vega_lite_chart(v["deadline_spec"], width="stretch")
        st.dataframe(v["deadlines"], hide_index=True, key="inc_deadlines", width="stretch")
        st.caption(
            "CCADB guidelines: first response within 72 h, full report within 14 days, updates at "
            "least every 7 days, a closure summary before resolution (bugs fixed from 2025-03-01). "
            "The clock starts when the bug is filed."
        )
else:
    st.dataframe(
        v["bugs"],
        hide_index=True,
        width="stretch",
        column_config={
            "Bug": st.column_config.LinkColumn(
                "Bug", display_text=r"id=(\d+)", help="The bug on Bugzilla", width="small"
            ),
            "Status": st.column_config.TextColumn(width="small"),
            "Summary": st.column_config.TextColumn(width="large"),
        },
        key="inc_bugs",
    )
if filters["problems"]:
    with st.expander(f"Skipped corpus items ({len(filters['problems'])})"):
        st.dataframe(app_data.problems_frame(filters["problems"]), hide_index=True, width="stretch")
