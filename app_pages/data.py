"""Data: choose the data set; upload files and fetch from crt.sh and Bugzilla into the workspace."""

from __future__ import annotations

import streamlit as st

from analysis import app_data
from app_pages import _data, _stores

st.title("Data")
st.caption(
    f"Workspace folder: `{app_data.workspace_dir()}` (env CA_INCIDENTS_CACHE moves it). "
    "Uploaded and fetched files stay there, so a reload loses nothing."
)


def _show(key: str) -> None:
    st.session_state[_data.DATASET_STATE] = key


def _create() -> None:
    name = st.session_state.get("data_new_name", "")
    try:
        ds = app_data.create_dataset(name)
    except app_data.InputError as exc:
        st.session_state["data_create_error"] = exc.reason
        return
    st.session_state.pop("data_create_error", None)
    st.session_state["data_new_name"] = ""
    _show(ds.key)


def _ask_delete(key: str) -> None:
    st.session_state["data_delete_pending"] = key


def _delete(key: str) -> None:
    st.session_state.pop("data_delete_pending", None)
    try:
        n = app_data.delete_dataset(key)
    except app_data.InputError as exc:
        st.session_state["data_delete_message"] = ("error", f"{key}: {exc.reason}")
        return
    if st.session_state.get(_data.DATASET_STATE) == key:
        _show(app_data.DEMO)
    _data.clear_caches()
    st.session_state["data_delete_message"] = (
        "success",
        f"Deleted the data set {key} ({n:,} file{'' if n == 1 else 's'}).",
    )


# --- which data set -----------------------------------------------------------------------------

st.subheader("Data sets")
keys = _data.dataset_keys()
current = _data.current_dataset()
pending = st.session_state.get("data_delete_pending")
for key in keys:
    c1, c2, c3 = st.columns([6, 1, 1])
    label = "Demo incident (Example Trust), read-only" if key == app_data.DEMO else f"Workspace: {key}"
    c1.markdown(f"**{label}**" + ("  ← shown on every page" if key == current.key else ""))
    c2.button("Show", key=f"data_show_{key}", on_click=_show, args=(key,), disabled=key == current.key)
    if key != app_data.DEMO:
        c3.button("Delete…", key=f"data_delete_{key}", on_click=_ask_delete, args=(key,))
    if key == pending:
        n_files = len(app_data.workspace_files(app_data.get_dataset(key)))
        st.warning(
            f"Delete the data set **{key}** and its {n_files:,} file{'' if n_files == 1 else 's'} from the workspace? This cannot be undone."
        )
        d1, d2, _ = st.columns([2, 1, 5])
        d1.button("Yes, delete it", key="data_delete_confirm", type="primary", on_click=_delete, args=(key,))
        d2.button("Cancel", key="data_delete_cancel", on_click=_ask_delete, args=(None,))
if st.session_state.get("data_delete_message"):
    level, text = st.session_state.pop("data_delete_message")
    (st.success if level == "success" else st.error)(text)

with st.form("data_create", clear_on_submit=False, border=True):
    st.text_input(
        "New data set name",
        key="data_new_name",
        placeholder="e.g. bug-1927384",
        help="Letters, digits, dot, dash and underscore; anything else becomes _.",
    )
    st.form_submit_button("Create and show", on_click=_create)
if st.session_state.get("data_create_error"):
    st.error(st.session_state["data_create_error"])

_stores.render()  # Parquet stores beside the data sets (issue 16)

if current.is_demo:
    st.info(
        "The demo data set is read-only. Create a workspace data set above to upload files or fetch "
        "from crt.sh and Bugzilla."
    )
    st.stop()

# --- uploads ---------------------------------------------------------------------------------------

st.subheader(f"Add files to “{current.key}”")
kind_options = ["auto", *app_data.KINDS]
with st.form("data_upload", clear_on_submit=True, border=True):
    files = st.file_uploader(
        "Certificates (PEM/DER), CRLs, revocation CSV or incident xlsx, compromised keys, report text, bugs.json",
        accept_multiple_files=True,
        help="Any file name: what a file is comes from its content. What is none of these is refused "
        "and listed below, with the reason the command line gives.",
        key="data_files",
    )
    kind = st.selectbox(
        "Treat as",
        kind_options,
        format_func=lambda k: "Detect from the content" if k == "auto" else app_data.KIND_LABELS[k],
        key="data_kind",
    )
    submitted = st.form_submit_button("Save to the data set")
