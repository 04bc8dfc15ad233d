"""CCADB Incident Reporting Guidelines 1.0 (2023-02-15) and 2.0 (2023-10-17).

One "Incident Report" with plain sections (Summary, Impact, Timeline, Root Cause Analysis,
Lessons Learned, Action Items, Appendix); no required sub-fields yet, and no separate
preliminary template. Reports of this era often reach us as rendered bug pages: plain-line
headings and flattened tables.
"""

from __future__ import annotations

import datetime as dt

ERA = "v1-v2"
GUIDELINE = "CCADB Incident Reporting Guidelines 1.0/2.0"
IN_FORCE_FROM = dt.date(2023, 2, 15)
SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Root Cause Analysis",
    "Lessons Learned",
    "Action Items",
    "Appendix",
)
REQUIRED_FIELDS: dict[str, list[tuple[str, str]]] = {}
PRELIMINARY_FIELDS: list[tuple[str, str]] = []


def heading(line: str) -> tuple[str, str] | None:
    return None  # its headings are the shared ones (vocabulary._SECTION_ALIASES)
