"""Counts stated in the text, each with its measure (certificates, precertificates, keys, roots, CAs)."""

from __future__ import annotations

import bisect
import re

from .dates import _MON
from .segmenting import _FIELD_BOLD, _MD_HEADING
from .tables import _split_cells, is_separator
from .vocabulary import _key, _lowered, _strip_md

# --- counts -----------------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
        " sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "a single": 1, "one single": 1})
# "2.601" and "30 000" are thousands written the European way (groups of exactly three digits)
_NUM = (
    r"(?P<n>\d{1,3}(?:[.\u00a0 ]\d{3})+(?![\d.,]\d)|\d[\d,]*(?![\d.]\d)|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")"
)
# Nouns of each measure. A root is a CA too; we keep them apart because reports count them apart.
_MEASURE_NOUNS = (
    r"(?P<what>pre-?certificates?|precerts?|key\s+pairs?|public\s+keys?|private\s+keys?|keys?|spkis?"
    r"|root\s+certificates?|root\s+cas?|roots?|intermediate\s+cas?|intermediates?|sub-?cas?|icas?|cas"
    r"|ca\s+certificates?|certificates?|certs?|qwacs?)\b"
)
# Up to three describing words between the number and the noun ("2 unrevoked unexpired
# certificates"), but not the words that start a different phrase ("2 of the 5 certificates").
_STOP = (
    r"of|the|and|or|to|in|for|with|on|by|from|were|was|are|is|have|has|had|that|which|we|our|than|per"
    r"|at|out|these|those|them|its|their|all|a|an|as|be|been|days?|hours?|years?|months?|weeks?"
)
_STOP += "|" + "|".join(w for w in _NUMBER_WORDS if " " not in w)
# the first word of a two-word noun ("Root CAs", "intermediate certificates", "SubCA", "CA
# certificates") belongs to the noun, not to the describing words before it
_STOP += r"|root|intermediate|sub-?cas?|icas?|ca"
_MODIFIER = rf"(?:(?!(?:{_STOP})\b)[A-Za-z][\w/\-]*\s+)"
# Every branch starts at a word boundary with a digit, the first letter of a number word or the
# "t" of "total": tested first, with one character class, before the branches are tried.
_FIRST = "".join(sorted({w[0] for w in _NUMBER_WORDS} | {"t"}))
_COUNT_RE = re.compile(
    rf"\b(?=[\d{_FIRST}])"
    rf"(?:{_NUM}(?:\s*\(\d[\d,]*\))?\s+(?:of\s+(?:our|the|these|those|its|their|all\s+the)\s+)?"
    # "two Certificate Problem Report aliases": the noun names another thing (a CPR), not a count
    rf"{_MODIFIER}{{0,3}}{_MEASURE_NOUNS}(?!\s+problem\s+reports?\b)"
    rf"|(?P<n2>\d[\d,]*)\s+of\s+(?:them|these|those)\b"
    rf"|total\s*[:=]\s*(?P<n3>\d[\d,]*)\b)",
    re.IGNORECASE,
)
_NOUN_RE = re.compile(_MEASURE_NOUNS, re.IGNORECASE)
_LISTED = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s")
# "No keys were compromised", "no certificates were affected", "no certificates misissued": a
# count of 0 in its measure. Not "no other/additional certificates are affected" (the count given
# is complete), not "no certificates were issued with the problem" (an answer about stopping), and
# not an intention ("to confirm that no certificates are impacted").
_ZERO_RE = re.compile(
    rf"\bno\s+(?!other\b|additional\b|further\b|more\b){_MODIFIER}{{0,2}}{_MEASURE_NOUNS}\s+"
    r"(?:(?:were|was|are|is|have\s+been|has\s+been)\s+)?(?:affected|impacted|compromised|mis-?issued)\b",
    re.IGNORECASE,
)
_ZERO_GUARD = re.compile(r"\b(?:confirm|ensure|verify|make\s+sure|check|whether|if)\b[^.;]*$", re.IGNORECASE)
# The same pattern without IGNORECASE, run on lower-cased text: about twice as fast.
_COUNT_LOWER = re.compile(_COUNT_RE.pattern)


