"""Helpers shared by lint and the drafts."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

_CLOSURE_LABELS = {
    "incident_description": "Incident description",
    "root_causes": "Incident Root Cause(s)",
    "remediation": "Remediation description",
    "commitments": "Commitment summary",
}
_DONE = {"Complete", "Canceled"}


def _key(text: str) -> str:
    text = text.replace("\u2019", "'")
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def _sentences(text: str | None, n: int) -> str:
    if not text:
        return ""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])", " ".join(text.split()))
    return " ".join(parts[:n]).strip()


def _lower_first(text: str) -> str:
    """'The revocation ...' -> 'the revocation ...' inside a sentence; 'CRL ...', 'OCSP' stay."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:].islower():
        return text[0].lower() + text[1:]
    return text


def _join(items: list[str]) -> str:
    items = [i.rstrip(".") for i in items]
    items = items[:1] + [_lower_first(i) for i in items[1:]]
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + "; and " + items[-1]


def _field(report: Mapping, prefix: str, *, exact: bool = False) -> str | None:
    for k, v in report.get("fields", {}).items():
        if v and (_key(k) == prefix if exact else _key(k).startswith(prefix)):
            return v
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# An action item that revokes or replaces certificates: the data can confirm or contradict it.
REVOCATION_WORDS = re.compile(r"\brevoke\b|^\W*revocation\b|\breplace\b", re.IGNORECASE)


def day_of(value: object) -> dt.date | None:
    """The calendar day of an ISO date/time text, a datetime or a Timestamp; None when unknown."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", str(value))
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def completed_on(item: Mapping) -> dt.date | None:
    """When a Complete item was done: the date of the update that first said Complete, else its
    due (or completed) date; None when the report gives neither."""
    for h in item.get("history") or []:
        if h.get("status") == "Complete":
            when = day_of(h.get("date"))
            if when is not None:
                return when
            break
    return day_of(item.get("due"))


def completed_after_data(items: list[Mapping], data_as_of: object) -> list[tuple[Mapping, dt.date]]:
    """The revocation items marked Complete on a day after the data's as-of day: data from before
    the revocation cannot show whether it happened, so it neither confirms nor contradicts it."""
    as_of = day_of(data_as_of)
    if as_of is None:
        return []
    out = []
    for it in items:
        if it.get("status") == "Complete" and REVOCATION_WORDS.search(it.get("item") or ""):
            when = completed_on(it)
            if when is not None and when > as_of:
                out.append((it, when))
    return out
