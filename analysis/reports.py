"""CCADB incident report text -> structured report (sections, fields, timeline, action items, closure).

Reads what CAs really post on Bugzilla: CCADB v3.x markdown reports, 1.0/2.0-style reports with
plain-line headings and tables pasted as tab- or space-separated lines, whole bug pages pasted as text
(the page chrome is skipped), and a bug's comments as the REST API returns them.

`parse_report(text)` and `parse_comments(comments)` return one plain dict (JSON-ready):

    kind            "preliminary" | "full" | "closure" | "update" | "mixed" | None
    sections        canonical section name -> text (the last occurrence wins)
    outline         [{"name", "title", "line", "level"}] every heading found, in order
    fields          "Label" -> value for "**Label:** value" and "Label: value" lines
    timeline        [{"when", "when_utc", "inferred_year", "text", "source_line"}]
    action_items    [{"item", "kind", "root_cause", "evaluation", "due", "status", "updated",
                      "source_line"}]; later tables supersede earlier rows for the same item
    root_causes     [{"title", "description", "source_line"}] from "Contributing Factor" blocks
    closure_summary {"incident_description", "root_causes", "remediation", "commitments",
                     "attestation", "source_line"} or None
    counts          [{"measure", "value", "field", "sentence", "source_line"}]
    problems        [{"code", "line", "message"}]

Lines are 1-based lines of the text (of the comment, for `parse_comments`, whose rows also carry
`comment`). Everything here is pure: no network, no model.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .formats import format_time, parse_zone

__all__ = [
    "CLOSURE_FIELDS",
    "SECTIONS",
    "ATTESTATION",
    "classify_comment",
    "is_chrome",
    "load_report",
    "normalise_kind",
    "normalise_status",
    "parse_comments",
    "parse_report",
    "parse_timeline_row",
    "to_markdown",
]

# --- vocabulary -------------------------------------------------------------------------------

SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Related Incidents",
    "Root Cause Analysis",
    "Lessons Learned",
    "Action Items",
    "Appendix",
)
CLOSURE = "Report Closure Summary"
PRELIMINARY = "Preliminary Incident Report"
FULL = "Full Incident Report"

_SECTION_ALIASES = {
    "summary": "Summary",
    "incident summary": "Summary",
    "impact": "Impact",
    "timeline": "Timeline",
    "incident timeline": "Timeline",
    "timeline of events": "Timeline",
    "related incidents": "Related Incidents",
    "root cause analysis": "Root Cause Analysis",
    "root cause": "Root Cause Analysis",
    "root causes": "Root Cause Analysis",
    "root cause s": "Root Cause Analysis",
    "lessons learned": "Lessons Learned",
    "action items": "Action Items",
    "action item": "Action Items",
    "action item table": "Action Items",
    "action items table": "Action Items",
    "appendix": "Appendix",
    "appendices": "Appendix",
    "report closure summary": CLOSURE,
    "incident report closure summary": CLOSURE,
    "closure summary": CLOSURE,
    "preliminary incident report": PRELIMINARY,
    "preliminary report": PRELIMINARY,
    "full incident report": FULL,
    "incident report": FULL,
}
_CONTAINERS = {PRELIMINARY, FULL}

CLOSURE_FIELDS = ("incident_description", "root_causes", "remediation", "commitments")
_CLOSURE_LABELS = {
    "incident description": "incident_description",
    "description": "incident_description",
    "incident root cause s": "root_causes",
    "incident root causes": "root_causes",
    "incident root cause": "root_causes",
    "root cause s": "root_causes",
    "root causes": "root_causes",
    "root cause": "root_causes",
    "remediation description": "remediation",
    "remediation": "remediation",
    "commitment summary": "commitments",
    "commitments summary": "commitments",
    "commitments": "commitments",
}

#: The closure attestation, current wording; the 2024 draft said "this Incident Report".
ATTESTATION = (
    "All Action Items disclosed in this report have been completed as described, and we request its closure."
)
_ATTESTATION_RE = re.compile(
    r"all action items disclosed in this (?:incident )?report have been completed as described,?"
    r" and we request its closure",
    re.IGNORECASE,
)

# Template fields a plain "Label: value" line may carry without a bullet.
_KNOWN_LABELS = {
    "ca owner ccadb unique id",
    "incident description",
    "timeline summary",
    "non compliance start date",
    "non compliance identified date",
    "non compliance end date",
    "relevant policies",
    "source of incident disclosure",
    "total number of certificates",
    "total number of remaining valid certificates",
    "affected certificate types",
    "incident heuristic",
    "was issuance stopped in response to this incident and why not",
    "analysis",
    "additional considerations",
    "what went well",
    "what didn t go well",
    "what didnt go well",
    "where we got lucky",
    "additional",
    "remediation description",
    "commitment summary",
    "incident root cause s",
}

# --- small helpers ----------------------------------------------------------------------------


def _key(text: str) -> str:
    """Lowercase words only: the comparison key for labels and headings."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _strip_md(text: str) -> str:
    """Drop emphasis markers and stray backticks; collapse whitespace."""
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    return " ".join(text.split())


