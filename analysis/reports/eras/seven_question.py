"""The 7-question report of Mozilla's wiki "Responding to an Incident" (about 2014 to 2022).

Numbered answers, the question often shortened, bolded or made a markdown heading:
"1. How your CA first became aware of the problem ...", "2. A timeline of the actions your CA
took ...", ... "7. List of steps your CA is taking to resolve the situation ...". The timeline
is answer 2 and the action items answer 7.
"""

from __future__ import annotations

import re

from ..vocabulary import _key, _strip_md

ERA = "7-question"
GUIDELINE = "Mozilla's 'Responding to an Incident' (7 questions)"
IN_FORCE_FROM = None

# Canonical section of each answer; words that must appear in the question to count.
ANSWERS: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("Awareness", ("became aware", "first aware", "how your ca", "how we")),
    2: ("Timeline", ("timeline",)),
    3: ("Issuance Stopped", ("stopped", "stop issuing", "ceased")),
    4: ("Problematic Certificates", ("problematic certificates", "summary of", "affected certificates")),
    5: ("Certificate Data", ("certificate data", "complete data", "crt sh")),
    6: ("Root Cause Analysis", ("how and why", "explanation", "mistakes were made", "root cause")),
    7: ("Action Items", ("list of steps", "steps your ca", "steps we", "resolve the situation")),
}
SECTIONS = tuple(name for name, _ in ANSWERS.values())
REQUIRED_FIELDS: dict[str, list[tuple[str, str]]] = {}
PRELIMINARY_FIELDS: list[tuple[str, str]] = []

_NUMBERED = re.compile(
    r"^ {0,3}(?:#{1,6} )?(?:\*\*|__)?(?:q(?:uestion)? ?#?)?(?P<n>[1-7])(?:[.):]| [-\u2013\u2014:])(?:\*\*|__)? "
    r"(?P<rest>.{4,})$",
    re.IGNORECASE,
)


def heading(line: str) -> tuple[str, str] | None:
    """(section, title) when `line` opens answer N of the seven questions. An answer written on
    the question's own line after a colon is returned by `inline_answer`."""
    m = _NUMBERED.match(" ".join(line.split())[:300])
    if not m:
        return None
    n = int(m.group("n"))
    name, words = ANSWERS[n]
    k = _key(m.group("rest")[:200])
    if not any(w in k for w in words):
        return None
    return name, _strip_md(m.group("rest"))[:120]


def inline_answer(line: str) -> str:
    """The answer after the question on the same line ("4. A summary ...: 1 certificate"), or ""."""
    text = " ".join(line.split())
    m = _NUMBERED.match(text[:300])
    if not m:
        return ""
    rest = text[m.start("rest") :]
    colon = rest.find(": ")
    if colon < 0 or "(" in rest[:colon] and ")" not in rest[:colon]:
        return ""
    return rest[colon + 2 :].strip()
