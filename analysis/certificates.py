"""PEM bundles, DER files, directories and bytes -> the certificates frame (design.md, Frames).

Fast and streaming: PEM files are read in chunks, each block is base64-decoded and walked by
`analysis.der` (no per-certificate objects); big files are split across processes. `cryptography`
is used once per distinct issuer name and as the fallback for anything the fast reader declines.

Every certificate read is one row ("certificate entry"), duplicates included. Bad input (a corrupt
PEM block, a truncated DER file, junk) is skipped and reported as a `Problem` naming the file and
position; the rest is loaded.
"""

from __future__ import annotations

import binascii
import concurrent.futures as cf
import multiprocessing
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import der as _der
from .errors import InputError, Problem
from .formats import TIME_DTYPE, parse_time
from .safety import check_regular, input_files, load_json
from .schema import empty_certificates

PEM_BEGIN = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----")
PEM_END = re.compile(rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----")
_ANY_PEM = b"-----BEGIN "
CHUNK = 8 << 20  # bytes read at a time from a PEM file
SNIFF_BYTES = 1 << 20  # a file with no PEM marker here and not DER is junk, however big it is
MAX_DER_BYTES = 4 << 20  # a DER file is one certificate; real ones are a few KB
PARALLEL_MIN_BYTES = 24 << 20  # split files bigger than this across processes

Input = str | os.PathLike | bytes


@dataclass
class _Columns:
    """Column lists filled one certificate at a time (cheaper than a list of dicts)."""

    names: bool = True
    cert_sha256: list = field(default_factory=list)
    spki_sha256: list = field(default_factory=list)
    issuer_dn: list = field(default_factory=list)
    serial: list = field(default_factory=list)
    subject_dn: list = field(default_factory=list)
    subject_cn: list = field(default_factory=list)
    san_dns: list = field(default_factory=list)
    not_before: list = field(default_factory=list)
    not_after: list = field(default_factory=list)
    is_precert: list = field(default_factory=list)
    is_ca: list = field(default_factory=list)
    key_type: list = field(default_factory=list)
    sct_time: list = field(default_factory=list)
    label: list = field(default_factory=list)  # the input's name (one shared str per file)
    block: list = field(default_factory=list)  # 1-based PEM block number, 0 for a DER file
    offset: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    _issuers: dict = field(default_factory=dict)
    _key_types: dict = field(default_factory=dict)

    def add(self, der: bytes, label: str, block: int, offset: int, position: str | None = None) -> None:
        (
            cert_sha,
            spki_sha,
            serial,
            issuer_der,
            subject_der,
            spki,
            nb,
            na,
            precert,
            ca,
            sct,
            san,
            bad_scts,
        ) = _der.parse_certificate_fields(der)
        issuer = self._issuers.get(issuer_der)
        if issuer is None:
            issuer = self._issuers[issuer_der] = _render_name(issuer_der, der, "issuer")
        kt = self._key_types.get(spki_sha)
        if kt is None:
            kt = self._key_types[spki_sha] = _der.key_type(spki)
        if self.names:
            subject_dn, subject_cn, sans = _subject_fields(subject_der, san, der)
        else:
            subject_dn = subject_cn = sans = None
        self.cert_sha256.append(cert_sha)
        self.spki_sha256.append(spki_sha)
        self.issuer_dn.append(issuer)
        self.serial.append(format(serial, "x") if serial >= 0 else "-" + format(-serial, "x"))
        self.subject_dn.append(subject_dn)
        self.subject_cn.append(subject_cn)
        self.san_dns.append(sans)
        self.not_before.append(nb)
        self.not_after.append(na)
        self.is_precert.append(precert)
        self.is_ca.append(ca)
        self.key_type.append(kt)
        self.sct_time.append(sct)  # None: no SCT (a list of None/int, never a sentinel value)
        self.label.append(label)
        self.block.append(block)
        self.offset.append(offset)
        if bad_scts:
            self.problems.append(
                Problem(
                    label,
                    position,
                    f"{bad_scts} embedded SCT(s) with an out-of-range timestamp ignored; the issue time "
                    "comes from the other SCTs, first_seen or not_before",
                )
            )

    def to_frame(self) -> pd.DataFrame:
        n = len(self.cert_sha256)
        if n == 0:
            df = empty_certificates()
            df["_offset"] = pd.Series([], dtype="int64")
            return df

        def times(values: list[int | None]) -> pd.Series:
            # Missing is None, marked by its own mask: every int64 (-1 us included) is a real time.
            mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
            if mask.any():
                values = [0 if v is None else v for v in values]
            arr = np.asarray(values, dtype="int64")
            s = pd.Series(arr.view("datetime64[us]")).dt.tz_localize("UTC").astype(TIME_DTYPE)
            if mask.any():
                s[mask] = pd.NaT
            return s

        df = pd.DataFrame(
            {
                "cert_sha256": pd.array(self.cert_sha256, dtype="string"),
                "spki_sha256": pd.array(self.spki_sha256, dtype="string"),
                "issuer_dn": pd.array(self.issuer_dn, dtype="string"),
                "serial": pd.array(self.serial, dtype="string"),
                "subject_dn": pd.array(self.subject_dn, dtype="string"),
                "subject_cn": pd.array(self.subject_cn, dtype="string"),
                "san_dns": pd.Series(self.san_dns, dtype="object"),
                "not_before": times(self.not_before),
                "not_after": times(self.not_after),
                "is_precert": np.asarray(self.is_precert, dtype=bool),
                "is_ca": np.asarray(self.is_ca, dtype=bool),
                "key_type": pd.array(self.key_type, dtype="string"),
                "crtsh_id": pd.array([None] * n, dtype="Int64"),
                "first_seen": pd.Series(pd.NaT, index=range(n), dtype=TIME_DTYPE),
                "source": _sources(self.label, self.block),
                "sct_time": times(self.sct_time),
                "_offset": np.asarray(self.offset, dtype="int64"),
                "_block": np.asarray(self.block, dtype="int64"),
            }
        )
        return df


_LIST_FIELDS = [
    "cert_sha256",
    "spki_sha256",
    "issuer_dn",
    "serial",
    "subject_dn",
    "subject_cn",
    "san_dns",
    "not_before",
    "not_after",
    "is_precert",
    "is_ca",
    "key_type",
    "sct_time",
    "label",
    "block",
    "offset",
]


def _sources(labels: list[str], blocks: list[int] | np.ndarray, shift: int = 0) -> pd.arrays.ArrowStringArray:
    """`<file>#block N` for PEM blocks, `<file>` for DER files, built column-wise."""
    lab = pd.Series(pd.array(labels, dtype="string"))
    blk = pd.Series(np.asarray(blocks, dtype="int64"))
    composed = lab + "#block " + (blk + shift).astype("string")
    return composed.where(blk > 0, lab).array


def _render_name(name: bytes, der: bytes, which: str) -> str:
    try:
        return _der.name_to_rfc4514(name)
    except _der.DERError:
        with _fallback(which):
            from cryptography import x509

            cert = x509.load_der_x509_certificate(der)
            return (cert.issuer if which == "issuer" else cert.subject).rfc4514_string()


class _fallback:
    """Around a `cryptography` fallback: whatever it raises (ValueError, TypeError,
    InvalidVersion, ...) becomes a DERError, so the caller skips this one certificate."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is not None and isinstance(exc, Exception) and not isinstance(exc, _der.DERError):
            raise _der.DERError(f"{self.what} name cannot be decoded ({type(exc).__name__}: {exc})") from exc
        return False


def _subject_fields(subject: bytes, san: bytes | None, der: bytes) -> tuple[str, str | None, list[str]]:
    try:
        subject_dn = _der.name_to_rfc4514(subject)
        cns = _der.common_names(subject)
    except _der.DERError:
        with _fallback("subject"):
            from cryptography import x509

            cert = x509.load_der_x509_certificate(der)
            subject_dn = cert.subject.rfc4514_string()
            cns = [
                a.value if isinstance(a.value, str) else a.value.hex()
                for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
            ]
    sans = _der.san_dns_names(san) if san is not None else []
    return subject_dn, (cns[-1] if cns else None), sans  # the most specific CN


# --- reading inputs -------------------------------------------------------------------------


def _iter_pem_blocks(
    fh, label: str, start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, bytes | None, str | None]]:
    """Yield (byte offset, DER or None, reason) for every certificate PEM block whose BEGIN line
    starts in [start, stop). Reads in chunks; text between blocks is ignored."""
    fh.seek(start)
    buf = b""
    base = start  # file offset of buf[0]
    pos = 0  # next search position in buf (no slicing per block: that would copy the chunk)
    eof = False
    while True:
        m = PEM_BEGIN.search(buf, pos)
        if m is None:
            if eof:
                return
            keep = max(pos, len(buf) - 64)  # a marker may straddle chunks
            base += keep
            chunk = fh.read(CHUNK)
            if not chunk:
                eof = True
            buf, pos = buf[keep:] + chunk, 0
            continue
        begin = base + m.start()
        if stop is not None and begin >= stop:
            return
        e = PEM_END.search(buf, m.end())
        if e is None:
            if eof:
                yield begin, None, "PEM block has no END line (truncated file)"
                return
            chunk = fh.read(CHUNK)
            if not chunk:
                eof = True
            base += m.start()
            buf, pos = buf[m.start() :] + chunk, 0
            continue
        try:
            der = binascii.a2b_base64(buf[m.end() : e.start()], strict_mode=False)
        except binascii.Error as exc:
            yield begin, None, f"corrupt base64 in PEM block ({exc})"
        else:
            yield begin, der, None
        pos = e.end()


FLUSH_ROWS = 65536  # column lists become an Arrow-backed frame every this many certificates


_PROGRESS = None  # shared counters of the parallel load (set before the workers fork)


def _load_pem_range_frame(
    path: str,
    label: str,
    start: int,
    stop: int | None,
    names: bool,
    spill_dir: str | None = None,
    slot: int | None = None,
) -> tuple[list, list[Problem], int]:
    """Read the PEM blocks starting in [start, stop): (chunks, problems, blocks seen).

    Python lists cost ~10x the memory of a frame, so they are flushed into frames as they fill.
    In a worker (`spill_dir` set) each chunk is written as an Arrow file and its path returned:
    pickling Arrow-backed frames back to the parent costs ~3x their size in transient memory.
    """
    cols = _Columns(names=names)
    chunks: list = []
    seen = 0
    with open(path, "rb") as fh:
        for index, (offset, der, reason) in enumerate(_iter_pem_blocks(fh, label, start, stop)):
            _add_block(cols, label, index, offset, der, reason)
            seen = index + 1
            if slot is not None and not index & 1023 and _PROGRESS is not None:
                _PROGRESS[slot] = offset - start
            if len(cols.cert_sha256) >= FLUSH_ROWS:
                chunks.append(_spill(cols.to_frame(), spill_dir, start, len(chunks)))
                cols = _Columns(
                    names=names, problems=cols.problems, _issuers=cols._issuers, _key_types=cols._key_types
                )
    if cols.cert_sha256 or not chunks:
        chunks.append(_spill(cols.to_frame(), spill_dir, start, len(chunks)))
    return chunks, cols.problems, seen


def _spill(frame: pd.DataFrame, spill_dir: str | None, start: int, n: int) -> pd.DataFrame | str:
    if spill_dir is None:
        return frame
    import pyarrow.feather as feather

    path = os.path.join(spill_dir, f"{start:015d}-{n:06d}.arrow")
    feather.write_feather(frame, path, compression="uncompressed")
    return path


def _unspill(chunk: pd.DataFrame | str) -> pd.DataFrame:
    if isinstance(chunk, pd.DataFrame):
        return chunk
    import pyarrow.feather as feather

    frame = feather.read_table(chunk).to_pandas()
    # Arrow gives lists back as arrays; the frame holds lists.
    frame["san_dns"] = pd.Series(
        [v.tolist() if isinstance(v, np.ndarray) else v for v in frame["san_dns"]], dtype="object"
    )
    return frame


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _add_block(
    cols: _Columns, label: str, index: int, offset: int, der: bytes | None, reason: str | None
) -> None:
    # Blocks are numbered from 1 within their file; workers renumber after the merge.
    position = f"block {index + 1} (byte {offset})"
    if der is None:
        cols.problems.append(Problem(label, position, reason or "unreadable block"))
        return
    _add_one(cols, der, label, index + 1, offset, position, "not a valid certificate")


def _add_one(
    cols: _Columns, der: bytes, label: str, block: int, offset: int, position: str, what: str
) -> None:
    """Add one certificate; any failure skips it alone, reported with its file and position."""
    try:
        cols.add(der, label, block, offset, position)
    except _der.DERError as exc:
        cols.problems.append(Problem(label, position, f"{what}: {exc}"))
    except (ValueError, TypeError, IndexError, OverflowError, UnicodeError) as exc:
        # A shape no reader anticipated: one certificate lost, never the bundle.
        cols.problems.append(Problem(label, position, f"{what}: {type(exc).__name__}: {exc}"))


def _split_points(path: str, parts: int) -> list[int]:
    """Byte offsets that start PEM blocks, roughly evenly spaced, for splitting a big file."""
    size = os.path.getsize(path)
    points = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(size * k // parts)
            probe = fh.read(1 << 16)
            m = PEM_BEGIN.search(probe)
            if m is None:
                continue
            points.append(size * k // parts + m.start())
    points.append(size)
    return sorted(set(points))


def _mp_context():
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return multiprocessing.get_context()


def _load_pem_file(
    path: str, label: str, names: bool, workers: int, progress: bool | None = False
) -> tuple[pd.DataFrame, list[Problem]]:
    size = os.path.getsize(path)
    if workers <= 1 or size < PARALLEL_MIN_BYTES:
        chunks, problems, _ = _load_pem_range_frame(path, label, 0, None, names)
        return _concat(chunks), problems
    import tempfile

    from tqdm import tqdm

    global _PROGRESS
    points = _split_points(path, workers)
    ranges = list(zip(points[:-1], points[1:], strict=True))
    ctx = _mp_context()
    _PROGRESS = ctx.Array("q", len(ranges), lock=False)  # bytes read per range; forked workers share it
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=os.path.basename(path),
        disable=None if progress is None else not progress,
    )
    with tempfile.TemporaryDirectory(prefix="ca-incidents-") as spill:
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [
                pool.submit(_load_pem_range_frame, path, label, a, b, names, spill, k)
                for k, (a, b) in enumerate(ranges)
            ]
            while cf.wait(futures, timeout=0.25).not_done:
                bar.update(sum(_PROGRESS) - bar.n)
            parts = [f.result() for f in futures]
        bar.update(size - bar.n)
        bar.close()
        frames, problems, shift = [], [], 0
        for chunks, probs, seen in parts:
            for chunk in chunks:
                frame = _unspill(chunk)
                if shift and len(frame):
                    # Block numbers restart in each worker's range; renumber from the file's start.
                    frame["_block"] = frame["_block"] + shift
                    frame["source"] = _sources([label] * len(frame), frame["_block"].to_numpy())
                frames.append(frame)
            if shift:
                probs = [Problem(p.input, _renumber_position(p.position, shift), p.reason) for p in probs]
            problems.extend(probs)
            shift += seen
        return _concat(frames), problems


def _renumber_position(position: str | None, shift: int) -> str | None:
    if not position:
        return position
    m = re.match(r"block (\d+)(.*)", position)
    return f"block {int(m.group(1)) + shift}{m.group(2)}" if m else position


def _load_bytes(data: bytes, label: str, cols: _Columns) -> None:
    if _ANY_PEM in data:
        import io

        found = False
        for index, (offset, der, reason) in enumerate(_iter_pem_blocks(io.BytesIO(data), label)):
            found = True
            _add_block(cols, label, index, offset, der, reason)
        if not found:
            cols.problems.append(Problem(label, None, "PEM text without any CERTIFICATE block"))
        return
    if not data:
        cols.problems.append(Problem(label, None, "empty file"))
        return
    if data[:1] != b"\x30":
        cols.problems.append(Problem(label, "byte 0", "neither PEM nor DER (junk file)"))
        return
    _add_one(cols, data, label, 0, 0, "byte 0", "not a valid DER certificate")


def load_certificates(
    inputs: Input | Iterable[Input],
    *,
    names: bool = True,
    workers: int | None = None,
    label: str | None = None,
    progress: bool | None = False,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read certificates from files, directories (recursive) and bytes into the certificates frame.

    `progress`: a bar on stderr for big files (None: only when stderr is a terminal).

    `names=False` skips subject and SAN decoding (the fast path for bulk key-reuse work); fill them
    later for the rows you need with `fill_names`. `workers` processes split big PEM files
    (default: the CPU count). Returns (frame, problems); problems name file and position.

    In a directory, a crt.sh rows file (`crtsh.json`, as `fetch crtsh --out` writes) supplies
    `crtsh_id` and `first_seen` for the PEM files named `<crt.sh id>.pem`.
    """
    if isinstance(inputs, (str, os.PathLike, bytes)):
        inputs = [inputs]
    workers = workers if workers is not None else (os.cpu_count() or 1)
    cols = _Columns(names=names)
    frames: list[pd.DataFrame] = []
    crtsh_meta: dict[int, dict] = {}
    for item in inputs:
        if isinstance(item, bytes):
            _load_bytes(item, label or "<bytes>", cols)
            continue
        root = Path(item)
        if not root.exists():
            cols.problems.append(Problem(str(root), None, "no such file or directory"))
            continue
        for path in input_files(root):
            text = str(path)
            try:
                check_regular(path)  # a FIFO would block the read below forever
                if path.suffix.lower() == ".json":
                    meta, problems = _read_crtsh_rows(path)
                    crtsh_meta.update(meta)
                    cols.problems.extend(problems)
                    continue
                with open(path, "rb") as fh:
                    head = fh.read(SNIFF_BYTES)
                    size = os.fstat(fh.fileno()).st_size
            except InputError as exc:
                cols.problems.append(Problem(exc.input, exc.position, exc.reason))
                continue
            except OSError as exc:
                cols.problems.append(Problem(text, None, f"cannot read: {exc.strerror or exc}"))
                continue
            if head[:1] != b"\x30" and b"-----BEGIN" not in head:
                # Neither DER nor PEM at the start: junk, said without reading the rest of it.
                reason = "empty file" if not head else "neither PEM nor DER (junk file)"
                if size > len(head):
                    reason += f"; only its first {_size(len(head))} were read"
                cols.problems.append(Problem(text, "byte 0" if head else None, reason))
                continue
            if head[:1] == b"\x30" and b"-----BEGIN" not in head and size > MAX_DER_BYTES:
                cols.problems.append(
                    Problem(text, "byte 0", f"a {size:,}-byte DER file is not one certificate; not read")
                )
                continue
            if b"-----BEGIN" in head:
                frame, problems = _load_pem_file(text, text, names, workers, progress)
                if frame.empty and not problems:
                    problems = [Problem(text, None, "no CERTIFICATE block in this PEM file")]
                if cols.cert_sha256:  # keep input order: flush what came before
                    frames.append(cols.to_frame())
                    cols = _Columns(names=names, problems=cols.problems)
                frames.append(frame)
                cols.problems.extend(problems)
            else:
                _load_bytes(path.read_bytes(), text, cols)
    if cols.cert_sha256 or not frames:
        frames.append(cols.to_frame())
    frames = [f for f in frames if len(f)] or frames[:1]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if crtsh_meta and len(df):
        _apply_crtsh_meta(df, crtsh_meta)
    return df, cols.problems


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and not n % (1 << 20) else f"{n:,} bytes"


def _read_crtsh_rows(path: Path) -> tuple[dict[int, dict], list[Problem]]:
    """A JSON file of crt.sh rows -> {id: row}. Other JSON files are reported, not guessed at."""
    try:
        rows = load_json(path.read_bytes())
    except ValueError as exc:  # bad UTF-8, bad JSON, nesting too deep
        return {}, [Problem(str(path), None, f"not JSON: {exc}")]
    if isinstance(rows, dict) and isinstance(rows.get("rows"), list):
        rows = rows["rows"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "id" in r for r in rows):
        return {}, [Problem(str(path), None, "JSON file is not a list of crt.sh rows; ignored")]
    meta, problems = {}, []
    for n, row in enumerate(rows, 1):
        try:
            meta[int(row["id"])] = row
        except (TypeError, ValueError):
            problems.append(Problem(str(path), f"row {n}", f"bad crt.sh id {row.get('id')!r}"))
    return meta, problems


def _apply_crtsh_meta(df: pd.DataFrame, meta: dict[int, dict]) -> None:
    ids = df["source"].str.extract(r"(?:^|[/\\])(\d+)\.(?:pem|crt|der|cer)(?:#block 1)?$")[0]
    crtsh_id = pd.array(pd.to_numeric(ids, errors="coerce"), dtype="Int64")
    df["crtsh_id"] = crtsh_id
    seen, ca_ids = [], []
    for value in crtsh_id:
        row = meta.get(int(value)) if value is not pd.NA else None
        ts = row.get("entry_timestamp") if row else None
        seen.append(parse_time(ts) if ts else None)
        ca_ids.append(row.get("issuer_ca_id") if row else None)
    df["first_seen"] = pd.Series(pd.to_datetime(seen, utc=True), index=df.index).astype(TIME_DTYPE)
    # crt.sh's issuer id, for revocation lookups in its database (--crtsh-revocations).
    df["issuer_ca_id"] = pd.array(ca_ids, dtype="Int64")


def load_certificate_bytes(data: bytes, source: str = "<bytes>") -> tuple[pd.DataFrame, list[Problem]]:
    """Certificates from bytes (PEM with any number of blocks, or one DER certificate)."""
    return load_certificates(data, label=source)


def fill_names(df: pd.DataFrame, mask: pd.Series | None = None) -> pd.DataFrame:
    """Fill subject_dn, subject_cn and san_dns for rows loaded with names=False (all or `mask`).

    Re-reads each row's PEM block (or DER file) from its source at the recorded byte offset.
    """
    df = df.copy()
    rows = df.index if mask is None else df.index[mask.fillna(False).to_numpy()]
    need = [i for i in rows if df.at[i, "san_dns"] is None]
    for i in need:
        source = str(df.at[i, "source"])
        path = source.split("#block ")[0]
        offset = int(df.at[i, "_offset"]) if "_offset" in df.columns else 0
        try:
            with open(path, "rb") as fh:
                if "#block " in source:
                    _, der, _ = next(_iter_pem_blocks(fh, path, offset, offset + 1))
                else:
                    der = fh.read()
        except (OSError, StopIteration):
            continue
        if der is None:
            continue
        try:
            raw = _der.parse_certificate(der)
            dn, cn, sans = _subject_fields(raw.subject, raw.san, der)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue  # left unfilled, as for a file that is gone
        df.at[i, "subject_dn"] = dn
        df.at[i, "subject_cn"] = cn
        df.at[i, "san_dns"] = sans
    return df


def spki_der_by_hash(items: Iterable[Input]) -> dict[str, bytes]:
    """SPKI SHA-256 -> DER SubjectPublicKeyInfo of every readable certificate in `items` (paths of
    PEM or DER files, or bytes), for checking signatures made by those keys (pwnedkeys). PEM files
    are read in chunks; blocks that do not parse are passed over (the loader reports them)."""
    out: dict[str, bytes] = {}

    def take(der: bytes | None) -> None:
        if not der:
            return
        try:
            fields = _der.parse_certificate_fields(der)
        except Exception:  # noqa: BLE001 - a block the loader has already reported
            return
        out.setdefault(fields[1], fields[5])

    import io

    for item in items:
        try:
            fh = io.BytesIO(item) if isinstance(item, bytes) else open(item, "rb")  # noqa: SIM115
        except OSError:
            continue
        with fh:
            head = fh.read(1 << 16)
            fh.seek(0)
            if _ANY_PEM in head or head[:1] != b"\x30":
                for _, der, _ in _iter_pem_blocks(fh, ""):
                    take(der)
            elif len(head) < (1 << 16):
                take(head)
    return out
