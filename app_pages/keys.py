"""Keys: one row per SPKI; a chosen key's certificates with crt.sh links."""

from __future__ import annotations

import streamlit as st

from app_pages import _data

ds = _data.current_dataset()
args = _data.ds_args(ds)
st.title("Keys")
st.caption(f"{ds.label}. One row per subject public key (SPKI SHA-256). Times are UTC.")

only = st.toggle("Compromised keys only", value=True, key="keys_only_compromised")
table = _data.key_table(*args, only)
if table.empty:
    if only:
        st.info("No key in this data set is known to be compromised. Turn the toggle off to see every key.")
    else:
        st.info("No certificates are loaded. Add some on the Data page.")
    st.stop()


def _row_chosen(spkis: list[str] = table["SPKI SHA-256"].tolist()) -> None:  # noqa: B006 - this run's rows
    # Runs before the next script run: a clicked row becomes the key chosen below.
    rows = st.session_state["keys_table"].selection.rows
    if rows and rows[0] < len(spkis):
        st.session_state["keys_selected"] = spkis[rows[0]]


st.markdown(
    f"**{len(table):,} {'compromised ' if only else ''}keys**. Click a row to list its certificates below."
)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "SPKI SHA-256": st.column_config.TextColumn(width="medium"),
        "Issuances": st.column_config.NumberColumn(format="%d"),
        "Issued after compromise": st.column_config.NumberColumn(format="%d"),
        "Revoked late": st.column_config.NumberColumn(format="%d", help="Revoked more than 24 h late"),
        "Compromise source": st.column_config.TextColumn(width="medium"),
    },
    key="keys_table",
    on_select=_row_chosen,
    selection_mode="single-row",
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
if spki:
    certs = _data.key_certificates(*args, spki)
    st.markdown(f"**{len(certs)} certificates on key `{spki}`**")
    st.dataframe(
        certs,
        hide_index=True,
        column_config={
            "crt.sh": st.column_config.LinkColumn("crt.sh", display_text="open"),
            "Serial": st.column_config.TextColumn(width="medium"),
        },
        key="keys_certs",
    )
