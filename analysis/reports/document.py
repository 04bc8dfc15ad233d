"""One text -> the structured report (the parts put together; pure)."""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .action_items import _merge_tables, normalise_kind, normalise_status
from .chrome import _COMMENT_BOUNDARY, is_chrome
from .closure import _parse_closure
from .counts import _collect_counts
from .eras import v1_v2, v3
from .segmenting import (
    _CONTRIB,
    _FIELD_BOLD,
    _FIELD_PLAIN,
    _MD_HEADING,
    _UPDATED,
    _collect_fields,
    _Section,
    _segment,
)
from .tables import _column_of, _header_style, _parse_tables, _Table
from .timeline import Year, _parse_timeline, prose_timeline
from .vocabulary import _ATTESTATION_RE, CLOSURE, FULL, PRELIMINARY, _clean_label, _key, _problem, _strip_md

# --- one text ---------------------------------------------------------------------------------


@dataclass
class _Parsed:
    kind: str | None
    sections: dict[str, str]
    outline: list[dict]
    fields: dict[str, str]
    timeline: list[dict]
    tables: list[_Table]
    root_causes: list[dict]
    closure: dict | None
    counts: list[dict]
    problems: list[dict]
    kinds: list[str]
    era: str | None = None


def _parse_text(text: str, *, year: int | None = None, reference: dt.date | None = None) -> _Parsed:
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    kept: list[tuple[int, str | None]] = []
    for i, line in enumerate(raw_lines, start=1):
        if is_chrome(line):
            if _COMMENT_BOUNDARY.match(line.strip()):
                kept.append((i, None))
            continue
        kept.append((i, line.rstrip()))
    content = [(n, t) for n, t in kept if t is not None]
    problems: list[dict] = []

    headings, sections = _segment(kept)  # type: ignore[arg-type]
    by_name: dict[str, _Section] = {}
    for s in sections:
        by_name[s.name] = s  # the last occurrence wins

    # fields: everything but the closure, timeline, action items and root cause blocks
    excluded = {"Timeline", "Action Items", "Root Cause Analysis", CLOSURE}
    section_of: dict[int, str] = {}
    for s in sections:
        for n, _ in s.lines:
            section_of[n] = s.name
    heading_lines = {h.line for h in headings}
    # a heading ends the field above it: shown to the collector as a markdown heading
    field_source = [
        (n, "# " + t if n in heading_lines else t) for n, t in content if section_of.get(n) not in excluded
    ]
    field_list = _collect_fields(field_source)
    fields: dict[str, str] = {}
    for label, value, _line in field_list:
        fields[label] = value

    # root causes: "Contributing Factor #n: title" blocks and their Description
    root_causes: list[dict] = []
    rca = by_name.get("Root Cause Analysis")
    if rca is not None:
        starts: list[int] = []
        for idx, (num, t) in enumerate(rca.lines):
            md = _MD_HEADING.match(t)
            m = _CONTRIB.match(_strip_md(md.group(2) if md else t).strip().lstrip("-*+ "))
            if m and len(t.strip()) < 160:
                title = _clean_label(m.group("title")) or f"Contributing Factor {m.group('n') or ''}".strip()
                root_causes.append({"title": title, "description": None, "source_line": num})
                starts.append(idx)
        for k, rc in enumerate(root_causes):
            end = starts[k + 1] if k + 1 < len(starts) else len(rca.lines)
            for label, value, _l in _collect_fields(rca.lines[starts[k] + 1 : end]):
                if _key(label) == "description":
                    rc["description"] = value or None
                    break

    # timeline
    years = Year(year, text)  # without a year: the latest one in the text, found when a row needs it
    timeline: list[dict] = []
    tl = by_name.get("Timeline")
    if tl is not None:
        timeline = _parse_timeline(tl, content, years, problems, reference)
    elif sections or any(h.name for h in headings):
        # no Timeline heading (a preliminary report's prose): dated lines outside tables and items
        skip = {"Action Items", CLOSURE}
        timeline = prose_timeline(
            [(n, t) for n, t in content if section_of.get(n) not in skip and n not in heading_lines],
            years,
            problems,
            reference,
        )
    else:
        # no headings at all (a first comment written as prose): a run of dated lines is its timeline
        found: list[dict] = []
        rows = prose_timeline(content, years, found, reference)
        if len(rows) >= 2:
            timeline = rows
            problems.extend(found)

    # 7-question answers: a report when it answers the questions (a section with text under it),
    # not a list of the questions asked (a root program's request)
    seven_heads = [h for h in headings if h.era == "7-question"]
    answered = sum(
        1
        for s in sections
        if s.heading.era == "7-question" and any(t.strip() and not _LISTED_Q.match(t) for _, t in s.lines)
    )
    tl_section = by_name.get("Timeline")
    dated = bool(timeline) and tl_section is not None and tl_section.heading.era == "7-question"
    seven_report = bool(seven_heads) and (answered >= 3 or (answered >= 2 and dated))

    # action items: every table anywhere; tables under an "UPDATED" heading or introduced as updated
    update_lines: set[int] = set()
    for s in sections:
        if s.name == "Action Items" and s.heading.update:
            update_lines.update(n for n, _ in s.lines)
    for idx, (_n, t) in enumerate(content):
        # "update" in the lower-cased line: a tenth of the cost of the pattern, which needs it
        if "update" not in t.lower():
            continue
        if _UPDATED.search(t) and _ACTION_ITEMS.search(t) and not _header_style(t):
            update_lines.update(m for m, _ in content[idx : idx + 4])
    tables = _parse_tables(content, update_lines)
    # an Action Items section without a table: list items become items (no kind/due/status)
    ai_sections = [
        s for s in sections if s.name == "Action Items" and (seven_report or s.heading.era != "7-question")
    ]
    table_lines = sorted(t.line for t in tables)
    for s in ai_sections:
        lo, hi = s.heading.line, (s.lines[-1][0] if s.lines else s.heading.line)
        k = bisect.bisect_left(table_lines, lo)
        if k < len(table_lines) and table_lines[k] <= hi:
            continue
        table = _Table(line=s.heading.line, update=s.heading.update)
        for num, t in s.lines:
            m = re.match(r"^(?:[-*+\u2022]|\d+[.)])\s+(.*)$", t)  # top-level items only
            if m and not _FIELD_BOLD.match(t):
                table.rows.append({"source_line": num, **_bullet_item(_strip_md(m.group(1)))})
            elif table.rows:
                fm = _FIELD_PLAIN.match(t) or _FIELD_BOLD.match(t)
                if fm:
                    col = _column_of(_clean_label(fm.group("label")))
                    if col and col != "item":
                        table.rows[-1][col] = _strip_md(fm.group("value"))
        if table.rows:
            tables.append(table)
    prose = _prose_updates(content)
    if prose.rows:
        tables.append(prose)
    tables.sort(key=lambda t: t.line)

    closure = _parse_closure(by_name[CLOSURE]) if CLOSURE in by_name else None
    if closure is None:
        if _may_attest(content) and _ATTESTATION_RE.search(" ".join(_strip_md(t) for _, t in content)):
            problems.append(
                _problem(
                    "closure.no_heading",
                    None,
                    "Closure attestation found without a Report Closure Summary heading",
                )
            )

    inline = {h.line for h in headings if h.era}  # 7-question answers may share the question's line
    answers = {
        n: t for s in sections if s.heading.line in inline for n, t in s.lines[:1] if n == s.heading.line
    }
    counts = _collect_counts(
        [
            (n, answers.get(n, t))
            for n, t in content
            if section_of.get(n) != CLOSURE and (n not in heading_lines or n in answers)
        ],
        field_list,
    )

    # era: the template the text follows
    seven = sum(1 for h in headings if h.era == "7-question")
    field_keys = {_key(k) for k in fields}
    days = [r.get("when_utc") or r.get("when") for r in timeline]
    latest = max((str(d)[:10] for d in days if d), default=None)
    # "Preliminary Incident Report" headings were written before 3.0 named them (2024 reports):
    # without a 3.x field, a heading alone says v3 only when nothing is dated before 3.0
    v3_heads = any(_key(h.title) in v3.HEADINGS for h in headings)
    if seven >= 2:
        era: str | None = "7-question" if seven_report else None  # a list of the questions asked
    elif any(any(k.startswith(m) for m in v3.MARKERS) for k in field_keys) or (
        v3_heads and not (latest and latest < v3.IN_FORCE_FROM.isoformat())
    ):
        era = "v3"
    elif sections:
        # plain sections: the 1.0/2.0 template, or a free-form report written before any template
        era = "free-form" if latest and latest < v1_v2.IN_FORCE_FROM.isoformat() else "v1-v2"
    else:
        era = None

    # kind: each report heading says what its report is; "Incident Report" followed by "This is a
    # preliminary report" is preliminary; a text without report headings is judged by what it says
    # and by its sections.
    kinds: list[str] = []
    prelim = full = False
    report_heads = [h for h in headings if h.name in (PRELIMINARY, FULL)]
    for h in report_heads:
        if h.name == PRELIMINARY or (
            _key(h.title) == "incident report" and _PRELIM_SAID.search(_after(content, h.line))
        ):
            prelim = True
        else:
            full = True
    if seven_report:
        before = [(n, t) for n, t in content if n < seven_heads[0].line and t.strip()][-12:]
        if not report_heads and _says_preliminary(before):
            prelim = True  # "This is a preliminary incident report." then the seven answers
        else:
            full = True
    if not report_heads and not seven_heads:
        if _says_preliminary(content[:80]):
            prelim = True
        full_sections = {"Impact", "Timeline", "Root Cause Analysis", "Lessons Learned"}
        non_update_ai = any(s.name == "Action Items" and not s.heading.update for s in sections)
        if not prelim and len(full_sections & set(by_name)) + int(non_update_ai) >= 2:
            full = True
    if prelim:
        kinds.append("preliminary")
    if full:
        kinds.append("full")
    if closure is not None:
        kinds.append("closure")
    if len(kinds) > 1:
        kind = "mixed"
    elif kinds:
        kind = kinds[0]
    elif tables:
        kind = "update"
    else:
        kind = None
    if kind is None and not sections and not fields:
        problems.append(
            _problem(
                "report.unrecognised", None, "No incident report, closure summary or action items recognised"
            )
        )

    outline = [{"name": h.name, "title": h.title, "line": h.line, "level": h.level} for h in headings]
    return _Parsed(
        kind=kind,
        sections={s.name: by_name[s.name].text for s in sections if by_name[s.name] is s},
        outline=outline,
        fields=fields,
        timeline=timeline,
        tables=tables,
        root_causes=root_causes,
        closure=closure,
        counts=counts,
        problems=problems,
        kinds=kinds,
        era=era,
    )


