"""Template eras: which report template (and which guideline version) a text follows.

Each era is one module with the same names: ERA (its id), GUIDELINE (what users are told),
IN_FORCE_FROM (first day it applied; None for the oldest), SECTIONS (the sections its full
report has), REQUIRED_FIELDS (section -> [(label, key prefix)]) and PRELIMINARY_FIELDS, plus
`heading(line)` for headings only that era writes. A new era is one new module listed here.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

from . import seven_question, v1_v2, v3

ERAS: tuple[ModuleType, ...] = (seven_question, v1_v2, v3)  # oldest first
BY_NAME = {e.ERA: e for e in ERAS}

__all__ = ["BY_NAME", "ERAS", "era_in_force", "heading", "may_open"]


def era_in_force(day: dt.date) -> ModuleType:
    """The era whose guidelines applied on `day` (a report's filing date)."""
    current = ERAS[0]
    for e in ERAS:
        if e.IN_FORCE_FROM is None or e.IN_FORCE_FROM <= day:
            current = e
    return current


# The eras' own cheap tests, looked up once (this runs on every line of a text).
_OPENERS = tuple(e.may_open for e in ERAS if hasattr(e, "may_open"))


def may_open(line: str) -> bool:
    """Cheap test before `heading`: could `line` open an era-only heading at all?"""
    return any(opens(line) for opens in _OPENERS)


def heading(line: str) -> tuple[str, str, ModuleType] | None:
    """(canonical section name, title, era) when `line` is a heading only one era writes."""
    for e in ERAS:
        hit = e.heading(line)
        if hit is not None:
            return hit[0], hit[1], e
    return None