def _clean_label(label: str) -> str:
    label = _strip_md(label).strip().rstrip(":").strip()
    return label.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")


def _problem(code: str, line: int | None, message: str) -> dict:
    return {"code": code, "line": line, "message": message}


# --- Bugzilla page chrome ---------------------------------------------------------------------

_BZ_FIELDS = (
    r"status|resolution|whiteboard|flags|assignee|summary|keywords|severity|priority|cc|see also|blocks"
    r"|depends on|product|component|type|version|points|alias|url|qa contact|target milestone"
    r"|hardware|os|attachment #\d+[^:]*"
)
_CHROME_PATTERNS = [
    re.compile(r"^comment\s+\d+(?:\s*[\u2022\u00b7].*)?$", re.IGNORECASE),
    re.compile(r"^.{0,120}[\u2022\u00b7]\s*(?:\d+|an?|one)\s+\w+\s+ago$", re.IGNORECASE),
    re.compile(rf"^(?:{_BZ_FIELDS})\s*:.*(?:\u2192|->).*$", re.IGNORECASE),
    re.compile(r"^flags\s*:", re.IGNORECASE),
    re.compile(r"^\(?needinfo\?", re.IGNORECASE),
    re.compile(
        r"^(?:whiteboard|product|component|reporter|assignee|triage owner|qa contact|mentors"
        r"|cc|see also|keywords|type|priority|severity)\s*:\s*\S.*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^status\s*:\s*(?:UNCONFIRMED|NEW|ASSIGNED|REOPENED|RESOLVED|VERIFIED|CLOSED)\b[\w\s]*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(?:reply|edit|collapse|expand|quote|bottom\s*\u2193?|top\s*\u2191?|tags\s*\u25be?|details"
        r"|comments|attachments|people|tracking|references|categories|history|"
        r"collapse all comments|expand all comments|show older comments|open bug|closed bug)\s*$",
        re.IGNORECASE,
    ),
    re.compile(r"^bug\s+\d+\s+[-\u2013\u2014]\s+.+$", re.IGNORECASE),
    re.compile(r"^(?:open|closed|resolved|new|assigned|reopened|verified)\s+bug\s+\d+\b.*$", re.IGNORECASE),
    re.compile(r"^you need to log in\b", re.IGNORECASE),
    re.compile(r"^.{1,80}\((?:reporter|assignee|triage owner)\)\s*$", re.IGNORECASE),
    re.compile(r"^(?:opened|reported|modified|closed|updated)\b.{0,60}\bago$", re.IGNORECASE),
]
_COMMENT_BOUNDARY = re.compile(r"^(?:comment\s+\d+|description)\s*(?:[\u2022\u00b7].*)?$", re.IGNORECASE)


