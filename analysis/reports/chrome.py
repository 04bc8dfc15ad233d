"""Bugzilla page furniture ("Comment 3 • 2 months ago", "Status: A → B") recognised and skipped."""

from __future__ import annotations

import re

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
    re.compile(r"^ever confirmed\s*:\s*(?:true|false)\s*$", re.IGNORECASE),
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


# One pattern for all (one pass per line); every pattern is case-insensitive and anchored.
_CHROME = re.compile("|".join(f"(?:{p.pattern})" for p in _CHROME_PATTERNS), re.IGNORECASE)
_CHROME_MAX = 400  # page furniture is short; a longer line is content


# Every pattern starts with a word or "(", except the two that may start anywhere, which need a
# bullet ("•", "·") or "(" in the line: a cheap test that skips the pattern for timeline and table
# rows (tests/test_report_limits.py checks that every pattern keeps to this).
_ANYWHERE = ("\u2022", "\u00b7", "(")


def is_chrome(line: str) -> bool:
    """True for Bugzilla page furniture ("Comment 3 • 2 months ago", "Status: A → B", "Flags: ...")."""
    s = line.strip()
    if not s or len(s) > _CHROME_MAX:
        return False
    if not (s[0].isalpha() or s[0] == "(") and not any(c in s for c in _ANYWHERE):
        return False
    return _CHROME.match(s) is not None
