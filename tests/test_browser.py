"""End to end in a real headless Chromium: `streamlit run app.py`, every page, an upload, a download.

Needs Debian's /usr/bin/chromium and the Playwright Python package. Under CI (`CI=true`) a missing
browser fails the test; elsewhere it skips with the reason. Screenshots of every page are saved in
artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from analysis.reports import ATTESTATION

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PEM = ROOT / "tests" / "data" / "certs" / "rsa4096-leaf.pem"  # one real certificate

pytestmark = pytest.mark.browser


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REALDATA = ROOT.parent / "shared" / "realdata"
JUNK = b"MIIB this is not base64 at all\n" * 40  # a junk file that calls itself .pem


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The dashboard's cache folder (its workspace is under it), shared by the server and the tests."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def server(tmp_path_factory, cache):
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright Python package is not installed")
    port = _free_port()
    env = {
        **os.environ,
        "CA_INCIDENTS_CACHE": str(cache),
        "CRTSH_URL": "http://127.0.0.1:9",
        "BUGZILLA_URL": "http://127.0.0.1:9",
    }
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w+b")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail("streamlit did not come up:\n" + log.read().decode(errors="replace")[-3000:])
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        pg.on("request", lambda r: EXTERNAL.append(r.url) if _is_external(r.url) else None)
        yield pg
        ctx.close()
        browser.close()


EXTERNAL: list[str] = []  # requests that left the machine (there must be none)


def _is_external(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in ("127.0.0.1", "localhost")


def _settle(page) -> None:
    """Wait until the script has finished running and nothing is left to draw."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)


def _open(page, server, path: str, marker: str) -> None:
    page.goto(f"{server}/{path}")
    page.get_by_text(marker, exact=False).first.wait_for()
    _settle(page)
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def _shot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main element, so grow the viewport to fit it."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), 800)"
    )
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 6000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_every_page_upload_and_download(server, page, tmp_path):
    _open(page, server, "", "Certificates on compromised keys")
    # The figure cards (app_pages/_figures.py): a label, then the value as a level-2 heading.
    metrics = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] h2').all_inner_texts()
    assert [m.strip() for m in metrics[:2]] == ["41", "33"]
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _shot(page, "1-overview")

    _open(page, server, "keys", "8 compromised keys")
    page.get_by_text("certificates on key").first.wait_for()
    # Clicking the third row of the key table lists that key's certificates.
    from analysis import app_data

    demo = app_data.demo_dataset()
    third = app_data.key_table(app_data.analyse(demo), compromised_only=True).iloc[2]
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    row_px = 35  # Streamlit's default row (and header) height
    # A click on a cell in the middle of the row (not the row's checkbox) picks the key.
    page.mouse.click(grid["x"] + grid["width"] / 2, grid["y"] + row_px * 3 + row_px / 2)
    page.get_by_text(f"{third['Issuances']} certificates on key {third['SPKI SHA-256']}").wait_for()
    _settle(page)
    _shot(page, "2-keys")

    _open(page, server, "timeline", "Issuance, revocation and compromise per key")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    assert page.get_by_text("UTC+08:00", exact=False).count() >= 1
    _shot(page, "3-timeline")

    _open(page, server, "report", "Counts: the text against the data")
    _shot(page, "4-report")

    _open(page, server, "closure", "Lint of the edited text")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download closure summary (.md)").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.startswith("### Report Closure Summary")
    # the demo data (as of 2024-11-01) predates the revocation item (2024-11-02): the draft attests
    # and says the data was gathered before the revocations
    assert text.rstrip().endswith(ATTESTATION) and "gathered before the revocations were completed" in text
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download appendix (41 certificates, CSV)").click()
    rows = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("Precertificate SHA-256 hash,Certificate SHA-256 hash,Subject,Issuer")
    assert len(rows) == 1 + 41  # the 41 certificates on the eight compromised keys
    _shot(page, "5-closure")

    _open(page, server, "incidents", "Median days to close")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _shot(page, "6-incidents")

    _open(page, server, "data", "Data sets")
    page.get_by_role("textbox", name="New data set name").fill("browser-test")
    page.get_by_role("button", name="Create and show").click()
    page.get_by_text("Add files to").first.wait_for()
    _settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(PEM))
    page.get_by_text(PEM.name).first.wait_for()
    page.get_by_role("button", name="Save to the data set").click()
    page.get_by_text(f"Saved {PEM.name} as certs/{PEM.name}").wait_for()
    _settle(page)
    page.get_by_text("Files in this data set").first.wait_for()
    # A junk file named like a certificate is refused with the loader's reason, and listed.
    junk = tmp_path / "evil.pem"
    junk.write_bytes(JUNK)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(junk))
    page.get_by_text("evil.pem").first.wait_for()
    page.get_by_role("button", name="Save to the data set").click()
    page.get_by_text("Refused evil.pem: ").first.wait_for()
    assert "neither PEM nor DER (junk file)" in page.get_by_text("Refused evil.pem: ").first.inner_text()
    page.get_by_text("Refused uploads (1)").wait_for()  # listed below the files (a canvas table)
    _settle(page)
    _shot(page, "7-data")

    # The upload is in the workspace and the other pages now show it (same session: client-side nav).
    page.get_by_role("link", name="Overview").click()
    page.get_by_text("Workspace: browser-test").first.wait_for()
    _settle(page)
    loaded = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Certificates loaded")
    assert loaded.locator("h2").inner_text().strip() == "1"
    page.get_by_text("Skipped inputs (1)").first.wait_for()  # the refused upload
    _shot(page, "8-overview-uploaded")
    # An offline dashboard: no font, icon or chart library is fetched from the internet (a
    # `:material/...:` page icon made the browser fetch the favicon from fonts.gstatic.com).
    assert EXTERNAL == []


