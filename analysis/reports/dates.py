"""Dates, times and zones of timeline rows: every written form we meet, one row at a time."""

from __future__ import annotations

import datetime as dt
import re

from ..formats import format_time, parse_zone
from .vocabulary import _strip_md

# --- dates, times and zones -------------------------------------------------------------------

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ZONE_TOKEN = (
    r"(?:beijing\s+time|china\s+standard\s+time|(?:utc|gmt)\s*[+\-\u2212]\s*\d{1,2}(?::?\d{2})?"
    r"|[+\-\u2212]\d{2}:?\d{2}\b|\butc\b|\bgmt\b"
    r"|pacific\s+time|eastern\s+time|arizona(?:\s+time)?|\baz\s+time"
    r"|(?-i:\b(?:UTC|GMT|IST|JST|KST|CEST|CET|EEST|EET|EST|EDT|PST|PDT|CST|PT|ET)\b))"
)
_ZONE_TOKEN_RE = re.compile(_ZONE_TOKEN, re.IGNORECASE)
# In a row, "08:00-10:00" is a range: a bare negative offset counts only after seconds.
_ROW_ZONE = _ZONE_TOKEN.replace(
    r"|[+\-\u2212]\d{2}:?\d{2}\b", r"|\+\d{2}:?\d{2}\b|(?<=\d\d:\d\d:\d\d)[\-\u2212]\d{2}:?\d{2}\b"
)

# Rows are matched on their first _HEAD characters with whitespace collapsed to one space, so
# no pattern here can backtrack over a long run (linear time on hostile input).
_HEAD = 160
_LEAD = r"^ ?(?:(?:[-*+\u2022]|\d+[.)]) )?\|? ?(?:\*\*|__)? ?(?:(?:on|around|approx\.?|approximately|~) )?"
_DATE_ISO = r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
# 12.09.2025 is day.month.year (the dotted form is European); 7/29/2024 is month/day/year unless
# the first number cannot be a month.
_DATE_DOTTED = r"(?P<d3>\d{1,2})\.(?P<m3>\d{1,2})\.(?P<y3>\d{4})"
_DATE_SLASH = r"(?P<a4>\d{1,2})/(?P<b4>\d{1,2})/(?P<y4>\d{4})"
_DATE_MDY = (
    rf"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s)?"
    rf"(?P<mon1>{_MON})\.?\s(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:[,.]?\s(?P<y1>\d{{4}}))?"
)
_DATE_DMY = (
    rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:\s(?:of\s)?|-)(?P<mon2>{_MON})\.?(?:(?:,?\s|-)(?P<y2>\d{{4}}))?"
)
# 5/18 with the year known from elsewhere in the text (only with a time: "5/18 1am UTC: ...")
_DATE_MD = r"(?P<a5>\d{1,2})/(?P<b5>\d{1,2})(?![/\d])"
# "07-July through 09-July 2020": the row is dated by the range's first day
_DATE_RANGE = (
    rf"(?: (?:through|thru|until|to) (?:\d{{1,2}}(?:st|nd|rd|th)?[ -]{_MON}\.?|{_MON}\.? \d{{1,2}}(?:st|nd|rd|th)?"
    r"|\d{1,2}/\d{1,2}(?=[/ ])|\d{4}-\d{1,2}-\d{1,2})(?:(?:,? |/)\d{4})?)?"
)
_TIME = (
    r"(?:\*\*)?(?:,? ?(?:@|\||-|\u2013|at)? ?|T)(?:\*\*)? ?"
    r"(?P<H>\d{1,2})(?::(?P<M>\d{2}))?(?::(?P<S>\d{2}))?(?:\.\d+)? ?(?P<ampm>[ap]\.? ?m\b\.?)?"
)
_ROW_RE = re.compile(
    _LEAD
    + rf"(?:{_DATE_ISO}|{_DATE_DOTTED}|{_DATE_SLASH}|{_DATE_MDY}|{_DATE_DMY}|{_DATE_MD})(?![\d/.-]\d)"
    + _DATE_RANGE
    + rf"(?:{_TIME})?"
    + r"(?: ?(?:\u2013|~|\bto\b|(?<!\d\d:\d\d:\d\d)-) ?\d{1,2}:\d{2}(?: ?[ap]\.?m\b\.?)?)?"
    + rf"(?: ?\(? ?(?P<zone>{_ROW_ZONE}|(?<=\d)Z\b) ?\)?)?",
    re.IGNORECASE,
)
# "08:16 UTC & 08:25 UTC", "1/30/2019 23:36:32 UTC and 1/30/2019 23:35:55 UTC": a second time
# (with or without its date) after the row's own; the row is dated by the first
_SECOND_TIME = re.compile(
    r"^(?:&|and|/)\s?(?:(?:\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{1,2}-\d{1,2})\s)?\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s?[ap]\.?m\b\.?)?(?:\s?(?:UTC|GMT|Z)\b)?[\s:\-\u2013]*",
    re.IGNORECASE,
)
_ROW_SEP = re.compile(r"^(?:\s|\*\*|__|[:|,\-\u2013\u2014.])*")
_ZONE_NOTE_RE = re.compile(
    r"\b(?:all\s+(?:times?|timestamps?|dates?)|(?:times?|timestamps?)\s+(?:below\s+)?"
    r"(?:are|is|in|given|shown|listed|stated)|time\s*zone|timezone)\b",
    re.IGNORECASE,
)
# A time-only row under a date line ("- 00:22 UTC ..." after "2024-05-02:"), as in the v2.0 template.
_TIME_ONLY_RE = re.compile(
    r"^ ?(?:[-*+\u2022] )?\|? ?(?:\*\*)?(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))? ?"
    rf"(?P<ampm>[ap]\.? ?m\b\.?)?(?: ?\(? ?(?P<zone>{_ROW_ZONE}|Z\b) ?\)?)?",
    re.IGNORECASE,
)