def is_chrome(line: str) -> bool:
    """True for Bugzilla page furniture ("Comment 3 • 2 months ago", "Status: A → B", "Flags: ...")."""
    s = line.strip()
    if not s:
        return False
    return any(p.match(s) for p in _CHROME_PATTERNS)


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
    r"|(?-i:\b(?:UTC|GMT|IST|JST|KST|CEST|CET|EEST|EET|EST|EDT|PST|PDT|CST)\b))"
)
_ZONE_TOKEN_RE = re.compile(_ZONE_TOKEN, re.IGNORECASE)
# In a row, "08:00-10:00" is a range: a bare negative offset counts only after seconds.
_ROW_ZONE = _ZONE_TOKEN.replace(
    r"|[+\-\u2212]\d{2}:?\d{2}\b", r"|\+\d{2}:?\d{2}\b|(?<=\d\d:\d\d:\d\d)[\-\u2212]\d{2}:?\d{2}\b"
)

_LEAD = (
    r"^\s*(?:(?:[-*+\u2022]|\d+[.)])\s+)?\|?\s*(?:\*\*|__)?\s*(?:(?:on|around|approx\.?|approximately|~)\s+)?"
)
_DATE_ISO = r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
_DATE_MDY = rf"(?P<mon1>{_MON})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>\d{{4}}))?"
_DATE_DMY = rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon2>{_MON})\.?(?:,?\s+(?P<y2>\d{{4}}))?"
_TIME = (
    r"[\s,@|*]*(?:T|at\s+)?[\s|*]*"
    r"(?P<H>\d{1,2})(?::(?P<M>\d{2}))?(?::(?P<S>\d{2}))?(?:\.\d+)?\s*(?P<ampm>[ap]\.?\s?m\b\.?)?"
)
_ROW_RE = re.compile(
    _LEAD
    + rf"(?:{_DATE_ISO}|{_DATE_MDY}|{_DATE_DMY})(?![\d/.-]\d)"
    + rf"(?:{_TIME})?"
    + r"(?:\s*(?:\u2013|~|\bto\b|(?<!\d\d:\d\d:\d\d)-)\s*\d{1,2}:\d{2}(?:\s*[ap]\.?m\b\.?)?)?"
    + rf"(?:\s*\(?\s*(?P<zone>{_ROW_ZONE}|(?<=\d)Z\b)\s*\)?)?",
    re.IGNORECASE,
)
_ROW_SEP = re.compile(r"^(?:\s|\*\*|__|[:|,\-\u2013\u2014.])*")
_ZONE_NOTE_RE = re.compile(
    r"\b(?:all\s+times?|times?\s+(?:are|is|in|given|shown|listed|stated)|time\s*zone|timezone)\b",
    re.IGNORECASE,
)


def _zone_from_note(line: str) -> tuple[dt.tzinfo | None, str | None]:
    """A zone note ("All times are UTC+8") -> (zone, None) or (None, problem text) or (None, None)."""
    m = _ZONE_NOTE_RE.search(line)
    if not m:
        return None, None
    z = _ZONE_TOKEN_RE.search(line, m.end())
    if not z:
        return None, None
    try:
        return parse_zone(z.group(0), context=line), None
    except ValueError as exc:
        return None, str(exc)


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
    m = _ROW_RE.match(line)
    if not m:
        return None
    g = m.groupdict()
    inferred = False
    if g["y"]:
        y, mo, d = int(g["y"]), int(g["m"]), int(g["d"])
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
                if not 1 <= h <= 12:
                    return None
                h = (h % 12) + (12 if ampm == "pm" else 0)
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
    if zone_problem:
        row["zone_problem"] = zone_problem
    if tz is None and not zone_problem:
        row["no_zone"] = True
    return row


# --- statuses and kinds -----------------------------------------------------------------------

