#!/usr/bin/env python3
"""Dashboard speed: first paint of every page on the demo, and interactions with 200k certificates.

    .venv/bin/python benchmarks/app_speed.py [--n 200000] [--keys 2000] [--no-browser]

1. Demo, in a real headless Chromium against `streamlit run app.py` (needs /usr/bin/chromium):
   for every page, a new browser session opens its URL; the page's own clock (navigation start to
   the animation frame that paints its content, and to the frame that draws its last chart or
   table) gives its first paint and its completion, median of 3. Measured with a cold browser
   (nothing cached) and as a new tab of a browser that has been there before; plus sidebar clicks.
2. Demo through AppTest (in-process, no browser): the script run time of every page.
3. Bulk: N generated certificates on K keys (generated once with ../shared/benchmarks/gen_bulk.py,
   kept in benchmarks/out/), 50 keys listed as compromised from 2021-01-01, as a workspace data set.
   Through AppTest: the first load (reading and analysing N certificates), then interactions, each
   one script rerun: switching pages, toggling and choosing keys, changing timeline keys, filtering.

Targets (issue 7): first paint under 2 s per page on the demo; interactions under 1 s on the bulk set.
Figures are printed; nothing is asserted. APP_SPEED_DEBUG=1 shows the Streamlit servers' stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import median

sys.modules.setdefault("rfc3987_syntax", None)  # as app.py does (see there)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"
GEN = ROOT.parent / "shared" / "benchmarks" / "gen_bulk.py"
CHROMIUM = "/usr/bin/chromium"
PAGES = [  # url path, text that shows the content is drawn
    ("", "Certificates on compromised keys"),
    ("keys", "compromised keys"),
    ("timeline", "All times are UTC"),  # the caption above the chart; the chart is in "complete"
    ("report", "Counts: the text against the data"),
    ("closure", "Lint of the edited text"),
    ("incidents", "Median days to close"),
    ("data", "Data sets"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Timing is taken inside the page, not by the test driver: Playwright polls between the page's
# tasks, so while Chromium evaluates a big chart library its view lags the screen by 0.2-0.5 s.
# A MutationObserver notes when the page's marker text enters the DOM, and the next animation
# frame's time is when it is painted; each chart and table notes the frame it is first drawn in.
# A chart counts as drawn when Vega has rendered its title, an axis or a legend into the SVG (the
# empty <svg class="marks"> exists about 1 s earlier, before the chart library has run); a table
# when its glide canvas exists. Times are milliseconds from navigation start.
_OBSERVER = """
(() => {
  const MK = %s;
  const st = (window.__ca = {mark: null, draws: []});
  const DRAWN = '[data-testid="stVegaLiteChart"] svg.marks :is(.role-title-text, .role-axis, .role-legend), '
    + '[data-testid="stDataFrame"] canvas';
  // One count per chart or table, however many axes it has.
  const drawn = () => new Set([...document.querySelectorAll(DRAWN)].map(
    (e) => e.closest('[data-testid="stVegaLiteChart"], [data-testid="stDataFrame"]'))).size;
  let seen = 0;
  const look = () => {
    if (st.mark === null && document.body.textContent.includes(MK)) {
      st.mark = -1;
      requestAnimationFrame((t) => { st.mark = t; });
    }
    const n = drawn();
    if (n > seen) { seen = n; requestAnimationFrame((t) => st.draws.push(t)); }
  };
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true});
  });
})();
"""


_TIMEOUT = int(os.environ.get("APP_SPEED_TIMEOUT_MS", 120_000))


def _wait_drawn(page, marker: str) -> None:
    page.get_by_text(marker).first.wait_for(timeout=_TIMEOUT)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=_TIMEOUT)
    # Until an element's code has loaded, Streamlit shows a skeleton in its place (so a chart whose
    # library is still loading is not yet a stVegaLiteChart to wait for).
    page.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=_TIMEOUT)
    for box, drawn in (
        ('[data-testid="stVegaLiteChart"]', "svg.marks :is(.role-title-text, .role-axis, .role-legend)"),
        ('[data-testid="stDataFrame"]', "canvas"),
    ):
        for i in range(page.locator(box).count()):
            if page.locator(box).nth(i).is_visible():
                page.locator(box).nth(i).locator(drawn).first.wait_for(timeout=_TIMEOUT)


def _in_page_times(page) -> tuple[float, float]:
    """(content painted, complete with charts and tables) in seconds from navigation start."""
    page.wait_for_function("window.__ca && window.__ca.mark > 0", timeout=_TIMEOUT)
    page.wait_for_timeout(100)  # let the last draw's animation frame land
    st = page.evaluate("window.__ca")
    return st["mark"] / 1000, max([st["mark"], *st["draws"]]) / 1000


def _start_server(script: str, cache: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
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
        env={**os.environ, "CA_INCIDENTS_CACHE": str(cache)},
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("APP_SPEED_DEBUG") else subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read().strip() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    return proc, url


def browser_first_paint(
    cache: Path, hello: Path, rounds: int = 3, pages: list[tuple[str, str]] = PAGES
) -> list[tuple[str, float | str]]:
    """Rows of (label, seconds or text). `hello` is an app with only `st.title("Hello")`: its
    first paint, taken in the same rounds, is Streamlit's own floor on this machine."""
    from playwright.sync_api import sync_playwright

    app_proc, url = _start_server("app.py", cache)
    hello_proc, hello_url = _start_server(str(hello), cache)
    try:
        out: list = []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )

            def visit(ctx, base: str, path: str, marker: str) -> tuple[float, float]:
                page = ctx.new_page()
                page.add_init_script(_OBSERVER % json.dumps(marker))
                page.goto(f"{base}/{path}")
                try:
                    _wait_drawn(page, marker)
                except Exception:
                    OUT.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=OUT / "app_speed-timeout.png")
                    raise SystemExit(
                        f"{base}/{path}: {marker!r} not drawn; see {OUT / 'app_speed-timeout.png'}"
                    ) from None
                times = _in_page_times(page)
                page.close()
                return times

            def cold(base: str, path: str, marker: str) -> tuple[float, float]:
                # A new browser profile: nothing cached, every JavaScript chunk fetched and compiled.
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
                try:
                    return visit(ctx, base, path, marker)
                finally:
                    ctx.close()

            # The server's first run analyses the demo; measured once, apart.
            out.append(("overview, cold server (first analysis), content painted", cold(url, *PAGES[0])[0]))
            cold(hello_url, "", "Hello")
            floor_all = []
            for path, marker in pages:
                runs, floor = [], []
                for _ in range(rounds):  # interleaved, so both see the same machine load
                    floor.append(cold(hello_url, "", "Hello")[0])
                    runs.append(cold(url, path, marker))
                floor_all += floor
                name = path or "overview"
                painted = [r[0] for r in runs]
                out.append((f"{name}: new session, cold browser, content painted", median(painted)))
                out.append((f"{name}: new session, cold browser, complete", median([r[1] for r in runs])))
                out.append(
                    (
                        f"{name}:   above the empty app in the same rounds",
                        f"+{median([a - b for a, b in zip(painted, floor, strict=True)]):.2f} s "
                        f"(empty app {median(floor):.2f} s)",
                    )
                )
            out.append(("empty Streamlit app, all rounds", median(floor_all)))
            # A new tab in a browser that has been here before: chunks come from the HTTP cache.
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            visit(ctx, url, *PAGES[0])
            for path, marker in pages:
                runs = [visit(ctx, url, path, marker) for _ in range(rounds)]
                out.append(
                    (f"{path or 'overview'}: new tab, warm browser, complete", median([r[1] for r in runs]))
                )
            ctx.close()
            if pages == PAGES:
                # In one session, as a user moves around: click each page in the sidebar (driver time).
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
        for proc in (app_proc, hello_proc):
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