# Before a number: what makes it a reference ("bug 1234", "#12", "v2") or a year ("in 2024").
# _REFERENCE can only match when the window, trailing spaces aside, ends in one of
# _REFERENCE_ENDS: a cheap test that skips the search for almost every number.
_REFERENCE = re.compile(r"(?:#|[-/.:]|\bbug\s*|\bcomment\s*|\bsection\s*|\bversion\s*|\bv)$", re.I)
_REFERENCE_ENDS = frozenset("#-/.:gGtTnNvV")
_YEAR_BEFORE = re.compile(
    rf"(?:{_MON}\.?|\b\d{{1,2}}(?:st|nd|rd|th)?,|\b(?:in|since|during|of|until|before|after|from))\s+$", re.I
)
_GROUP_SEP = re.compile(r"(?<=\d)[.\u00a0 ](?=\d{3}\b)")


def _last_noun(text: str) -> str | None:
    """The last measure noun in `text` (a bounded look-back window), or None."""
    last = None
    for last in _NOUN_RE.finditer(text):  # noqa: B007 - the loop keeps the last match
        pass
    return last.group("what") if last else None


def _measure(noun: str) -> str:
    k = noun.lower()
    if k.startswith("pre"):
        return "precertificates"
    if "key" in k or k.startswith("spki"):
        return "keys"
    if k.startswith("root"):
        return "roots"
    if k.startswith(("intermediate", "sub", "ica", "ca")):
        return "cas"
    return "certificates"


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)  # the common case: plain digits (a number word never is)
    t = _GROUP_SEP.sub("", " ".join(text.lower().replace(",", "").split()))
    if t in _NUMBER_WORDS:
        return _NUMBER_WORDS[t]
    return int(t) if t.isdigit() else None


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")


