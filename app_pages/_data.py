"""Streamlit cache wrappers over `analysis.app_data` (the pages call only these).

The analysis result of a data set (`Findings`, which holds frames as large as the data) is kept
with `st.cache_resource`, so it is computed once and never copied; the pages read it only through
the `st.cache_data` functions below, which return small, page-ready frames and dicts keyed by the
data set's key and fingerprint (a new upload changes the fingerprint, so nothing stale is served).
"""

from __future__ import annotations

import streamlit as st

from analysis import app_data

DATASET_STATE = "dataset"
SCOPE_STATE = "scope"


# --- the current data set (chosen in the sidebar of app.py) -----------------------------------


def dataset_keys() -> list[str]:
    return app_data.list_datasets()


def current_dataset() -> app_data.Dataset:
    key = st.session_state.get(DATASET_STATE, app_data.DEMO)
    try:
        return app_data.get_dataset(key)
    except Exception:  # a workspace folder removed behind our back: fall back to the demo
        st.session_state[DATASET_STATE] = app_data.DEMO
        return app_data.demo_dataset()


def current_scope() -> str:
    return st.session_state.get(SCOPE_STATE, "global")


def ds_args(ds: app_data.Dataset | None = None) -> tuple[str, str, str]:
    ds = ds or current_dataset()
    return ds.key, ds.fingerprint, current_scope()


# --- key reuse ---------------------------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner="Reading certificates and revocations…")
def _inputs(key: str, fingerprint: str):
    return app_data.load_inputs(app_data.get_dataset(key))


@st.cache_resource(max_entries=4, show_spinner="Applying the key-reuse rules…")
def _findings(key: str, fingerprint: str, scope: str):
    return app_data.analyse(app_data.get_dataset(key), scope=scope, inputs=_inputs(key, fingerprint))


def findings(key: str, fingerprint: str, scope: str):
    """The data set's `Findings` (shared, read-only: never modify what comes back)."""
    return _findings(key, fingerprint, scope)


@st.cache_data(max_entries=16, show_spinner=False)
def overview(key: str, fingerprint: str, scope: str) -> dict:
    return app_data.overview(
        findings(key, fingerprint, scope), refused=app_data.refused_uploads(app_data.get_dataset(key))
    )


@st.cache_data(max_entries=16, show_spinner=False)
def issuance_chart_spec(key: str, fingerprint: str, scope: str) -> dict:
    from analysis import charts

    return charts.issuance_over_time(findings(key, fingerprint, scope).issuances).to_dict()


@st.cache_data(max_entries=16, show_spinner=False)
def key_table(key: str, fingerprint: str, scope: str, compromised_only: bool):
    return app_data.for_display(
        app_data.key_table(findings(key, fingerprint, scope), compromised_only=compromised_only)
    )


@st.cache_data(max_entries=16, show_spinner=False)
def key_choices(key: str, fingerprint: str, scope: str, compromised_only: bool):
    return app_data.key_choices(findings(key, fingerprint, scope), compromised_only=compromised_only)


@st.cache_data(max_entries=64, show_spinner=False)
def key_certificates(key: str, fingerprint: str, scope: str, spki: str):
    return app_data.for_display(app_data.key_certificates(findings(key, fingerprint, scope), spki))


@st.cache_data(max_entries=16, show_spinner=False)
def violations_csv(key: str, fingerprint: str, scope: str) -> str:
    return app_data.violations_csv(findings(key, fingerprint, scope))


@st.cache_data(max_entries=16, show_spinner=False)
def findings_json(key: str, fingerprint: str, scope: str) -> str:
    return app_data.findings_json(findings(key, fingerprint, scope))


# --- timeline ----------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def timeline(key: str, fingerprint: str, scope: str, spkis: tuple[str, ...], with_report: bool) -> dict:
    """Chart spec and events table for the chosen keys (and the report's timeline)."""
    from analysis import charts

    f = findings(key, fingerprint, scope)
    rep_dict = report(key, fingerprint)["report"] if with_report else None
    ev = app_data.events(f, rep_dict, keys=spkis)
    n_report = int((ev["kind"] == "report").sum())
    return {
        "spec": charts.key_timeline(ev).to_dict(),
        "table": app_data.for_display(app_data.events_table(ev)),
        "zone": app_data.report_zone(rep_dict),
        "n_events": int(len(ev)) - n_report,
        "n_report": n_report,
    }


# --- the report and drafting ------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def report(key: str, fingerprint: str) -> dict:
    rep, text, problems = app_data.load_dataset_report(app_data.get_dataset(key))
    return {"report": rep, "text": text, "problems": problems}


@st.cache_data(max_entries=16, show_spinner=False)
def report_views(key: str, fingerprint: str, scope: str) -> dict:
    rep = report(key, fingerprint)["report"]
    ov = overview(key, fingerprint, scope)
    summary, as_of = ov["summary"], ov["as_of"]
    return {
        "actions": app_data.for_display(app_data.action_items_table(rep)),
        "claims": app_data.for_display(app_data.claimed_vs_data(rep, summary)),
        "lint": app_data.for_display(app_data.lint_table(rep, summary, as_of)) if rep is not None else None,
    }


@st.cache_data(max_entries=16, show_spinner=False)
def closure_draft(key: str, fingerprint: str, scope: str) -> dict:
    rep = report(key, fingerprint)["report"]
    ov = overview(key, fingerprint, scope)
    return app_data.closure_draft(rep, ov["summary"], ov["as_of"])


@st.cache_data(max_entries=64, show_spinner=False)
def lint_text(text: str, key: str, fingerprint: str, scope: str):
    ov = overview(key, fingerprint, scope)
    rep = report(key, fingerprint)["report"]
    return app_data.for_display(app_data.lint_text(text, ov["summary"], ov["as_of"], rep))


@st.cache_data(max_entries=16, show_spinner=False)
def appendix_csv(key: str, fingerprint: str, scope: str) -> tuple[str, int]:
    return app_data.appendix_csv(findings(key, fingerprint, scope))


# --- the incident corpus -----------------------------------------------------------------------


@st.cache_data(max_entries=8, show_spinner="Reading the bug corpus…")
def corpus(key: str, fingerprint: str):
    return app_data.load_corpus_views(app_data.get_dataset(key))


def clear_caches() -> None:
    """After a new upload or fetch (fingerprints change anyway; this frees the memory)."""
    st.cache_data.clear()
    _findings.clear()
    _inputs.clear()


@st.cache_data(max_entries=8, show_spinner=False)
def corpus_filters(key: str, fingerprint: str) -> dict | None:
    views = corpus(key, fingerprint)
    return (
        None
        if views is None
        else {**app_data.corpus_filters(views), "n": len(views.bugs), "problems": views.problems}
    )


@st.cache_data(max_entries=64, show_spinner=False)
def corpus_filtered(
    key: str,
    fingerprint: str,
    cas: tuple[str, ...],
    tags: tuple[str, ...],
    years: tuple[int, int] | None,
    status: str,
) -> dict:
    return app_data.corpus_views_filtered(
        corpus(key, fingerprint), cas=cas, tags=tags, years=years, status=status
    )
