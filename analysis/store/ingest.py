"""Local inputs -> the store: certificates through the fast reader, CRLs, revocation tables and
compromised-key lists through their loaders, appended as Parquet under the store's lock.

Memory is bounded by BATCH_ROWS certificates and RANGE_BYTES of one PEM file at a time, not by
the input's size. A certificate already in the store (same cert_sha256) is kept as a `dup` row
without its names: it still counts as a certificate entry, as in the pandas path.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import Problem
from ..names import NameParseError, dn_key
from .layout import PREFIX_LEN, Store, open_store

BATCH_ROWS = 200_000  # certificates per written batch
RANGE_BYTES = 64 << 20  # a bigger PEM file is read in ranges of about this size


@dataclass
class IngestResult:
    """What one ingest call added: entries per input, problems, inputs skipped as already present."""

    added: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def ingest(
    store_dir: str | os.PathLike,
    *,
    certs: Iterable[str | os.PathLike] = (),
    crls: Iterable[str | os.PathLike] = (),
    revocations: Iterable[str | os.PathLike] = (),
    compromised: Iterable[str | os.PathLike] = (),
    names: bool = True,
    progress: bool | None = False,
) -> IngestResult:
    """Append local inputs to the store at `store_dir` (created when missing).

    An input already ingested with the same files (paths, sizes, modification times) is skipped,
    so running the same ingest twice does not count its certificates twice.
    """
    store = open_store(store_dir, create=True)
    result = IngestResult()
    jobs: list[tuple[str, str, Callable]] = []
    jobs += [("certificates", str(p), _ingest_certificates) for p in certs]
    jobs += [("crl", str(p), _ingest_revocations) for p in crls]
    jobs += [("revocations", str(p), _ingest_revocations) for p in revocations]
    jobs += [("compromised", str(p), _ingest_compromised) for p in compromised]
    for kind, item, fn in jobs:
        with store.writing():
            fingerprint = _fingerprint(item)
            if any(
                i["kind"] == kind and i["path_or_url"] == item and i.get("fingerprint") == fingerprint
                for i in store.manifest["ingests"]
            ):
                result.skipped.append(item)
                continue
            record = {"kind": kind, "path_or_url": item, "fingerprint": fingerprint}
            fn(store, item, record, names=names, progress=progress)
            store.add_ingest(record)
            result.added.append({"kind": kind, "path_or_url": item, "entries": record["entries"]})
            result.problems.extend(
                Problem(p["input"], p["position"], p["reason"]) for p in record["problems"]
            )
    return result


def ingest_frames(
    store_dir: str | os.PathLike,
    *,
    certificates: pd.DataFrame | None = None,
    revocations: pd.DataFrame | None = None,
    compromised: pd.DataFrame | None = None,
    label: str = "<frames>",
) -> None:
    """Append already-loaded frames (the canonical columns of analysis/schema.py) to a store."""
    store = open_store(store_dir, create=True)
    for kind, frame in (
        ("certificates", certificates),
        ("revocations", revocations),
        ("compromised", compromised),
    ):
        if frame is None:
            continue
        with store.writing():
            record = {"kind": kind, "path_or_url": label, "problems": []}
            if kind == "certificates":
                record["entries"], record["files"] = write_certificates(store, [frame] if len(frame) else [])
            elif kind == "revocations":
                _write_revocations(store, frame, record)
            else:
                _write_compromised(store, frame, record)
            store.add_ingest(record)


def _files(path: Path) -> Iterator[Path]:
    """Files of an input in the order the loaders read them (analysis/certificates.py)."""
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts):
                yield p
    elif path.exists():
        yield path


def _fingerprint(item: str) -> str | None:
    h = hashlib.sha256()
    found = False
    for f in _files(Path(item)):
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        found = True
    return h.hexdigest() if found else None


def _problem_dicts(problems: Iterable[Problem]) -> list[dict]:
    return [p.to_dict() for p in problems]


# --- certificates ---------------------------------------------------------------------------


def _certificate_frames(item: str, names: bool, problems: list[Problem], bar) -> Iterator[pd.DataFrame]:
    """Frames of at most a PEM range each, in the reader's order, with crt.sh metadata applied."""
    from .. import certificates as C

    root = Path(item)
    if not root.exists():
        problems.append(Problem(str(root), None, "no such file or directory"))
        return
    files = list(_files(root))
    meta: dict[int, dict] = {}
    for f in files:
        if f.suffix.lower() == ".json":
            m, probs = C._read_crtsh_rows(f)
            meta.update(m)
    for f in files:
        if f.suffix.lower() == ".json":
            _, probs = C._read_crtsh_rows(f)
            problems.extend(probs)
            continue
        size = f.stat().st_size
        frames: list[pd.DataFrame] = []
        if size > RANGE_BYTES and _is_pem(f):
            points = C._split_points(str(f), max(2, size // RANGE_BYTES))
            shift = 0
            for a, b in zip(points[:-1], points[1:], strict=True):
                chunks, probs, seen = C._load_pem_range_frame(str(f), str(f), a, b, names)
                for frame in chunks:
                    if shift and len(frame):
                        frame["_block"] = frame["_block"] + shift
                        frame["source"] = C._sources([str(f)] * len(frame), frame["_block"].to_numpy())
                    frames.append(frame)
                problems.extend(
                    Problem(p.input, C._renumber_position(p.position, shift), p.reason) for p in probs
                )
                shift += seen
                for frame in frames:
                    yield _with_meta(frame, meta)
                frames = []
                bar.update(b - a)
            if shift == 0:
                problems.append(Problem(str(f), None, "no CERTIFICATE block in this PEM file"))
            continue
        frame, probs = C.load_certificates(str(f), names=names, progress=False)
        problems.extend(probs)
        bar.update(size)
        if len(frame):
            yield _with_meta(frame, meta)


def _is_pem(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    return b"-----BEGIN " in head


def _with_meta(frame: pd.DataFrame, meta: dict[int, dict]) -> pd.DataFrame:
    if meta:
        from ..certificates import _apply_crtsh_meta

        _apply_crtsh_meta(frame, meta)
    return frame


def _ingest_certificates(
    store: Store, item: str, record: dict, *, names: bool, progress: bool | None
) -> None:
    from tqdm import tqdm

    problems: list[Problem] = []
    total = sum(f.stat().st_size for f in _files(Path(item)))
    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc=f"ingest {os.path.basename(item) or item}",
        disable=None if progress is None else not progress,
    ) as bar:
        entries, written = write_certificates(store, _certificate_frames(item, names, problems, bar))
    record.update(entries=entries, problems=_problem_dicts(problems), files=written)


def write_certificates(store: Store, frames: Iterable[pd.DataFrame]) -> tuple[int, list[str]]:
    """Append certificates frames (in reading order) to a store being written; returns
    (entries, files). Repeated certificates become `dup` rows; names are dropped from them."""
    writer = CertificateWriter(store)
    for frame in frames:
        writer.add(frame)
    return writer.close()


class CertificateWriter:
    """Certificates frames appended to a store being written, BATCH_ROWS rows to a Parquet batch.

    A frame may carry its own `seq` column (its reading order, e.g. a sweep's crt.sh ids); otherwise
    rows get the store's next sequence numbers in the order they are added."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.written: list[str] = []
        self.entries = 0
        self.pending: list[pd.DataFrame] = []
        self.pending_rows = 0
        self.duplicates = 0  # rows written as `dup`: certificates the store already had

    def add(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        self.entries += len(frame)
        self.pending.append(frame)
        self.pending_rows += len(frame)
        if self.pending_rows >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        from ..keyreuse import _issuer_keys
        from ..schema import coerce_certificates

        if not self.pending:
            return
        store = self.store
        frame = coerce_certificates(pd.concat(self.pending, ignore_index=True))
        self.pending, self.pending_rows = [], 0
        frame["issuer_key"] = _issuer_keys(frame["issuer_dn"])
        if "seq" in frame.columns:
            frame["seq"] = frame["seq"].astype("int64")
        else:
            frame["seq"] = np.arange(len(frame), dtype="int64") + store.next_seq(len(frame))
        frame["dup"] = frame["cert_sha256"].duplicated().to_numpy() | _in_store(store, self.written, frame)
        self.duplicates += int(frame["dup"].sum())
        for col in ("subject_dn", "subject_cn", "san_dns"):
            frame[col] = frame[col].where(~frame["dup"], None)
        prefix = frame["spki_sha256"].str.slice(0, PREFIX_LEN).fillna("")
        for p, part in frame.groupby(prefix.to_numpy(), sort=True):
            self.written.append(store.write_table("certs", _cert_table(part), prefix=p))

    def close(self) -> tuple[int, list[str]]:
        self.flush()
        self.store.add_files("certs", self.written)
        return self.entries, self.written


def _cert_table(frame: pd.DataFrame) -> pa.Table:
    from .layout import CERT_SCHEMA

    cols = {}
    for name in CERT_SCHEMA.names:
        s = frame[name] if name in frame.columns else pd.Series([None] * len(frame))
        if name == "san_dns":
            cols[name] = pa.array(
                [None if v is None or (isinstance(v, float) and v != v) else list(v) for v in s],
                type=pa.list_(pa.string()),
            )
        else:
            cols[name] = pa.Array.from_pandas(s.reset_index(drop=True), type=CERT_SCHEMA.field(name).type)
    return pa.table(cols, schema=CERT_SCHEMA)


def _in_store(store: Store, written: list[str], frame: pd.DataFrame) -> np.ndarray:
    """Which rows' certificates are already in the store (files of their SPKI prefix only)."""
    import duckdb

    prefixes = set(frame["spki_sha256"].str.slice(0, PREFIX_LEN).dropna())
    files = [f for p, fs in store.cert_files_by_prefix().items() if p in prefixes for f in fs] + [
        str(store.path / w) for w in written if _prefix_of(w) in prefixes
    ]
    if not files:
        return np.zeros(len(frame), dtype=bool)
    con = duckdb.connect()
    try:
        batch = pa.table({"cert_sha256": pa.array(frame["cert_sha256"].astype(object).tolist(), pa.string())})
        con.register("batch", batch)
        seen = con.execute(
            "SELECT DISTINCT cert_sha256 FROM read_parquet($files) "
            "WHERE cert_sha256 IN (SELECT cert_sha256 FROM batch)",
            {"files": files},
        ).fetchall()
    finally:
        con.close()
    return frame["cert_sha256"].isin({r[0] for r in seen}).to_numpy()


def _prefix_of(rel: str) -> str:
    part = Path(rel).parent.name
    return part.split("=", 1)[1] if part.startswith("spki_prefix=") else ""


# --- revocations and compromised keys -------------------------------------------------------


def _issuer_key_or_none(name: object) -> str | None:
    """dn_key of a revocation's issuer; None for a bare CN (resolved against loaded issuers later)."""
    if name is None or name is pd.NA:
        return None
    try:
        return dn_key(str(name))
    except NameParseError:
        return None


def _ingest_revocations(store: Store, item: str, record: dict, *, names: bool, progress: bool | None) -> None:
    from ..inputs import load_revocation_files

    data = load_revocation_files([item])
    record.update(
        problems=_problem_dicts(data.problems),
        crls=[{"issuer_dn": c.issuer_dn, "indirect_issuers": list(c.indirect_issuers)} for c in data.crls],
    )
    _write_revocations(store, data.frame, record)


def _write_revocations(store: Store, frame: pd.DataFrame, record: dict) -> None:
    frame = frame.copy()
    frame["issuer_key"] = [_issuer_key_or_none(n) for n in frame["issuer_dn"].tolist()]
    frame["seq"] = np.arange(len(frame), dtype="int64") + store.next_seq(len(frame))
    files = [store.write_table("revocations", _plain_table(frame, "revocations"))] if len(frame) else []
    store.add_files("revocations", files)
    record.update(entries=int(len(frame)), files=files)


def _ingest_compromised(store: Store, item: str, record: dict, *, names: bool, progress: bool | None) -> None:
    from ..keys import load_compromised_keys

    frame, problems = load_compromised_keys([item])
    record["problems"] = _problem_dicts(problems)
    _write_compromised(store, frame, record)


def _write_compromised(store: Store, frame: pd.DataFrame, record: dict) -> None:
    frame = frame.copy()
    frame["spki_sha256"] = frame["spki_sha256"].str.lower()
    frame["seq"] = np.arange(len(frame), dtype="int64") + store.next_seq(len(frame))
    files = [store.write_table("compromised", _plain_table(frame, "compromised"))] if len(frame) else []
    store.add_files("compromised", files)
    record.update(entries=int(len(frame)), files=files)


def _plain_table(frame: pd.DataFrame, table: str) -> pa.Table:
    from .layout import SCHEMAS

    schema = SCHEMAS[table]
    return pa.table(
        {
            n: pa.Array.from_pandas(frame[n].reset_index(drop=True), type=schema.field(n).type)
            for n in schema.names
        },
        schema=schema,
    )


# --- results that arrive in batches (`sweep --store`) ---------------------------------------

SEQ_LIMIT = 1 << 49  # rules.PRECERT_BIT is 1 << 50: every position stays below it


class StoreAppender:
    """Certificates and revocations appended to a store while they arrive (a sweep), listed in the
    manifest as one ingest by `finish`.

    The store's lock is held from `open` to `finish`/`close`, so nothing else writes in between.
    Batches go to Parquet at once (memory holds at most BATCH_ROWS rows of each table); only
    `finish` lists them in the manifest, so a run that dies leaves files nothing reads and the store
    as it was.

    `ordered=True`: every batch comes with its rows' positions in the caller's reading order (unique
    non-negative integers, e.g. 2 * crt.sh id), so "first" means what it means in the frame the caller
    analyses itself, whatever order the batches arrive in. Otherwise rows are numbered as they
    arrive. `key`: an earlier record with the same key (the same sweep run again, e.g. after
    --resume) is taken out of the manifest, so its certificates are not counted twice.
    """

    def __init__(
        self,
        store_dir: str | os.PathLike,
        *,
        kind: str,
        path_or_url: str,
        key: str | None = None,
        ordered: bool = False,
        details: dict | None = None,
    ) -> None:
        self.dir = Path(store_dir)
        self.kind, self.path_or_url, self.key, self.ordered = kind, path_or_url, key, ordered
        self.details = dict(details or {})
        self.replaced = 0
        self.record: dict | None = None  # the manifest record, once finished
        self._lock = None

    def open(self) -> StoreAppender:
        import fcntl

        from .layout import _read_manifest

        self.store = open_store(self.dir, create=True)
        self._lock = open(self.store.path / ".lock", "a+")  # noqa: SIM115 - held until finish/close
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.store.manifest = _read_manifest(self.store.path)
        if self.key is not None:
            self._drop_earlier()
        self.base = int(self.store.manifest["next_seq"])
        self.top = self.base
        self.certs = CertificateWriter(self.store)
        self.revs: list[pd.DataFrame] = []
        self.rev_rows = 0
        self.rev_entries = 0
        self.rev_files: list[str] = []
        return self

    def __enter__(self) -> StoreAppender:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the lock; without `finish`, nothing written is listed in the manifest."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _drop_earlier(self) -> None:
        m = self.store.manifest
        old = [i for i in m["ingests"] if i.get("key") == self.key]
        gone = {f for i in old for f in i.get("files", [])}
        for table, files in m["tables"].items():
            m["tables"][table] = [f for f in files if f not in gone]
        m["ingests"] = [i for i in m["ingests"] if i.get("key") != self.key]
        self.replaced = len(old)

    def _positions(self, frame: pd.DataFrame, order: Iterable[int] | None) -> pd.DataFrame:
        frame = frame.copy()
        if not self.ordered:
            if order is not None:
                raise ValueError("positions given to an appender that numbers rows as they arrive")
            return frame
        if order is None:
            raise ValueError("an ordered appender needs each row's position")
        seq = self.base + np.asarray(list(order), dtype="int64")
        if len(seq) != len(frame) or (len(seq) and (seq.min() < self.base or seq.max() >= SEQ_LIMIT)):
            raise ValueError("positions: one non-negative integer per row, below 2**49 with the store's")
        frame["seq"] = seq
        self.top = max(self.top, int(seq.max()) + 1) if len(seq) else self.top
        return frame

    def add_certificates(self, frame: pd.DataFrame, order: Iterable[int] | None = None) -> None:
        """Certificates frame rows (analysis/schema.py columns), deduplicated against the store."""
        if len(frame):
            self.certs.add(self._positions(frame, order))

    def add_revocations(self, frame: pd.DataFrame, order: Iterable[int] | None = None) -> None:
        if not len(frame):
            return
        frame = self._positions(frame, order)
        frame["issuer_key"] = [_issuer_key_or_none(n) for n in frame["issuer_dn"].tolist()]
        if "seq" not in frame.columns:
            frame["seq"] = np.arange(len(frame), dtype="int64") + self.store.next_seq(len(frame))
        self.revs.append(frame)
        self.rev_rows += len(frame)
        if self.rev_rows >= BATCH_ROWS:
            self._flush_revocations()

    def _flush_revocations(self) -> None:
        if not self.revs:
            return
        frame = pd.concat(self.revs, ignore_index=True)
        self.revs, self.rev_rows = [], 0
        self.rev_entries += len(frame)
        self.rev_files.append(self.store.write_table("revocations", _plain_table(frame, "revocations")))

    @property
    def written(self) -> tuple[int, int]:
        """(certificates, revocations) taken so far, for progress."""
        return self.certs.entries, self.rev_entries + self.rev_rows

    def finish(
        self,
        *,
        crls: Iterable = (),
        problems: Iterable[Problem] = (),
        inputs: Iterable[dict] | None = None,
        **details: object,
    ) -> dict:
        """Write what is pending, list it all in the manifest as one record, release the lock.
        `crls` (CRLInfo) are the issuers whose revocations the data speaks for (coverage notes);
        `inputs` the key-reuse JSON's inputs for this record (default: the record itself)."""
        from .layout import _write_manifest

        entries, cert_files = self.certs.close()
        self._flush_revocations()
        self.store.add_files("revocations", self.rev_files)
        m = self.store.manifest
        if self.ordered:
            m["next_seq"] = max(int(m["next_seq"]), self.top)
        record = {
            "kind": self.kind,
            "path_or_url": self.path_or_url,
            "entries": entries,
            "revocation_entries": self.rev_entries,
            "already_in_store": self.certs.duplicates,
            "problems": _problem_dicts(problems),
            "crls": [{"issuer_dn": c.issuer_dn, "indirect_issuers": list(c.indirect_issuers)} for c in crls],
            "files": [*cert_files, *self.rev_files],
            **self.details,
            **details,
        }
        if self.key is not None:
            record["key"] = self.key
        if inputs is not None:
            record["inputs"] = [
                {"kind": i["kind"], "path_or_url": i["path_or_url"], "entries": int(i["entries"])}
                for i in inputs
            ]
        self.store.add_ingest(record)
        _write_manifest(self.store.path, m)
        self.close()
        self.record = record
        return record
