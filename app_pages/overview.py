"""Overview: the incident's figures, what they mean, and issuance over time."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data
from app_pages._figures import figure

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Overview")
st.caption(ds.label)

try:
    ov = _data.overview(*args)
except Exception as exc:  # noqa: BLE001 - show the reason, not a traceback
    st.error(f"This data set could not be analysed: {exc}. Check its files on the Data page.")
    st.stop()

figures = ov["figures"]
for row in (figures[:3], figures[3:]):
    for col, (label, value, key) in zip(st.columns(3), row, strict=False):
        figure(col, label, f"{value:,}", help=f"`summary.{key}` in `keyreuse --format json`")

st.markdown(ov["sentence"])
if ov["summary"]["issuances"] == 0:
    st.page_link(
        "app_pages/data.py", label="Go to the Data page to load certificates", icon=":material/folder_open:"
    )
    st.stop()

# An explicit height: with the default ("content") Streamlit squeezes the plot to ~140 px.
st.vega_lite_chart(_data.issuance_chart_spec(*args), width="stretch", height=440)

c1, c2 = st.columns(2)
with c1:
    with st.expander(f"Notes ({len(ov['notes'])})", expanded=False):
        for note in ov["notes"]:
            st.markdown(f"- {note}")
with c2:
    label = f"Skipped inputs ({len(ov['problems'])})"
    with st.expander(label, expanded=bool(ov["problems"])):
        if ov["problems"]:
            st.dataframe(app_data.problems_frame(ov["problems"]), hide_index=True, width="stretch")
        else:
            st.write("Every input was read.")
if ov["listed_without"]:
    n = len(ov["listed_without"])
    st.info(
        f"{app_data.plural(n, 'key')} listed as compromised {'has' if n == 1 else 'have'} no loaded "
        "certificate: fetch their certificates from crt.sh on the Data page."
    )

s = ov["summary"]
st.caption(
    f"{app_data.plural(s['certificate_entries'], 'certificate entry', 'certificate entries')} read "
    f"({s['distinct_certificates']:,} distinct), {app_data.plural(s['issuances'], 'issuance')} on "
    f"{app_data.plural(s['distinct_keys'], 'key')}; {app_data.plural(s['reused_compromised_keys'], 'compromised key')} "
    f"{'was' if s['reused_compromised_keys'] == 1 else 'were'} used again after {'its' if s['reused_compromised_keys'] == 1 else 'their'} compromise."
)
c1, c2 = st.columns(2)
c1.download_button(
    "Download findings (JSON)",
    lambda: _data.findings_json(*args),
    file_name=f"keyreuse-{ds.key}.json",
    mime="application/json",
    on_click="ignore",
)
c2.download_button(
    "Download violations (CSV)",
    lambda: _data.violations_csv(*args),
    file_name=f"violations-{ds.key}.csv",
    mime="text/csv",
    on_click="ignore",
)
