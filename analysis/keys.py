"""Compromised-key inputs -> the compromised keys frame (design.md, Frames).

Two forms: a CSV (spki_sha256, reported_at, source) and key files (PEM or DER, public or private,
PKCS#1/PKCS#8/SPKI/traditional). A key file is undated: "compromised before any issuance".
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable

import pandas as pd

from .errors import InputError, Problem
from .formats import parse_time
from .safety import check_regular, csv_dicts, decode_text, input_files, read_input
from .schema import coerce_compromised_keys, empty_compromised_keys

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def spki_der_from_key(data: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a key file's public key. Raises ValueError."""
    from cryptography.hazmat.primitives import serialization

    loaders = []
    text = data.lstrip()
    if text.startswith(b"-----BEGIN") or b"-----BEGIN" in data:
        # Text before the PEM block (a comment line, as in badkeys' samples) is allowed.
        start = data.index(b"-----BEGIN")
        data = data[start:]
        loaders = [
            lambda d: serialization.load_pem_public_key(d),
            lambda d: serialization.load_pem_private_key(d, password=None).public_key(),
        ]
    else:
        loaders = [
            lambda d: serialization.load_der_public_key(d),
            lambda d: serialization.load_der_private_key(d, password=None).public_key(),
        ]
    last: Exception | None = None
    for load in loaders:
        try:
            key = load(data)
        except (ValueError, TypeError) as exc:
            last = exc
            continue
        except Exception as exc:  # cryptography raises UnsupportedAlgorithm for odd keys
            last = exc
            continue
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    raise ValueError(f"not a readable public or private key ({last})")


def spki_sha256_from_key(data: bytes) -> str:
    """SHA-256 over the key's DER SubjectPublicKeyInfo, lowercase hex."""
    return hashlib.sha256(spki_der_from_key(data)).hexdigest()


MAX_KEY_FILE = 1 << 20  # bytes; a PEM or DER key (even RSA-16384, private) is far smaller


def load_compromised_csv(data: bytes, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """CSV with spki_sha256 and optional reported_at / source; an empty date means undated."""
    header, records = csv_dicts(decode_text(data))
    fields = {(f or "").strip().lower(): f for f in header}
    if "spki_sha256" not in fields:
        return empty_compromised_keys(), [Problem(label, "line 1", "no spki_sha256 column")]
    rows, problems = [], []
    for line, row, error in records:
        if row is None:
            problems.append(Problem(label, f"line {line}", error))
            continue
        spki = (row.get(fields["spki_sha256"]) or "").strip().replace(":", "")
        if not _HEX64.match(spki):
            problems.append(Problem(label, f"line {line}", f"not a SPKI SHA-256 (64 hex digits): {spki!r}"))
            continue
        when = (row.get(fields["reported_at"]) or "").strip() if "reported_at" in fields else ""
        try:
            reported_at = parse_time(when) if when else None
        except ValueError as exc:
            problems.append(Problem(label, f"line {line}", f"bad reported_at: {exc}"))
            continue
        src = (row.get(fields["source"]) or "").strip() if "source" in fields else ""
        rows.append(
            {
                "spki_sha256": spki.lower(),
                "reported_at": reported_at,
                "source": f"list:{label} line {line}" + (f" ({src})" if src else ""),
            }
        )
    frame = coerce_compromised_keys(pd.DataFrame(rows)) if rows else empty_compromised_keys()
    return frame, problems


def load_compromised_keys(paths: Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, list[Problem]]:
    """CSV lists and key files (directories recursively) -> compromised keys frame."""
    frames, problems = [], []
    for p in paths:
        for f in input_files(p):
            try:
                check_regular(f)
                with open(f, "rb") as fh:
                    head = fh.read(64)
                is_csv = f.suffix.lower() in (".csv", ".tsv") or head.lstrip().lower().startswith(
                    b"spki_sha256"
                )
                # A key file is small: a big file that is not a CSV is not read whole to find that out.
                data = read_input(f, None if is_csv else MAX_KEY_FILE)
            except InputError as exc:
                problems.append(Problem(exc.input, exc.position, exc.reason))
                continue
            except OSError as exc:
                problems.append(Problem(str(f), None, f"cannot read: {exc.strerror or exc}"))
                continue
            if is_csv:
                frame, probs = load_compromised_csv(data, str(f))
                frames.append(frame)
                problems.extend(probs)
                continue
            try:
                spki = spki_sha256_from_key(data)
            except ValueError as exc:
                problems.append(Problem(str(f), "byte 0", str(exc)))
                continue
            frames.append(
                coerce_compromised_keys(
                    pd.DataFrame([{"spki_sha256": spki, "reported_at": None, "source": f"key:{f}"}])
                )
            )
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_compromised_keys(), problems
    return coerce_compromised_keys(pd.concat(frames, ignore_index=True)), problems
