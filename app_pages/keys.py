"""Keys: one row per SPKI; a chosen key's certificates with crt.sh links."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data, _url

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Keys")
st.caption(f"{ds.label}. One row per subject public key (SPKI SHA-256). Times are UTC.")

_url.restore(
    "_url_keys",
    {
        "keys": ("keys_only_compromised", lambda v: {"all": False, "compromised": True}.get(v[0])),
        "key": ("keys_selected", lambda v: v[0] if len(v[0]) == 64 else None),
    },
)
st.session_state.setdefault("keys_only_compromised", True)
only = st.toggle("Compromised keys only", key="keys_only_compromised")
table = _data.key_table(*args, only)
if table.empty:
    if only:
        st.info("No key in this data set is known to be compromised. Turn the toggle off to see every key.")
    else:
        st.info("No certificates are loaded. Add some on the Data page.")
    st.stop()


def _row_chosen(spkis: list[str] = table["SPKI SHA-256"].tolist()) -> None:  # noqa: B006 - this run's rows
    # Runs before the next script run: a clicked row (its checkbox or any of its cells) becomes the
    # key chosen below.
    sel = st.session_state["keys_table"].selection
    rows = list(sel.rows) or [cell[0] for cell in sel.cells]
    if rows and rows[0] < len(spkis):
        st.session_state["keys_selected"] = spkis[rows[0]]


noun = "compromised key" if only else "key"
st.markdown(f"**{app_data.plural(len(table), noun)}**. Click a row to list its certificates below.")
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={
        # The whole hash (64 hex digits) stays in view while the other columns scroll.
        "SPKI SHA-256": st.column_config.TextColumn(width=480, pinned=True),
        "Issuances": st.column_config.NumberColumn(format="%d"),
        "Issued after compromise": st.column_config.NumberColumn(format="%d"),
        "Revoked late": st.column_config.NumberColumn(format="%d", help="Revoked more than 24 h late"),
        "Compromise source": st.column_config.TextColumn(width="large"),
        "Issuers": st.column_config.TextColumn(width="large"),
    },
    key="keys_table",
    on_select=_row_chosen,
    selection_mode=["single-row", "single-cell"],
)

choices = _data.key_choices(*args, only)
labels = dict(choices)
options = [c[0] for c in choices]
if st.session_state.get("keys_selected") and st.session_state["keys_selected"] not in options:
    # A row clicked beyond the list's first entries (or a key kept from the other toggle state).
    if st.session_state["keys_selected"] in set(table["SPKI SHA-256"]):
        options.insert(0, st.session_state["keys_selected"])
    else:
        del st.session_state["keys_selected"]
spki = st.selectbox(
    "Certificates of key",
    options,
    format_func=lambda s: labels.get(s, s),
    key="keys_selected",
)
_url.publish({"keys": None if only else "all", "key": spki or None})
if spki:
    certs = _data.key_certificates(*args, spki)
    st.markdown(f"**{app_data.plural(len(certs), 'certificate')} on key `{spki}`**")
    st.dataframe(
        certs,
        hide_index=True,
        width="stretch",
        column_config={
            "Serial": st.column_config.TextColumn(width=300, pinned=True),
            "crt.sh": st.column_config.LinkColumn(
                "crt.sh",
                display_text=r"sha256=([0-9a-f]{12})",
                help="The certificate on crt.sh (SHA-256 prefix)",
            ),
            "Reason": st.column_config.TextColumn(width=150),
            "Issuer": st.column_config.TextColumn(width="large"),
        },
        key="keys_certs",
    )
