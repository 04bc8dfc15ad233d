#!/usr/bin/env python3
"""Hostile inputs in bounded time and memory (issue 13): our readers against the unbounded way
they used to read, in one run, each case in its own process (peak resident memory is per process).

Cases:
The baseline is this project's own code before the hardening (commit BASELINE_COMMIT, taken
with `git archive`), run on the same files.

- far cell: an xlsx whose one extra cell sits far out. The old reader built a dense grid up to it;
  the comparison is scaled down to a cell at CV20000 so that the baseline finishes (at XFD1048576
  it needs 17 billion cells). Ours also runs on the real XFD1048576 file.
- many rows: an xlsx of N empty <row/> elements (47 MiB of zip for 20 million). Compared at 1
  million rows; ours also on 20 million.
- gzip bomb: a gzip answer inflating to 256 MiB, from a server on 127.0.0.1: the old Session
  inflated it all; ours stops at the cap for its kind (128 MiB for searches).

    benchmarks/hostile_inputs.py [--rows 20000000] [--bomb-mib 256]

Prints seconds, peak memory and the ratios. No assertion: the figures are for people and notes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _child(code: str, root: Path = ROOT) -> tuple[float, int, str]:
    """Run `code` in a fresh interpreter with `root`'s analysis/ first on the path:
    (seconds, peak resident MiB from VmHWM, which exec resets, what it printed)."""
    prog = (
        "import sys, time\n"
        f"sys.path[:0] = [{str(root)!r}]\n"
        "t = time.perf_counter()\n" + code + "\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print('@@', time.perf_counter() - t, int(hwm) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, check=False)
    if out.returncode:
        return float("nan"), -1, out.stderr.strip().splitlines()[-1] if out.stderr else "failed"
    lines = out.stdout.strip().splitlines()
    _, secs, rss = lines[-1].split()
    return float(secs), int(rss), " ".join(lines[:-1])[:100]


def _far_cell(path: Path, ref: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Serial # (hex)", "Issuer", "Revocation date"])
    ws.append(["0a", "CN=Bench CA", "2024-10-28 08:00:00"])
    ws[ref] = "far"
    wb.save(path)


def _rows(path: Path, n: int) -> None:
    from test_spreadsheet_limits import workbook_with

    head = b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    body = io.BytesIO()
    body.write(head)
    for start in range(1, n + 1, 1_000_000):
        body.write(b"".join(b'<row r="%d"/>' % r for r in range(start, min(start + 1_000_000, n + 1))))
    body.write(b"</sheetData></worksheet>")
    path.write_bytes(workbook_with(body.getvalue()))


XLSX = "from analysis.sources.spreadsheets import load_spreadsheet\nr = load_spreadsheet({p!r})\nprint(len(r.revocations), len(r.problems))"
BASELINE_COMMIT = "4b9c42a"  # main before issue 13's hardening: the same functions, unbounded


def _baseline_tree(tmp: Path) -> Path:
    """analysis/ as it was at BASELINE_COMMIT (pure Python: the C reader is not needed here)."""
    out = tmp / "baseline"
    out.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BASELINE_COMMIT, "analysis"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def _bomb_server(mib: int):
    body = gzip.compress(b"[" + b" " * (mib * (1 << 20) - 2) + b"]", compresslevel=6)

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, len(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--bomb-mib", type=int, default=256)
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _far_cell(t / "far-small.xlsx", "CV20000")
        _far_cell(t / "far.xlsx", "XFD1048576")
        _rows(t / "rows-1m.xlsx", 1_000_000)
        _rows(t / "rows.xlsx", a.rows)
        old = _baseline_tree(t)
        for label, name in (
            ("far cell at CV20000", "far-small.xlsx"),
            ("1,000,000 empty rows", "rows-1m.xlsx"),
        ):
            path = str(t / name)
            results.append((label, _child(XLSX.format(p=path), old), _child(XLSX.format(p=path))))
        # At full size the baseline needs a 17-billion-cell grid or tens of GB: ours only.
        results.append(("far cell at XFD1048576", None, _child(XLSX.format(p=str(t / "far.xlsx")))))
        size = (t / "rows.xlsx").stat().st_size >> 20
        results.append(
            (f"{a.rows:,} empty rows ({size} MiB xlsx)", None, _child(XLSX.format(p=str(t / "rows.xlsx"))))
        )
        server, packed = _bomb_server(a.bomb_mib)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        get = (
            "from analysis.sources.http import Session\nfrom analysis.errors import UpstreamError\n"
            f"s = Session(use_cache=False, retries=0)\ntry:\n    print(len(s.get({url!r}).content))\n"
            "except UpstreamError as e:\n    print(e)"
        )
        results.append((f"gzip bomb {packed >> 10} KiB -> {a.bomb_mib} MiB", _child(get, old), _child(get)))
        server.shutdown()

    print(
        f"{'case':38} {'baseline s':>10} {'MiB':>6} {'ours s':>8} {'MiB':>6} {'time ratio':>10} {'mem ratio':>9}"
    )
    for name, base, ours in results:
        if base is None:
            print(f"{name:38} {'-':>10} {'-':>6} {ours[0]:8.2f} {ours[1]:6d}   ({ours[2][:60]})")
        else:
            print(
                f"{name:38} {base[0]:10.2f} {base[1]:6d} {ours[0]:8.2f} {ours[1]:6d}"
                f" {base[0] / ours[0]:10.1f} {base[1] / max(ours[1], 1):9.1f}"
            )
    json.dump([(n, b, o) for n, b, o in results], sys.stderr)
    sys.stderr.write("\n")


if __name__ == "__main__":
    main()
