#!/usr/bin/env python3
"""keyreuse against the naive script (../shared/benchmarks/naive_ingest.py), in one run, same file.

Times, for several rounds: the naive script in-process (runpy) and as a whole process; our library
(fast path: names deferred; full frame: every column) in-process; and the whole
`ca-incidents keyreuse` process. "In-process" is timed inside a fresh interpreter around the call
alone, after the imports both sides need (pandas, cryptography, analysis), so one measurement's heap
does not slow the next. Prints certificates per second, the ratios and peak memory (resident set
of the whole process tree, sampled). Usage:

    benchmarks/keyreuse_speed.py [--n 100000] [--rounds 3] [--bundle FILE]
    benchmarks/keyreuse_speed.py --repeat 10 --skip-naive --rounds 1   # 1M entries, memory

`--repeat K` writes the N-certificate bundle K times into one file (1M entries, ~590 MiB for
K=10 at N=100k: the memory target is about entries streamed, and generating 1M distinct
certificates takes the generator a quarter of an hour here).

The bundle is generated on first use with ../shared/benchmarks/gen_bulk.py (N certificates on N/10
EC keys) into benchmarks/out/. No assertion: the figures are for people and for the issue notes.
"""

from __future__ import annotations

import argparse
import os
import runpy
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"
NAIVE = SHARED / "naive_ingest.py"
GEN = SHARED / "gen_bulk.py"
sys.path.insert(0, str(ROOT))


def tree_rss_kib(pid: int) -> int:
    """Resident set of a process and all its descendants, in KiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


class PeakSampler:
    """Samples the RSS of a process tree every 20 ms; `.peak` in MiB."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> float:
        return self.peak_kib / 1024


def run_process(cmd: list[str]) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with PeakSampler(proc.pid) as s:
        _, err = proc.communicate()
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0,):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}): {err.decode()[-500:]}")
    return elapsed, s.peak


def inner(kind: str, bundle: Path) -> float:
    """One in-process measurement in a fresh interpreter (see --inner); returns seconds."""
    out = subprocess.run(
        [sys.executable, __file__, "--inner", kind, "--bundle", str(bundle)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def naive_in_process(bundle: Path) -> float:
    argv = sys.argv
    sys.argv = [str(NAIVE), str(bundle)]
    devnull = open(os.devnull, "w")
    stdout, sys.stdout = sys.stdout, devnull
    try:
        t = time.perf_counter()
        runpy.run_path(str(NAIVE), run_name="__main__")
        return time.perf_counter() - t
    finally:
        sys.stdout, sys.argv = stdout, argv
        devnull.close()


def ours_in_process(bundle: Path, names: bool) -> tuple[float, int]:
    from analysis.inputs import load_keyreuse_inputs

    t = time.perf_counter()
    inputs = load_keyreuse_inputs([bundle], names=names)
    findings = inputs.analyse(as_of="2030-01-01T00:00:00Z")
    elapsed = time.perf_counter() - t
    n = findings.summary["certificate_entries"]
    return elapsed, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bundle", type=Path)
    ap.add_argument("--skip-naive", action="store_true", help="ours only (for the 1M memory run)")
    ap.add_argument("--repeat", type=int, default=1, help="repeat the bundle K times in one file")
    ap.add_argument("--inner", choices=("naive", "fast", "full"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        import cryptography.x509  # noqa: F401  (imports are not what is being timed)
        import pandas  # noqa: F401

        import analysis.inputs  # noqa: F401

        if args.inner == "naive":
            print(naive_in_process(args.bundle))
        else:
            print(ours_in_process(args.bundle, names=args.inner == "full")[0])
        return
    bundle = args.bundle or ROOT / "benchmarks" / "out" / f"bulk_{args.n}.pem"
    if not bundle.exists():
        bundle.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {args.n} certificates into {bundle} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(GEN), str(args.n), str(max(1, args.n // 10)), str(bundle)], check=True
        )
    if args.repeat > 1:
        repeated = bundle.with_name(f"{bundle.stem}_x{args.repeat}.pem")
        if not repeated.exists():
            data = bundle.read_bytes()
            with open(repeated, "wb") as fh:
                for _ in range(args.repeat):
                    fh.write(data)
        bundle = repeated
    size_mb = bundle.stat().st_size / 2**20
    print(f"bundle: {bundle} ({size_mb:.0f} MiB), {os.cpu_count()} CPUs, {args.rounds} rounds")

    results: dict[str, list[float]] = {}
    peaks: dict[str, float] = {}
    with open(bundle, "rb") as fh:
        n = sum(chunk.count(b"-----BEGIN CERTIFICATE-----") for chunk in iter(lambda: fh.read(1 << 24), b""))
    cli = [
        str(Path(sys.executable).parent / "ca-incidents"),
        "keyreuse",
        "--certs",
        str(bundle),
        "--format",
        "json",
        "--as-of",
        "2030-01-01",
    ]
    for r in range(args.rounds):
        # Ours and the naive script alternate; each measurement starts in a fresh interpreter.
        results.setdefault("ours in-process, fast path", []).append(inner("fast", bundle))
        t, peak = run_process(cli)
        results.setdefault("ours keyreuse process", []).append(t)
        peaks["ours keyreuse process"] = max(peaks.get("ours keyreuse process", 0), peak)
        if not args.skip_naive:
            results.setdefault("naive in-process", []).append(inner("naive", bundle))
        results.setdefault("ours in-process, full frame", []).append(inner("full", bundle))
        if not args.skip_naive:
            t, peak = run_process([sys.executable, str(NAIVE), str(bundle)])
            results.setdefault("naive process", []).append(t)
            peaks["naive process"] = max(peaks.get("naive process", 0), peak)
        print(f"round {r + 1} done", file=sys.stderr)

    print(f"\n{'path':<30} {'median s':>9} {'certs/s':>10} {'peak MiB':>9}")
    med = {k: statistics.median(v) for k, v in results.items()}
    for k, v in med.items():
        peak = f"{peaks[k]:.0f}" if k in peaks else ""
        print(f"{k:<30} {v:>9.2f} {n / v:>10,.0f} {peak:>9}")
    if not args.skip_naive:
        print()
        print(
            f"ratio in-process (fast path / naive):   {med['naive in-process'] / med['ours in-process, fast path']:.1f}x  (target >= 10x)"
        )
        print(
            f"ratio in-process (full frame / naive):  {med['naive in-process'] / med['ours in-process, full frame']:.1f}x"
        )
        print(
            f"ratio whole process (CLI / naive):      {med['naive process'] / med['ours keyreuse process']:.1f}x  (target >= 5x)"
        )


if __name__ == "__main__":
    main()