# "All times are local Norwegian times (CEST)": the country's clock, whose offset follows the date
# (CET in March before the change, CEST after), wins over the season's abbreviation written beside it.
_LOCAL_ZONES = {
    "norwegian": "Europe/Oslo",
    "norway": "Europe/Oslo",
    "swedish": "Europe/Stockholm",
    "danish": "Europe/Copenhagen",
    "finnish": "Europe/Helsinki",
    "german": "Europe/Berlin",
    "dutch": "Europe/Amsterdam",
    "belgian": "Europe/Brussels",
    "french": "Europe/Paris",
    "spanish": "Europe/Madrid",
    "italian": "Europe/Rome",
    "swiss": "Europe/Zurich",
    "austrian": "Europe/Vienna",
    "polish": "Europe/Warsaw",
    "czech": "Europe/Prague",
    "slovak": "Europe/Bratislava",
    "hungarian": "Europe/Budapest",
    "greek": "Europe/Athens",
    "portuguese": "Europe/Lisbon",
    "uk": "Europe/London",
    "british": "Europe/London",
    "irish": "Europe/Dublin",
    "turkish": "Europe/Istanbul",
    "japanese": "Asia/Tokyo",
    "japan": "Asia/Tokyo",
    "korean": "Asia/Seoul",
    "korea": "Asia/Seoul",
    "taiwan": "Asia/Taipei",
    "taiwanese": "Asia/Taipei",
}
_LOCAL_NOTE = re.compile(
    r"\blocal\s+(?P<a>[a-z]+)\s+times?\b|\b(?P<b>[a-z]+)\s+local\s+times?\b", re.IGNORECASE
)


def _local_zone(line: str) -> dt.tzinfo | None:
    for m in _LOCAL_NOTE.finditer(line[:400]):
        name = _LOCAL_ZONES.get((m.group("a") or m.group("b")).lower())
        if name:
            from zoneinfo import ZoneInfo

            return ZoneInfo(name)
    return None


def _zone_from_note(line: str) -> tuple[dt.tzinfo | None, str | None]:
    """A zone note ("All times are UTC+8") -> (zone, None) or (None, problem text) or (None, None)."""
    m = _ZONE_NOTE_RE.search(line)
    if not m:
        return None, None
    local = _local_zone(line)
    if local is not None:
        return local, None
    z = _ZONE_TOKEN_RE.search(line, m.end())
    if not z:
        return None, None
    try:
        return parse_zone(z.group(0), context=line), None
    except ValueError as exc:
        return None, str(exc)


def _twelve_hour(h: int, ampm: str) -> int | None:
    """The 24-hour hour of "11 PM"; "23:27 PM" is a 24-hour time with a redundant PM; "23 AM" is no time."""
    if 13 <= h <= 23 and ampm == "pm":
        return h
    if not 1 <= h <= 12:
        return None
    return (h % 12) + (12 if ampm == "pm" else 0)


