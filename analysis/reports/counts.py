"""Counts stated in the text, each with its measure (certificates, precertificates, keys, roots, CAs)."""

from __future__ import annotations

import re

from .dates import _MON
from .segmenting import _FIELD_BOLD, _MD_HEADING
from .tables import _split_cells, is_separator
from .vocabulary import _key, _strip_md

# --- counts -----------------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
        " sixteen seventeen eighteen nineteen twenty".split()
    )
}
_COUNT_RE = re.compile(
    r"\b(?P<n>\d[\d,]*|" + "|".join(_NUMBER_WORDS) + r")\s+(?:(?:additional|more|later|affected|distinct"
    r"|unique|compromised|public|private|subscriber|rsa|ecdsa|different|separate|such|tls|server"
    r"|leaf|reissued|re-issued|impacted|valid|revoked)\s+){0,3}"
    r"(?P<what>key\s+pairs?|public\s+keys?|private\s+keys?|keys?|certificates?|certs?|precertificates?)\b",
    re.IGNORECASE,
)


def _number(text: str) -> int | None:
    t = text.lower().replace(",", "")
    if t in _NUMBER_WORDS:
        return _NUMBER_WORDS[t]
    return int(t) if t.isdigit() else None


def _sentence_at(text: str, pos: int) -> str:
    start = 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])", text):
        if m.end() <= pos:
            start = m.end()
        else:
            return _strip_md(text[start : m.start()])
    return _strip_md(text[start:])


def _paragraphs(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Consecutive prose lines joined; a blank line, heading, bullet or table row starts anew.
    Table rows are split into their cells, one paragraph each."""
    out: list[list[tuple[int, str]]] = []
    cur: list[tuple[int, str]] = []
    prev_num = None
    for num, text in lines:
        s = text.strip()
        new_para = (
            not s
            or prev_num is None
            or num != prev_num + 1
            or _MD_HEADING.match(text)
            or re.match(r"^(?:[-*+\u2022]|\d+[.)])\s", s)
        )
        prev_num = num
        if s.startswith("|") or "\t" in text:
            if cur:
                out.append(cur)
            cur = []
            if not is_separator(s):
                cells = _split_cells(s, "md") if s.startswith("|") else text.split("\t")
                out += [[(num, _strip_md(c))] for c in cells if c.strip()]
            continue
        if new_para and cur:
            out.append(cur)
            cur = []
        if s:
            fb = _FIELD_BOLD.match(text)
            body = fb.group("value") if fb else re.sub(r"^(?:[-*+\u2022]|\d+[.)])\s+", "", s)
            if body.strip():
                cur.append((num, _strip_md(body)))
    if cur:
        out.append(cur)
    return out


def _collect_counts(lines: list[tuple[int, str]], fields: list[tuple[str, str, int]]) -> list[dict]:
    counts: list[dict] = []
    field_lines = set()
    for label, value, line in fields:
        k = _key(label)
        measure = None
        if k.startswith("total number of remaining valid"):
            measure = "remaining_valid"
        elif k.startswith("total number of certificates") or k == "total number of affected certificates":
            measure = "certificates"
        elif k.startswith("total number of keys") or k.startswith("number of keys"):
            measure = "keys"
        if measure is None:
            continue
        m = re.search(r"\b(\d[\d,]*)\b", value)
        if m is None:
            continue
        counts.append(
            {
                "measure": measure,
                "value": _number(m.group(1)),
                "field": label,
                "sentence": f"{label}: {value}".strip(),
                "source_line": line,
            }
        )
        field_lines.add(line)
    seen: set[tuple[str, int]] = set()
    for para in _paragraphs([(n, t) for n, t in lines if n not in field_lines]):
        joined = " ".join(t for _, t in para)
        starts, pos = [], 0
        for n, t in para:
            starts.append((pos, n))
            pos += len(t) + 1
        for m in _COUNT_RE.finditer(joined):
            value = _number(m.group("n"))
            if value is None:
                continue
            before = joined[: m.start()]
            if 1900 <= value <= 2100 and re.search(
                rf"(?:{_MON}\.?|\b(?:in|since|during|of|until|before|after|from))\s+$", before, re.IGNORECASE
            ):
                continue
            measure = "keys" if "key" in m.group("what").lower() else "certificates"
            if (measure, value) in seen:
                continue
            seen.add((measure, value))
            line = max(n for p0, n in starts if p0 <= m.start())
            counts.append(
                {
                    "measure": measure,
                    "value": value,
                    "field": None,
                    "sentence": _sentence_at(joined, m.start()),
                    "source_line": line,
                }
            )
    return counts
