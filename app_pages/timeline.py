"""Timeline: issuance, revocations, compromise times and the report's timeline, per key."""

from __future__ import annotations

import streamlit as st

from analysis.app_data import MAX_TIMELINE_KEYS
from app_pages import _data, _url

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Timeline")

choices = _data.key_choices(*args, True)
labels = dict(choices)
has_report = bool(ds.files("report"))
options = [c[0] for c in choices]


def _keys_from_url(values: list[str]) -> list[str] | None:
    # Links carry 16-hex prefixes of the SPKIs (a full list of 40 hashes makes a very long URL).
    wanted = [v.lower() for v in values[0].split(",") if v]
    found = [o for w in wanted for o in options if o.startswith(w)]
    return list(dict.fromkeys(found))[:MAX_TIMELINE_KEYS] or None


_url.restore(
    "_url_timeline",
    {
        "tlkeys": ("timeline_keys", _keys_from_url),
        "report": ("timeline_report", lambda v: {"on": True, "off": False}.get(v[0])),
    },
)
# Widgets take their value from session state only (a default as well logs a warning); keys kept
# from another data set must be among this one's.
stored = st.session_state.get("timeline_keys", options[:10])
kept = [k for k in stored if k in set(options)]
st.session_state["timeline_keys"] = kept if kept or not stored else options[:10]
st.session_state.setdefault("timeline_report", has_report)
if not has_report:
    st.session_state["timeline_report"] = False
c1, c2 = st.columns([4, 1])
with c1:
    chosen = st.multiselect(
        f"Keys (compromised keys; at most {MAX_TIMELINE_KEYS})",
        options,
        format_func=lambda s: labels.get(s, s),
        max_selections=MAX_TIMELINE_KEYS,
        key="timeline_keys",
    )
with c2:
    with_report = st.toggle("Report timeline", disabled=not has_report, key="timeline_report")
_url.publish(
    {
        "tlkeys": None if chosen == options[:10] else ",".join(k[:16] for k in chosen) or "none",
        "report": None if with_report == has_report else ("on" if with_report else "off"),
    }
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