_STATUS_WORDS = [
    (r"cancel+ed|cancel+ation|withdrawn|dropped|won'?t\s+do|not\s+pursued|abandoned", "Canceled"),
    (r"delayed|overdue|late", "Delayed"),
    (r"complete[d]?|done|finished|implemented|deployed|closed|resolved|fixed", "Complete"),
    (
        r"ongoing|in[\s-]progress|open|pending|planned|not\s+started|started|underway|scheduled|wip|"
        r"investigating|in\s+review",
        "Ongoing",
    ),
]
_STATUS_RE = re.compile(
    "|".join(rf"(?P<s{i}>\b(?:{pat})\b)" for i, (pat, _) in enumerate(_STATUS_WORDS)), re.IGNORECASE
)


def normalise_status(text: str | None) -> str | None:
    """Ongoing / Complete / Delayed / Canceled from what a CA wrote; the leftmost status word wins."""
    if not text:
        return None
    m = _STATUS_RE.search(text)
    if not m:
        return None
    for i, (_, name) in enumerate(_STATUS_WORDS):
        if m.group(f"s{i}"):
            return name
    return None  # pragma: no cover


def normalise_kind(text: str | None) -> str | None:
    """Prevent / Detect / Mitigate (several joined by ", "), or None when none is named."""
    if not text:
        return None
    found = []
    for m in re.finditer(r"\b(prevent|detect|mitigat)\w*", text, re.IGNORECASE):
        name = {"prevent": "Prevent", "detect": "Detect", "mitigat": "Mitigate"}[m.group(1).lower()]
        if name not in found:
            found.append(name)
    return ", ".join(found) or None


# --- action-item tables -----------------------------------------------------------------------

_COLUMNS = ("id", "item", "kind", "root_cause", "evaluation", "due", "status")


def _column_of(header_cell: str) -> str | None:
    k = _key(header_cell)
    if k in {"no", "id", "number", "num"} or header_cell.strip() in {"#", "No.", "no."}:
        return "id"
    if not k:
        return None
    if "root cause" in k:
        return "root_cause"
    if "evaluation" in k or "criteria" in k:
        return "evaluation"
    if k.startswith("status") or k == "state":
        return "status"
    if k.startswith("kind") or k == "type":
        return "kind"
    if "due" in k or k in {"date", "target date", "completion date", "deadline"}:
        return "due"
    if k.startswith("action") or k in {"item", "description", "remediation"}:
        return "item"
    return None


def _split_cells(line: str, style: str) -> list[str]:
    if style == "md":
        s = line.strip()
        if s.startswith("|"):
            s = s[1:]
        if s.endswith("|") and not s.endswith("\\|"):
            s = s[:-1]
        return [c.strip() for c in re.split(r"(?<!\\)\|", s)]
    if style == "tab":
        return [c.strip() for c in line.strip("\n").split("\t")]
    return [c.strip() for c in re.split(r"\s{2,}", line.strip())]


def _header_style(line: str) -> tuple[str, list[str | None]] | None:
    """If `line` is an action-item table header, its style and column mapping."""
    if "action" not in line.lower():
        return None
    for style in ("md", "tab", "space"):
        if style == "md" and "|" not in line:
            continue
        if style == "tab" and "\t" not in line:
            continue
        cells = _split_cells(line, style)
        if len(cells) < 3:
            continue
        cols = [_column_of(c) for c in cells]
        if "item" in cols and len({c for c in cols if c and c != "item"}) >= 2:
            return style, cols
    return None


@dataclass
class _Table:
    line: int
    update: bool
    rows: list[dict] = field(default_factory=list)


_MD_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_EMPTY_CELL = {"", "-", "\u2013", "\u2014", "n/a", "na", "none", "tbd", "tba", "?"}


