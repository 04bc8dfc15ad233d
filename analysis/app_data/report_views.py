"""The incident report for the Report and Closure pages: counts against the data, action items, lint, drafts."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..errors import InputError
from .datasets import Dataset


def load_dataset_report(dataset: Dataset) -> tuple[dict | None, str | None, list[str]]:
    """(parsed report, its text, problems) for the data set's first report file, or (None, None, [])."""
    from ..reports import load_report

    files = dataset.files("report")
    if not files:
        return None, None, []
    path = files[0]
    try:
        report = load_report(path)
    except InputError as exc:
        return None, None, [str(exc)]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        text = None
    return report, text, []


# The data figures' names on the page; which figure a stated count is set against is
# drafting.compare_counts's rule (within the count's own measure), shared with report lint.
_FIGURE_LABELS = {
    "issuances_with_compromised_keys": "Certificates on compromised keys",
    "violating_issuances": "Issued after compromise",
    "revocation_delays": "Revoked late",
    "remaining_valid": "Remaining valid",
    "compromised_keys": "Compromised keys",
    "reused_compromised_keys": "Reused compromised keys",
}


def claimed_vs_data(report: Mapping | None, summary: Mapping) -> pd.DataFrame:
    """Each count the report's text states beside the data's figure of the same measure.

    Template fields are compared with the figure they name; a count in running text with the
    figure of its measure that equals it (a number of certificates is never set against a number
    of keys). A mismatch is a lead, not an error.
    """
    from ..drafting import compare_counts

    cols = ["Line", "Stated", "Data value", "Agrees", "Data figure", "Measure", "In the text"]
    rows = []
    for m in compare_counts((report or {}).get("counts") or [], summary):
        c, figure = m["count"], m["figure"]
        if figure:
            label = _FIGURE_LABELS.get(figure, figure)
        elif c.get("measure") in ("certificates", "keys", "remaining_valid"):
            label = "no figure with this value"
        else:
            label = "not compared"
        rows.append(
            {
                "Line": c.get("source_line"),
                "Stated": c.get("value"),
                "Measure": c.get("measure"),
                "In the text": c.get("sentence"),
                "Data figure": label,
                "Data value": m["data_value"],
                "Agrees": m["agrees"],
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    out["Data value"] = out["Data value"].astype("Int64")
    return out


def action_items_table(report: Mapping | None) -> pd.DataFrame:
    cols = ["Action item", "Status", "Due", "Kind", "Root cause", "Evaluation", "Updated", "Line"]
    rows = [
        {
            "Action item": a.get("item"),
            "Kind": a.get("kind"),
            "Root cause": a.get("root_cause"),
            "Evaluation": a.get("evaluation"),
            "Due": a.get("due"),
            "Status": a.get("status"),
            "Updated": bool(a.get("updated")),
            "Line": a.get("source_line"),
        }
        for a in (report or {}).get("action_items") or []
    ]
    return pd.DataFrame(rows, columns=cols)


def lint_table(
    report: Mapping | None,
    summary: Mapping | None = None,
    as_of: object = None,
    context: Mapping | None = None,
) -> pd.DataFrame:
    """`drafting.lint_report` findings with readable names (errors first within a line); `as_of`
    is the time the data was analysed as of, `context` the report a closure text belongs to."""
    from ..drafting import lint_report

    cols = ["Line", "Severity", "Code", "Message"]
    if report is None:
        return pd.DataFrame(columns=cols)
    rows = [
        {"Line": f.get("line"), "Severity": f["severity"], "Code": f["code"], "Message": f["message"]}
        for f in lint_report(
            report,
            summary,
            data_as_of=as_of,
            context_items=list((context or {}).get("action_items") or []),
        )
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["Line"] = out["Line"].astype("Int64")
    return out


def closure_draft(report: Mapping | None, summary: Mapping | None, as_of: object = None) -> dict:
    """The drafted closure summary: `draft` (the dict), `markdown`, `attestation`, `open_items`,
    `still_valid` (certificates on compromised keys the data shows still valid), `data_predates`
    (completed revocations the data, as of `as_of`, is too old to confirm)."""
    from ..drafting import draft_closure_summary, to_closure_markdown

    draft = draft_closure_summary(report or {}, summary, data_as_of=as_of)
    return {
        "draft": draft,
        "markdown": to_closure_markdown(draft),
        "attestation": bool(draft.get("attestation")),
        "open_items": list(draft.get("open_items") or []),
        "still_valid": int(draft.get("still_valid") or 0),
        "data_predates": list(draft.get("data_predates") or []),
        "as_of": as_of,
    }


def lint_text(
    text: str, summary: Mapping | None = None, as_of: object = None, context: Mapping | None = None
) -> pd.DataFrame:
    """Lint an edited closure summary (or report) text as `report lint` would; `context` is the
    parsed report it belongs to (its action items date the revocations the data is judged by)."""
    from ..reports import parse_report

    return lint_table(parse_report(text or ""), summary, as_of, context)


def appendix_csv(findings) -> tuple[str, int]:
    """(appendix text, rows): the CCADB appendix of the certificates on compromised keys.

    Below 10,000 certificates it is the CSV; from 10,000 on, the crt.sh link list (guidelines).
    """
    from ..drafting import to_appendix

    rows = findings.compromised_issuances()
    return to_appendix(rows, as_of=findings.as_of), int(len(rows))
