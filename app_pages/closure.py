"""Closure summary: the drafted summary to edit, a live preview, lint of the edit, downloads."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Closure summary")

r = _data.report(ds.key, ds.fingerprint)
if r["report"] is None:
    st.info(
        "The closure summary is drafted from the incident report's action items and root causes, and "
        "this data set has no report. Upload one on the Data page."
    )
draft = _data.closure_draft(*args)
if draft["attestation"]:
    st.success("Every action item is Complete or Canceled, so the draft ends with the closure attestation.")
    for it in draft.get("data_predates") or []:
        st.info(
            f"The data is as of {str(draft['as_of'])[:10]}, before '{it['item']}' was completed "
            f"({it['completed']}), and still shows {app_data.plural(draft['still_valid'], 'certificate')} on "
            "compromised keys valid: it can neither confirm nor contradict that revocation. Load a later "
            "CRL to check it."
        )
elif draft["open_items"]:
    n_open = len(draft["open_items"])
    st.warning(
        f"{app_data.plural(n_open, 'action item')} {'is' if n_open == 1 else 'are'} not Complete or "
        "Canceled, so the draft does not carry the closure attestation. Finish them (and update the "
        "report) before requesting closure."
    )
elif draft.get("still_valid"):
    n_valid = draft["still_valid"]
    st.warning(
        f"The data shows {app_data.plural(n_valid, 'certificate')} on compromised keys still valid, so "
        "the draft does not carry the closure attestation. Revoke them (or explain why not) before "
        "requesting closure."
    )
else:
    st.warning("No action items were found, so the draft does not carry the closure attestation.")

text_key = f"closure_text::{ds.key}::{ds.fingerprint}::{args[2]}"
# The text area takes its value from session state only (a default as well logs a warning).
st.session_state.setdefault(text_key, draft["markdown"])


def _reset() -> None:
    st.session_state[text_key] = draft["markdown"]


st.button("Reset to the draft", key="closure_reset", on_click=_reset)
left, right = st.columns(2)
with left:
    text = st.text_area(
        "Closure summary (markdown, editable)",
        height=480,
        key=text_key,
        help="Drafted from the report's own words and the data's counts. Edit freely; the preview and lint "
        "follow your text.",
    )
with right:
    st.markdown("**Preview**")
    with st.container(border=True, height=480):
        st.markdown(text)

st.subheader("Lint of the edited text")
lint = _data.lint_text(text, *args)
if lint.empty:
    st.success("No lint findings for this text.")
else:
    n_err = int((lint["Severity"] == "error").sum())
    st.markdown(
        f"**{app_data.plural(n_err, 'error')}, {app_data.plural(len(lint) - n_err, 'warning or notice', 'warnings or notices')}**"
    )
    st.dataframe(lint, hide_index=True, key="closure_lint", width="stretch")

st.subheader("Downloads")
c1, c2 = st.columns(2)
c1.download_button(
    "Download closure summary (.md)",
    text,
    file_name=f"closure-summary-{ds.key}.md",
    mime="text/markdown",
    on_click="ignore",
    key="closure_download",
)
# The appendix is built when the button is pressed (a callable), not on every visit.
n_rows = _data.overview(*args)["summary"]["issuances_with_compromised_keys"]
is_csv = n_rows < 10_000
c2.download_button(
    f"Download appendix ({app_data.plural(n_rows, 'certificate')}, {'CSV' if is_csv else 'crt.sh links'})",
    lambda: _data.appendix_csv(*args)[0],
    file_name=f"appendix-{ds.key}.{'csv' if is_csv else 'txt'}",
    mime="text/csv" if is_csv else "text/plain",
    on_click="ignore",
    disabled=n_rows == 0,
    key="appendix_download",
)
c2.caption(
    "The CCADB appendix: certificates on compromised keys, eleven template columns plus SPKI, "
    "compromise time and violation. From 10,000 certificates on it is a list of crt.sh links."
)