def _parse_tables(lines: list[tuple[int, str]], update_lines: set[int]) -> list[_Table]:
    """Every action-item table in `lines` (number, text); chrome already removed."""
    tables: list[_Table] = []
    i = 0
    n = len(lines)
    while i < n:
        num, text = lines[i]
        hs = _header_style(text)
        if not hs:
            i += 1
            continue
        style, cols = hs
        table = _Table(line=num, update=num in update_lines)
        i += 1
        while i < n:
            num, text = lines[i]
            if style == "md":
                if _MD_SEPARATOR.match(text):
                    i += 1
                    continue
                if "|" not in text:
                    break
            elif style == "tab":
                if "\t" not in text:
                    break
            else:
                if not text.strip() or len(_split_cells(text, style)) < 3:
                    break
            cells = _split_cells(text, style)
            if _header_style(text):
                break
            row: dict = {"source_line": num}
            for col, cell in zip(cols, cells, strict=False):
                if col and col not in row:
                    row[col] = _strip_md(cell.replace("<br>", " "))
            if row.get("item") and _key(row["item"]):
                table.rows.append(row)
            i += 1
        tables.append(table)
    return tables


def _item_key(item: Mapping) -> tuple[str | None, str]:
    text = item.get("item") or ""
    ident = item.get("_id")
    m = re.match(r"^\s*(?:#|ai[-\s]?|item\s+)?(\d+)[.):\-\s]+", text, re.IGNORECASE)
    if not ident and m:
        ident = m.group(1)
        text = text[m.end() :]
    ident = re.sub(r"\D", "", ident or "") or None
    return ident, _key(text)


def _same_item(a: Mapping, b: Mapping) -> bool:
    ida, ka = _item_key(a)
    idb, kb = _item_key(b)
    if ida and idb:
        return ida == idb
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    if min(len(ka), len(kb)) >= 20 and (ka.startswith(kb) or kb.startswith(ka)):
        return True
    return difflib.SequenceMatcher(None, ka, kb).ratio() >= 0.85


def _row_to_item(row: Mapping, problems: list[dict], comment: int | None) -> dict:
    status_text = row.get("status") or ""
    status = normalise_status(status_text)
    if status_text and _key(status_text) and status is None and _key(status_text) not in _EMPTY_CELL:
        problems.append(
            _problem(
                "action_item.unknown_status",
                row["source_line"],
                f"Action item status {status_text!r} is not Ongoing, Complete, Delayed or Canceled",
            )
        )
    due = (row.get("due") or "").strip()
    item = {
        "item": row.get("item") or "",
        "kind": normalise_kind(row.get("kind")),
        "root_cause": (row.get("root_cause") or "").strip() or None,
        "evaluation": (row.get("evaluation") or "").strip() or None,
        "due": None if due.lower() in _EMPTY_CELL else due,
        "status": status,
        "updated": False,
        "source_line": row["source_line"],
        "_id": row.get("id"),
    }
    if comment is not None:
        item["comment"] = comment
    return item


def _merge_tables(tables: Iterable[tuple[_Table, int | None]], problems: list[dict]) -> list[dict]:
    """Rows of later tables supersede the earlier row for the same item; new items are appended."""
    items: list[dict] = []
    first = True
    for table, comment in tables:
        for row in table.rows:
            new = _row_to_item(row, problems, comment)
            if first:
                items.append(new)
                continue
            for i, old in enumerate(items):
                if _same_item(old, new):
                    for k in ("kind", "root_cause", "evaluation", "due"):
                        if new[k] is None:
                            new[k] = old[k]
                    new["updated"] = True
                    items[i] = new
                    break
            else:
                items.append(new)
        if table.rows:
            first = False
    for item in items:
        del item["_id"]
    return items


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
    return _SECTION_ALIASES.get(k), update


@dataclass
class _Heading:
    name: str | None
    title: str
    line: int
    level: int
    update: bool


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
        md = _MD_HEADING.match(text)
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
            if stripped and len(stripped) <= 80 and not _FIELD_BOLD.match(text):
                bold = _BOLD_LINE.match(text)
                candidate = bold.group(1) if bold else stripped
                name, update = _heading_name(candidate)
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
            if not _MD_SEPARATOR.match(s):
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


# --- closure summary --------------------------------------------------------------------------