_ACTION_ITEMS = re.compile(r"action\s+items?", re.IGNORECASE)


def _may_attest(content: list[tuple[int, str]]) -> bool:
    """False when the text cannot hold the closure attestation: it has no "completed" once
    emphasis markers are dropped (a cheap test before joining every line for the pattern)."""
    low = "\n".join(t for _, t in content).lower()
    return "completed" in low.replace("*", "").replace("_", "").replace("`", "")


# "Action Item #2 (alert on latency) has been completed": a later comment updating an item it
# names by number, in prose.
_PROSE_UPDATE = re.compile(
    r"\baction\s+item\s*(?:#|no\.?|number)?\s*(?P<n>\d{1,3})\b(?P<rest>[^.\n]{0,160})", re.IGNORECASE
)
_PROSE_STATUS = re.compile(
    r"\b(?:has\s+been|have\s+been|is\s+now|is|was|are\s+now|now)\s+(?:fully\s+)?"
    r"(?P<s>complete[d]?|done|finished|implemented|deployed|delayed|cancel+ed|withdrawn)\b",
    re.IGNORECASE,
)


def _prose_updates(content: list[tuple[int, str]]) -> _Table:
    """Items updated in prose, as rows of an update table (matched to earlier items by number)."""
    table = _Table(line=content[0][0] if content else 0, update=True)
    for num, t in content:
        if "ction" not in t or "|" in t or len(t) > 2000:
            continue
        for m in _PROSE_UPDATE.finditer(t):
            st = _PROSE_STATUS.search(m.group("rest"))
            if st:
                table.rows.append(
                    {
                        "source_line": num,
                        "id": m.group("n"),
                        "item": "",
                        "status": st.group("s"),
                        "prose": True,
                    }
                )
    return table