class _Sentences:
    """Sentence boundaries of a paragraph, found once; the sentence at a position by bisection."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.bounds = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text)]
        self.ends = [b[0] for b in self.bounds]

    def start_of(self, pos: int) -> int:
        """Where the sentence holding `pos` starts."""
        i = bisect.bisect_right(self.ends, pos)
        return self.bounds[i - 1][1] if i > 0 else 0

    def start_of_previous(self, pos: int) -> int:
        """Where the sentence before the one holding `pos` starts."""
        i = bisect.bisect_right(self.ends, pos)
        return self.bounds[i - 2][1] if i > 1 else 0

    def at(self, pos: int) -> str:
        i = bisect.bisect_right(self.ends, pos)
        start = self.bounds[i - 1][1] if i > 0 else 0
        end = self.bounds[i][0] if i < len(self.bounds) else len(self.text)
        return _strip_md(self.text[start:end])[:500]


_BULLETS = frozenset("-*+\u2022")
_LIST_ITEM = re.compile(r"^(?:[-*+\u2022]|\d+[.)])\s")
_LIST_MARK = re.compile(r"^(?:[-*+\u2022]|\d+[.)])\s+")


def _paragraphs(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Consecutive prose lines joined; a blank line, heading, bullet or table row starts anew.
    Table rows are split into their cells, one paragraph each."""
    out: list[list[tuple[int, str]]] = []
    cur: list[tuple[int, str]] = []
    prev_num = None
    for num, text in lines:
        s = text.strip()
        # first-character tests before the patterns: a heading starts with "#", a list item with
        # a bullet or a digit
        listed = bool(s) and (s[0] in _BULLETS or s[0].isdecimal()) and _LIST_ITEM.match(s) is not None
        new_para = (
            not s
            or prev_num is None
            or num != prev_num + 1
            or (s[0] == "#" and _MD_HEADING.match(text))
            or listed
        )
        prev_num = num
        if s.startswith("|") or "\t" in text:
            if cur:
                out.append(cur)
            cur = []
            if not is_separator(s):
                cells = _split_cells(s, "md") if s.startswith("|") else text.split("\t")
                out += [[(num, _strip_md(c))] for c in cells if " " in c.strip()]  # a count is 2+ words
            continue
        if new_para and cur:
            out.append(cur)
            cur = []
        if s:
            fb = _FIELD_BOLD.match(text) if ("**" in text or "__" in text) else None
            body = fb.group("value") if fb else (_LIST_MARK.sub("", s, count=1) if listed else s)
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
    # "Relevant policies:" quotes requirements ("MUST point to a single DER encoded certificate"):
    # its numbers are the policy's, not the incident's
    quoted = {line for label, _v, line in fields if _key(label).startswith("relevant polic")}
    raw = dict(lines)
    quote_end = -10  # a quote may also follow its field after one blank line, up to the next item
    seen: set[tuple[str, int]] = set()  # prose repeats are one count; template fields stand apart
    for para in _paragraphs([(n, t) for n, t in lines if n not in field_lines]):
        first = para[0][0]
        if first in quoted:
            quote_end = para[-1][0]
            continue
        if first <= quote_end + 2:
            r = raw.get(first, "")
            if not (_LISTED.match(r) or _MD_HEADING.match(r) or _FIELD_BOLD.match(r)):
                quote_end = para[-1][0]
                continue
        joined = " ".join(t for _, t in para)
        starts, pos = [], 0
        for _n, t in para:
            starts.append(pos)
            pos += len(t) + 1
        sentences: _Sentences | None = None
        last_measure: str | None = None
        found: list[tuple[int, str]] = []
        found_at: list[int] = []  # the positions of `found`, kept alongside for bisection
        low = _lowered(joined)
        scan = _COUNT_LOWER.finditer(low) if low is not None else _COUNT_RE.finditer(joined)
        if "no " in (low if low is not None else joined.lower()):
            for z in _ZERO_RE.finditer(joined):
                if _ZERO_GUARD.search(joined[max(0, z.start() - 60) : z.start()]):
                    continue
                key = (_measure(z.group("what")), 0)
                if key in seen:
                    continue
                seen.add(key)
                if sentences is None:
                    sentences = _Sentences(joined)
                line = para[bisect.bisect_right(starts, z.start()) - 1][0]
                counts.append(
                    {
                        "measure": key[0],
                        "value": 0,
                        "field": None,
                        "sentence": sentences.at(z.start()),
                        "source_line": line,
                    }
                )
        for m in scan:
            window = joined[max(0, m.start() - 40) : m.start()]  # bounded look-back: linear
            if m.group("n") is not None:
                value = _number(m.group("n"))
                measure = _measure(m.group("what"))
            else:
                # "4 of them", "total: 4": the measure of the nearest noun before it
                value = _number(m.group("n2") or m.group("n3"))
                if m.group("n2") and found:
                    # "2 valid certificates; 4 of them ...": the last count of its sentence, else the
                    # subject of the sentence before ("41 certificates carry ... keys. 3 of them")
                    if sentences is None:
                        sentences = _Sentences(joined)
                    positions = found_at[-64:]  # recent counts only: bounded work
                    recent = found[-64:]
                    here = bisect.bisect_left(positions, sentences.start_of(m.start()))
                    prev = bisect.bisect_left(positions, sentences.start_of_previous(m.start()))
                    if here < len(recent):
                        measure = recent[-1][1]
                    else:
                        measure = recent[prev][1] if prev < len(recent) else recent[-1][1]
                else:
                    noun = _last_noun(joined[max(0, m.start() - 200) : m.start()])
                    measure = _measure(noun) if noun else last_measure  # type: ignore[assignment]
                if measure is None:
                    continue
            if value is None:
                continue
            bare = window.rstrip()
            # a match ends the window, trailing spaces aside, and is at most 7 characters long
            # ("version"): searched from there on (a word boundary still sees the character before)
            if bare[-1:] in _REFERENCE_ENDS and _REFERENCE.search(window, max(0, len(bare) - 7)):
                continue  # "bug 1234", "#12", "v2": a reference, not a count
            if 1900 <= value <= 2100 and _YEAR_BEFORE.search(window):
                continue
            last_measure = measure
            found.append((m.start(), measure))
            found_at.append(m.start())
            if (measure, value) in seen:
                continue
            seen.add((measure, value))
            if sentences is None:
                sentences = _Sentences(joined)
            line = para[bisect.bisect_right(starts, m.start()) - 1][0]
            counts.append(
                {
                    "measure": measure,
                    "value": value,
                    "field": None,
                    "sentence": sentences.at(m.start()),
                    "source_line": line,
                }
            )
    return counts