def _parse_closure(section: _Section) -> dict:
    out: dict = {k: None for k in CLOSURE_FIELDS}
    for label, value, _line in _collect_fields(section.lines):
        name = _CLOSURE_LABELS.get(_key(label))
        if name and out[name] is None:
            out[name] = value or None
    flat = " ".join(_strip_md(t) for _, t in section.lines)
    out["attestation"] = bool(_ATTESTATION_RE.search(flat))
    out["source_line"] = section.heading.line
    return out


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


def _latest_year(text: str) -> int | None:
    years = [int(y) for y in re.findall(r"\b((?:19|20)\d{2})[-/.]\d{1,2}[-/.]\d{1,2}\b", text)]
    years += [
        int(y)
        for y in re.findall(rf"\b{_MON}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})\b", text, re.I)
    ]
    return max(years) if years else None


_TABLE_HEADER_WORDS = re.compile(
    r"^(?:date|time|date\s*/\s*time|date and time|when|event|description|action)$", re.I
)


def _parse_timeline(
    section: _Section,
    all_lines: list[tuple[int, str]],
    year: int | None,
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
        candidates = list(section.lines) + [c for c in all_lines if c not in section.lines]
        for num, text in candidates:
            z, err = _zone_from_note(text)
            if z is not None:
                zone, note_line = z, text
                break
            if err:
                problems.append(_problem("timeline.ambiguous_zone", num, err))
                break
    rows: list[dict] = []
    prev: dict | None = None
    blank = False
    for num, text in section.lines:
        s = text.strip()
        if not s:
            blank = True
            continue
        if _MD_SEPARATOR.match(s):
            continue
        row = parse_timeline_row(text, zone=zone, zone_context=note_line, year=year, reference=reference)
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
            if all(_TABLE_HEADER_WORDS.match(_strip_md(c)) or not c for c in cells):
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
    field_source = [(n, t) for n, t in content if section_of.get(n) not in excluded]
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
    if year is None:
        year = _latest_year(text)
    timeline: list[dict] = []
    tl = by_name.get("Timeline")
    if tl is not None:
        timeline = _parse_timeline(tl, content, year, problems, reference)

    # action items: every table anywhere; tables under an "UPDATED" heading or introduced as updated
    update_lines: set[int] = set()
    for s in sections:
        if s.name == "Action Items" and s.heading.update:
            update_lines.update(n for n, _ in s.lines)
    for idx, (_n, t) in enumerate(content):
        if _UPDATED.search(t) and re.search(r"action\s+items?", t, re.I) and not _header_style(t):
            update_lines.update(m for m, _ in content[idx : idx + 4])
    tables = _parse_tables(content, update_lines)
    # an Action Items section without a table: list items become items (no kind/due/status)
    ai_sections = [s for s in sections if s.name == "Action Items"]
    for s in ai_sections:
        lo, hi = s.heading.line, (s.lines[-1][0] if s.lines else s.heading.line)
        if any(lo <= t.line <= hi for t in tables):
            continue
        table = _Table(line=s.heading.line, update=s.heading.update)
        for num, t in s.lines:
            m = re.match(r"^(?:[-*+\u2022]|\d+[.)])\s+(.*)$", t)  # top-level items only
            if m and not _FIELD_BOLD.match(t):
                table.rows.append({"source_line": num, "item": _strip_md(m.group(1))})
            elif table.rows:
                fm = _FIELD_PLAIN.match(t) or _FIELD_BOLD.match(t)
                if fm:
                    col = _column_of(_clean_label(fm.group("label")))
                    if col and col != "item":
                        table.rows[-1][col] = _strip_md(fm.group("value"))
        if table.rows:
            tables.append(table)
    tables.sort(key=lambda t: t.line)

    closure = _parse_closure(by_name[CLOSURE]) if CLOSURE in by_name else None
    if closure is None:
        flat = " ".join(_strip_md(t) for _, t in content)
        if _ATTESTATION_RE.search(flat):
            problems.append(
                _problem(
                    "closure.no_heading",
                    None,
                    "Closure attestation found without a Report Closure Summary heading",
                )
            )

    heading_lines = {h.line for h in headings}
    counts = _collect_counts(
        [(n, t) for n, t in content if section_of.get(n) != CLOSURE and n not in heading_lines], field_list
    )

    # kind
    kinds: list[str] = []
    names = {h.name for h in headings}
    if PRELIMINARY in names:
        kinds.append("preliminary")
    full_sections = {"Impact", "Timeline", "Root Cause Analysis", "Lessons Learned"}
    non_update_ai = any(s.name == "Action Items" and not s.heading.update for s in sections)
    if FULL in names or len(full_sections & set(by_name)) + int(non_update_ai) >= 2:
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
    )