def _print(title: str, rows: list[tuple[str, float | str]], target: float | None) -> None:
    print(f"\n{title}")
    for label, dt in rows:
        if isinstance(dt, str):
            print(f"  {label:<58} {dt}")
            continue
        flag = "" if target is None else ("  ok" if dt < target else f"  OVER {target:g} s")
        print(f"  {label:<58} {dt:7.2f} s{flag}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--keys", type=int, default=2_000)
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium figures")
    ap.add_argument("--browser-only", action="store_true", help="only the Chromium figures")
    ap.add_argument("--rounds", type=int, default=3, help="visits per page; the median is shown")
    ap.add_argument(
        "--pages",
        help="comma-separated pages to open in Chromium (overview,keys,timeline,…); default all",
    )
    args = ap.parse_args()
    pages = PAGES
    if args.pages:
        wanted = args.pages.split(",")
        pages = [p for p in PAGES if (p[0] or "overview") in wanted]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        os.environ["CA_INCIDENTS_CACHE"] = str(cache)
        print(f"ca-incidents dashboard speed ({os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f})")
        if not args.no_browser and Path(CHROMIUM).exists():
            hello = Path(tmp) / "hello.py"
            hello.write_text("import streamlit as st\nst.title('Hello')\n")
            _print(
                f"Demo in headless Chromium (page clock; median of {args.rounds} visits)",
                browser_first_paint(cache, hello, rounds=args.rounds, pages=pages),
                2.0,
            )
        else:
            print("\n(skipping the browser figures: no /usr/bin/chromium or --no-browser)")
        if args.browser_only:
            return
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
