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
    r"^ {0,3}(?:#{1,6} )?(?:\*\*|__)?(?:(?:q(?:uestion)?|topic) ?#?)?(?P<n>[1-7])(?:[.):\-]| [-\u2013\u2014:])"
    r"(?:\*\*|__)? (?P<rest>.{4,})$",
    re.IGNORECASE,
)
# The question's own words, distinctive enough to name it without its number: a rendered page
# numbers every answer "1." (an HTML list per answer), and some CAs write the questions as
# unnumbered labels ("CA first become aware:", "Timeline of the actions:").
_PHRASES: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (n, re.compile(p))
    for n, p in (
        (1, r"\b(?:ca|we) first bec[oa]me? aware\b"),
        (2, r"\btimeline of (?:the )?actions\b"),
        (3, r"\b(?:ca|we) (?:has|have) (?:not yet )?stopped\b"),
        (4, r"\bsummary of the problematic certificates\b"),
        (5, r"\bcomplete certificate data\b"),
        (6, r"\bexplanation about how and why\b"),
        (7, r"\blist of steps (?:your ca|we)\b"),
    )
)


def _by_phrase(text: str) -> int | None:
    k = _key(text[:200])
    return next((n for n, p in _PHRASES if p.search(k)), None)


def heading(line: str) -> tuple[str, str] | None:
    """(section, title) when `line` opens answer N of the seven questions. An answer written on
    the question's own line after a colon is returned by `inline_answer`."""
    text = " ".join(line.split())[:300]
    m = _NUMBERED.match(text)
    if not m:
        # an unnumbered question: a short label ending with a colon, or the question's full text
        # on its own line ("How your CA first became aware of the problem (e.g. ...), and the time")
        bare = _strip_md(text).strip()
        full = _FULL_QUESTION.match(bare)
        if not full and (len(bare) > 160 or not bare.endswith(":")):
            return None
        n = _by_phrase(bare)
        return (ANSWERS[n][0], bare.rstrip(":")[:120]) if n else None
    n = int(m.group("n"))
    name, words = ANSWERS[n]
    k = _key(m.group("rest")[:200])
    if not any(w in k for w in words):
        other = _by_phrase(m.group("rest"))  # the number is the list's, not the question's
        if other is None:
            return None
        name = ANSWERS[other][0]
    return name, _strip_md(m.group("rest"))[:120]


# Before 2023 the steps were a list or prose: lint asks for the answer, not for a table of items.
ITEMS_AS_PROSE = True


def also_answers(line: str) -> list[str]:
    """Other sections a question line answers too ("Summary of the problematic certificates &
    complete certificate data:" is answers 4 and 5 in one)."""
    k = _key(_strip_md(" ".join(line.split()))[:200])
    hits = [n for n, p in _PHRASES if p.search(k)]
    return [ANSWERS[n][0] for n in hits[1:]]


def may_open(line: str) -> bool:
    """Cheap test before `heading`: a numbered line, a short line ending with a colon, or a line
    opening with a question's own first words."""
    t = line.rstrip()
    return bool(_PREFIX.match(line)) or (t.endswith(":") and len(t) <= 200) or bool(_FULL_QUESTION.match(t))


# The questions' own openings, as the wiki wrote them (a line starting so is the question itself)
_FULL_QUESTION = re.compile(
    r"^\s*(?:\*\*|__)?(?:how your ca first became aware|a timeline of the actions your ca took"
    r"|whether your ca has stopped|a summary of the problematic certificates"
    r"|the complete certificate data for the problematic|explanation about how and why"
    r"|list of steps your ca is taking)\b",
    re.IGNORECASE,
)


_PREFIX = re.compile(
    r"^ {0,3}(?:#{1,6} ?)?(?:\*\*|__)?(?:(?:q(?:uestion)?|topic) *#?)?[1-7](?:[.):\-]| [-\u2013\u2014:])",
    re.IGNORECASE,
)


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
