"""The sweep: every certificate issued on a key some CA revoked for keyCompromise.

Per CA and per time chunk of revocation dates, crt.sh's database gives the keyCompromise CRL
entries and the SPKI of each revoked certificate; then every certificate on those SPKIs at any CA
(no DER yet); then the DER and first CT log time of just the ones that matter: the certificates
revoked for keyCompromise and those still valid at or after the key's earliest keyCompromise
revocation (an earlier, expired certificate can be neither a violation nor a late revocation).
The frames go to `find_key_reuse` — the one implementation of the rules.

The database side is a `source` object (analysis/sources/crtsh_db.py gives the real one) so that
this module holds the chunking, checkpointing and frame building, and no SQL. A statement the
server cancels halves the chunk (or the batch) down to a floor; what still fails is listed in
`errors` and the sweep goes on. Every finished chunk and every answer is written under the state
directory at once, so `resume=True` continues a killed sweep and `offline=True` re-runs it
without the database.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from .certificates import load_certificates
from .errors import Cancelled, Problem, UpstreamError
from .formats import TIME_DTYPE, format_serial, format_time
from .keyreuse import Findings, find_key_reuse
from .revocations import CRLInfo, RevocationData
from .schema import REASON_NAMES, coerce_certificates, coerce_revocations, empty_revocations

KEY_COMPROMISE = 1
DEFAULT_CHUNK = dt.timedelta(days=365)
DEFAULT_MIN_CHUNK = dt.timedelta(hours=1)
DEFAULT_SINCE = dt.datetime(2013, 1, 1, tzinfo=dt.UTC)  # before crt.sh's first CRLs
SUMMARY_FIELDS = (
    "ca_id",
    "ca_name",
    "chunks",
    "chunks_from_checkpoint",
    "narrowed",
    "failed_chunks",
    "keycompromise_entries",
    "entries_without_certificate",
    "compromised_keys",
    "keys_reused",
    "violations_issued",
)
NOTE = (
    "Sweep: keyCompromise entries come from crt.sh's crl_revoked, which keeps only the latest reason "
    "and date each CRL gave (no history; a NULL reason is not keyCompromise); certificates not yet "
    "in crt.sh, and CRLs crt.sh does not fetch, are invisible to it."
)


# --- time chunks ------------------------------------------------------------------------------


def utc(value: dt.datetime | pd.Timestamp | str) -> dt.datetime:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


# --- the state directory: checkpoint and answers --------------------------------------------------


def sweep_id(**selection: object) -> str:
    """A stable name for one sweep's state: the hash of what it asks (not of how it prints)."""
    text = json.dumps(selection, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _iso(t: object) -> str | None:
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return None
    return pd.Timestamp(t).isoformat()


def _ts(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text)


class SweepState:
    """Append-only JSON-lines files under `directory`, each line written and flushed whole:
    `cas.jsonl` (the CAs swept), `chunks.jsonl` (one finished chunk of one CA with its entries),
    `keys.jsonl` (the certificates on one SPKI), `certs.jsonl` (one certificate's DER and first CT
    time). A line cut short by a kill is ignored on reading."""

    FILES = ("cas", "chunks", "keys", "certs", "coverage")

    def __init__(self, directory: str | os.PathLike, *, fresh: bool, offline: bool = False) -> None:
        self.dir = Path(directory)
        self.offline = offline
        if fresh and not offline and self.dir.exists():
            shutil.rmtree(self.dir)
        self.cas: list[tuple[int, str]] | None = None
        self.coverage: dict[int, int] | None = None
        self.chunks: dict[tuple[int, str], dict] = {}
        self.keys: dict[str, list[dict]] = {}
        self.certs: dict[int, dict] = {}
        for name in self.FILES:
            for rec in self._read(name):
                self._absorb(name, rec)

    def _read(self, name: str) -> list[dict]:
        path = self.dir / f"{name}.jsonl"
        if not path.exists():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # the line a kill cut short
        return out

    def _absorb(self, name: str, rec: dict) -> None:
        if name == "cas":
            self.cas = [(int(i), str(n)) for i, n in rec["cas"]]
        elif name == "coverage":
            self.coverage = {int(k): int(v) for k, v in rec["coverage"].items()}
        elif name == "chunks":
            self.chunks[(int(rec["ca_id"]), rec["lo"])] = rec
        elif name == "keys":
            self.keys[rec["spki_sha256"]] = rec["certificates"]
        elif name == "certs":
            self.certs[int(rec["crtsh_id"])] = rec

    def _append(self, name: str, *recs: dict) -> None:
        """Write the records and sync once: after a kill, what was acknowledged is on disk."""
        if self.offline:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f"{name}.jsonl", "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(rec, separators=(",", ":")) + "\n" for rec in recs))
            fh.flush()
            os.fsync(fh.fileno())
        for rec in recs:
            self._absorb(name, rec)

    def save_cas(self, cas: list[tuple[int, str]]) -> None:
        self._append("cas", {"cas": [[i, n] for i, n in cas]})

    def save_coverage(self, coverage: dict[int, int]) -> None:
        self._append("coverage", {"coverage": {str(k): v for k, v in coverage.items()}})

    def save_chunk(self, ca_id: int, lo: dt.datetime, hi: dt.datetime, entries: list[dict]) -> None:
        rows = [[_iso(e["revoked_at"]), e["serial"], e["crtsh_id"], e["spki_sha256"]] for e in entries]
        self._append("chunks", {"ca_id": ca_id, "lo": lo.isoformat(), "hi": hi.isoformat(), "entries": rows})

    def chunk(self, ca_id: int, lo: dt.datetime) -> tuple[dt.datetime, list[dict]] | None:
        rec = self.chunks.get((int(ca_id), lo.isoformat()))
        if rec is None:
            return None
        entries = [
            {"revoked_at": _ts(r), "serial": s, "crtsh_id": c, "spki_sha256": k}
            for r, s, c, k in rec["entries"]
        ]
        return dt.datetime.fromisoformat(rec["hi"]), entries

    def save_keys(self, keys: dict[str, list[dict]]) -> None:
        """The certificates on each SPKI (an empty list: crt.sh has none)."""
        recs = [
            {
                "spki_sha256": spki,
                "certificates": [
                    {k: (_iso(v) if isinstance(v, pd.Timestamp) else v) for k, v in c.items()} for c in rows
                ],
            }
            for spki, rows in keys.items()
        ]
        self._append("keys", *recs)

    def key(self, spki: str) -> list[dict] | None:
        rows = self.keys.get(spki)
        if rows is None:
            return None
        times = ("not_before", "not_after", "revoked_at")
        return [{k: (_ts(v) if k in times else v) for k, v in r.items()} for r in rows]

    def save_certs(self, rows: list[dict]) -> None:
        """Certificates as `certificate_details` gives them: crtsh_id, der, first_seen."""
        self._append(
            "certs",
            *(
                {"crtsh_id": int(r["crtsh_id"]), "der": r["der"].hex(), "first_seen": _iso(r["first_seen"])}
                for r in rows
            ),
        )

    def cert(self, crtsh_id: int) -> dict | None:
        rec = self.certs.get(int(crtsh_id))
        if rec is None:
            return None
        return {
            "crtsh_id": int(crtsh_id),
            "der": bytes.fromhex(rec["der"]),
            "first_seen": _ts(rec["first_seen"]),
        }


# --- the sweep ----------------------------------------------------------------------------------


@dataclass
class CASweep:
    """What the sweep did and found for one CA (one line of the summary table)."""

    ca_id: int
    ca_name: str
    chunks: int = 0
    chunks_from_checkpoint: int = 0
    narrowed: int = 0
    failed_chunks: int = 0
    keycompromise_entries: int = 0
    entries_without_certificate: int = 0
    keys: set[str] = field(default_factory=set)
    keys_reused: int = 0
    violations_issued: int = 0

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in SUMMARY_FIELDS if k != "compromised_keys"}
        d["compromised_keys"] = len(self.keys)
        return {k: d[k] for k in SUMMARY_FIELDS}


