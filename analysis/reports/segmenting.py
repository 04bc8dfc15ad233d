"""Headings, sections and "Label: value" fields of one text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import eras
from .vocabulary import _CONTAINERS, _KNOWN_LABELS, _SECTION_ALIASES, _clean_label, _key, _strip_md

# --- the document model -----------------------------------------------------------------------

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$")
_FIELD_BOLD = re.compile(
    r"^\s*(?:[-*+\u2022]\s+|\d+[.)]\s+)?(?:\*\*|__)(?P<label>[^*_\n]{1,120}?)\s*"
    r"(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:)\s*(?P<value>.*)$"
)
_FIELD_PLAIN = re.compile(
    r"^\s*(?P<bullet>[-*+\u2022]\s+|\d+[.)]\s+)?(?P<label>[A-Za-z\"\u201c][^:\n]{0,100}?)\s*:\s*(?P<value>.*)$"
)
_CONTRIB = re.compile(
    r"contributing\s+factor\s*#?\s*(?P<n>\d+)?\s*[:.\-\u2013\u2014]?\s*(?P<title>.*)$", re.I
)
_THEMATIC_BREAK = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_UPDATED = re.compile(r"\bupdated?\b", re.IGNORECASE)


def _heading_name(title: str) -> tuple[str | None, bool]:
    """(canonical section name or None, is it marked UPDATED) for a heading's text."""
    update = bool(_UPDATED.search(title))
    t = re.sub(r"\([^)]*\)", " ", title)
    t = _strip_md(t)
    t = re.sub(r"^(?:\d+|[A-Za-z])[.)]\s+", "", t)
    t = _UPDATED.sub(" ", t)
    k = _key(t)
    name = _SECTION_ALIASES.get(k)
    if name is None and _TIMELINE_TITLE.match(k):
        name = "Timeline"  # "Preliminary timeline of events leading up to this incident:"
    return name, update


_TIMELINE_TITLE = re.compile(
    r"^(?:(?:preliminary|initial|detailed|updated) )?timeline of (?:the )?(?:events|actions)\b"
)


# Every section alias has a word that a line naming it must contain (lower-cased, emphasis markers
# dropped): a cheap test before _heading_name, since most short lines are not headings. Derived
# from the aliases, so a new alias needs nothing here.
_ALIAS_WORDS = tuple(sorted({max(alias.split(), key=len) for alias in _SECTION_ALIASES}))


def _may_name_section(text: str) -> bool:
    low = text.lower()
    if "*" in low or "_" in low or "`" in low:
        low = low.replace("*", "").replace("_", "").replace("`", "")
    return any(w in low for w in _ALIAS_WORDS)


@dataclass
class _Heading:
    name: str | None
    title: str
    line: int
    level: int
    update: bool
    era: str | None = None


@dataclass
class _Section:
    name: str
    heading: _Heading
    lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines).strip("\n").strip()


def _segment(lines: list[tuple[int, str]]) -> tuple[list[_Heading], list[_Section]]:
    """Headings (markdown, bold lines, plain lines) -> sections. Chrome lines are already gone,
    except comment boundaries, passed in as text None."""
    headings: list[_Heading] = []
    sections: list[_Section] = []
    current: _Section | None = None
    for num, text in lines:
        if text is None or _THEMATIC_BREAK.match(text):  # comment boundary, "---"
            current = None
            continue
        hit = eras.heading(text) if eras.may_open(text) else None
        if hit is not None:
            name, title, era = hit
            heading = _Heading(name, title, num, 3, False, era.ERA)
            headings.append(heading)
            current = _Section(name, heading)
            answer = era.inline_answer(text) if hasattr(era, "inline_answer") else ""
            if answer:
                current.lines.append((num, answer))  # the answer shares the question's line
            sections.append(current)
            for extra in era.also_answers(text) if hasattr(era, "also_answers") else []:
                sections.append(_Section(extra, heading, current.lines))  # one answer, two questions
            continue
        md = _MD_HEADING.match(text) if len(text) <= 400 else None
        heading = None
        if md:
            level = len(md.group(1))
            title = md.group(2).strip()
            name, update = _heading_name(title)
            if name is None and _CONTRIB.search(title) and current and current.name == "Root Cause Analysis":
                current.lines.append((num, text))
                continue
            heading = _Heading(name, _strip_md(title), num, level, update)
            if name is None and current is not None and level > current.heading.level:
                current.lines.append((num, text))
                continue
        else:
            stripped = text.strip()
            # a plain heading is a few words (the longest alias has six)
            if (
                stripped
                and len(stripped) <= 80
                and len(stripped.split(None, 9)) <= 9
                and _may_name_section(stripped)  # none in the line: none in its bold part either
                and not _FIELD_BOLD.match(text)
            ):
                bold = _BOLD_LINE.match(text)
                candidate = bold.group(1) if bold else stripped
                name, update = _heading_name(candidate) if _may_name_section(candidate) else (None, False)
                in_rca = current is not None and current.name == "Root Cause Analysis"
                bulleted = re.match(r"^\s*[-*+\u2022]\s", text) is not None
                if name and not bulleted and not (in_rca and name == "Timeline"):
                    level = current.heading.level if current else 3
                    heading = _Heading(name, _strip_md(candidate).rstrip(":"), num, level, update)
        if heading is None:
            if current is not None:
                current.lines.append((num, text))
            continue
        headings.append(heading)
        if heading.name is None or heading.name in _CONTAINERS:
            current = None
            continue
        current = _Section(heading.name, heading)
        sections.append(current)
    return headings, sections


def _collect_fields(section_lines: list[tuple[int, str]]) -> list[tuple[str, str, int]]:
    """(label, value, line) for each field line; values continue on indented/following lines."""
    out: list[tuple[str, str, int]] = []
    current: list | None = None
    pending_blank = False
    for num, text in section_lines:
        m = _FIELD_BOLD.match(text)
        label = value = None
        if m:
            label, value = m.group("label"), m.group("value")
        else:
            p = _FIELD_PLAIN.match(text)
            if p and not re.match(r"^\s*https?$", p.group("label")):
                lab = _clean_label(p.group("label"))
                if len(lab.split()) <= 12 and (p.group("bullet") or _key(lab) in _KNOWN_LABELS):
                    label, value = p.group("label"), p.group("value")
        if label is not None:
            current = [_clean_label(label), _strip_md(value or ""), num]
            out.append(current)  # type: ignore[arg-type]
            pending_blank = False
            continue
        if current is None:
            continue
        if not text.strip():
            pending_blank = True
            continue
        indented = re.match(r"^\s{2,}\S", text) is not None
        if _MD_HEADING.match(text) or (pending_blank and not indented):
            current = None
            continue
        if re.match(r"^\s*(?:[-*+\u2022]|\d+[.)])\s", text) and not indented:
            current = None
            continue
        current[1] = (current[1] + " " + _strip_md(text)).strip()
        pending_blank = False
    return [(label, value, line) for label, value, line in out]
