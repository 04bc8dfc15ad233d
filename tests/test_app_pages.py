"""Every dashboard page through Streamlit's AppTest, on the demo incident and on a workspace data set.

Expected figures are the demo's, stated by the issues and data/demo/README.md (41 certificates on 8
compromised keys, 33 of them issued after compromise); the closure draft must carry the attestation
only when every action item is Complete or Canceled.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from analysis import app_data  # noqa: E402
from analysis.demo import DEMO_DIR  # noqa: E402
from analysis.reports import ATTESTATION  # noqa: E402
from app_pages._figures import parse  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


@pytest.fixture(scope="module", autouse=True)
def workspace(tmp_path_factory):
    """A private cache folder (the workspace lives under it) for this module's app runs."""
    old = os.environ.get("CA_INCIDENTS_CACHE")
    path = tmp_path_factory.mktemp("cache")
    os.environ["CA_INCIDENTS_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("CA_INCIDENTS_CACHE", None)
    else:
        os.environ["CA_INCIDENTS_CACHE"] = old


def _open(page: str | None = None, dataset: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if dataset:
        at.session_state["dataset"] = dataset
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame(at: AppTest, column: str):
    """The first table on the page that has `column` (tables without selection carry no key)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def _button(at: AppTest, label: str):
    return at.button[[b.label for b in at.button].index(label)]


def _metric(at: AppTest, label: str) -> str:
    """The value of the figure card (app_pages/_figures.py) labelled `label`."""
    cards = [c for c in (parse(m.value) for m in at.markdown) if c]
    found = [value for lab, value in cards if lab == label]
    assert found, f"no figure {label!r} in {[lab for lab, _ in cards]}"
    return found[0]


def test_overview_shows_the_demo_figures():
    at = _open()
    assert at.title[0].value == "Overview"
    assert _metric(at, "Certificates on compromised keys") == "41"
    assert _metric(at, "Issued after compromise") == "33"
    assert _metric(at, "Compromised keys") == "8"
    assert _metric(at, "Remaining valid") == "3"  # the report's own "remaining valid" count
    text = " ".join(m.value for m in at.markdown)
    assert "leads for review" in text and "2024-11-01T00:00:00+00:00" in text
    assert at.get("vega_lite_chart"), "the issuance chart is missing"
    assert at.selectbox(key="dataset").value == "demo"


def test_keys_table_lists_the_eight_compromised_keys():
    at = _open("keys")
    table = _frame(at, "Compromised")
    assert len(table) == 8
    assert table["Compromised"].all()
    assert table["Issuances"].sum() == 41
    assert table["Issued after compromise"].sum() == 33
    assert table["Compromised at (UTC)"].str.endswith("+00:00").all()
    assert (table["Issuers"].str.len() > 0).all()
    assert not table["Compromise source"].str.contains("/work/").any()

    # Choosing a key shows exactly its certificates, with crt.sh links.
    spki = table["SPKI SHA-256"].iloc[1]
    at.selectbox(key="keys_selected").set_value(spki).run()
    certs = _frame(at, "crt.sh")
    assert len(certs) == table["Issuances"].iloc[1]
    assert certs["crt.sh"].str.startswith("https://crt.sh/?").all()

    at.toggle(key="keys_only_compromised").set_value(False).run()
    assert len(_frame(at, "Compromised")) == 51  # distinct keys in the demo


def test_timeline_has_data_and_report_events_in_utc():
    at = _open("timeline")
    assert len(at.multiselect(key="timeline_keys").value) == 8
    table = _frame(at, "Source")
    data = table[table["Source"] == "data"]
    assert (data["Event"] == "issuance").sum() == 41
    assert (data["Event"] == "compromise").sum() == 8
    assert (table["Source"] == "report").sum() == 8  # the report's eight timeline dates
    assert table["When (UTC)"].str.endswith("+00:00").all()
    first = table[table["Source"] == "report"].iloc[0]
    assert first["When (UTC)"] == "2018-12-23T16:00:00+00:00" and first["As stated"] == "2018-12-24"
    assert any("UTC+08:00" in c.value for c in at.caption)
    assert at.get("vega_lite_chart")


def test_report_page_compares_counts_and_lints():
    at = _open("report")
    claims = _frame(at, "Stated")
    stated = claims.set_index("Line")
    # "Data value" has gaps (counts not compared), so it is text with the one empty marker.
    assert stated.loc[30, "Stated"] == 41 and stated.loc[30, "Data value"] == "41"
    assert stated.loc[31, "Stated"] == 3 and stated.loc[31, "Agrees"] == "yes"
    assert 33 in set(claims["Stated"])
    actions = _frame(at, "Action item")
    assert set(actions["Status"]) <= {"Complete", "Canceled"}
    # the only finding: a revocation item marked Complete (due 2024-11-02) while the data, as of
    # 2024-11-01, has 3 valid certificates: the data is too old to confirm it, a warning
    assert list(_frame(at, "Code")["Code"]) == ["action_item.unconfirmed_by_data"]


def test_closure_draft_on_the_demo_attests_and_says_the_data_predates_the_revocation():
    at = _open("closure")
    area = at.text_area[0]
    assert area.value.startswith("### Report Closure Summary")
    # every item is Complete or Canceled; the demo data (as of 2024-11-01) still has 3 valid
    # certificates, but the revocation item is dated 2024-11-02: the data cannot contradict it
    assert area.value.rstrip().endswith(ATTESTATION)
    assert [i.value for i in at.info if "before" in i.value] == [
        "The data is as of 2024-11-01, before 'Revoke the three remaining certificates on the eight keys "
        "with the reason keyCompromise' was completed (2024-11-02), and still shows 3 certificates on "
        "compromised keys valid: it can neither confirm nor contradict that revocation. Load a later CRL "
        "to check it."
    ]
    # the draft's own lint: the same warning, its revocation dated by the report's items
    assert list(_frame(at, "Code")["Code"]) == ["action_item.unconfirmed_by_data"]

    # Editing the text: lint follows the edit.
    area.set_value(area.value.replace(ATTESTATION, "")).run()
    assert "closure.no_attestation" in set(_frame(at, "Code")["Code"])


def test_closure_draft_withholds_the_attestation_while_the_data_shows_valid_certificates(
    monkeypatch, tmp_path
):
    # The demo data (as of 2024-11-01) with its report's revocation due (and so done by) 2024-10-30,
    # before the data's date: the 3 valid certificates contradict it. A workspace data set is
    # analysed as of now, when every demo certificate has expired, so the demo itself is re-pointed.
    from analysis.app_data import datasets

    text = (DEMO_DIR / "report.md").read_text(encoding="utf-8")
    assert text.count("| 2024-11-02 |") == 2  # the item's row in the first table and in the update
    report = tmp_path / "report.md"
    report.write_text(text.replace("| 2024-11-02 |", "| 2024-10-30 |"), encoding="utf-8")
    real = datasets.demo_paths
    monkeypatch.setattr(datasets, "demo_paths", lambda: {**real(), "report": [report]})
    at = _open("closure")
    area = at.text_area[0]
    assert ATTESTATION not in area.value
    assert "the data shows 3 certificates on compromised keys still valid" in area.value
    assert [w.value for w in at.warning if "attestation" in w.value] == [
        "The data shows 3 certificates on compromised keys still valid, so the draft does not carry "
        "the closure attestation. Revoke them (or explain why not) before requesting closure."
    ]
    assert "closure.no_attestation" in set(_frame(at, "Code")["Code"])


def test_closure_draft_has_no_attestation_while_an_item_is_open():
    ds = app_data.create_dataset("open-item")
    text = (DEMO_DIR / "report.md").read_text(encoding="utf-8")
    assert "| 2024-11-29 | Complete |" in text
    app_data.save_upload(
        ds, "report.md", text.replace("| 2024-11-29 | Complete |", "| 2024-11-29 | Ongoing |").encode()
    )
    at = _open("closure", dataset="open-item")
    assert ATTESTATION not in at.text_area[0].value
    assert "Review every revocation reason set while the default existed" in at.text_area[0].value
    assert any("not Complete or Canceled" in w.value for w in at.warning)


def test_incidents_page_filters_the_demo_corpus():
    at = _open("incidents")
    assert _metric(at, "Bugs") == "10"  # data/demo/corpus/bugs.json
    assert _metric(at, "Open") == "3"  # ASSIGNED, ASSIGNED, UNCONFIRMED
    at.radio(key="inc_status").set_value("open").run()
    assert _metric(at, "Bugs") == "3"
    at.radio(key="inc_view").set_value("Bugs").run()
    bugs = _frame(at, "Summary")
    assert set(bugs["Bug"]) == {
        f"https://bugzilla.mozilla.org/show_bug.cgi?id={n}" for n in (9100003, 9100008, 9100009)
    }
    assert set(bugs["Status"]) == {"ASSIGNED", "UNCONFIRMED"}
    # The corpus's judging time is said, and the n/a figures say why.
    assert any("Judged as of 2026-03-15T00:00:00+00:00" in c.value for c in at.caption)


def test_incidents_filters_live_in_the_url():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["status"] = "closed"
    at.query_params["view"] = "Per CA"
    at.query_params["years"] = "2019-2024"  # the demo corpus has 2023..2026: clamped to 2023-2024
    at.run()
    at.switch_page("app_pages/incidents.py").run()
    assert not at.exception
    assert at.radio(key="inc_status").value == "closed"
    assert at.radio(key="inc_view").value == "Per CA"
    assert at.slider(key="inc_years").value == (2023, 2024)
    at.radio(key="inc_status").set_value("open").run()
    assert at.query_params["status"] == ["open"] or at.query_params["status"] == "open"
    assert "dataset" in at.query_params


def test_the_data_set_comes_from_the_url():
    app_data.create_dataset("shared-link")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["dataset"] = "shared-link"
    at.query_params["scope"] = "issuer"
    at.run()
    assert not at.exception
    assert at.session_state["dataset"] == "shared-link"
    assert at.session_state["scope"] == "issuer"
    # An unknown data set in a link falls back to the demo instead of failing.
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["dataset"] = "no-such-set"
    at.run()
    assert not at.exception and at.session_state["dataset"] == "demo"


BAD_MARKERS = {"None", "<NA>", "nan", "NaN", "NaT", ""}


@pytest.mark.parametrize("page", ["keys", "timeline", "report", "closure", "incidents"])
def test_tables_use_one_empty_marker(page):
    at = _open(page)
    if page == "closure":  # the demo's draft lints clean: an unfinished edit gives findings
        at.text_area[0].set_value("### Report Closure Summary\n\n- Incident description: keys\n").run()
    if page == "incidents":
        for view in ("Bugs", "Deadlines"):
            at.radio(key="inc_view").set_value(view).run()
            _check_tables(at)
    _check_tables(at)


def _check_tables(at):
    assert at.dataframe, "no table on the page"
    for df in at.dataframe:
        frame = df.value
        for col in frame.columns:
            values = frame[col]
            assert not values.isna().any(), (col, "a missing value not shown as —")
            if values.dtype == object:
                bad = {str(v) for v in values if isinstance(v, str) and v.strip() in BAD_MARKERS}
                assert not bad, (col, bad)


def test_reset_to_the_draft_logs_no_session_state_warning(caplog):
    at = _open("closure")
    area = at.text_area[0]
    area.set_value("edited").run()
    _button(at, "Reset to the draft").click().run()
    assert at.text_area[0].value.startswith("### Report Closure Summary")
    assert not at.exception
    warnings = [r.getMessage() for r in caplog.records if "Session State" in r.getMessage()]
    assert warnings == []
    assert not [w for w in at.warning if "Session State" in w.value]


def test_data_page_creates_a_workspace_data_set():
    at = _open("data")
    assert any("read-only" in i.value for i in at.info)
    at.text_input(key="data_new_name").input("../My Incident!")
    _button(at, "Create and show").click().run()
    assert not at.exception
    assert at.session_state["dataset"] == "My_Incident"
    assert (app_data.workspace_dir() / "My_Incident").is_dir()
    assert any("No files yet" in i.value for i in at.info)


def test_pages_say_what_to_do_on_an_empty_data_set():
    app_data.create_dataset("empty")
    for page, needle in [
        ("overview", "No certificates are loaded"),
        ("keys", "No key in this data set is known to be compromised"),
        ("report", "has no incident report"),
        ("incidents", "has no bug corpus"),
        ("timeline", "Nothing to draw"),
    ]:
        at = _open(page, dataset="empty")
        shown = " ".join(x.value for x in [*at.markdown, *at.info])
        assert needle in shown, (page, shown)


def test_data_page_deletes_a_data_set_after_confirmation():
    ds = app_data.create_dataset("to-delete")
    app_data.save_upload(ds, "one.pem", (DEMO_DIR / "certs" / "chain.pem").read_bytes())
    at = _open("data", dataset="to-delete")
    at.button(key="data_delete_to-delete").click().run()
    # Asked first, naming the data set and its one file; nothing is gone yet.
    assert any("to-delete" in w.value and "its 1 file from" in w.value for w in at.warning)
    assert (app_data.workspace_dir() / "to-delete").is_dir()
    _button(at, "Cancel").click().run()
    assert not at.warning and (app_data.workspace_dir() / "to-delete").is_dir()
    at.button(key="data_delete_to-delete").click().run()
    _button(at, "Yes, delete it").click().run()
    assert not at.exception
    assert not (app_data.workspace_dir() / "to-delete").exists()
    assert "to-delete" not in app_data.list_datasets()
    assert at.session_state["dataset"] == "demo"  # the deleted set was shown: back to the demo
    assert any("Deleted the data set to-delete (1 file)" in s.value for s in at.success)
    assert not [b for b in at.button if b.key == "data_delete_demo"]  # the demo has no delete button


@pytest.fixture
def upstream(monkeypatch):
    up_mod = pytest.importorskip("tests.upstream_server")
    up = up_mod.Upstream()
    monkeypatch.setenv("CRTSH_URL", up.crtsh_url)
    monkeypatch.setenv("BUGZILLA_URL", up.bugzilla_url)
    monkeypatch.delenv("BUGZILLA_API_KEY", raising=False)
    yield up, up_mod
    up.close()


def test_data_page_offline_switch_sends_no_request(upstream):
    up, up_mod = upstream
    app_data.create_dataset("offline-ui")
    at = _open("data", dataset="offline-ui")
    at.toggle(key="data_offline").set_value(True)
    at.text_area(key="data_crtsh_q").input(up_mod.SPKI_REUSED)
    _button(at, "Fetch certificates").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(f"spki {up_mod.SPKI_REUSED}: 0 certificates saved")
    assert any("offline" in c.value for c in at.caption)
    assert up.count() == 0


def test_data_page_sends_the_bugzilla_api_key_and_never_shows_or_stores_it(upstream, workspace):
    up, up_mod = upstream
    secret = "bmo-dashboard-key-4242"
    app_data.create_dataset("bz-ui")
    at = _open("data", dataset="bz-ui")
    at.text_input(key="data_bz_api_key").input(secret)
    at.text_input(key="data_bug_ids").input(str(up_mod.BUG_MAIN))
    _button(at, "Fetch bugs").click().run()
    assert not at.exception
    assert any(s.value.startswith(f"bug {up_mod.BUG_MAIN}: 4 parts saved") for s in at.success)
    seen = [r for r in up.requests if r.role == "bugzilla"]
    assert len(seen) == 4 and all(r.headers.get("X-BUGZILLA-API-KEY") == secret for r in seen)
    shown = " ".join(str(getattr(e, "value", "")) for e in [*at.markdown, *at.success, *at.caption])
    assert secret not in shown
    for f in Path(workspace).rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f


def test_timeline_keys_come_from_the_url_by_prefix():
    demo = app_data.analyse(app_data.demo_dataset())
    spkis = [s for s, _ in app_data.key_choices(demo)]
    assert len(spkis) == 8  # the demo's eight compromised keys
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["tlkeys"] = f"{spkis[6][:16]},{spkis[2][:16]}"
    at.query_params["report"] = "off"
    at.run()
    at.switch_page("app_pages/timeline.py").run()
    assert not at.exception
    assert at.multiselect(key="timeline_keys").value == [spkis[6], spkis[2]]
    assert at.toggle(key="timeline_report").value is False
    # Back to every compromised key's default (the first ten, here all eight): the link drops it.
    at.multiselect(key="timeline_keys").set_value(spkis).run()
    assert "tlkeys" not in at.query_params