_PAREN_TAIL = re.compile(r"^(?P<item>.+?)\s*\((?P<cells>[^()]{3,120})\)\s*\.?$")
_DUE = re.compile(r"(?:due|by|target)?\s*:?\s*(?P<d>\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})", re.I)


def _bullet_item(text: str) -> dict:
    """A listed action item; "(Prevent, due 2024-08-15, Complete)" at its end fills the columns."""
    m = _PAREN_TAIL.match(text[:2000])
    if not m:
        return {"item": text}
    row: dict = {}
    for part in m.group("cells").split(","):
        part = part.strip()
        d = _DUE.fullmatch(part)
        if d:
            row.setdefault("due", d.group("d"))
        elif normalise_kind(part):
            row.setdefault("kind", part)
        elif normalise_status(part):
            row.setdefault("status", part)
    if not row:
        return {"item": text}
    return {"item": m.group("item").strip(), **row}


# A report saying what it is: "This is a preliminary report", "this preliminary report",
# "Preliminary report:"; not a sentence about another report ("the initial report had ...").
# "3) Complete list of ...": another numbered question of a list of questions, not an answer
_LISTED_Q = re.compile(r"^\s*\d{1,2}[.)]\s")
_PRELIM_SAID = re.compile(
    r"\bthis\s+(?:is\s+(?:a|an|our|the)\s+)?(?:preliminary|initial)\s+(?:incident\s+)?report\b"
    r"|(?:^|[.!]\s)preliminary(?:\s+incident)?\s+report\s*(?:[:.;]|$)",
    re.IGNORECASE,
)
# a line that is only "PRELIMINARY NOTICE" / "Preliminary report:"
_PRELIM_LINE = re.compile(r"preliminary(?:\s+incident)?\s+(?:report|notice)\s*[:.]?", re.IGNORECASE)