PAGES = [
    ("", "Overview"),
    ("keys", "Keys"),
    ("timeline", "Timeline"),
    ("report", "Incident report"),
    ("closure", "Closure summary"),
    ("incidents", "Incidents"),
    ("data", "Data sets"),
]


# Pages that draw a chart on each real data set (the corpus has no certificates, PKITS no bugs).
CHARTED = {("real-corpus", "incidents"), ("pkits", ""), ("pkits", "timeline")}


def _realdata_sets(cache: Path, monkeypatch) -> None:
    """Two workspace data sets from ../shared/realdata: the 1,688-bug CA compliance corpus, and
    the PKITS certificates with their CRLs (keyCompromise entries dated 2010-01-01 08:30 UTC)."""
    if not REALDATA.is_dir():
        _missing(f"{REALDATA} is not there (the shared real data)")
    from analysis import app_data

    monkeypatch.setenv("CA_INCIDENTS_CACHE", str(cache))
    corpus = app_data.create_dataset("real-corpus")
    bugs = REALDATA / "bugzilla" / "ca_compliance_bugs_2026-03-15.json"
    app_data.save_upload(corpus, bugs.name, bugs.read_bytes())
    pkits = app_data.create_dataset("pkits")
    for f in sorted((REALDATA / "crls" / "pkits_related_certs").iterdir()):
        app_data.save_upload(pkits, f.name, f.read_bytes())
    for f in sorted((REALDATA / "crls" / "pkits").iterdir()):
        app_data.save_upload(pkits, f.name, f.read_bytes())


def test_every_page_on_real_data(server, page, cache, monkeypatch):
    """Every page at 1400x1000 on the real corpus and on PKITS, opened by link (?dataset=...)."""
    _realdata_sets(cache, monkeypatch)
    for dataset in ("real-corpus", "pkits"):
        for path, marker in PAGES:
            _open(page, server, f"{path}?dataset={dataset}", marker)
            chosen = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.inner_html()
            assert f"Workspace: {dataset}" in chosen  # the link chose the data set
            if (dataset, path) in CHARTED:
                page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
            _shot(page, f"{dataset}-{path or 'overview'}")
            if path == "incidents" and dataset == "real-corpus":
                text = page.locator('[data-testid="stMain"]').inner_text()
                assert "1,688 bugs" in text and "Judged as of" in text
                for view in ("Per CA", "Per tag"):
                    page.get_by_text(view, exact=True).click()
                    _settle(page)
                    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
                    assert f"view={view.replace(' ', '+')}" in page.url  # the view is in the link
                    _shot(page, f"{dataset}-incidents-{view.lower().replace(' ', '-')}")
    assert EXTERNAL == []


def test_artifacts_are_ignored_by_git():
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    out = subprocess.run(["git", "check-ignore", "artifacts/x.png"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0
