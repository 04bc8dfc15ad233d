"""CCADB incident report text -> structured report (sections, fields, timeline, action items, closure).

Reads what CAs really post on Bugzilla, from 2014 on: the 7-question reports of Mozilla's wiki
("1. How your CA first became aware of the problem ..."), CCADB 1.0/2.0 reports with plain-line
headings and tables pasted as tab- or space-separated lines or flattened by a rendered page,
CCADB v3.x markdown reports, whole bug pages pasted as text (the page chrome is skipped), and a
bug's comments as the REST API returns them.

`parse_report(text)` and `parse_comments(comments)` return one plain dict (JSON-ready):

    kind            "preliminary" | "full" | "closure" | "update" | "mixed" | None
    era             "7-question" | "v1-v2" | "v3" | "free-form" | None: the template the text
                    follows ("free-form": plain sections written before the 1.0 template)
    parts           the kinds of report recognised ("preliminary", "full", "closure")
    filed           the first report comment's date (comments only; else None)
    sections        canonical section name -> text (the last occurrence wins)
    outline         [{"name", "title", "line", "level"}] every heading found, in order
    fields          "Label" -> value for "**Label:** value" and "Label: value" lines
    timeline        [{"when", "when_utc", "inferred_year", "text", "source_line"}]
    action_items    [{"item", "kind", "root_cause", "evaluation", "due", "status", "updated",
                      "source_line", "history"}]; later tables and comments update the item they
                    name (matched by number or text similarity); `history` lists every status
                    seen, with its line, comment, date and the match
    root_causes     [{"title", "description", "source_line"}] from "Contributing Factor" blocks
    closure_summary {"incident_description", "root_causes", "remediation", "commitments",
                     "attestation", "source_line"} or None
    counts          [{"measure", "value", "field", "sentence", "source_line"}]
    problems        [{"code", "line", "message"}]

Lines are 1-based lines of the text (of the comment, for `parse_comments`, whose rows also carry
`comment`). Everything here is pure: no network, no model. Each module holds one concern; each
template era's rules live in `analysis/reports/eras/`.
"""

from __future__ import annotations

from .action_items import normalise_kind, normalise_status
from .chrome import is_chrome
from .comments import _comments_from_json as _comments_from_json
from .comments import classify_comment, load_report, parse_comments
from .dates import parse_timeline_row
from .document import parse_report
from .render import to_markdown
from .vocabulary import ATTESTATION, CLOSURE, CLOSURE_FIELDS, FULL, PRELIMINARY, SECTIONS

# `_comments_from_json` stays importable from here: analysis.uploads sniffs comment JSON with it.
__all__ = [
    "ATTESTATION",
    "CLOSURE",
    "CLOSURE_FIELDS",
    "FULL",
    "PRELIMINARY",
    "SECTIONS",
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