def _says_preliminary(lines: list[tuple[int, str]]) -> bool:
    return any(_PRELIM_LINE.fullmatch(_strip_md(t).strip()) or _PRELIM_SAID.search(t[:300]) for _, t in lines)


def _after(content: list[tuple[int, str]], line: int, n: int = 4) -> str:
    """The first `n` non-empty lines after `line`, joined (bounded: found by bisection)."""
    out: list[str] = []
    start = bisect.bisect_right(content, (line, "\uffff"))
    for num, t in content[start : start + 50]:
        if num > line and t.strip():
            out.append(t[:300])
            if len(out) >= n:
                break
    return " ".join(out)


def _to_dict(p: _Parsed, action_items: list[dict]) -> dict:
    return {
        "kind": p.kind,
        "era": p.era,
        "parts": list(dict.fromkeys(p.kinds)),
        "filed": None,
        "sections": p.sections,
        "outline": p.outline,
        "fields": p.fields,
        "timeline": p.timeline,
        "action_items": action_items,
        "root_causes": p.root_causes,
        "closure_summary": p.closure,
        "counts": p.counts,
        "problems": p.problems,
    }


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a text is parsed. Parsing makes millions of small
    objects (rows, items, tuples) that form no cycles; the collector walked them again and again
    for nothing (a quarter of the time on 100,000 table rows). Freed objects are still freed at
    once by reference counting; the collector is switched back on only if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def parse_report(text: str, *, year: int | None = None) -> dict:
    """Parse one report, closure summary or pasted bug page. Never raises on content.

    `year` is the year of the comment the text sits in (for year-less timeline dates); without
    it the latest year written in a full date in the text is used.
    """
    with gc_paused():
        p = _parse_text(text, year=year)
        items = _merge_tables(((t, None) for t in p.tables), p.problems)
        return _to_dict(p, items)
