"""Helpers shared by lint and the drafts."""

from __future__ import annotations

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