@dataclass
class SweepResult:
    findings: Findings
    cas: list[CASweep]
    stats: dict
    failed: bool  # an upstream failure or an offline miss: exit status 3

    def to_dict(self) -> dict:
        """The keyreuse JSON object plus a `sweep` member: per-CA lines and transfer counts."""
        d = self.findings.to_dict()
        d["sweep"] = {**self.stats, "cas": [c.to_dict() for c in self.cas]}
        return d


class _Run:
    def __init__(self, source, state: SweepState, *, offline: bool, min_chunk: dt.timedelta, page: int):
        self.source = source
        self.state = state
        self.offline = offline
        self.min_chunk = min_chunk
        self.page = page
        self.problems: list[Problem] = []
        self.failed = False
        self.position = ""  # "(3/20)": which CA of how many, for the progress bar
        self.stream: _Stream | None = None  # sweep --store: downloads go on as they arrive

    def fail(self, where: str, position: str | None, reason: str, *, upstream: bool = True) -> None:
        self.problems.append(Problem(where, position, reason))
        self.failed = self.failed or upstream

    # one chunk, all pages
    def chunk_entries(self, ca_id: int, lo: dt.datetime, hi: dt.datetime) -> list[dict]:
        entries: list[dict] = []
        after = None
        while True:
            page, after = self.source.key_compromise_page(ca_id, lo, hi, after=after, page=self.page)
            entries.extend(page)
            if after is None:
                return entries

    def sweep_ca(
        self, ca: CASweep, since: dt.datetime, until: dt.datetime, size: dt.timedelta, bar
    ) -> list[dict]:
        """Walk [since, until) left to right: a stored chunk is taken as it is, a cancelled one is
        halved (down to `min_chunk`), a chunk that worked lets the next one grow back to `size`."""
        entries: list[dict] = []
        t, step = since, size
        ceiling = size  # after a cancel, do not grow back to the size that was cancelled
        while t < until:
            stored = self.state.chunk(ca.ca_id, t)
            if stored is not None:
                hi, got = stored
                ca.chunks_from_checkpoint += 1
            elif self.offline:
                self.fail(
                    f"crt.sh database ca_id {ca.ca_id}",
                    f"revocations {format_time(t)} to {format_time(until)}",
                    "not in the sweep's saved state, and --offline allows no database query",
                )
                bar.update((until - t).total_seconds() / 86400)
                return entries
            else:
                hi = min(t + step, until)
                try:
                    got = self.chunk_entries(ca.ca_id, t, hi)
                except Cancelled as exc:
                    if step / 2 >= self.min_chunk:
                        ca.narrowed += 1
                        step = step / 2
                        ceiling = min(ceiling, step)
                        continue
                    ca.failed_chunks += 1
                    self.fail(
                        f"crt.sh database ca_id {ca.ca_id}",
                        f"revocations {format_time(t)} to {format_time(hi)}",
                        f"the server cancelled the statement even for a {_span(step)} chunk ({exc}); "
                        "this chunk is not swept",
                    )
                    bar.update((hi - t).total_seconds() / 86400)
                    t = hi
                    continue
                self.state.save_chunk(ca.ca_id, t, hi, got)
                step = min(step * 2, ceiling)
            ca.chunks += 1
            entries.extend(got)
            bar.update((hi - t).total_seconds() / 86400)
            bar.set_postfix_str(
                f"CA {ca.ca_id} {self.position}, chunk {t:%Y-%m-%d}..{hi:%Y-%m-%d}, "
                f"{len(entries)} keyCompromise entries, {getattr(self.source, 'rows', 0)} rows",
                refresh=False,
            )
            t = hi
        return entries

    def sweep_one(
        self, ca, since, until, chunk, bar, key_batch: int, cert_batch: int
    ) -> dict[str, list[dict]]:
        """One CA: its chunks, the certificates on its keys, their DER. Returns the keys' rows."""
        entries = self.sweep_ca(ca, since, until, chunk, bar)
        serials = {e["serial"] for e in entries}
        ca.keycompromise_entries = len(serials)
        ca.entries_without_certificate = len({e["serial"] for e in entries if e["crtsh_id"] is None})
        ca.keys = {e["spki_sha256"] for e in entries if e["spki_sha256"]}
        bar.set_postfix_str(
            f"CA {ca.ca_id} {self.position}, certificates on {len(ca.keys)} keys, "
            f"{getattr(self.source, 'rows', 0)} rows",
            refresh=True,
        )
        keys = self.key_certificates(sorted(ca.keys), key_batch)
        ids, _ = select_certificates(keys)
        self.certificate_details(ids, cert_batch, keys)
        if self.stream is not None:
            bar.set_postfix_str(
                f"CA {ca.ca_id} {self.position}, {len(self.stream.sent)} certificates taken for the store",
                refresh=True,
            )
        return keys

    def batched(self, items: list, batch: int, fetch: Callable[[list], None], what: str) -> None:
        """fetch(items) in batches; a cancelled batch is halved down to one item, then reported."""
        queue = [items[i : i + batch] for i in range(0, len(items), batch)]
        while queue:
            part = queue.pop(0)
            try:
                fetch(part)
            except Cancelled as exc:
                if len(part) > 1:
                    mid = len(part) // 2
                    queue[:0] = [part[:mid], part[mid:]]
                    continue
                self.fail(
                    "crt.sh database", f"{what} {part[0]}", f"the server cancelled the statement ({exc})"
                )

    def key_certificates(self, spkis: list[str], batch: int) -> dict[str, list[dict]]:
        missing = [s for s in spkis if self.state.key(s) is None]
        if missing and self.offline:
            for s in missing:
                self.fail("crt.sh database", f"spki {s}", "not in the sweep's saved state (--offline)")
            missing = []

        def fetch(part: list[str]) -> None:
            rows = self.source.key_certificates(part)
            self.state.save_keys({s: [r for r in rows if r["spki_sha256"] == s] for s in part})

        self.batched(missing, batch, fetch, "spki")
        return {s: k for s in spkis if (k := self.state.key(s)) is not None}

    def certificate_details(
        self, ids: list[int], batch: int, keys: dict[str, list[dict]] | None = None
    ) -> dict[int, dict]:
        missing = [i for i in ids if self.state.cert(i) is None]
        if self.stream is not None and keys is not None:  # saved by an earlier run (--resume)
            have = [i for i in ids if self.state.cert(i) is not None]
            for k in range(0, len(have), batch):
                self.stream.send({i: self.state.cert(i) for i in have[k : k + batch]}, keys)
        if missing and self.offline:
            for i in missing:
                self.fail("crt.sh database", f"crt.sh id {i}", "not in the sweep's saved state (--offline)")
            missing = []

        def fetch(part: list[int]) -> None:
            rows = self.source.certificate_details(part)
            self.state.save_certs(rows)
            if self.stream is not None and keys is not None:
                self.stream.send({int(r["crtsh_id"]): self.state.cert(r["crtsh_id"]) for r in rows}, keys)

        self.batched(missing, batch, fetch, "crt.sh id")
        return {i: c for i in ids if (c := self.state.cert(i)) is not None}


