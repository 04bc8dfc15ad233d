"""The Report Closure Summary draft."""

from __future__ import annotations

from collections.abc import Mapping

from ..reports import ATTESTATION, CLOSURE_FIELDS
from .common import (
    _CLOSURE_LABELS,
    _DONE,
    REVOCATION_WORDS,
    _field,
    _join,
    _plural,
    _sentences,
    completed_after_data,
    day_of,
)


def draft_closure_summary(
    report: Mapping, findings_summary: Mapping | None = None, *, data_as_of: object = None
) -> dict:
    """Draft a Report Closure Summary from a parsed report and, optionally, the key-reuse summary
    (and `data_as_of`, the time that analysis was made as of).

    Returns `{"incident_description", "root_causes", "remediation", "commitments", "attestation",
    "open_items", "canceled_items", "still_valid", "data_predates"}`. The attestation is set only
    when at least one action item was found and every one is Complete or Canceled, and the data
    shows no certificate on a compromised key still valid, unless the data predates every such
    revocation's completion (then `data_predates` names those items: the data cannot confirm them).
    """
    cs = report.get("closure_summary") or {}
    items = list(report.get("action_items", []))

    # Incident description: the report's own first sentences, then the counts.
    desc = _sentences(_field(report, "incident description"), 2) or _sentences(
        cs.get("incident_description"), 2
    )
    if not desc and report.get("sections", {}).get("Summary"):
        desc = _sentences(report["sections"]["Summary"].lstrip("-* "), 2)
    counts = []
    if findings_summary:
        s = findings_summary
        counts.append(
            f"The data shows {_plural(int(s.get('issuances_with_compromised_keys', 0)), 'certificate')} on "
            f"{_plural(int(s.get('compromised_keys', 0)), 'compromised key')}, "
            f"{int(s.get('violating_issuances', 0))} of them issued after the key's compromise."
        )
    else:
        total = next(
            (c for c in report.get("counts", []) if c["measure"] == "certificates" and c.get("field")), None
        )
        if total is not None:
            counts.append(f"The report counts {_plural(int(total['value']), 'affected certificate')}.")
    incident_description = " ".join(x for x in [desc, *counts] if x) or "N/A"

    # Root causes: the contributing factors' titles.
    rcs = [r for r in report.get("root_causes", []) if r.get("title")]
    if rcs:
        titles = [r["title"][0].upper() + r["title"][1:] for r in rcs]
        root_causes = (f"{len(rcs)} contributing factors: " if len(rcs) > 1 else "") + _join(titles) + "."
    else:
        root_causes = (
            _sentences(report.get("sections", {}).get("Root Cause Analysis"), 2)
            or _sentences(cs.get("root_causes"), 2)
            or "N/A"
        )

    done = [i for i in items if i.get("status") == "Complete"]
    canceled = [i for i in items if i.get("status") == "Canceled"]
    open_items = [i for i in items if i.get("status") not in _DONE]

    # Remediation: completed mitigations and preventions, canceled items named.
    mitigations = [i for i in done if not i.get("kind") or "Mitigate" in i["kind"] or "Prevent" in i["kind"]]
    parts = []
    if mitigations:
        parts.append("Completed: " + _join([i["item"] for i in mitigations]) + ".")
    if canceled:
        parts.append("Canceled: " + _join([i["item"] for i in canceled]) + ".")
    later = completed_after_data(items, data_as_of)
    if findings_summary and findings_summary.get("remaining_valid") is not None:
        n = int(findings_summary["remaining_valid"])
        if n == 0:
            parts.append("No certificate on a compromised key remains valid in the data.")
        elif later:
            parts.append(
                f"The data, as of {day_of(data_as_of).isoformat()}, was gathered before the revocations "
                f"were completed and still shows {_plural(n, 'certificate')} on compromised keys valid."
            )
        else:
            parts.append(f"{_plural(n, 'certificate')} on compromised keys still remain valid in the data.")
    remediation = " ".join(parts) or _sentences(cs.get("remediation"), 2) or "N/A"

    # Commitments: the preventive and detective items.
    lasting = [
        i
        for i in items
        if i.get("kind")
        and ("Prevent" in i["kind"] or "Detect" in i["kind"])
        and i.get("status") != "Canceled"
    ]
    if lasting:
        commitments = "Preventive and detective actions: " + _join([i["item"] for i in lasting]) + "."
    else:
        commitments = (
            _sentences(_field(report, "additional", exact=True), 2)
            or _sentences(cs.get("commitments"), 2)
            or "N/A"
        )

    still_valid = int((findings_summary or {}).get("remaining_valid") or 0)
    # the data contradicts "all completed": no attestation while certificates remain valid
    # ... unless the data was gathered before every completed revocation: it cannot say either way
    later_ids = {id(it) for it, _ in later}
    settled = [it for it in done if REVOCATION_WORDS.search(it.get("item") or "") and id(it) not in later_ids]
    contradicted = bool(still_valid) and (not later or bool(settled))
    attestation = bool(items) and not open_items and not contradicted
    return {
        "incident_description": incident_description,
        "root_causes": root_causes,
        "remediation": remediation,
        "commitments": commitments,
        "attestation": attestation,
        "open_items": [
            {
                "item": i["item"],
                "status": i.get("status"),
                "due": i.get("due"),
                "source_line": i.get("source_line"),
            }
            for i in open_items
        ],
        "canceled_items": [i["item"] for i in canceled],
        "still_valid": still_valid,
        "data_predates": [{"item": it["item"], "completed": when.isoformat()} for it, when in later]
        if still_valid
        else [],
    }


def to_closure_markdown(draft: Mapping) -> str:
    """The draft as the `### Report Closure Summary` markdown block."""
    out = ["### Report Closure Summary", ""]
    for name in CLOSURE_FIELDS:
        out.append(f"- **{_CLOSURE_LABELS[name]}:** {draft.get(name) or 'N/A'}")
    out.append("")
    if draft.get("attestation"):
        out.append(ATTESTATION)
    elif draft.get("still_valid") and not draft.get("open_items"):
        out.append(
            f"Closure cannot be requested yet: the data shows {_plural(int(draft['still_valid']), 'certificate')} "
            "on compromised keys still valid, although every action item is marked Complete or Canceled."
        )
    elif draft.get("open_items"):
        out.append("Closure cannot be requested yet. These action items are not Complete or Canceled:")
        out.append("")
        for i in draft["open_items"]:
            due = f", due {i['due']}" if i.get("due") else ""
            out.append(f"- {i['item']} ({i.get('status') or 'no status'}{due})")
    else:
        out.append(
            "No action items were found in the report, so the closure attestation is not added: list the "
            "Action Items and their status first."
        )
    return "\n".join(out) + "\n"