if submitted:
    if not files:
        st.warning("Choose files first.")
    saved = 0
    for f in files or []:
        try:
            path = app_data.save_upload(current, f.name, f.getvalue(), None if kind == "auto" else kind)
        except app_data.InputError as exc:
            st.error(f"Refused {f.name}: {exc.reason}" + (f" ({exc.position})" if exc.position else ""))
            continue
        saved += 1
        st.success(f"Saved {f.name} as {path.relative_to(current.folder)}")
    _data.clear_caches()
    current = _data.current_dataset()

# --- connection settings (this browser session only) ----------------------------------------------

with st.expander("Connection: offline mode and Bugzilla API key"):
    offline = st.toggle(
        "Offline: answer from the cache only",
        key="data_offline",
        help="No request leaves the machine; what is not in the HTTP cache is reported per item. "
        "Like the CLI's --offline.",
    )
    api_key = st.text_input(
        "Bugzilla API key (optional)",
        key="data_bz_api_key",
        type="password",
        help="Sent only in the X-BUGZILLA-API-KEY header, for bugs that need a login. Kept in this "
        "browser session; never written to the workspace or the cache. The environment variable "
        "BUGZILLA_API_KEY is used when this is empty.",
    )

# --- crt.sh ----------------------------------------------------------------------------------------

st.subheader("Fetch from crt.sh")
with st.form("data_crtsh", border=True):
    text = st.text_area("SPKI SHA-256 (64 hex) or domain names, one a line", key="data_crtsh_q", height=100)
    go = st.form_submit_button("Fetch certificates")
if go:
    queries = app_data.parse_crtsh_queries(text)
    if not queries:
        st.warning("Enter at least one SPKI SHA-256 or domain name.")
    else:
        bar = st.progress(0.0, text="Starting…")
        results = app_data.fetch_crtsh(
            current,
            queries,
            progress=lambda done, total, msg: bar.progress(min(done / total, 1.0), text=msg),
            offline=offline,
        )
        for r in results:
            (st.success if r.ok else st.warning if r.saved else st.error)(
                f"{r.item}: {app_data.plural(r.saved, 'certificate')} saved"
                + (f"; {app_data.plural(len(r.errors), 'problem')}" if r.errors else "")
            )
            for e in r.errors[:20]:
                st.caption(e)
        _data.clear_caches()
        current = _data.current_dataset()

# --- Bugzilla --------------------------------------------------------------------------------------

st.subheader("Fetch from Bugzilla")
with st.form("data_bugzilla", border=True):
    ids_text = st.text_input("Bug numbers or links", key="data_bug_ids", placeholder="1927384")
    as_report = st.checkbox(
        "Use the first bug's comments as this data set's incident report", value=True, key="data_bug_report"
    )
    go_bz = st.form_submit_button("Fetch bugs")
if go_bz:
    ids = app_data.parse_bug_ids(ids_text)
    if not ids:
        st.warning("Enter at least one bug number.")
    else:
        bar = st.progress(0.0, text="Starting…")
        results = app_data.fetch_bugs(
            current,
            ids,
            as_report=as_report,
            progress=lambda done, total, msg: bar.progress(min(done / total, 1.0), text=msg),
            api_key=api_key or None,
            offline=offline,
        )
        for r in results:
            (st.success if r.ok else st.warning if r.saved else st.error)(
                f"{r.item}: {app_data.plural(r.saved, 'part')} saved"
                + (f"; {app_data.plural(len(r.errors), 'problem')}" if r.errors else "")
            )
            for e in r.errors[:20]:
                st.caption(e)
        _data.clear_caches()
        current = _data.current_dataset()

# --- what is there ---------------------------------------------------------------------------------

st.subheader("Files in this data set")
table = app_data.workspace_files(current)
if table.empty:
    st.info("No files yet: upload some above, or fetch from crt.sh or Bugzilla.")
else:
    st.dataframe(table, hide_index=True, key="data_table", width="stretch")

refused = app_data.refused_uploads(current)
if refused:
    st.subheader(f"Refused uploads ({len(refused)})")
    st.dataframe(
        app_data.problems_frame(refused),
        hide_index=True,
        key="data_refused",
        width="stretch",
        column_config={"Reason": st.column_config.TextColumn(width="large")},
    )
    st.caption("Nothing of these files was saved. The Overview lists them among the skipped inputs.")
    if st.button("Clear this list", key="data_refused_clear"):
        app_data.clear_refusals(current)
        _data.clear_caches()
        st.rerun()
