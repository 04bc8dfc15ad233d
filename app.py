"""ca-incidents dashboard: `streamlit run app.py` (or `make run`).

The router: page config, the data set picker in the sidebar, and `st.navigation` over
app_pages/. Pages render; analysis happens in `analysis/` behind the cache wrappers of
app_pages/_data.py. It opens on the embedded demo incident.
"""

from __future__ import annotations

import sys

# jsonschema (under Altair) imports rfc3987_syntax when it is installed (Jupyter pulls it in) to
# check the "iri" format, and that module builds a Lark grammar at import: ~4 s before the first
# chart. Altair never validates that format, and jsonschema skips the checker on ImportError.
sys.modules.setdefault("rfc3987_syntax", None)

import streamlit as st  # noqa: E402

from analysis import app_data  # noqa: E402
from app_pages import _data, _url  # noqa: E402

st.set_page_config(page_title="ca-incidents", page_icon="🔑", layout="wide")

PAGES = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/keys.py", title="Keys", icon=":material/key:"),
    st.Page("app_pages/timeline.py", title="Timeline", icon=":material/timeline:"),
    st.Page("app_pages/report.py", title="Report", icon=":material/description:"),
    st.Page("app_pages/closure.py", title="Closure summary", icon=":material/task_alt:"),
    st.Page("app_pages/incidents.py", title="Incidents", icon=":material/bug_report:"),
    st.Page("app_pages/data.py", title="Data", icon=":material/folder_open:"),
]


def _label(key: str) -> str:
    return "Demo incident (Example Trust)" if key == app_data.DEMO else f"Workspace: {key}"


with st.sidebar:
    keys = _data.dataset_keys()
    # The URL (?dataset=...&scope=...) chooses the view on a reload or a shared link.
    _url.restore(
        "_url_app",
        {
            "dataset": (_data.DATASET_STATE, _url.one_of(keys)),
            "scope": (_data.SCOPE_STATE, _url.one_of(["global", "issuer"])),
        },
    )
    if st.session_state.get(_data.DATASET_STATE) not in keys:
        st.session_state[_data.DATASET_STATE] = app_data.DEMO
    st.selectbox(
        "Data set",
        keys,
        key=_data.DATASET_STATE,
        format_func=_label,
        help="The demo incident, or a data set you built on the Data page.",
    )
    st.radio(
        "Compromise known",
        ["global", "issuer"],
        key=_data.SCOPE_STATE,
        format_func=lambda s: "to any issuer" if s == "global" else "to the same issuer only",
        help="`--scope`: count compromise known from any issuer's keyCompromise revocation, or only "
        "the issuing CA's own.",
    )
    ds = _data.current_dataset()
    _url.publish(
        {"dataset": ds.key, "scope": None if _data.current_scope() == "global" else _data.current_scope()}
    )
    st.caption(
        f"Analysed as of {ds.as_of}" if ds.as_of else "Analysed as of now (UTC)",
        help="'Remaining valid' means neither revoked nor expired at this time.",
    )

st.navigation(PAGES).run()
