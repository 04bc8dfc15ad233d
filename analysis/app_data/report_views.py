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


# Which data figure a report's stated count is compared with, by measure and field wording.
_CLAIM_FIGURES = {
    "keys": ("compromised_keys", "Compromised keys"),
    "remaining_valid": ("remaining_valid", "Remaining valid"),
}


def claimed_vs_data(report: Mapping | None, summary: Mapping) -> pd.DataFrame:
    """Each count the report's text states beside the data's figure it most likely means.

    Fields of the template are matched by meaning ("Total number of certificates" = certificates
    on compromised keys; "remaining valid"); a count in free text is compared with the figures of
    the same measure and matched when one equals it. A mismatch is a lead, not an error.
    """
    cols = ["Line", "Stated", "Data value", "Agrees", "Data figure", "Measure", "In the text"]
    rows = []
    cert_figures = [
        ("issuances_with_compromised_keys", "Certificates on compromised keys"),
        ("violating_issuances", "Issued after compromise"),
        ("revocation_delays", "Revoked late"),
        ("remaining_valid", "Remaining valid"),
    ]
    for c in (report or {}).get("counts") or []:
        measure, value, fld = c.get("measure"), c.get("value"), (c.get("field") or "")
        if measure in _CLAIM_FIGURES:
            key, label = _CLAIM_FIGURES[measure]
        elif "total number of certificates" in fld.lower():
            key, label = cert_figures[0]
        elif measure == "certificates":
            match = [(k, lbl) for k, lbl in cert_figures if summary.get(k) == value]
            if not match and summary.get("compromised_keys") == value:
                match = [("compromised_keys", "Compromised keys")]
            key, label = match[0] if match else (None, "no figure with this value")
        else:
            key, label = None, "not compared"
        data_value = summary.get(key) if key else None
        rows.append(
            {
                "Line": c.get("source_line"),
                "Stated": value,
                "Measure": measure,
                "In the text": c.get("sentence"),
                "Data figure": label,
                "Data value": data_value,
                "Agrees": None if data_value is None else bool(data_value == value),
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


def lint_table(report: Mapping | None, summary: Mapping | None = None) -> pd.DataFrame:
    """`drafting.lint_report` findings with readable names (errors first within a line)."""
    from ..drafting import lint_report

    cols = ["Line", "Severity", "Code", "Message"]
    if report is None:
        return pd.DataFrame(columns=cols)
    rows = [
        {"Line": f.get("line"), "Severity": f["severity"], "Code": f["code"], "Message": f["message"]}
        for f in lint_report(report, summary)
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["Line"] = out["Line"].astype("Int64")
    return out


def closure_draft(report: Mapping | None, summary: Mapping | None) -> dict:
    """The drafted closure summary: `draft` (the dict), `markdown`, `attestation`, `open_items`,
    `still_valid` (certificates on compromised keys the data shows still valid)."""
    from ..drafting import draft_closure_summary, to_closure_markdown

    draft = draft_closure_summary(report or {}, summary)
    return {
        "draft": draft,
        "markdown": to_closure_markdown(draft),
        "attestation": bool(draft.get("attestation")),
        "open_items": list(draft.get("open_items") or []),
        "still_valid": int(draft.get("still_valid") or 0),
    }


def lint_text(text: str, summary: Mapping | None = None) -> pd.DataFrame:
    """Lint an edited closure summary (or report) text as `report lint` would."""
    from ..reports import parse_report

    return lint_table(parse_report(text or ""), summary)


def appendix_csv(findings) -> tuple[str, int]:
    """(appendix text, rows): the CCADB appendix of the certificates on compromised keys.

    Below 10,000 certificates it is the CSV; from 10,000 on, the crt.sh link list (guidelines).
    """
    from ..drafting import to_appendix

    rows = findings.compromised_issuances()
    return to_appendix(rows, as_of=findings.as_of), int(len(rows))