def _span(step: dt.timedelta) -> str:
    hours = step.total_seconds() / 3600
    return f"{hours / 24:g}-day" if hours >= 24 else f"{hours:g}-hour"


def select_certificates(key_rows: dict[str, list[dict]]) -> tuple[list[int], dict[str, pd.Timestamp]]:
    """Which certificates to download: per key, the earliest keyCompromise revocation of any of its
    certificates (any CA) is the compromise time; keep the certificates revoked for keyCompromise
    and those whose notAfter is at or after that time. Returns (crt.sh ids, compromise times)."""
    ids: list[int] = []
    times: dict[str, pd.Timestamp] = {}
    for spki, rows in key_rows.items():
        kc = [
            r["revoked_at"]
            for r in rows
            if r["reason_code"] == KEY_COMPROMISE and r["revoked_at"] is not None
        ]
        if not kc:
            continue
        first = min(kc)
        times[spki] = first
        for r in rows:
            is_kc = r["reason_code"] == KEY_COMPROMISE
            if is_kc or r["not_after"] is None or r["not_after"] >= first:
                ids.append(int(r["crtsh_id"]))
    return sorted(set(ids)), times


def _block(text: str | None) -> int:
    """N of "...#block N" or "block N (byte ...)" (0 when there is none)."""
    m = re.search(r"block (\d+)", text or "")
    return int(m.group(1)) if m else 0