def _to_dict(p: _Parsed, action_items: list[dict]) -> dict:
    return {
        "kind": p.kind,
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


def parse_report(text: str, *, year: int | None = None) -> dict:
    """Parse one report, closure summary or pasted bug page. Never raises on content.

    `year` is the year of the comment the text sits in (for year-less timeline dates); without
    it the latest year written in a full date in the text is used.
    """
    p = _parse_text(text, year=year)
    items = _merge_tables(((t, None) for t in p.tables), p.problems)
    return _to_dict(p, items)


# --- a bug's comments -------------------------------------------------------------------------


def classify_comment(report: Mapping) -> str:
    """A parsed comment's kind: preliminary / full / closure / update / mixed / other."""
    return report.get("kind") or "other"


def _comment_date(comment: Mapping) -> dt.date | None:
    t = comment.get("creation_time") or comment.get("time")
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(t or ""))
    return _valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def parse_comments(comments: Iterable[Mapping]) -> dict:
    """A bug's comments (`[{"count", "text", "creation_time", ...}]`, Bugzilla REST order) -> report.

    Adds `comments`: `[{"count", "creation_time", "creator", "kind"}]` for every comment, and
    `comment` to each row, heading, count and problem. The merged report takes sections and fields
    from the comments in order (later wins), the timeline from the last comment that has one,
    action items from every table in order (later rows supersede earlier ones), and the closure
    summary from the last comment that has one.
    """
    index: list[dict] = []
    merged_sections: dict[str, str] = {}
    merged_fields: dict[str, str] = {}
    outline: list[dict] = []
    timeline: list[dict] = []
    tables: list[tuple[_Table, int | None]] = []
    root_causes: list[dict] = []
    closure: dict | None = None
    counts: list[dict] = []
    problems: list[dict] = []
    kinds: list[str] = []
    for pos, c in enumerate(comments):
        count = c.get("count", pos)
        count = int(count) if count is not None else pos
        text = c.get("text") or c.get("raw_text") or ""
        day = _comment_date(c)
        p = _parse_text(str(text), year=day.year if day else None, reference=day)
        kind = p.kind or "other"
        index.append(
            {
                "count": count,
                "creation_time": c.get("creation_time"),
                "creator": c.get("creator"),
                "kind": kind,
            }
        )
        if kind == "other":
            continue  # an ordinary comment: questions, answers, chatter
        kinds.extend(p.kinds or [kind])
        merged_sections.update(p.sections)
        merged_fields.update(p.fields)
        outline += [{**h, "comment": count} for h in p.outline]
        if p.timeline:
            timeline = [{**r, "comment": count} for r in p.timeline]
        tables += [(t, count) for t in p.tables]
        if p.root_causes:
            root_causes = [{**r, "comment": count} for r in p.root_causes]
        if p.closure is not None:
            closure = {**p.closure, "comment": count}
        counts += [{**x, "comment": count} for x in p.counts]
        problems += [{**x, "comment": count} for x in p.problems]
    items = _merge_tables(tables, problems)
    distinct = [k for k in ("preliminary", "full", "closure") if k in kinds]
    if len(distinct) > 1:
        kind = "mixed"
    elif distinct:
        kind = distinct[0]
    elif "update" in kinds:
        kind = "update"
    else:
        kind = None
        problems.append(
            _problem(
                "report.unrecognised",
                None,
                "No comment holds an incident report, closure summary or action items",
            )
        )
    return {
        "kind": kind,
        "sections": merged_sections,
        "outline": outline,
        "fields": merged_fields,
        "timeline": timeline,
        "action_items": items,
        "root_causes": root_causes,
        "closure_summary": closure,
        "counts": counts,
        "problems": problems,
        "comments": index,
    }


