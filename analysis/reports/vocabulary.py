"""Vocabulary shared by every era: section names, closure fields, the attestation, small text helpers."""

from __future__ import annotations

import re

# --- vocabulary -------------------------------------------------------------------------------

SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Related Incidents",
    "Root Cause Analysis",
    "Lessons Learned",
    "Action Items",
    "Appendix",
)
CLOSURE = "Report Closure Summary"
PRELIMINARY = "Preliminary Incident Report"
FULL = "Full Incident Report"

_SECTION_ALIASES = {
    "summary": "Summary",
    "incident summary": "Summary",
    "impact": "Impact",
    "timeline": "Timeline",
    "incident timeline": "Timeline",
    "timeline of events": "Timeline",
    "related incidents": "Related Incidents",
    "root cause analysis": "Root Cause Analysis",
    "root cause": "Root Cause Analysis",
    "root causes": "Root Cause Analysis",
    "root cause s": "Root Cause Analysis",
    "lessons learned": "Lessons Learned",
    "action items": "Action Items",
    "action item": "Action Items",
    "action item table": "Action Items",
    "action items table": "Action Items",
    "appendix": "Appendix",
    "appendices": "Appendix",
    "report closure summary": CLOSURE,
    "incident report closure summary": CLOSURE,
    "closure summary": CLOSURE,
    "preliminary incident report": PRELIMINARY,
    "preliminary report": PRELIMINARY,
    "full incident report": FULL,
    "complete incident report": FULL,
    "final incident report": FULL,
    "incident report": FULL,
}
_CONTAINERS = {PRELIMINARY, FULL}

CLOSURE_FIELDS = ("incident_description", "root_causes", "remediation", "commitments")
_CLOSURE_LABELS = {
    "incident description": "incident_description",
    "description": "incident_description",
    "incident root cause s": "root_causes",
    "incident root causes": "root_causes",
    "incident root cause": "root_causes",
    "root cause s": "root_causes",
    "root causes": "root_causes",
    "root cause": "root_causes",
    "remediation description": "remediation",
    "remediation": "remediation",
    "commitment summary": "commitments",
    "commitments summary": "commitments",
    "commitments": "commitments",
}

#: The closure attestation, current wording; the 2024 draft said "this Incident Report".
ATTESTATION = (
    "All Action Items disclosed in this report have been completed as described, and we request its closure."
)
_ATTESTATION_RE = re.compile(
    r"all action items disclosed in this (?:incident )?report have been completed as described,?"
    r" and we request its closure",
    re.IGNORECASE,
)

# Template fields a plain "Label: value" line may carry without a bullet.
_KNOWN_LABELS = {
    "ca owner ccadb unique id",
    "incident description",
    "timeline summary",
    "non compliance start date",
    "non compliance identified date",
    "non compliance end date",
    "relevant policies",
    "source of incident disclosure",
    "total number of certificates",
    "total number of remaining valid certificates",
    "affected certificate types",
    "incident heuristic",
    "was issuance stopped in response to this incident and why not",
    "analysis",
    "additional considerations",
    "what went well",
    "what didn t go well",
    "what didnt go well",
    "where we got lucky",
    "additional",
    "remediation description",
    "commitment summary",
    "incident root cause s",
}

# --- small helpers ----------------------------------------------------------------------------


_WORDS = re.compile(r"[a-z0-9]+")
_STRONG = re.compile(r"(\*\*|__|`)")
_EMPHASIS = re.compile(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")


def _key(text: str) -> str:
    """Lowercase words only: the comparison key for labels and headings."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(_WORDS.findall(text.lower()))


def _strip_md(text: str) -> str:
    """Drop emphasis markers and stray backticks; collapse whitespace."""
    if "*" in text or "_" in text or "`" in text:
        text = _EMPHASIS.sub("", _STRONG.sub("", text))
    return " ".join(text.split())


def _lowered(text: str) -> str | None:
    """`text.lower()` when a lower-case pattern (ASCII, no IGNORECASE, about twice as fast) finds in
    it exactly what the IGNORECASE pattern finds in `text`: same length, and no dotless i or long s,
    which IGNORECASE matches to i and s but lower() keeps. Else None: use the IGNORECASE pattern."""
    low = text.lower()
    if len(low) != len(text) or "\u0131" in text or "\u017f" in text:
        return None
    return low


def _clean_label(label: str) -> str:
    label = _strip_md(label).strip().rstrip(":").strip()
    return label.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")


def _problem(code: str, line: int | None, message: str) -> dict:
    return {"code": code, "line": line, "message": message}