def certificate_frame(details: dict[int, dict], meta: dict[int, dict]) -> tuple[pd.DataFrame, list[Problem]]:
    """The certificates frame of `details` (crt.sh id -> DER, first_seen): our own parser on
    crt.sh's DER, in crt.sh id order, with crtsh_id, first_seen and issuer_ca_id from `meta`."""
    problems: list[Problem] = []
    ids = sorted(details)
    # One PEM bundle in crt.sh id order: the loader's fast path, and block N is ids[N - 1].
    bundle = b"".join(
        b"-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(details[cid]["der"])
        + b"-----END CERTIFICATE-----\n"
        for cid in ids
    )
    certs, probs = load_certificates(bundle, label="crt.sh", names=True) if ids else (None, [])
    problems.extend(
        Problem(f"crt.sh id {ids[_block(p.position) - 1]}", None, p.reason) if _block(p.position) else p
        for p in probs
    )
    if certs is None or certs.empty:
        return coerce_certificates(pd.DataFrame()), problems
    order = [ids[_block(src) - 1] for src in certs["source"].astype(str)]
    certs["crtsh_id"] = pd.array(order, dtype="Int64")
    certs["source"] = pd.array([f"crt.sh id {cid}" for cid in order], dtype="string")
    seen = [details[cid]["first_seen"] for cid in order]
    certs["first_seen"] = pd.to_datetime(pd.Series(seen, dtype="object"), utc=True).astype(TIME_DTYPE)
    certs["issuer_ca_id"] = pd.array([meta.get(cid, {}).get("issuer_ca_id") for cid in order], dtype="Int64")
    return coerce_certificates(certs), problems


