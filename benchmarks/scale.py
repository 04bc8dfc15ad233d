#!/usr/bin/env python3
"""CT scale: `keyreuse --store` (DuckDB) against a bare DuckDB group-by over the same Parquet files,
and at 10M the pandas path beside it. One run; prints rows/s, the ratio to the floor, peak memory.

    benchmarks/scale.py --rows 10000000 --pandas        # 10M: floor, DuckDB rules, pandas rules
    benchmarks/scale.py --rows 100000000                # 100M: floor and DuckDB rules (slow)
    benchmarks/scale.py --rows 100000000 --reuse        # keep the generated store, reuse it next time

The issuance rows are generated directly as Parquet by DuckDB (no certificates are signed): 50
issuers; 10% of rows are the precertificate of the row before (same issuer, serial and key, so one
issuance); keys drawn so that most are used once or twice, with 5% of rows on 2,000 hot keys (CDN
style); final certificates carry an SCT two minutes after not_before. Revocations: the keys whose
number is divisible by 100 (1% of keys) have certificates revoked for keyCompromise, 2% of all rows
are revoked as superseded; a compromised-key list names 1,000 of the compromised keys with a date.

"Floor" is the least any key-reuse engine must do over these files: group the entries into
issuances, `SELECT issuer_key, serial, spki_sha256, count(*) ... GROUP BY ALL`, in DuckDB with the
same memory limit and threads. Each measurement runs in its own process; peak memory is that
process's maximum resident set (wait4). The pandas path runs under a memory cap (`--pandas-cap`,
default 14 GiB: the resident set is watched and the process killed past it, with an address-space
limit behind that), so a 10M run cannot take a shared machine down; past the cap it reports
"over the cap". The load average is printed beside each figure (the machine may be shared).
No assertion: the figures are for the issue notes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ISSUERS = [f"CN=Synthetic CA {n},O=Bench Trust,C=US" for n in range(50)]
AS_OF = "2026-01-01T00:00:00Z"


CHUNK = 5_000_000  # rows per COPY: PARTITION_BY buffers a row group per partition and thread


def generate(store_dir: Path, rows: int, threads: int, memory_limit: str) -> None:
    """Write `rows` certificate entries, their revocations and a key list as a store. The rows are
    written in chunks of CHUNK straight into the SPKI-prefix partitions (COPY ... PARTITION_BY), one
    file per partition and chunk, so memory stays flat and nothing spills."""
    import duckdb

    from analysis.names import dn_key
    from analysis.store.layout import PREFIX_LEN, open_store

    if store_dir.exists():
        shutil.rmtree(store_dir)
    store = open_store(store_dir, create=True)
    keys = max(rows * 8 // 10, 1)
    names = "[" + ", ".join("'" + n + "'" for n in ISSUERS) + "]"
    issuer_keys = "[" + ", ".join("'" + dn_key(n).replace("'", "''") + "'" for n in ISSUERS) + "]"
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": threads})
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = '{store_dir.parent / 'spill'}'")
    certs_dir = store_dir / "certs"
    rev_files = []
    for n, lo in enumerate(range(0, rows, CHUNK)):
        hi = min(lo + CHUNK, rows)
        # base: the issuance a row belongs to (a precertificate row belongs to the row before it).
        con.execute(
            f"""
            CREATE OR REPLACE VIEW gen AS
            WITH r AS (
              SELECT i, CASE WHEN i % 10 = 1 THEN i - 1 ELSE i END AS base, i % 10 = 1 AS is_precert
              FROM range({lo}, {hi}) t(i)
            ), k AS (
              SELECT *, CASE WHEN hash(base * 31 + 7) % 20 = 0 THEN hash(base) % 2000
                             ELSE hash(base * 17 + 3) % {keys} END AS key_id,
                     CAST(hash(base * 13 + 5) % 50 AS BIGINT) AS issuer_no,
                     TIMESTAMPTZ '2018-01-01 00:00:00+00'
                       + to_seconds(CAST(hash(base * 11) % 252288000 AS BIGINT)) AS nb
              FROM r
            ), s AS (
              SELECT *, md5('k' || key_id) || md5('K' || key_id) AS spki FROM k
            )
            SELECT md5('c' || i) || md5('C' || i) AS cert_sha256,
                   spki AS spki_sha256,
                   list_extract({names}, issuer_no + 1) AS issuer_dn,
                   list_extract({issuer_keys}, issuer_no + 1) AS issuer_key,
                   format('{{:x}}', base * 7919 + 17) AS serial,
                   CAST(NULL AS VARCHAR) AS subject_dn, CAST(NULL AS VARCHAR) AS subject_cn,
                   CAST(NULL AS VARCHAR[]) AS san_dns,
                   nb AS not_before, nb + INTERVAL 90 DAY AS not_after, is_precert, FALSE AS is_ca,
                   'EC-P256' AS key_type, CAST(NULL AS BIGINT) AS crtsh_id, CAST(NULL AS TIMESTAMPTZ) AS first_seen,
                   CASE WHEN is_precert THEN NULL ELSE nb + INTERVAL 2 MINUTE END AS sct_time,
                   'bench:synthetic' AS source, i AS seq, FALSE AS dup,
                   substr(spki, 1, {PREFIX_LEN}) AS spki_prefix, key_id
            FROM s
            """
        )
        con.execute(
            f"COPY (SELECT * EXCLUDE (key_id) FROM gen) TO '{certs_dir}' "
            "(FORMAT parquet, PARTITION_BY (spki_prefix), COMPRESSION zstd, OVERWRITE_OR_IGNORE, "
            f"FILENAME_PATTERN 'bench_{n}_{{i}}')"
        )
        rev = store_dir / "revocations" / f"bench_{n}.parquet"
        con.execute(
            f"""
            COPY (
              SELECT issuer_dn, issuer_key, serial, not_before + INTERVAL 30 DAY AS revoked_at,
                     CASE WHEN key_id % 100 = 0 THEN 'keyCompromise' ELSE 'superseded' END AS reason,
                     CASE WHEN key_id % 100 = 0 THEN 1 ELSE 4 END AS reason_code,
                     'crl:bench.crl' AS source, {rows} + seq AS seq
              FROM gen
              WHERE NOT is_precert AND ((key_id % 100 = 0 AND seq % 3 = 0) OR hash(seq * 5) % 50 = 0)
            ) TO '{rev}' (FORMAT parquet, COMPRESSION zstd)
            """
        )
        rev_files.append(rev)
        print(f"  generated {hi:,} of {rows:,} rows", file=sys.stderr, flush=True)
    comp = store_dir / "compromised" / "bench.parquet"
    con.execute(
        f"""
        COPY (
          SELECT md5('k' || key_id) || md5('K' || key_id) AS spki_sha256,
                 TIMESTAMPTZ '2019-06-01 00:00:00+00' AS reported_at,
                 'list:bench.csv line ' || (key_id // 100 + 2) AS source, {2 * rows} + key_id AS seq
          FROM range(1000) t(n), LATERAL (SELECT n * 100 AS key_id)
        ) TO '{comp}' (FORMAT parquet)
        """
    )
    con.close()
    with store.writing():
        files = sorted(str(p.relative_to(store_dir)) for p in certs_dir.rglob("bench_*.parquet"))
        store.add_files("certs", files)
        store.add_files("revocations", [str(r.relative_to(store_dir)) for r in rev_files])
        store.add_files("compromised", [str(comp.relative_to(store_dir))])
        store.manifest["next_seq"] = 3 * rows
        store.add_ingest(
            {"kind": "certificates", "path_or_url": "bench:synthetic", "entries": rows, "problems": []}
        )


def measure(code: str, cap_mib: int | None = None) -> tuple[float, int, str | None]:
    """Run Python `code` in a fresh process: (seconds, peak RSS MiB, its stdout; None when it went
    over `cap_mib` and was killed). The time includes the interpreter's start and imports (about a
    second), for every contender alike."""

    def limit() -> None:  # the backstop: address space (allocators reserve more than they use)
        if cap_mib:
            resource.setrlimit(resource.RLIMIT_AS, (cap_mib * 2 * 2**20,) * 2)

    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
        preexec_fn=limit if cap_mib else None,
    )
    over = False
    if cap_mib:
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _rss_mib(proc.pid))
            if peak > cap_mib:
                proc.kill()
                over = True
                break
            time.sleep(0.2)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t
    if over:
        return seconds, peak, None
    if cap_mib and proc.returncode and "MemoryError" in err:
        raise RuntimeError(
            f"MemoryError at the address-space backstop ({2 * cap_mib:,} MiB), resident peak {peak:,} MiB"
        )
    if proc.returncode or "maxrss=" not in err:
        lines = [x for x in err.strip().splitlines() if "Error" in x] or err.strip().splitlines() or ["?"]
        raise RuntimeError(f"failed ({proc.returncode}): {lines[-1][:300]}")
    peak_kib = int(err.strip().splitlines()[-1].split("=", 1)[1])  # the child's own ru_maxrss
    return seconds, peak_kib // 1024, out


def _rss_mib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


REPORT_RSS = "import resource, sys; print('maxrss=%d' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"


def floor_code(store_dir: Path, memory_limit: str, threads: int) -> str:
    return textwrap.dedent(
        f"""
        import duckdb, json
        from analysis.store.layout import open_store
        files = open_store({str(store_dir)!r}).files("certs")
        from analysis.store.engine import parse_size
        # The same DuckDB cap as `keyreuse --store` gives itself: three quarters of the budget.
        cap = "%dMiB" % (parse_size({memory_limit!r}) * 3 // 4 // 2**20)
        con = duckdb.connect(config={{"memory_limit": cap, "threads": {threads}}})
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        import tempfile; con.execute("SET temp_directory = '%s'" % tempfile.mkdtemp())
        n = con.execute("SELECT count(*) FROM (SELECT issuer_key, serial, spki_sha256, count(*) AS n "
                        "FROM read_parquet(?) GROUP BY ALL)", [files]).fetchone()[0]
        print(json.dumps({{"issuances": n}}))
        {REPORT_RSS}
        """
    )


def duckdb_code(store_dir: Path, memory_limit: str, threads: int) -> str:
    # The CLI's path with --format csv: the rules plus the summary (no list of every key).
    return textwrap.dedent(
        f"""
        import io, json
        from analysis.store import find_key_reuse_store
        from analysis.commands.keyreuse import write_violations_csv
        f = find_key_reuse_store({str(store_dir)!r}, as_of={AS_OF!r}, memory_limit={memory_limit!r}, threads={threads})
        f.keys_in_dict = "compromised"
        buf = io.StringIO(); write_violations_csv(f, buf); f.close()
        print(json.dumps(f.summary))
        {REPORT_RSS}
        """
    )


def pandas_code(store_dir: Path) -> str:
    # The pandas path on the same rows, read from the store's files into the certificates frame.
    return textwrap.dedent(
        f"""
        import io, json, time
        import pandas as pd, pyarrow.parquet as pq, pyarrow as pa
        from analysis.store.layout import open_store
        from analysis.schema import coerce_revocations, coerce_compromised_keys
        from analysis.keyreuse import find_key_reuse
        from analysis.commands.keyreuse import write_violations_csv
        s = open_store({str(store_dir)!r})
        cols = ["cert_sha256", "spki_sha256", "issuer_dn", "serial", "subject_dn", "subject_cn", "san_dns",
                "not_before", "not_after", "is_precert", "is_ca", "key_type", "crtsh_id", "first_seen",
                "source", "sct_time", "seq"]
        t = pa.concat_tables([pq.read_table(f, columns=cols) for f in s.files("certs")]).sort_by("seq")
        certs = t.drop_columns(["seq"]).to_pandas(types_mapper={{pa.string(): pd.StringDtype()}}.get)
        del t
        certs["crtsh_id"] = certs["crtsh_id"].astype("Int64")
        revs = coerce_revocations(pd.concat([pq.read_table(f).to_pandas() for f in s.files("revocations")]))
        comp = coerce_compromised_keys(pd.concat([pq.read_table(f).to_pandas() for f in s.files("compromised")]))
        f = find_key_reuse(certs, revs, comp, as_of={AS_OF!r})
        buf = io.StringIO(); write_violations_csv(f, buf)
        print(json.dumps(f.summary))
        {REPORT_RSS}
        """
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--floor-threads", type=int, help="threads of the floor (default: --threads)")
    ap.add_argument(
        "--pandas", action="store_true", help="also time the pandas path (needs ~1.9 GiB per 1M rows)"
    )
    ap.add_argument(
        "--pandas-cap", default="14GiB", help="memory cap of the pandas run (default 14GiB); past it: 'over'"
    )
    ap.add_argument("--only-pandas", action="store_true", help="time the pandas path alone")
    ap.add_argument("--keep", action="store_true", help="keep the generated store")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse a store generated before in --out, and keep it"
    )
    args = ap.parse_args()
    store_dir = args.out / f"scale-{args.rows}"
    t = time.perf_counter()
    manifest = store_dir / "manifest.json"
    made = manifest.exists() and "bench:synthetic" in manifest.read_text()
    if not (made and args.reuse):  # none, half made, or not to be reused
        generate(store_dir, args.rows, args.threads, args.memory_limit)
        print(f"generated in {time.perf_counter() - t:.0f} s", flush=True)
    size = sum(p.stat().st_size for p in store_dir.rglob("*.parquet"))
    print(
        f"store: {args.rows:,} entries, {size / 2**30:.2f} GiB of Parquet; {args.threads} threads, "
        f"--memory-limit {args.memory_limit}; {os.cpu_count()} CPUs",
        flush=True,
    )
    results = {}
    runs = []
    if not args.only_pandas:
        runs.append(
            (
                "floor (bare DuckDB group-by)",
                floor_code(store_dir, args.memory_limit, args.floor_threads or args.threads),
                None,
            )
        )
        runs.append(
            ("keyreuse --store (DuckDB)", duckdb_code(store_dir, args.memory_limit, args.threads), None)
        )
    if args.pandas or args.only_pandas:
        from analysis.store.engine import parse_size

        cap = parse_size(args.pandas_cap) // 2**20
        runs.append(("keyreuse, pandas path", pandas_code(store_dir), cap))
    for name, code, cap in runs:
        load = os.getloadavg()[0]
        try:
            seconds, peak, out = measure(code, cap)
        except RuntimeError as exc:  # e.g. the floor out of memory at 100M: say so, go on
            print(f"  {name:<30} {exc}", flush=True)
            continue
        if out is None:
            print(
                f"  {name:<30} over the cap of {cap:,} MiB resident ({peak:,} MiB seen) after {seconds:.1f} s: killed",
                flush=True,
            )
            continue
        results[name] = (seconds, peak, json.loads(out.strip().splitlines()[-1]))
        print(
            f"  {name:<30} {seconds:8.1f} s  {args.rows / seconds:>12,.0f} rows/s  peak {peak:>6,} MiB"
            f"  load {load:.1f} -> {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print()
    floor_name = "floor (bare DuckDB group-by)"
    if floor_name in results:
        floor = results[floor_name][0]
        for name, (seconds, _peak, _summary) in results.items():
            print(f"  {name:<30} ratio to floor {seconds / floor:5.2f}x")
    for name, (_s, _p, summary) in results.items():
        print(f"\nsummary ({name}):", json.dumps(summary))
    duck, pand = results.get("keyreuse --store (DuckDB)"), results.get("keyreuse, pandas path")
    if duck and pand:
        print("pandas and DuckDB summaries identical:", duck[2] == pand[2])
    if not (args.keep or args.reuse):
        shutil.rmtree(store_dir)


if __name__ == "__main__":
    main()
