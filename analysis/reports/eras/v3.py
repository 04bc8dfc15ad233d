"""CCADB Incident Reporting Guidelines 3.x (3.0 from 2025-03-01; current 3.2).

A Preliminary Incident Report and a Full Incident Report, each a markdown template with
required fields ("CA Owner CCADB unique ID", "Total number of certificates", ...), and the
Report Closure Summary.
"""

from __future__ import annotations

import datetime as dt

# The 3.x template's sections are the parser's canonical section list (one definition).
from ..vocabulary import SECTIONS as SECTIONS

ERA = "v3"
GUIDELINE = "CCADB Incident Reporting Guidelines 3.x"
IN_FORCE_FROM = dt.date(2025, 3, 1)
# Template fields, matched by the start of the label.
REQUIRED_FIELDS: dict[str, list[tuple[str, str]]] = {
    "Summary": [
        ("CA Owner CCADB unique ID", "ca owner ccadb unique id"),
        ("Incident description", "incident description"),
        ("Timeline summary", "timeline summary"),
        ("Non-compliance start date", "non compliance start date"),
        ("Non-compliance identified date", "non compliance identified date"),
        ("Non-compliance end date", "non compliance end date"),
        ("Relevant policies", "relevant policies"),
        ("Source of incident disclosure", "source of incident disclosure"),
    ],
    "Impact": [
        ("Total number of certificates", "total number of certificates"),
        ('Total number of "remaining valid" certificates', "total number of remaining valid"),
        ("Affected certificate types", "affected certificate types"),
        ("Incident heuristic", "incident heuristic"),
        ("Was issuance stopped in response to this incident, and why not?", "was issuance stopped"),
        ("Analysis", "analysis"),
        ("Additional considerations", "additional considerations"),
    ],
    "Lessons Learned": [
        ("What went well", "what went well"),
        ("What didn't go well", "what didn t go well"),
        ("Where we got lucky", "where we got lucky"),
        ("Additional", "additional"),
    ],
}
PRELIMINARY_FIELDS = [
    ("Incident description", "incident description"),
    ("Relevant policies", "relevant policies"),
    ("Source of incident disclosure", "source of incident disclosure"),
]
# Labels only this era's template has: a text carrying them follows 3.x whatever its date.
MARKERS = ("ca owner ccadb unique id", "total number of remaining valid", "source of incident disclosure")

HEADINGS = ("full incident report", "preliminary incident report", "report closure summary")


def heading(line: str) -> tuple[str, str] | None:
    return None  # "Full/Preliminary Incident Report" are shared aliases; MARKERS tell the era