def revocation_row(m: dict, issuer_dn: str) -> dict | Problem:
    """A certificate's own crl_revoked row (from `meta`) as a revocations frame row."""
    code = 0 if m["reason_code"] is None else int(m["reason_code"])  # NULL: no one-byte reason
    if code not in REASON_NAMES:
        return Problem(
            f"crt.sh crl_revoked ca_id {m['issuer_ca_id']}",
            f"serial {m['serial']}",
            f"unknown CRL reason code {code}; entry skipped",
        )
    return {
        "issuer_dn": issuer_dn,
        "serial": format_serial(int(m["serial"], 16)),
        "revoked_at": m["revoked_at"],
        "reason": REASON_NAMES[code],
        "reason_code": code,
        "source": f"crtsh-db:ca_id {m['issuer_ca_id']}",
    }


def build_frames(
    details: dict[int, dict],
    key_rows: dict[str, list[dict]],
    coverage: dict[int, int],
) -> tuple[pd.DataFrame, RevocationData, list[Problem]]:
    """The certificates frame (our own parser on crt.sh's DER, with crtsh_id, first_seen and
    issuer_ca_id) and the revocations frame from each certificate's own crl_revoked row."""
    meta = {int(r["crtsh_id"]): r for rows in key_rows.values() for r in rows}
    certs, problems = certificate_frame(details, meta)
    if certs.empty:
        return certs, RevocationData(empty_revocations(), [], []), problems
    issuer_of = dict(zip(certs["issuer_ca_id"].astype("Int64"), certs["issuer_dn"].astype(str), strict=False))
    rows = []
    for cid in sorted(details):
        m = meta.get(cid)
        if m is None or m["revoked_at"] is None or int(m["issuer_ca_id"]) not in issuer_of:
            continue
        row = revocation_row(m, issuer_of[int(m["issuer_ca_id"])])
        if isinstance(row, Problem):
            problems.append(row)
        else:
            rows.append(row)
    frame = coerce_revocations(pd.DataFrame(rows)).drop_duplicates() if rows else empty_revocations()
    return certs, RevocationData(frame, crl_infos(issuer_of, coverage), []), problems


def crl_infos(issuer_of: dict[int, str], coverage: dict[int, int]) -> list[CRLInfo]:
    """crt.sh speaks for an issuer's revocations only when it fetches that issuer's CRLs."""
    return [
        CRLInfo(f"crt.sh database ca_id {ca} ({coverage[ca]} CRLs)", issuer_of[ca], None, None, 0)
        for ca in sorted(issuer_of)
        if coverage.get(int(ca))
    ]


class ResultSink(Protocol):
    """Where a sweep streams what it downloads (analysis.store.ingest.StoreAppender is one):
    certificates and revocations batch by batch as they arrive, with each row's position in the
    sweep's own reading order (2 * crt.sh id, and 2 * crt.sh id + 1 for a certificate's own
    revocation), then `finish` once with what describes the whole sweep."""

    def add_certificates(self, frame: pd.DataFrame, order: Sequence[int] | None = None) -> None: ...

    def add_revocations(self, frame: pd.DataFrame, order: Sequence[int] | None = None) -> None: ...

    def finish(
        self,
        *,
        crls: Sequence[CRLInfo] = (),
        problems: Sequence[Problem] = (),
        inputs: Sequence[dict] | None = None,
        **details: object,
    ) -> dict: ...


STREAM_BATCH = 10_000  # certificates parsed and handed to a sink at a time


