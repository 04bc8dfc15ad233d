"""Fuzz targets (issue 13): the DER readers, the CRL parser and the report parser on hostile bytes.

Each target takes bytes and fails (an AssertionError or an unexpected exception) only on a real
bug: a reader that crashes instead of reporting, or the C and Python DER readers disagreeing.
They run briefly in the suite (tests/test_fuzz.py, hypothesis), longer under `make fuzz`
(`FUZZ_EXAMPLES`), and with atheris where it installs (tests/fuzz_atheris.py).

Seeds are the real certificates, CRLs and report texts in tests/data and data/demo; mutations
flip, insert, delete and repeat bytes, cut the input short, and nudge DER length bytes.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----(.*?)-----END [A-Z0-9 ]+-----", re.S)


def _ders(folder: Path) -> list[bytes]:
    out = []
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not p.is_file():
            continue
        data = p.read_bytes()
        blocks = _PEM_BLOCK.findall(data)
        if blocks:
            out.extend(base64.b64decode(b"".join(b.split())) for b in blocks)
        elif data[:1] == b"\x30":
            out.append(data)
    return out


@lru_cache(maxsize=1)
def certificate_seeds() -> tuple[bytes, ...]:
    return tuple(_ders(DATA / "certs") + _ders(ROOT / "data" / "demo" / "certs"))[:40]


@lru_cache(maxsize=1)
def crl_seeds() -> tuple[bytes, ...]:
    return tuple(_ders(DATA / "crls") + _ders(ROOT / "data" / "demo" / "crls"))[:20]


@lru_cache(maxsize=1)
def report_seeds() -> tuple[bytes, ...]:
    texts = [p.read_bytes() for p in sorted((DATA / "reports").glob("*")) if p.suffix in (".md", ".txt")]
    demo = ROOT / "data" / "demo" / "report.md"
    if demo.is_file():
        texts.append(demo.read_bytes())
    return tuple(t[:20_000] for t in texts)


def mutate(seed: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply (operation, position, value) edits to `seed`; positions wrap around its length."""
    data = bytearray(seed)
    for op, pos, value in ops:
        n = len(data)
        at = pos % (n + 1)
        kind = op % 7
        if kind == 0 and n:  # flip bits of one byte
            data[at % n] ^= value or 1
        elif kind == 1:  # insert a byte
            data.insert(at, value)
        elif kind == 2 and n:  # delete a run
            del data[at : at + 1 + value % 16]
        elif kind == 3:  # cut short
            del data[at:]
        elif kind == 4 and n:  # repeat a slice (nesting, long runs)
            piece = bytes(data[at : at + 1 + value % 32])
            data[at:at] = piece * (1 + value % 8)
        elif kind == 5 and n:  # a length byte set to an extreme (long forms, 0x80, 0xff)
            data[at % n] = (0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x89, 0xFF, 0x00, 0x7F)[value % 10]
        elif kind == 6 and n:  # a byte set outright
            data[at % n] = value
    return bytes(data)


# --- targets ------------------------------------------------------------------------------------


def der_target(data: bytes) -> None:
    """Both DER readers and the loader: no crash; where the C reader answers, Python agrees."""
    from analysis import der
    from analysis.certificates import load_certificates

    try:
        py = der.parse_certificate_fields_py(data)
    except der.DERError:
        py = None
    if der._cder is not None:
        c = der._cder.parse(data)
        if c is not None:
            assert py is not None, "the C reader accepted what the Python reader refuses"
            assert der.parse_certificate_fields(data) == py, "the two DER readers disagree"
    frame, problems = load_certificates(data, label="fuzz")
    # every input is accounted for: a row, or a problem naming the input
    assert len(frame) or problems
    assert all(p.input == "fuzz" for p in problems)


def crl_target(data: bytes) -> None:
    """The CRL parser: entries or problems, never an exception."""
    from analysis.revocations import load_crl_bytes

    result = load_crl_bytes(data, "fuzz")
    assert len(result.frame) or result.crls or result.problems


def report_target(data: bytes) -> None:
    """The report parser on any text: a structured answer, never an exception."""
    from analysis.reports import parse_report

    text = data.decode("utf-8", errors="replace")
    out = parse_report(text)
    assert isinstance(out, dict)


TARGETS = {
    "der": (der_target, certificate_seeds),
    "crl": (crl_target, crl_seeds),
    "report": (report_target, report_seeds),
}
