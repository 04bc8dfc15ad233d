#!/usr/bin/env python3
"""`sweep --store` against the sweep alone, on crt.sh's schema in a local PostgreSQL, in one run.

Builds the bulk data of benchmarks/sweep_speed.py (`--rows` certificates over 20 CAs; every 91st
revocation is keyCompromise, keys are shared by a few certificates), sweeps every CA once against
the database to fill the sweep's saved state, then, from that state (offline: the database's time is
the same for both and left out of the comparison), each in its own process:

  sweep           `run_sweep` alone: the pandas findings
  sweep+store     `run_sweep` streaming into a new store (`StoreAppender`, as `sweep --store` does)
  keyreuse-store  `find_key_reuse_store` (DuckDB) over that store

Prints wall time and peak resident memory of each, what the store received (certificates,
revocations, Parquet files), the store's overhead on the sweep, and whether `keyreuse --store` gives
the sweep's findings (summary, violations, revocation delays, keys). No assertion: figures for people.

    benchmarks/sweep_store.py [--rows 1000000] [--batch-rows N...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SINCE = dt.datetime(2013, 1, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
AS_OF = "2025-01-01"


def _sweep(dsn: str, state: str, *, offline: bool, store: str | None, batch_rows: int | None) -> dict:
    import importlib

    from analysis.sources.crtsh_db import CrtshDB, find_cas
    from analysis.sweep import SweepState, run_sweep

    ingest_mod = importlib.import_module("analysis.store.ingest")  # the package exports a function `ingest`
    if batch_rows:
        ingest_mod.BATCH_ROWS = batch_rows
    t0 = time.perf_counter()
    with CrtshDB(dsn) as db:
        cas = SweepState(state, fresh=False, offline=True).cas if offline else find_cas(db, all_cas=True)
        sink = None
        if store is not None:
            sink = ingest_mod.StoreAppender(
                store, kind="crtsh-sweep", path_or_url="crt.sh database", ordered=True
            )
            sink.open()
        try:
            result = run_sweep(
                db,
                cas,
                state_dir=state,
                since=SINCE,
                until=UNTIL,
                as_of=AS_OF,
                resume=offline,
                offline=offline,
                progress=False,
                sink=sink,
                sink_batch=batch_rows or 10_000,
            )
        finally:
            if sink is not None:
                sink.close()
    out = {
        "seconds": time.perf_counter() - t0,
        "cas": len(cas),
        "findings": _comparable(result.findings.to_dict()),
        "certificates": int(result.findings.summary["certificate_entries"]),
    }
    if sink is not None:
        rec = sink.record
        out.update(
            written=(rec["entries"], rec["revocation_entries"]),
            files=len(rec["files"]),
        )
    return out


def _keyreuse_store(store: str) -> dict:
    from analysis.store import find_key_reuse_store

    t0 = time.perf_counter()
    f = find_key_reuse_store(store, as_of=AS_OF, all_keys=True)
    return {"seconds": time.perf_counter() - t0, "findings": _comparable(f.to_dict())}


def _comparable(d: dict) -> dict:
    return {k: d[k] for k in ("summary", "violations", "revocation_delays", "keys")}


def _child(fn, kwargs, queue) -> None:
    out = fn(**kwargs)
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(out)


def in_process(fn, **kwargs) -> dict:
    """Run fn in a fresh process (fork of this small one), so its peak memory is its own."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, kwargs, queue))
    p.start()
    out = queue.get()
    p.join()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="certificate rows to generate")
    ap.add_argument(
        "--batch-rows",
        type=int,
        nargs="*",
        default=[],
        help="also run sweep+store with these batch sizes (certificates parsed and held per write)",
    )
    args = ap.parse_args()

    from pg import running_postgres
    from sweep_speed import build

    with running_postgres() as server, tempfile.TemporaryDirectory() as tmp:
        print(f"building {args.rows:,} certificate rows in PostgreSQL ...", flush=True)
        print(f"  built in {build(server, args.rows):.1f} s", flush=True)
        state = str(Path(tmp) / "state")
        online = in_process(_sweep, dsn=server, state=state, offline=False, store=None, batch_rows=None)
        print(
            f"online sweep of {online['cas']} CAs: {online['seconds']:.1f} s, "
            f"{online['certificates']:,} certificates downloaded",
            flush=True,
        )
        base = in_process(_sweep, dsn=server, state=state, offline=True, store=None, batch_rows=None)
        store = str(Path(tmp) / "store")
        stored = in_process(_sweep, dsn=server, state=state, offline=True, store=store, batch_rows=None)
        query = in_process(_keyreuse_store, store=store)
        others = [
            (
                f"sweep+store/{n}",
                in_process(
                    _sweep,
                    dsn=server,
                    state=state,
                    offline=True,
                    store=str(Path(tmp) / f"s{n}"),
                    batch_rows=n,
                ),
            )
            for n in args.batch_rows
        ]
    rows = [("sweep", base), ("sweep+store", stored), *others, ("keyreuse-store", query)]
    print(f"\n{'route':<22}{'seconds':>10}{'peak MiB':>11}{'files':>8}")
    for name, r in rows:
        print(f"{name:<22}{r['seconds']:>10.2f}{r['peak_mib']:>11.0f}{r.get('files', ''):>8}")
    certs, revs = stored["written"]
    print(
        f"\nstore received {certs:,} certificates and {revs:,} revocations in {stored['files']} Parquet files"
    )
    print(f"store overhead on the sweep: {stored['seconds'] / base['seconds']:.2f}x time")
    same_sweep = all(r["findings"] == base["findings"] for r in (stored, *(o for _, o in others)))
    same_store = query["findings"] == base["findings"]
    s = base["findings"]["summary"]
    print(
        f"findings: {s['violating_issuances']:,} violations, {s['revocation_delays']:,} delays, "
        f"{s['distinct_keys']:,} keys; sweep with a store gives the same: {same_sweep}; "
        f"keyreuse --store gives the sweep's: {same_store}"
    )
    return 0 if same_sweep and same_store else 1


if __name__ == "__main__":
    sys.exit(main())