def _comments_from_json(obj: object) -> list[dict] | None:
    """Bugzilla comment JSON in the shapes we meet: a list, {"comments": [...]}, the REST answer."""
    if isinstance(obj, list) and all(isinstance(c, dict) and "text" in c for c in obj):
        return obj
    if isinstance(obj, dict):
        if isinstance(obj.get("comments"), list):
            return _comments_from_json(obj["comments"])
        bugs = obj.get("bugs")
        if isinstance(bugs, dict) and len(bugs) == 1:
            inner = next(iter(bugs.values()))
            if isinstance(inner, dict):
                return _comments_from_json(inner.get("comments"))
    return None


def load_report(path: str | Path) -> dict:
    """Read a report file: text/markdown, or Bugzilla comments JSON (a list or the REST answer).

    Raises InputError when the file cannot be read or decoded.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise InputError(str(path), None, "not a text file (neither UTF-8 nor Windows-1252)") from exc
    if "\x00" in text:
        raise InputError(str(path), None, "not a text file (contains NUL bytes)")
    stripped = text.lstrip()
    if stripped[:1] in "[{":
        try:
            comments = _comments_from_json(json.loads(stripped))
        except ValueError:
            comments = None
        if comments is not None:
            return parse_comments(comments)
    return parse_report(text)


# --- rendering --------------------------------------------------------------------------------


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Mapping) -> str:
    """A reviewer's view of a parsed report: kind, timeline, action items, closure, problems."""
    out = [f"# Parsed incident report ({report.get('kind') or 'nothing recognised'})", ""]
    if report.get("sections"):
        out += ["## Sections", ""] + [f"- {name}" for name in report["sections"]] + [""]
    if report.get("timeline"):
        out += ["## Timeline", "", "| When | When (UTC) | Event | Line |", "|---|---|---|---|"]
        for r in report["timeline"]:
            year = " (year inferred)" if r.get("inferred_year") else ""
            out.append(
                f"| {_cell(r['when'])}{year} | {_cell(r['when_utc'])} | {_cell(r['text'])} | {r['source_line']} |"
            )
        out.append("")
    if report.get("action_items"):
        out += [
            "## Action Items",
            "",
            "| Action Item | Kind | Due Date | Status | Line |",
            "|---|---|---|---|---|",
        ]
        for a in report["action_items"]:
            upd = " (updated)" if a.get("updated") else ""
            out.append(
                f"| {_cell(a['item'])} | {_cell(a['kind'])} | {_cell(a['due'])} | {_cell(a['status'])}{upd} "
                f"| {a['source_line']} |"
            )
        out.append("")
    cs = report.get("closure_summary")
    if cs:
        out += ["## Closure Summary", ""]
        for name in CLOSURE_FIELDS:
            out.append(f"- **{name}:** {cs.get(name) or '(missing)'}")
        out += [f"- **attestation:** {'yes' if cs.get('attestation') else 'no'}", ""]
    if report.get("counts"):
        out += ["## Counts stated", ""]
        out += [
            f"- {c['value']} {c['measure']} (line {c['source_line']}): {c['sentence']}"
            for c in report["counts"]
        ]
        out.append("")
    if report.get("problems"):
        out += ["## Problems", ""]
        out += [f"- {p['code']} (line {p['line']}): {p['message']}" for p in report["problems"]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
