"""The Timeline section (or a 7-question answer 2, or dated prose lines) -> timeline rows."""

from __future__ import annotations

import datetime as dt
import re

from ..formats import parse_zone
from .dates import _MON, _ZONE_TOKEN_RE, _zone_from_note, parse_time_only_row, parse_timeline_row
from .segmenting import _Section
from .tables import _split_cells, is_separator
from .vocabulary import _lowered, _problem, _strip_md

_ISO_YEAR = re.compile(r"\b((?:19|20)\d{2})[-/.]\d{1,2}[-/.]\d{1,2}\b")
_MONTH_YEAR = rf"\b{_MON}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})\b"
_MONTH_YEAR_I = re.compile(_MONTH_YEAR, re.IGNORECASE)
_MONTH_YEAR_LOWER = re.compile(_MONTH_YEAR)  # on lower-cased text: the same matches, faster


class Year:
    """The year for year-less timeline dates: the comment's year when known, else the latest year
    written in a full date in the text, which is looked for only when a row needs it (reading the
    whole text again for it cost a tenth of the parse, and most texts write every year)."""

    def __init__(self, year: int | None, text: str = "") -> None:
        self._year = year
        self._text: str | None = text if year is None else None

    @property
    def known(self) -> int | None:
        return self._year

    def get(self) -> int | None:
        if self._text is not None:
            self._year, self._text = _latest_year(self._text), None
        return self._year

    @property
    def pending(self) -> bool:
        return self._text is not None


def _wants_year(text: str, zone: dt.tzinfo | None, note_line: str) -> bool:
    """Would this line be a row if the year of year-less dates were known? Tried with 2000, a leap
    year, so that any day and month valid in some year is valid here: the text is searched for
    its latest year only when a line needs it."""
    row = parse_timeline_row(text, zone=zone, zone_context=note_line, year=2000)
    return row is not None and not row.get("no_year")


def _latest_year(text: str) -> int | None:
    years = [int(y) for y in _ISO_YEAR.findall(text)]
    low = _lowered(text)
    years += [
        int(y) for y in (_MONTH_YEAR_LOWER.findall(low) if low is not None else _MONTH_YEAR_I.findall(text))
    ]
    # 2/8/2018, 06-July-2020, 6 July 2020
    years += [int(y) for y in re.findall(r"\b\d{1,2}/\d{1,2}/((?:19|20)\d{2})\b", text)]
    years += [
        int(y)
        for y in re.findall(
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?[\s-]{_MON}\.?[\s,-]+((?:19|20)\d{{2}})\b", text, re.I
        )
    ]
    return max(years) if years else None


# "On October 13th we became aware ...": a sentence that starts with its date, not a dated line
_NARRATIVE = re.compile(r"^(?:[-*+\u2022]\s*)?(?:on|around|approx\.?|approximately)\s", re.IGNORECASE)
_PARENS = re.compile(r"\([^)]{0,40}\)")
_HEADER_ZONE = re.compile(r"^[\s|*]*(?:date|time|when|yyyy)\b", re.IGNORECASE)
_TABLE_HEADER_WORDS = re.compile(
    r"^(?:date|time|date\s*/\s*time|date and time|when|event|description|action)$", re.I
)


def _parse_timeline(
    section: _Section,
    all_lines: list[tuple[int, str]],
    year: Year,
    problems: list[dict],
    reference: dt.date | None = None,
) -> list[dict]:
    # The zone note: the heading, then the section's own lines, then anywhere in the text.
    zone: dt.tzinfo | None = None
    note_line = ""
    candidates = [(section.heading.line, section.heading.title)]
    if _ZONE_TOKEN_RE.search(section.heading.title):
        try:
            z = _ZONE_TOKEN_RE.search(section.heading.title)
            zone = parse_zone(z.group(0), context=section.heading.title)  # type: ignore[union-attr]
            note_line = section.heading.title
        except ValueError as exc:
            problems.append(_problem("timeline.ambiguous_zone", section.heading.line, str(exc)))
    if zone is None:
        # a column header naming the zone ("| Date/time (UTC) | Event |", "Date Time (UTC) Event")
        for num, text in [c for c in section.lines if c[1].strip()][:3]:
            if _HEADER_ZONE.match(text) and not re.search(r"\d{4}", text):
                z = _ZONE_TOKEN_RE.search(text[:200])
                if z is not None:
                    try:
                        zone, note_line = parse_zone(z.group(0), context=text), text
                    except ValueError as exc:
                        problems.append(_problem("timeline.ambiguous_zone", num, str(exc)))
                    break
    if zone is None:
        own = {n for n, _ in section.lines}
        candidates = list(section.lines) + [c for c in all_lines if c[0] not in own]
        for num, text in candidates:
            z, err = _zone_from_note(text)
            if z is not None:
                zone, note_line = z, text
                break
            if err:
                problems.append(_problem("timeline.ambiguous_zone", num, err))
                break
    return _rows(section.lines, zone, note_line, year, problems, reference)


