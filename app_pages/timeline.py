"""Timeline: issuance, revocations, compromise times and the report's timeline, per key."""

from __future__ import annotations

import streamlit as st

from analysis.app_data import MAX_TIMELINE_KEYS
from app_pages import _data

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Timeline")

choices = _data.key_choices(*args, True)
labels = dict(choices)
has_report = bool(ds.files("report"))
c1, c2 = st.columns([4, 1])
with c1:
    chosen = st.multiselect(
        f"Keys (compromised keys; at most {MAX_TIMELINE_KEYS})",
        [c[0] for c in choices],
        default=[c[0] for c in choices[:10]],
        format_func=lambda s: labels.get(s, s),
        max_selections=MAX_TIMELINE_KEYS,
        key="timeline_keys",
    )
with c2:
    with_report = st.toggle(
        "Report timeline", value=has_report, disabled=not has_report, key="timeline_report"
    )

if not choices and not has_report:
    st.info(
        "Nothing to draw: no key in this data set is known to be compromised and there is no report. "
        "Load CRLs, a compromised-keys list or a report on the Data page."
    )
    st.stop()

tl = _data.timeline(*args, tuple(chosen), with_report and has_report)
zone = tl["zone"]
st.caption(
    "All times are UTC. "
    + (
        f"The report states its times in {zone}; they are converted to UTC here and kept as stated in the table. "
        if zone and zone != "UTC"
        else ""
    )
    + "Issue time is crt.sh's first sighting or the earliest embedded SCT when known, else notBefore."
)
st.vega_lite_chart(tl["spec"], width="stretch")
st.markdown(f"**Events** ({tl['n_events']:,} from the data, {tl['n_report']} from the report)")
st.dataframe(tl["table"], hide_index=True, key="timeline_table")