class _Stream:
    """The sweep's downloads handed to a ResultSink as they arrive, `batch` certificates at a time
    (parsing a few at a time costs more than the parse): each certificate once, each distinct
    revocation row once, a revocation as soon as its issuer's name is known (from a certificate of
    that crt.sh CA): the rows `build_frames` makes of the whole sweep."""

    def __init__(self, sink: ResultSink, batch: int = STREAM_BATCH) -> None:
        self.sink = sink
        self.batch = max(1, int(batch))
        self.sent: set[int] = set()
        self.pending: dict[int, dict] = {}  # crt.sh id -> DER and first_seen, not yet parsed
        self.meta: dict[int, dict] = {}  # crt.sh id -> its key row (issuer, own crl_revoked row)
        self.issuer_of: dict[int, str] = {}
        self.waiting: list[tuple[int, dict]] = []  # revocations whose issuer has no certificate yet
        self.rows_sent: set[tuple] = set()

    def send(self, details: dict[int, dict], key_rows: dict[str, list[dict]]) -> None:
        ids = [i for i in sorted(details) if i not in self.sent]
        if not ids:
            return
        self.sent.update(ids)
        want = set(ids)
        self.meta.update(
            (int(r["crtsh_id"]), r) for rows in key_rows.values() for r in rows if int(r["crtsh_id"]) in want
        )
        self.pending.update((i, details[i]) for i in ids)
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Parse and hand over what is pending (also at the end of the sweep)."""
        if not self.pending:
            return
        pending, meta = self.pending, self.meta
        self.pending, self.meta = {}, {}
        certs, _ = certificate_frame(pending, meta)  # its problems are build_frames' to report
        if len(certs):
            self.sink.add_certificates(certs, order=[2 * int(c) for c in certs["crtsh_id"]])
            for ca, dn in zip(certs["issuer_ca_id"], certs["issuer_dn"].astype(str), strict=True):
                if ca is not pd.NA:
                    self.issuer_of[int(ca)] = dn
        self.waiting += [
            (i, meta[i]) for i in sorted(pending) if i in meta and meta[i]["revoked_at"] is not None
        ]
        rows, order, waiting = [], [], []
        for cid, m in self.waiting:
            ca = int(m["issuer_ca_id"])
            if ca not in self.issuer_of:
                waiting.append((cid, m))
                continue
            row = revocation_row(m, self.issuer_of[ca])
            if isinstance(row, Problem) or tuple(row.values()) in self.rows_sent:
                continue
            self.rows_sent.add(tuple(row.values()))
            rows.append(row)
            order.append(2 * cid + 1)
        self.waiting = waiting
        if rows:
            self.sink.add_revocations(coerce_revocations(pd.DataFrame(rows)), order=order)


def run_sweep(
    source,
    cas: Sequence[tuple[int, str]],
    *,
    state_dir: str | os.PathLike,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    chunk: dt.timedelta = DEFAULT_CHUNK,
    min_chunk: dt.timedelta = DEFAULT_MIN_CHUNK,
    page: int = 1000,
    key_batch: int = 100,
    cert_batch: int = 100,
    resume: bool = False,
    offline: bool = False,
    scope: str = "global",
    as_of: dt.datetime | str | None = None,
    progress: bool | None = None,
    problems: Sequence[Problem] = (),
    sink: ResultSink | None = None,
    sink_batch: int = STREAM_BATCH,
) -> SweepResult:
    """Sweep the CAs `cas` [(crt.sh ca id, name)] for keyCompromise revocations with
    since <= revocation date < until (default: 2013 to now) and hand what they lead to to
    `find_key_reuse`. `source` answers key_compromise_page, key_certificates,
    certificate_details and crl_coverage, and raises `Cancelled` when the server cancels.
    UpstreamError from the source propagates (the database is unusable).

    `sink` (e.g. a store): the certificates and revocations are handed to it batch by batch as they
    arrive (`sink_batch` certificates at a time), and it is finished with the sweep's CRL coverage,
    problems, inputs and figures."""
    from tqdm import tqdm

    since = utc(since) if since is not None else DEFAULT_SINCE
    until = utc(until) if until is not None else utc(pd.Timestamp.now(tz="UTC").ceil("D"))
    state = SweepState(state_dir, fresh=not resume, offline=offline)
    run = _Run(source, state, offline=offline, min_chunk=min_chunk, page=page)
    run.stream = _Stream(sink, sink_batch) if sink is not None else None
    run.problems.extend(problems)
    if not offline:
        state.save_cas(list(cas))
    summaries = [CASweep(int(i), str(n)) for i, n in cas]
    days = max((until - since).total_seconds() / 86400, 0.0)
    all_keys: dict[str, list[dict]] = {}
    with tqdm(
        total=round(days * len(summaries), 3),
        desc="sweep",
        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {elapsed}<{remaining}{postfix}",
        disable=None if progress is None else not progress,
    ) as bar:
        for n, ca in enumerate(summaries, 1):
            run.position = f"({n}/{len(summaries)})"
            try:
                all_keys.update(run.sweep_one(ca, since, until, chunk, bar, key_batch, cert_batch))
            except UpstreamError as exc:  # the database stayed unusable after its retries: stop here
                left = [c.ca_id for c in summaries[n - 1 :]]
                run.fail(
                    "crt.sh database",
                    f"ca_id {', '.join(map(str, left))}",
                    f"{exc}; these CAs were not (fully) swept: --resume continues where this stopped",
                )
                break
    ids, _ = select_certificates(all_keys)
    details = {i: c for i in ids if (c := state.cert(i)) is not None}
    issuer_ids = {int(r["issuer_ca_id"]) for rows in all_keys.values() for r in rows}
    coverage: dict[int, int] = {}
    if offline:
        coverage = state.coverage or {}
    elif issuer_ids:
        try:
            coverage = source.crl_coverage(sorted(issuer_ids))
            state.save_coverage(coverage)
        except UpstreamError as exc:  # then no issuer counts as covered, which the notes say
            run.fail("crt.sh database", "crl coverage", str(exc))
    certs, revocations, more = build_frames(details, all_keys, coverage)
    run.problems.extend(more)
    if run.stream is not None:
        run.stream.send(details, all_keys)  # a no-op: every certificate was sent when it arrived
        run.stream.flush()
    given = list(run.problems)
    findings = find_key_reuse(
        certs,
        revocations,
        None,
        scope=scope,
        as_of=as_of,
        problems=run.problems,
        inputs=[
            {
                "kind": "crtsh-sweep",
                "path_or_url": "crt.sh database",
                "entries": int(len(certs)),
            }
        ],
    )
    findings.notes.insert(1, NOTE)
    count_violations(findings, summaries, certs)
    stats = {
        "since": format_time(since),
        "until": format_time(until),
        "chunks": sum(c.chunks for c in summaries),
        "chunks_from_checkpoint": sum(c.chunks_from_checkpoint for c in summaries),
        "narrowed": sum(c.narrowed for c in summaries),
        "failed_chunks": sum(c.failed_chunks for c in summaries),
        "certificates_downloaded": len(details),
    }
    for name in ("statements", "rows", "bytes", "reconnects"):
        if hasattr(source, name):
            stats[name] = int(getattr(source, name))
    result = SweepResult(findings, summaries, stats, run.failed)
    if sink is not None:
        sink.finish(
            crls=revocations.crls,
            problems=given,
            inputs=findings.inputs,
            sweep={**stats, "failed": run.failed, "cas": [c.to_dict() for c in summaries]},
        )
    return result


def count_violations(findings: Findings, summaries: list[CASweep], certs: pd.DataFrame) -> None:
    """Per CA: violations it issued, and how many of the keys compromised at it were reused."""
    v = findings.violations
    if v.empty:
        return
    ca_of = dict(zip(certs["crtsh_id"].astype("Int64"), certs["issuer_ca_id"].astype("Int64"), strict=False))
    issued = v["crtsh_id"].map(ca_of)
    reused = set(v["spki_sha256"].dropna())
    for ca in summaries:
        ca.violations_issued = int((issued == ca.ca_id).sum())
        ca.keys_reused = len(ca.keys & reused)


def to_summary_table(cas: Sequence[CASweep]) -> str:
    """One line per CA: what was swept and what it led to (markdown, pasteable)."""
    head = [
        "CA id",
        "CA name",
        "chunks",
        "from checkpoint",
        "narrowed",
        "failed",
        "keyCompromise entries",
        "without certificate",
        "keys",
        "keys reused",
        "violations issued",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cas:
        d = c.to_dict()
        cells = [str(d[k]) for k in SUMMARY_FIELDS]
        cells[1] = cells[1].replace("|", "\\|")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