def _rows(
    lines: list[tuple[int, str]],
    zone: dt.tzinfo | None,
    note_line: str,
    year: Year,
    problems: list[dict],
    reference: dt.date | None,
    *,
    prose: bool = False,
) -> list[dict]:
    """Timeline rows of `lines`. With `prose`, only dated lines count and nothing else is a problem."""
    rows: list[dict] = []
    prev: dict | None = None
    blank = False
    day: tuple[dt.date, dict] | None = None  # the last date line, for time-only rows under it
    for num, text in lines:
        s = text.strip()
        if not s:
            blank = True
            continue
        if is_separator(s):
            continue
        row = parse_timeline_row(
            text, zone=zone, zone_context=note_line, year=year.known, reference=reference
        )
        if year.pending and (row is None or row.get("no_year")) and _wants_year(text, zone, note_line):
            row = parse_timeline_row(
                text, zone=zone, zone_context=note_line, year=year.get(), reference=reference
            )
        if row is None and day is not None:
            row = parse_time_only_row(text, day[0], zone=zone, zone_context=note_line)
            if row is not None and not day[1]["text"]:
                day[1]["_heading"] = True  # the date line was a heading for its times, not an event
        if row is not None and row.get("date_only") and row.get("when"):
            day = (dt.date.fromisoformat(row["when"]), row)
        if prose and row is not None and (row.get("no_year") or not row.get("text") or _NARRATIVE.match(s)):
            row = None
        if row is not None and row.get("no_year"):
            problems.append(
                _problem(
                    "timeline.no_year", num, "Timeline row has a date without a year and no year is known"
                )
            )
            prev, blank = None, False
            continue
        if row is not None:
            zp = row.pop("zone_problem", None)
            if zp:
                problems.append(_problem("timeline.ambiguous_zone", num, zp))
            row["source_line"] = num
            rows.append(row)
            prev, blank = row, False
            continue
        if s.startswith("|"):
            cells = _split_cells(s, "md")
            if all(_TABLE_HEADER_WORDS.match(_PARENS.sub("", _strip_md(c)).strip()) or not c for c in cells):
                continue
        if prose:
            prev = None
            continue
        if _zone_from_note(s) != (None, None):
            continue
        indented = re.match(r"^\s{2,}\S", text) is not None
        listed = re.match(r"^\s*(?:[-*+\u2022]|\d+[.)])\s|^\s*\|", text) is not None
        if prev is not None and (indented or (not listed and not blank)):
            prev["text"] = (prev["text"] + " " + _strip_md(s.lstrip("-*+\u2022 "))).strip()
            continue
        blank = False
        if not listed and not re.match(rf"^(?:\d|{_MON}\b)", s, re.IGNORECASE):
            continue  # a sentence about the timeline, not a row
        problems.append(
            _problem("timeline.unparsed_row", num, f"Timeline row without a date: {_strip_md(s)[:80]!r}")
        )
    # a date line with no event and no times under it ("2024-04-11:" left empty) is not a row
    rows = [r for r in rows if not r.get("_heading") and (r["text"] or not r.get("date_only"))]
    for r in rows:
        r.pop("date_only", None)
    no_zone = [r for r in rows if r.pop("no_zone", False)]
    if no_zone:
        problems.append(
            _problem(
                "timeline.no_zone",
                no_zone[0]["source_line"],
                f"{len(no_zone)} timeline row(s) have no time zone (neither in the row nor a note such as "
                "'All times are UTC')",
            )
        )
    return rows


def find_zone(lines: list[tuple[int, str]], problems: list[dict]) -> tuple[dt.tzinfo | None, str]:
    """The first zone note in `lines`: (zone, the note's line) or (None, "")."""
    for num, text in lines:
        z, err = _zone_from_note(text)
        if z is not None:
            return z, text
        if err:
            problems.append(_problem("timeline.ambiguous_zone", num, err))
            break
    return None, ""


def prose_timeline(
    lines: list[tuple[int, str]], year: Year, problems: list[dict], reference: dt.date | None = None
) -> list[dict]:
    """Dated lines in a text without a Timeline heading (a preliminary report's prose)."""
    zone, note = find_zone(lines, problems)
    return _rows(lines, zone, note, year, problems, reference, prose=True)
