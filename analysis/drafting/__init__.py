"""Closure summaries, report drafts, the appendix CSV and report lint, from a parsed report and data.

Every function takes plain inputs: a parsed report (the dict of `analysis.reports.parse_report`),
the key-reuse summary dict (`keyreuse --format json`'s `summary`), rows as dicts or a frame.
Drafts are extractive: sentences and items come from the report's own words and the data's counts;
no network, no model.
"""

from __future__ import annotations

from .appendix import (
    APPENDIX_COLUMNS,
    CUSTOM_COLUMNS,
    appendix_rows,
    to_appendix,
    to_appendix_csv,
    to_appendix_links,
)
from .closure import draft_closure_summary, to_closure_markdown
from .full_report import draft_full_report, events_from_keyreuse
from .lint import LINT_RULES, compare_counts, filing_date, has_errors, lint_report, report_era, to_lint_table

__all__ = [
    "APPENDIX_COLUMNS",
    "CUSTOM_COLUMNS",
    "LINT_RULES",
    "appendix_rows",
    "compare_counts",
    "filing_date",
    "report_era",
    "draft_closure_summary",
    "draft_full_report",
    "events_from_keyreuse",
    "has_errors",
    "lint_report",
    "to_appendix",
    "to_appendix_csv",
    "to_appendix_links",
    "to_closure_markdown",
    "to_lint_table",
]
