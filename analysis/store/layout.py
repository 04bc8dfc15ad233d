"""The store on disk: Parquet tables listed in a manifest, appended under a lock.

```
DIR/manifest.json                      what was ingested from where, the files of each table
DIR/certs/spki_prefix=<h>/<id>.parquet certificates, partitioned by the first hex digit of the SPKI hash
DIR/revocations/<id>.parquet           revocation entries (CRLs, CSVs, spreadsheets)
DIR/compromised/<id>.parquet           compromised-key list entries
```

Only files named in the manifest belong to the store: an ingest that dies half-way leaves files the
queries never read. Rows carry `seq`, the order they were read in, so "first" means the same thing
here as in the pandas frames (design.md's rules take several values from the first certificate).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import Problem, UsageError
from ..safety import replace_file

FORMAT = 1
MANIFEST = "manifest.json"
TIME = pa.timestamp("us", tz="UTC")
PREFIX_LEN = 1  # 16 partitions: every certificate of a key lands in the same one

# The certificates frame's columns (analysis/schema.py) plus what the store adds:
# issuer_key (names.dn_key, precomputed here so the SQL joins on plain strings), seq, dup.
CERT_SCHEMA = pa.schema(
    [
        ("cert_sha256", pa.string()),
        ("spki_sha256", pa.string()),
        ("issuer_dn", pa.string()),
        ("issuer_key", pa.string()),
        ("serial", pa.string()),
        ("subject_dn", pa.string()),
        ("subject_cn", pa.string()),
        ("san_dns", pa.list_(pa.string())),
        ("not_before", TIME),
        ("not_after", TIME),
        ("is_precert", pa.bool_()),
        ("is_ca", pa.bool_()),
        ("key_type", pa.string()),
        ("crtsh_id", pa.int64()),
        ("first_seen", TIME),
        ("sct_time", TIME),
        ("source", pa.string()),
        ("seq", pa.int64()),
        # A repeated certificate (same cert_sha256): counted as an entry, its names not stored again.
        ("dup", pa.bool_()),
    ]
)
REVOCATION_SCHEMA = pa.schema(
    [
        ("issuer_dn", pa.string()),
        ("issuer_key", pa.string()),  # null when the name is a bare CN: resolved at query time
        ("serial", pa.string()),
        ("revoked_at", TIME),
        ("reason", pa.string()),
        ("reason_code", pa.int64()),
        ("source", pa.string()),
        ("seq", pa.int64()),
    ]
)
COMPROMISED_SCHEMA = pa.schema(
    [
        ("spki_sha256", pa.string()),
        ("reported_at", TIME),
        ("source", pa.string()),
        ("seq", pa.int64()),
    ]
)
SCHEMAS = {"certs": CERT_SCHEMA, "revocations": REVOCATION_SCHEMA, "compromised": COMPROMISED_SCHEMA}


@dataclass
class Store:
    """A store folder and its manifest (read with `open_store`, changed inside `writing()`)."""

    path: Path
    manifest: dict

    # --- reading ------------------------------------------------------------------------------

    def files(self, table: str) -> list[str]:
        """Absolute paths of a table's Parquet files (an empty table still has one empty file)."""
        return [_resolve(self.path, f) for f in self.manifest["tables"][table]]

    def cert_files_by_prefix(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in self.manifest["tables"]["certs"]:
            part = Path(f).parent.name
            prefix = part.split("=", 1)[1] if part.startswith("spki_prefix=") else ""
            out.setdefault(prefix, []).append(_resolve(self.path, f))
        return out

    @property
    def inputs(self) -> list[dict]:
        """The `inputs` list of the key-reuse JSON: one entry per ingested input."""
        out: list[dict] = []
        for i in self.manifest["ingests"]:
            if "inputs" in i:  # a sweep lists the inputs its own JSON lists
                out.extend(dict(x) for x in i["inputs"])
            else:
                out.append({"kind": i["kind"], "path_or_url": i["path_or_url"], "entries": i["entries"]})
        return out

    @property
    def problems(self) -> list[Problem]:
        """Everything ingest skipped, in ingest order."""
        return [
            Problem(p["input"], p.get("position"), p["reason"])
            for i in self.manifest["ingests"]
            for p in i.get("problems", [])
        ]

    @property
    def crls(self) -> list[dict]:
        return [c for i in self.manifest["ingests"] for c in i.get("crls", [])]

    # --- writing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Store]:
        """Hold the store's lock, re-read the manifest, and save it atomically on success."""
        with open(self.path / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.manifest = _read_manifest(self.path)
            yield self
            _write_manifest(self.path, self.manifest)

    def next_seq(self, n: int) -> int:
        """Reserve `n` sequence numbers; returns the first."""
        first = int(self.manifest["next_seq"])
        self.manifest["next_seq"] = first + int(n)
        return first

    def write_table(self, table: str, data: pa.Table, prefix: str | None = None) -> str:
        """Write one Parquet file of `table` (not yet in the manifest: see `add_files`)."""
        folder = Path(table) if prefix is None else Path(table) / f"spki_prefix={prefix}"
        (self.path / folder).mkdir(parents=True, exist_ok=True)
        rel = str(folder / f"{uuid.uuid4().hex}.parquet")
        pq.write_table(data.cast(SCHEMAS[table]), self.path / rel, compression="zstd")
        return rel

    def add_files(self, table: str, rels: list[str]) -> None:
        self.manifest["tables"][table].extend(rels)

    def add_ingest(self, record: dict) -> None:
        record.setdefault("ingested_at", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
        self.manifest["ingests"].append(record)


def _resolve(root: Path, entry: str) -> str:
    """A manifest entry: relative to the store, or a URL (s3a://...) an engine reads itself."""
    return entry if "://" in entry else str(root / entry)


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{path}: not a store (no {MANIFEST}); create one with `ca-incidents ingest`"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path / MANIFEST}: unreadable store manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UsageError(f"{path / MANIFEST}: not a store manifest of format {FORMAT}")
    return manifest


def _write_manifest(path: Path, manifest: dict) -> None:
    replace_file(path / MANIFEST, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def open_store(path: str | os.PathLike, *, create: bool = False) -> Store:
    """Open a store folder; `create=True` makes a new empty one when the folder has none."""
    p = Path(path)
    if create and not (p / MANIFEST).exists():
        if p.exists() and not p.is_dir():
            raise UsageError(f"{p}: exists and is not a folder")
        p.mkdir(parents=True, exist_ok=True)
        with open(p / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (p / MANIFEST).exists():
                store = Store(p, {"format": FORMAT, "next_seq": 0, "tables": {}, "ingests": []})
                # One empty file per table, so every engine sees the columns of an empty table.
                for table, schema in SCHEMAS.items():
                    store.manifest["tables"][table] = [store.write_table(table, schema.empty_table())]
                _write_manifest(p, store.manifest)
    if not p.is_dir():
        raise UsageError(f"{p}: no such store folder")
    return Store(p, _read_manifest(p))
