"""Run the rules SQL (rules.py) on a store with DuckDB or Spark and assemble the same `Findings`
the pandas path returns, so every output format is shared.

Two plans over the same statements. DuckDB (`_by_partition`): the store a unit of SPKI-prefix
partitions at a time (every rule is local to a key once revocations are attached, and a key's
certificates share a partition), so memory follows the budget, not the store; per unit the entries
are grouped into issuances (numbers only), the per-issuer counts and distinct keys add up across
units, and the candidate keys' certificates are kept; the rules then run once on those. Spark
(`_single_pass`): (1) a probe over every certificate finds the candidate keys, (2) the rules run on
their certificates, (3) one grouping pass per issuer gives counts and coverage, (4) distinct keys.
Candidate keys: a keyCompromise revocation attaches to one of their certificates, or they are
listed. The serial_reuse warnings and (for JSON) the keys without compromise come from their own
queries.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import Problem, UsageError
from ..formats import TIME_DTYPE, format_time
from ..keyreuse import (
    BACKDATING_NOTE,
    CAVEAT,
    KEY_FIELDS,
    UNDATED_NOTE,
    Findings,
    _crtsh_urls,
    _finding_tables,
    _py,
)
from ..names import NameParseError, dn_key, match_issuer
from . import rules
from .layout import Store, open_store
from .units import PairHashes, merge_issuer_figures, units_of

DEFAULT_MEMORY_LIMIT = "2GB"
DUCKDB_SHARE = 50  # percent of --memory-limit for DuckDB; the rest is Python, Arrow and the findings
UNIT_BYTES_PER_ROW = 600  # DuckDB memory per entry of a unit of work, with headroom
TIME_COLUMNS = {
    "not_before",
    "not_after",
    "issued_at",
    "revoked_at",
    "compromised_at",
    "issuer_compromised_at",
    "violation_compromised_at",
    "delay_reference",
    "first_issued",
    "last_issued",
}
STRING_COLUMNS = {
    "issuer_key",
    "issuer_dn",
    "serial",
    "spki_sha256",
    "key_type",
    "cert_sha256",
    "precert_sha256",
    "source",
    "revocation_reason",
    "revocation_source",
}


# --- engines ----------------------------------------------------------------------------------


class DuckDBEngine:
    """DuckDB over the store's Parquet files, with a memory limit and spilling to `temp_dir`."""

    name = "duckdb"

    def __init__(
        self,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        threads: int | None = None,
        temp_dir: str | None = None,
        unit_rows: int | None = None,
    ) -> None:
        import duckdb

        # The limit is the whole process's budget. DuckDB gets a share of it; the store is analysed
        # a few partitions at a time (`unit_rows` entries), sized so one unit's grouping fits in
        # that share (measured at 100M entries, two threads: splits of 1.25M entries kept the whole
        # process under 940 MiB, about 500 bytes an entry with Python included).
        budget = parse_size(memory_limit)
        cap = self.cap = max(budget * DUCKDB_SHARE // 100, 2**26)
        self.unit_rows = int(unit_rows) if unit_rows else max(cap // UNIT_BYTES_PER_ROW, 10_000)
        try:
            self.con = duckdb.connect(config={"memory_limit": f"{cap // 2**20}MiB"})
        except duckdb.Error as exc:
            raise UsageError(f"memory limit {memory_limit!r}: {str(exc).splitlines()[0]}") from None
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        # Spill under the system's temporary folder, not DuckDB's default `.tmp` in the current one.
        self._own_temp = None
        if not temp_dir:
            import shutil
            import tempfile
            import weakref

            temp_dir = self._own_temp = tempfile.mkdtemp(prefix="ca-incidents-spill-")
            weakref.finalize(self, shutil.rmtree, temp_dir, True)  # also when never closed
        self.temp_dir = temp_dir
        self.con.execute(f"SET temp_directory = {_literal(temp_dir)}")
        self.con.execute("SET preserve_insertion_order = false")
        # DuckDB's own bar would write over the output; the findings come all at once at the end.
        try:
            self.con.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:  # Jupyter without ipywidgets refuses it (off there anyway)
            pass

    def load(self, store: Store, name_map: dict[str, str]) -> None:
        files = {t: store.files(t) for t in ("certs", "revocations", "compromised")}
        self.certs_view("certs", files["certs"])
        self.con.execute(
            "CREATE OR REPLACE VIEW revs_raw AS SELECT issuer_dn, issuer_key, serial, "
            "epoch_us(revoked_at) AS revoked_at, reason, reason_code, source, seq "
            f"FROM read_parquet({_list(files['revocations'])})"
        )
        self.con.execute(_revs_view(name_map))
        self.con.execute(
            "CREATE OR REPLACE VIEW comp AS SELECT spki_sha256, epoch_us(reported_at) AS reported_at, source, seq "
            f"FROM read_parquet({_list(files['compromised'])})"
        )

    def certs_view(self, name: str, files: list[str]) -> None:
        """The `certs` relation of rules.py over some of the store's certificate files."""
        self.con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT cert_sha256, spki_sha256, issuer_dn, issuer_key, serial, "
            "epoch_us(not_before) AS nb, epoch_us(not_after) AS na, is_precert, is_ca, key_type, crtsh_id, "
            "epoch_us(first_seen) AS fs, epoch_us(sct_time) AS sct, source, seq, dup "
            f"FROM read_parquet({_list(files)})"
        )

    def table(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def numbers(self, sql: str, column: str):
        """One numeric column of a result as a NumPy array."""
        return self.con.execute(sql).fetchnumpy()[column]

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        reader = self.con.sql(sql).to_arrow_reader(65536)
        yield from reader

    def create(self, name: str, data: pa.Table) -> None:
        self.con.register(f"_{name}_arrow", data)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _{name}_arrow")
        self.con.unregister(f"_{name}_arrow")

    def view(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")

    def materialize(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def close(self) -> None:
        self.con.close()
        if self._own_temp:
            import shutil

            shutil.rmtree(self._own_temp, ignore_errors=True)


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS.update({"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40})


def parse_size(text: str) -> int:
    """ "2GB", "1.5 GiB", "500MB" -> bytes. Raises UsageError."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(text))
    unit = m.group(2).upper() if m else None
    if m is None or unit not in _UNITS:
        raise UsageError(f"memory limit {text!r}: give a size such as 2GB, 1.5GiB or 500MB")
    size = int(float(m.group(1)) * _UNITS[unit])
    if size < 2**26:
        raise UsageError(f"memory limit {text!r}: at least 64 MiB")
    return size


def _list(files: list[str]) -> str:
    return "[" + ", ".join(_literal(f) for f in files) + "]"


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _revs_view(name_map: dict[str, str]) -> str:
    """Revocations with every issuer resolved (bare CNs through `name_map`); unresolved rows left out."""
    if name_map:
        values = ", ".join(f"({_literal(k)}, {_literal(v)})" for k, v in name_map.items())
        return (
            "CREATE OR REPLACE VIEW revs AS SELECT r.issuer_dn, COALESCE(r.issuer_key, m.resolved) AS issuer_key, "
            "r.serial, r.revoked_at, r.reason, r.reason_code, r.source, r.seq FROM revs_raw r "
            f"LEFT JOIN (VALUES {values}) AS m(name, resolved) ON r.issuer_dn = m.name "
            "WHERE COALESCE(r.issuer_key, m.resolved) IS NOT NULL"
        )
    return "CREATE OR REPLACE VIEW revs AS SELECT * FROM revs_raw WHERE issuer_key IS NOT NULL"


def make_engine(
    engine: str = "duckdb",
    *,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    spark_master: str | None = None,
    spark=None,
    threads: int | None = None,
    unit_rows: int | None = None,
):
    """An engine by name: "duckdb" (this machine) or "spark" (local[2] or `spark_master`)."""
    if engine == "duckdb":
        try:
            return DuckDBEngine(
                memory_limit=memory_limit,
                threads=threads,
                temp_dir=os.environ.get("CA_INCIDENTS_SPILL"),
                unit_rows=unit_rows,
            )
        except ImportError as exc:
            raise UsageError(f"--engine duckdb needs the duckdb package ({exc})") from None
    if engine == "spark":
        from .spark import SparkEngine

        return SparkEngine(master=spark_master, spark=spark)
    raise UsageError(f"unknown engine {engine!r} (duckdb or spark)")


# --- the analysis ------------------------------------------------------------------------------


@dataclass
class StoreFindings(Findings):
    """Findings of a store. `issuances` holds the compromised keys' issuances only; `keys` the
    compromised keys unless `all_keys=True` was asked for; `iter_keys()` streams every key."""

    _plain_keys: object = None  # callable yielding the keys without compromise, in output order
    all_keys_loaded: bool = False
    # "all": to_dict() lists every key (the JSON contract). "compromised": only the compromised
    # ones, enough for the table (it lists reused keys) and the CSV (violations only).
    keys_in_dict: str = "all"
    extra: dict = field(default_factory=dict)

    def iter_keys(self) -> Iterator[dict]:
        """Every key's JSON record in the order of `keys` in the pandas output."""
        from ..keyreuse import _records

        comp = self.keys[self.keys["key_compromised"]] if len(self.keys) else self.keys
        rest = self.keys[~self.keys["key_compromised"]] if len(self.keys) else self.keys
        yield from _records(comp, KEY_FIELDS)
        if self.all_keys_loaded or self._plain_keys is None:
            yield from _records(rest, KEY_FIELDS)
            return
        # Keys of the compromise pipeline that turned out uncompromised merge into the plain ones.
        extra = _records(rest, KEY_FIELDS)
        yield from heapq.merge(extra, self._plain_keys(), key=lambda k: (-k["issuances"], k["spki_sha256"]))

    def close(self) -> None:
        """End the engine kept for `iter_keys()`."""
        eng = self.extra.pop("engine", None)
        if eng is not None:
            eng.close()

    def to_dict(self) -> dict:
        d = super().to_dict()
        if not self.all_keys_loaded and self.keys_in_dict == "all":
            d["keys"] = list(self.iter_keys())
        return d

    def write_json(self, out) -> None:
        """`to_dict()` as `print_json` writes it, streaming the keys instead of holding them."""
        saved, self.all_keys_loaded = self.all_keys_loaded, True
        keys_frame, self.keys = self.keys, self.keys.iloc[0:0]
        try:
            d = super().to_dict()
        finally:
            self.keys, self.all_keys_loaded = keys_frame, saved
        head, tail = json.dumps(d, indent=2, ensure_ascii=False, default=str).split('"keys": []', 1)
        out.write(head)
        out.write('"keys": [')
        first = True
        for item in self.iter_keys():
            text = json.dumps(item, indent=2, ensure_ascii=False, default=str)
            out.write(("\n" if first else ",\n") + "\n".join("    " + line for line in text.split("\n")))
            first = False
        out.write("]" if first else "\n  ]")
        out.write(tail)
        out.write("\n")


def find_key_reuse_store(
    store: str | os.PathLike | Store,
    *,
    scope: str = "global",
    as_of: dt.datetime | pd.Timestamp | str | None = None,
    engine: str = "duckdb",
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    spark_master: str | None = None,
    spark=None,
    all_keys: bool = False,
    threads: int | None = None,
    unit_rows: int | None = None,
    progress: bool | None = False,
) -> StoreFindings:
    """design.md's key-reuse rules over a store, with DuckDB (default) or Spark.

    The result matches `find_key_reuse` on the same inputs. `all_keys=True` loads every key into
    `keys` (small stores); otherwise `keys` holds the compromised keys and `iter_keys()` (or
    `write_json`) streams the rest from the engine.

    DuckDB analyses the store a few SPKI-prefix partitions at a time (every rule is local to a key,
    and a key's certificates share a partition), so memory is bounded by the unit of work, not the
    store; `unit_rows` overrides the entries per unit that `memory_limit` implies. `progress`: a bar
    on stderr over the units (None: only when stderr is a terminal).
    """
    if scope not in ("global", "issuer"):
        raise ValueError(f"scope must be 'global' or 'issuer', not {scope!r}")
    st = store if isinstance(store, Store) else open_store(store)
    now = pd.Timestamp.now(tz="UTC") if as_of is None else pd.Timestamp(as_of)
    now = (now.tz_localize("UTC") if now.tzinfo is None else now).tz_convert("UTC")
    now_us = int(now.value) // 1000  # .value is nanoseconds whatever the unit
    eng = make_engine(
        engine,
        memory_limit=memory_limit,
        spark_master=spark_master,
        spark=spark,
        threads=threads,
        unit_rows=unit_rows,
    )
    try:
        findings = _analyse(st, eng, scope, now, now_us, all_keys, progress)
    except BaseException:
        eng.close()
        raise
    if all_keys:
        eng.close()  # otherwise it stays open for iter_keys(); `close()` ends it
    return findings


def _analyse(
    st: Store, eng, scope: str, now: pd.Timestamp, now_us: int, all_keys: bool, progress: bool | None
) -> StoreFindings:
    problems = list(st.problems)
    eng.load(st, {})
    # Revocation issuers given as a bare CN resolve against the loaded issuers (names.match_issuer).
    bare = _frame(
        eng.table(
            "SELECT issuer_dn, MIN(seq) AS s FROM revs_raw WHERE issuer_key IS NULL GROUP BY 1 ORDER BY s"
        )
    )
    name_map: dict[str, str] = {}
    unresolved: list[str] = []
    if len(bare):
        known = [r for r in _frame(eng.table("SELECT DISTINCT issuer_dn FROM certs"))["issuer_dn"].dropna()]
        for name in bare["issuer_dn"].dropna():
            try:
                name_map[name] = dn_key(match_issuer(name, known))
            except (LookupError, NameParseError) as exc:
                unresolved.append(name)
                problems.append(Problem(str(name), None, f"revocation issuer not resolved: {exc}"))
        eng.load(st, name_map)
        if unresolved:
            names = ", ".join(_literal(n) for n in unresolved)
            rows = _frame(
                eng.table(f"SELECT source, serial FROM revs_raw WHERE issuer_dn IN ({names}) ORDER BY seq")
            )
            problems += [
                Problem(str(s), f"serial {n}", "skipped: issuer not resolved")
                for s, n in zip(rows["source"], rows["serial"], strict=True)
            ]

    if isinstance(eng, DuckDBEngine):
        parts = _by_partition(st, eng, scope, now_us, progress)
    else:
        parts = _single_pass(eng, scope, now_us)
    iss, issuers, warnings = parts.iss, parts.issuers, parts.warnings
    iss["crtsh_url"] = _crtsh_urls(iss) if len(iss) else pd.Series([], dtype="string")
    listed = _frame(eng.table(rules.LISTED_KEYS))["spki_sha256"].dropna()
    listed_without = sorted(set(listed) - parts.candidates)

    violations, delays, keys = _finding_tables(iss)

    summary = {
        "certificate_entries": int(issuers["entries"].sum()) if len(issuers) else 0,
        "distinct_certificates": int(issuers["distinct_certs"].sum()) if len(issuers) else 0,
        "issuances": int(issuers["issuances"].sum()) if len(issuers) else 0,
        "distinct_keys": parts.distinct_keys,
        "compromised_keys": int(iss.loc[iss["key_compromised"], "spki_sha256"].nunique()),
        "issuances_with_compromised_keys": int(iss["key_compromised"].sum()),
        "violating_issuances": int(iss["violation"].sum()),
        "reused_compromised_keys": int(iss.loc[iss["violation"], "spki_sha256"].nunique()),
        "revocation_delays": int(iss["revocation_delay"].sum()),
        "remaining_valid": int(iss["remaining_valid"].sum()),
    }
    notes = [CAVEAT, *warnings, BACKDATING_NOTE]
    if scope == "issuer":
        notes.append(
            "--scope issuer: only compromise known to the same issuer (its own keyCompromise revocation) counts."
        )
    if len(iss) and iss["compromise_undated"].any():
        notes.append(UNDATED_NOTE)
    notes.extend(_coverage_notes(st, eng, issuers, parts.coverage_certs))
    notes.append(f"remaining_valid is as of {format_time(now)}.")

    findings = StoreFindings(
        summary=summary,
        issuances=iss,
        keys=keys,
        violations=violations,
        revocation_delays=delays,
        listed_keys_without_certificates=listed_without,
        notes=notes,
        problems=problems,
        inputs=st.inputs,
        scope=scope,
        as_of=now,
    )

    def plain() -> Iterator[dict]:
        for batch in eng.batches(rules.plain_keys("certs", "cand")):
            yield from _plain_key_records(pa.Table.from_batches([batch]))

    if all_keys:
        plain_records = list(_plain_key_records(eng.table(rules.plain_keys("certs", "cand"))))
        findings.keys = _merge_keys(keys, plain_records)
        findings.all_keys_loaded = True
    else:
        findings._plain_keys = plain
        findings.extra["engine"] = eng
    return findings


@dataclass
class _Parts:
    """What a plan hands to the assembly: flagged issuances (with hashes and crt.sh links), per-issuer
    figures, the distinct key count, serial_reuse warnings, the candidate keys, and the relation
    that holds the certificates the coverage notes look up by `seq`."""

    iss: pd.DataFrame
    issuers: pd.DataFrame
    distinct_keys: int
    warnings: list[str]
    candidates: set[str]
    coverage_certs: str = "certs"


def _single_pass(eng, scope: str, now_us: int) -> _Parts:
    """The whole store at once (Spark): (1) keys that can be compromised, (2) the rules on their
    certificates, (3) counts, coverage and reused serials per issuer, (4) distinct keys."""
    eng.materialize("cand", rules.CANDIDATE_KEYS)
    eng.materialize("ccerts", rules.CANDIDATE_CERTS)
    eng.materialize("attached", rules.attached_issuances("ccerts"))
    iss = _frame(eng.table(rules.flagged_issuances("attached", now_us=now_us, scope=scope)))
    _add_certificate_hashes(eng, iss, "certs")
    issuers = _frame(eng.table(rules.ISSUER_FIGURES))
    distinct_keys = int(eng.table(rules.DISTINCT_KEYS).column("n")[0].as_py() or 0)
    reused = [
        (k, serial)
        for k, serials in zip(issuers["issuer_key"], issuers["reused_serials"], strict=True)
        for serial in (serials if serials is not None else [])
    ]
    warnings = _serial_reuse_warnings(eng, reused, "certs")
    candidates = set(_frame(eng.table("SELECT spki_sha256 FROM cand"))["spki_sha256"].dropna())
    return _Parts(iss, issuers, distinct_keys, warnings, candidates)


def _by_partition(st: Store, eng: DuckDBEngine, scope: str, now_us: int, progress: bool | None) -> _Parts:
    """The store one unit of SPKI-prefix partitions at a time (DuckDB). Every rule is local to a key
    once revocations are attached, and all of a key's certificates lie in one partition, so per
    unit: group its entries into issuances (numbers only), add up the per-issuer figures and the
    distinct keys, note each issuance's (issuer, serial) hash, find the unit's candidate keys and
    keep their certificates. Then the rules run once on the kept certificates, and the hashes seen
    in more than one issuance give the serial_reuse pairs (checked exactly in the units that hold
    them). Each unit's files are read twice (grouping, then the candidates' certificates)."""
    from tqdm import tqdm

    eng.materialize("kc_pairs", rules.KC_PAIRS)
    eng.materialize("listed_keys", rules.LISTED_KEYS)
    hash_col = "cert_sha256"
    eng.materialize("ccerts", rules.candidate_certs("listed_keys", "certs", hash_col) + " WHERE FALSE")
    eng.materialize("cand", "SELECT spki_sha256 FROM listed_keys WHERE FALSE")
    eng.materialize("cand_u", "SELECT spki_sha256 FROM listed_keys WHERE FALSE")
    units = units_of(st, eng.unit_rows)
    partials: list[pd.DataFrame] = []
    distinct_keys = 0
    pairs = PairHashes(eng.temp_dir)
    with tqdm(
        total=sum(k for _, k in units),
        desc="keyreuse (store units)",
        unit="unit",
        file=sys.stderr,
        disable=None if progress is None else not progress,
    ) as bar:
        for u, (files, k) in enumerate(units):
            eng.certs_view("certs_u", files)
            for j in range(k):
                # A unit bigger than its budget is split by key hash: its files are read k times.
                src = "certs_u" if k == 1 else f"(SELECT * FROM certs_u WHERE hash(spki_sha256) % {k} = {j})"
                eng.materialize("iss_u", rules.issuance_numbers(src))
                part = _frame(eng.table(rules.issuer_figures("iss_u")))
                part["unit"] = u
                partials.append(part)
                distinct_keys += int(
                    eng.numbers("SELECT COUNT(DISTINCT spki_sha256) AS n FROM iss_u", "n")[0]
                )
                pairs.add(eng.numbers("SELECT hash(issuer_key, serial) AS h FROM iss_u", "h"), u)
                eng.execute(f"INSERT INTO cand_u {rules.candidate_keys_of('iss_u')}")
                bar.update(1)
            eng.execute(f"INSERT INTO ccerts {rules.candidate_certs('cand_u', 'certs_u', hash_col)}")
            eng.execute("INSERT INTO cand SELECT spki_sha256 FROM cand_u")
            eng.execute("DELETE FROM cand_u")

    eng.execute("DROP TABLE IF EXISTS iss_u")
    eng.execute("DROP TABLE IF EXISTS cand_u")
    # serial_reuse: an (issuer, serial) hash seen in two issuances; checked exactly below.
    repeated = pairs.repeated()

    # The rules on the candidates' certificates, with only their (issuer, serial) pairs' revocations.
    # From here on the findings frames grow in Python: DuckDB keeps to half its share (it spills),
    # then a quarter once its result is out.
    eng.execute(f"SET memory_limit = '{max(eng.cap // 2, 2**26) // 2**20}MiB'")
    eng.view(
        "crevs",
        "SELECT r.* FROM revs r JOIN (SELECT DISTINCT issuer_key, serial FROM ccerts) p "
        "ON r.issuer_key = p.issuer_key AND r.serial = p.serial",
    )
    eng.materialize("attached", rules.attached_issuances("ccerts", revs="crevs"))
    flagged = [eng.table(rules.flagged_issuances("attached", now_us=now_us, scope=scope))]
    eng.execute("DROP TABLE attached")
    eng.execute(f"SET memory_limit = '{max(eng.cap // 4, 2**26) // 2**20}MiB'")
    iss = _frame(flagged)
    _add_certificate_hashes(eng, iss, "ccerts")
    eng.execute("DROP TABLE ccerts")

    issuers, first_units = merge_issuer_figures(partials)
    files_of = {u: files for u, (files, _) in enumerate(units)}
    reused: list[tuple[str, str]] = []
    if repeated:
        eng.create("rh", pa.table({"h": pa.array(sorted(repeated), pa.uint64())}))
        eng.certs_view("certs_r", sorted({f for us in repeated.values() for u in us for f in files_of[u]}))
        found = eng.table(
            "SELECT issuer_key, serial FROM (SELECT DISTINCT issuer_key, serial, spki_sha256 FROM certs_r "
            "WHERE hash(issuer_key, serial) IN (SELECT h FROM rh)) GROUP BY issuer_key, serial HAVING COUNT(*) > 1"
        )
        reused = list(
            zip(found.column("issuer_key").to_pylist(), found.column("serial").to_pylist(), strict=True)
        )
    warnings = _serial_reuse_warnings(eng, reused, "certs_r")
    eng.certs_view(
        "certs_cov", sorted({f for u in first_units for f in files_of[u]}) or st.files("certs")[:1]
    )
    candidates = set(_frame(eng.table("SELECT spki_sha256 FROM cand"))["spki_sha256"].dropna())
    return _Parts(iss, issuers, distinct_keys, warnings, candidates, coverage_certs="certs_cov")


def _serial_reuse_warnings(eng, reused: list[tuple[str, str]], certs: str) -> list[str]:
    """serial_reuse warnings for the (issuer, serial) pairs `reused`, in the pandas frame's order."""
    warnings: list[str] = []
    if not reused:
        return warnings
    eng.create("rpairs", pa.table({"issuer_key": [k for k, _ in reused], "serial": [s for _, s in reused]}))
    eng.view(
        "rcerts",
        f"SELECT c.* FROM {certs} c JOIN rpairs p ON c.issuer_key = p.issuer_key AND c.serial = p.serial",
    )
    rows = _frame(eng.table(rules.issuances_of("rcerts"))).sort_values("opos", kind="stable")
    for _, grp in rows.groupby(["issuer_key", "serial"], sort=False):
        warnings.append(
            f"serial_reuse: {grp['issuer_dn'].iloc[0]} serial {grp['serial'].iloc[0]} was issued on "
            f"{grp['spki_sha256'].nunique()} different keys"
        )
    return warnings


def _add_certificate_hashes(eng, iss: pd.DataFrame, certs: str) -> None:
    """cert_sha256 / precert_sha256 of the issuances whose crt.sh link is printed (violations; the
    others only when they have no crt.sh id), read by `seq`: a full read of the hash column for
    every candidate row is the costliest part of the pipeline otherwise."""
    iss["cert_sha256"] = pd.Series(pd.NA, index=iss.index, dtype="string")
    iss["precert_sha256"] = pd.Series(pd.NA, index=iss.index, dtype="string")
    need = iss["violation"] & iss["crtsh_id"].isna() if len(iss) else iss["violation"]
    seqs = {int(v) for col in ("final_seq", "precert_seq") for v in iss.loc[need, col].dropna()}
    if not seqs:
        return
    eng.create("hash_seq", pa.table({"seq": pa.array(sorted(seqs), pa.int64())}))
    found = eng.table(rules.hashes_by_seq(certs))
    by_seq = pd.Series(
        found.column("cert_sha256").to_pylist(), index=found.column("seq").to_pylist(), dtype="string"
    )
    for col, seq_col in (("cert_sha256", "final_seq"), ("precert_sha256", "precert_seq")):
        seq = pd.to_numeric(iss.loc[need, seq_col]).astype("Int64")
        iss.loc[need, col] = seq.map(by_seq).astype("string")


def _plain_key_records(table: pa.Table) -> Iterator[dict]:
    frame = _frame(table)
    for row in frame.itertuples(index=False):
        yield {
            "spki_sha256": row.spki_sha256,
            "key_type": _py(row.key_type),
            "issuances": int(row.issuances),
            "issuers": sorted({i for i in (row.issuers if row.issuers is not None else []) if i is not None}),
            "first_issued": format_time(row.first_issued),
            "last_issued": format_time(row.last_issued),
            "compromised_at": None,
            "compromise_source": None,
            "issued_after_compromise": 0,
            "revocation_delays": 0,
        }


def _merge_keys(keys: pd.DataFrame, plain: list[dict]) -> pd.DataFrame:
    """The pandas keys table: compromised keys first, then the rest by issuances and SPKI."""
    extra = pd.DataFrame(
        [{**r, "key_compromised": False} for r in plain], columns=[*KEY_FIELDS, "key_compromised"]
    )
    for c in ("first_issued", "last_issued", "compromised_at"):
        extra[c] = pd.to_datetime(extra[c], utc=True).astype(TIME_DTYPE)
    out = pd.concat([keys, extra], ignore_index=True) if len(keys) else extra
    out = out.sort_values(
        ["key_compromised", "issued_after_compromise", "issuances", "spki_sha256"],
        ascending=[False, False, False, True],
        kind="stable",
    ).reset_index(drop=True)
    out["key_compromised"] = out["key_compromised"].astype(bool)
    return out


def _coverage_notes(st: Store, eng, issuers: pd.DataFrame, certs: str = "certs") -> list[str]:
    """keyreuse._coverage_notes from per-issuer figures (the same sentences)."""
    if issuers.empty:
        return []
    names = [c["issuer_dn"] for c in st.crls] + [n for c in st.crls for n in c["indirect_issuers"]]
    names += _frame(eng.table("SELECT DISTINCT issuer_dn FROM revs_raw"))["issuer_dn"].dropna().tolist()
    covered = set()
    for name in names:
        try:
            covered.add(dn_key(name))
        except NameParseError:
            continue
    covered.update(_frame(eng.table("SELECT DISTINCT issuer_key FROM revs"))["issuer_key"].dropna().tolist())
    if not covered:
        return [
            "No revocation data was loaded: revocations, compromise known from revocations and revocation "
            "delays are unknown, not zero."
        ]
    leaf = issuers[issuers["first_leaf_opos"].notna()]
    firsts = leaf["first_leaf_opos"] if len(leaf) else issuers["first_opos"]
    keys = leaf["issuer_key"] if len(leaf) else issuers["issuer_key"]
    want = {rules.seq_of(o): k for k, o in zip(keys, firsts, strict=True) if k not in covered}
    if not want:
        return []
    seqs = ", ".join(str(s) for s in sorted(want))
    names = _frame(eng.table(f"SELECT seq, issuer_dn FROM {certs} WHERE seq IN ({seqs})"))
    missing = sorted({n for n in names["issuer_dn"].dropna()})
    return [
        f"No revocation source covers issuer {name}: its certificates' revocations are unknown, not absent."
        for name in missing
    ]


def _frame(table: pa.Table | list) -> pd.DataFrame:
    """An engine's Arrow result -> a frame with the pandas path's dtypes (µs integers -> UTC times).
    Given as a one-item list, the table is taken out of it and let go column by column, so the
    result and the whole table are never in memory together."""
    if isinstance(table, list):
        table = table.pop()
    cols = {}
    for name in list(table.column_names):
        col = table.column(name)
        table = table.drop_columns([name])
        if name in TIME_COLUMNS:
            if pa.types.is_timestamp(col.type):
                col = pc.cast(col, pa.timestamp("us", tz="UTC"))
            else:
                col = pc.cast(pc.cast(col, pa.int64()), pa.timestamp("us", tz="UTC"))
            cols[name] = col.to_pandas().astype(TIME_DTYPE)
        elif name in STRING_COLUMNS:
            cols[name] = pd.Series(col.to_pylist(), dtype="string")
        elif name == "crtsh_id":
            cols[name] = pd.Series(col.to_pylist(), dtype="Int64")
        elif pa.types.is_boolean(col.type):
            cols[name] = pd.Series([bool(v) for v in col.to_pylist()], dtype=bool)
        else:
            cols[name] = pd.Series(col.to_pylist(), dtype=object if not len(col) else None)
    return pd.DataFrame(cols)
