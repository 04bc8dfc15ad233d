#!/usr/bin/env python3
"""Dashboard speed: first paint of every page on the demo, and interactions with 200k certificates.

    .venv/bin/python benchmarks/app_speed.py [--n 200000] [--keys 2000] [--no-browser]

1. Demo, in a real headless Chromium against `streamlit run app.py` (needs /usr/bin/chromium):
   for every page, a fresh browser session opens its URL and the time until the script has finished
   and the page's content is drawn is its first paint. The first page is measured twice: on a cold
   server (the analysis is not cached yet) and warm.
2. Demo through AppTest (in-process, no browser): the script run time of every page.
3. Bulk: N generated certificates on K keys (generated once with ../shared/benchmarks/gen_bulk.py,
   kept in benchmarks/out/), 50 keys listed as compromised from 2021-01-01, as a workspace data set.
   Through AppTest: the first load (reading and analysing N certificates), then interactions, each
   one script rerun: switching pages, toggling and choosing keys, changing timeline keys, filtering.

Targets (issue 7): first paint under 2 s per page on the demo; interactions under 1 s on the bulk set.
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.modules.setdefault("rfc3987_syntax", None)  # as app.py does (see there)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"
GEN = ROOT.parent / "shared" / "benchmarks" / "gen_bulk.py"
CHROMIUM = "/usr/bin/chromium"
PAGES = [  # url path, text that shows the content is drawn
    ("", "Certificates on compromised keys"),
    ("keys", "compromised keys"),
    ("timeline", "Issuance, revocation and compromise per key"),
    ("report", "Counts: the text against the data"),
    ("closure", "Lint of the edited text"),
    ("incidents", "Median days to close"),
    ("data", "Data sets"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_drawn(page, marker: str) -> None:
    page.get_by_text(marker).first.wait_for(timeout=120_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    if page.locator('[data-testid="stVegaLiteChart"]').count():
        page.locator(
            '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
        ).first.wait_for()


def browser_first_paint(
    cache: Path, script: str = "app.py", only_baseline: bool = False
) -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "CA_INCIDENTS_CACHE": str(cache)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        out = []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            if only_baseline:
                runs = [("empty Streamlit app (st.title only), cold", "", "Hello")] * 2
            else:
                runs = [("overview (cold server)", *PAGES[0])]
                runs += [(f"{path or 'overview'}: new session", path, marker) for path, marker in PAGES]
            for label, path, marker in runs:
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(f"{url}/{path}")
                # First paint of the page's own content (its marker text), then the page complete:
                # script finished and every chart drawn (Streamlit loads its chart library lazily).
                page.get_by_text(marker).first.wait_for(timeout=120_000)
                out.append((f"{label}, content painted", time.perf_counter() - t))
                _wait_drawn(page, marker)
                out.append((f"{label}, complete with charts", time.perf_counter() - t))
                ctx.close()
            if not only_baseline:
                # A new session in a browser that has been here before (a new tab): Streamlit's
                # JavaScript chunks come from the HTTP cache, as they do for a returning user.
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                warm = ctx.new_page()
                warm.goto(url)
                _wait_drawn(warm, PAGES[0][1])
                for path, marker in PAGES:
                    page = ctx.new_page()
                    t = time.perf_counter()
                    page.goto(f"{url}/{path}")
                    _wait_drawn(page, marker)
                    out.append(
                        (
                            f"{path or 'overview'}: new tab (browser cache warm), complete",
                            time.perf_counter() - t,
                        )
                    )
                    page.close()
                ctx.close()
                # In one session, as a user moves around: click each page in the sidebar.
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = ctx.new_page()
                page.goto(url)
                _wait_drawn(page, PAGES[0][1])
                names = ["Keys", "Timeline", "Report", "Closure summary", "Incidents", "Data", "Overview"]
                for name, (_, marker) in zip(names, [*PAGES[1:], PAGES[0]], strict=True):
                    t = time.perf_counter()
                    page.get_by_role("link", name=name).first.click()
                    _wait_drawn(page, marker)
                    out.append((f"{name}: sidebar click in a session", time.perf_counter() - t))
                ctx.close()
            browser.close()
        return out
    finally:
        proc.terminate()
        proc.wait(10)


def _apptest():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)


def _timed(label: str, fn, results: list) -> None:
    t = time.perf_counter()
    at = fn()
    dt = time.perf_counter() - t
    if at is not None and at.exception:
        raise SystemExit(f"{label}: {at.exception[0].value}")
    results.append((label, dt))


def apptest_demo() -> list[tuple[str, float]]:
    results: list = []
    at = _apptest()
    _timed("overview (first run in a fresh process: imports + analysis)", lambda: at.run(), results)
    _timed("overview (rerun)", lambda: at.run(), results)
    for path, _ in PAGES[1:]:
        at.switch_page(f"app_pages/{path}.py")
        _timed(path, lambda: at.run(), results)
    return results


def make_bulk(n: int, keys: int) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    pem = OUT / f"bulk-{n // 1000}k-{keys}.pem"
    if not pem.exists():
        print(
            f"generating {n:,} certificates on {keys:,} keys with {GEN.name} (once; kept in {OUT}) …",
            flush=True,
        )
        t = time.perf_counter()
        subprocess.run([sys.executable, str(GEN), str(n), str(keys), str(pem) + ".part"], check=True)
        os.replace(str(pem) + ".part", pem)
        print(f"  generated in {time.perf_counter() - t:.0f} s", flush=True)
    return pem


def bulk_dataset(cache: Path, pem: Path) -> str:
    from analysis import app_data
    from analysis.certificates import load_certificates

    os.environ["CA_INCIDENTS_CACHE"] = str(cache)
    ds = app_data.create_dataset("bulk")
    certs = Path(ds.folder) / "certs"
    certs.mkdir(exist_ok=True)
    link = certs / pem.name
    if not link.exists():
        os.symlink(pem, link)
    frame, _ = load_certificates(pem, names=False)
    spkis = sorted(frame["spki_sha256"].unique())[:50]
    comp = Path(ds.folder) / "compromised"
    comp.mkdir(exist_ok=True)
    with open(comp / "keys.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["spki_sha256", "reported_at", "source"])
        for s in spkis:
            w.writerow([s, "2021-01-01T00:00:00+00:00", "benchmark"])
    return ds.key


def apptest_bulk(key: str) -> list[tuple[str, float]]:
    results: list = []
    at = _apptest()
    at.session_state["dataset"] = key
    _timed("first load: read + analyse (cold cache)", lambda: at.run(), results)
    _timed("overview rerun", lambda: at.run(), results)
    at.switch_page("app_pages/keys.py")
    _timed("go to Keys", lambda: at.run(), results)
    table = next(df.value for df in at.dataframe if "SPKI SHA-256" in df.value.columns)
    for i in (5, 20):
        _timed(
            f"Keys: choose key #{i}",
            lambda i=i: at.selectbox(key="keys_selected").set_value(table["SPKI SHA-256"].iloc[i]).run(),
            results,
        )
    _timed(
        "Keys: show every key (2,000 rows)",
        lambda: at.toggle(key="keys_only_compromised").set_value(False).run(),
        results,
    )
    _timed(
        "Keys: compromised only again",
        lambda: at.toggle(key="keys_only_compromised").set_value(True).run(),
        results,
    )
    at.switch_page("app_pages/timeline.py")
    _timed("go to Timeline (10 keys)", lambda: at.run(), results)
    _timed(
        "Timeline: 40 keys",
        lambda: at.multiselect(key="timeline_keys").set_value(list(table["SPKI SHA-256"].iloc[:40])).run(),
        results,
    )
    _timed(
        "Timeline: 3 keys",
        lambda: at.multiselect(key="timeline_keys").set_value(list(table["SPKI SHA-256"].iloc[:3])).run(),
        results,
    )
    for path in ("report", "closure", "incidents", "data", "overview"):
        at.switch_page(f"app_pages/{path}.py")
        _timed(f"go to {path}", lambda: at.run(), results)
    at.radio(key="scope").set_value("issuer")
    _timed("scope -> same issuer (re-analyses)", lambda: at.run(), results)
    return results


def _print(title: str, rows: list[tuple[str, float]], target: float | None) -> None:
    print(f"\n{title}")
    for label, dt in rows:
        flag = "" if target is None else ("  ok" if dt < target else f"  OVER {target:g} s")
        print(f"  {label:<58} {dt:7.2f} s{flag}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--keys", type=int, default=2_000)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        os.environ["CA_INCIDENTS_CACHE"] = str(cache)
        print(f"ca-incidents dashboard speed ({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f})")
        if not args.no_browser and Path(CHROMIUM).exists():
            hello = Path(tmp) / "hello.py"
            hello.write_text("import streamlit as st\nst.title('Hello')\n")
            _print(
                "Baseline: Streamlit itself in this browser",
                browser_first_paint(cache, str(hello), True),
                None,
            )
            _print("Demo, first paint in headless Chromium", browser_first_paint(cache), 2.0)
        else:
            print("\n(skipping the browser figures: no /usr/bin/chromium or --no-browser)")
        _print("Demo, AppTest script run per page", apptest_demo(), 2.0)
        pem = make_bulk(args.n, args.keys)
        key = bulk_dataset(cache, pem)
        rows = apptest_bulk(key)
        _print(
            f"Bulk: {args.n:,} certificates on {args.keys:,} keys, 50 compromised (AppTest reruns)",
            rows[:1],
            None,
        )
        _print("Bulk: interactions", rows[1:], 1.0)


if __name__ == "__main__":
    main()