def _valid_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_timeline_row(
    line: str,
    *,
    zone: dt.tzinfo | None = None,
    zone_context: str = "",
    year: int | None = None,
    reference: dt.date | None = None,
) -> dict | None:
    """One timeline row -> {"when", "when_utc", "inferred_year", "text", "zone_problem"} or None.

    `zone` is the report's zone note (used when the row names none); `year` fills a year-less
    date and sets `inferred_year`; when `reference` (the comment's date) is given and the date
    would fall after it, the year before is taken ("Dec 27" in a comment of 2024-01-05 is 2023). A row with a time and no zone keeps `when` without an offset and
    has `when_utc` None. A date without a time stays a date; converted it is 00:00 in its zone.
    """
    line = " ".join(line.split())
    m = _ROW_RE.match(line[:_HEAD])
    if not m:
        return None
    g = m.groupdict()
    inferred = False
    if g["y"]:
        y, mo, d = int(g["y"]), int(g["m"]), int(g["d"])
    elif g["y3"]:
        y, mo, d = int(g["y3"]), int(g["m3"]), int(g["d3"])
    elif g["y4"]:
        a, b = int(g["a4"]), int(g["b4"])
        y, mo, d = (int(g["y4"]), a, b) if a <= 12 else (int(g["y4"]), b, a)
    elif g["a5"]:
        a, b = int(g["a5"]), int(g["b5"])
        if g["H"] is None:
            return None  # "24/7 support": a dated row has a time
        if year is None:
            return {"when": None, "when_utc": None, "inferred_year": False, "text": "", "no_year": True}
        y, mo, d = (year, a, b) if a <= 12 else (year, b, a)
        inferred = True
    else:
        mon = g["mon1"] or g["mon2"]
        d = int(g["d1"] or g["d2"])
        mo = _MONTHS[mon[:3].lower()]
        ystr = g["y1"] or g["y2"]
        if ystr:
            y = int(ystr)
        elif year is not None:
            y, inferred = year, True
            if reference is not None and (_valid_date(y, mo, d) or dt.date.min) > reference:
                y -= 1
        else:
            return {"when": None, "when_utc": None, "inferred_year": False, "text": "", "no_year": True}
    date = _valid_date(y, mo, d)
    if date is None:
        return None
    hour = minute = second = None
    m_end = m.end()
    token = g["zone"]
    if g["H"] is not None:
        h = int(g["H"])
        ampm = (g["ampm"] or "").replace(".", "").replace(" ", "").lower()
        if g["M"] is None and not ampm:
            # a bare number after the date is text ("2024-10-26 3 certificates ..."), not a time
            m_end, token = m.start("H"), None
        else:
            if ampm:
                h = _twelve_hour(h, ampm)
                if h is None:
                    return None
            if h > 23 or int(g["M"] or 0) > 59:
                return None
            hour, minute, second = h, int(g["M"] or 0), int(g["S"] or 0)
    zone_problem = None
    row_zone: dt.tzinfo | None = None
    if token:
        if token == "Z":
            row_zone = dt.UTC
        else:
            try:
                row_zone = parse_zone(token, context=line + " " + zone_context)
            except ValueError as exc:
                zone_problem = str(exc)
    tz = row_zone if (row_zone is not None or zone_problem) else zone
    rest = line[m_end:]
    text = _ROW_SEP.sub("", rest).strip()
    text = _SECOND_TIME.sub("", text)
    text = re.sub(r"\s*\|\s*$", "", text).strip()
    text = re.sub(r"\s*\|\s*", " | ", text)
    text = _strip_md(text)
    if hour is None:
        when = date.isoformat()
        when_utc = format_time(dt.datetime(y, mo, d, tzinfo=tz)) if tz is not None else None
    else:
        local = dt.datetime(y, mo, d, hour, minute, second)
        if tz is not None:
            local = local.replace(tzinfo=tz)
            when_utc = format_time(local)
        else:
            when_utc = None
        when = local.isoformat()
    row = {"when": when, "when_utc": when_utc, "inferred_year": inferred, "text": text}
    if hour is None:
        row["date_only"] = True
    if zone_problem:
        row["zone_problem"] = zone_problem
    if tz is None and not zone_problem:
        row["no_zone"] = True
    return row


def parse_time_only_row(
    line: str, date: dt.date, *, zone: dt.tzinfo | None = None, zone_context: str = ""
) -> dict | None:
    """A time-only row ("- 00:22 UTC text") under a date line -> a row on that date, or None."""
    line = " ".join(line.split())
    m = _TIME_ONLY_RE.match(line[:_HEAD])
    if not m:
        return None
    h, mi = int(m.group("H")), int(m.group("M"))
    ampm = (m.group("ampm") or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        h = _twelve_hour(h, ampm)
        if h is None:
            return None
    if h > 23 or mi > 59:
        return None
    stamp = f"{date.isoformat()} {h:02d}:{mi:02d}:{int(m.group('S') or 0):02d}"
    if m.group("zone"):
        stamp += " " + m.group("zone")
    return parse_timeline_row(
        stamp + " " + line[m.end() :], zone=zone, zone_context=zone_context, year=date.year
    )
