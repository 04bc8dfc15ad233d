"""The Full Incident Report skeleton, from the data and an earlier report."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from ..formats import format_time
from .common import _field, _plural

# --- full report skeleton ---------------------------------------------------------------------


def _to_utc(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        try:
            return format_time(pd.Timestamp(value))
        except (ValueError, TypeError):
            return None
    try:
        return format_time(value)
    except TypeError:
        return None


def events_from_keyreuse(result: Mapping) -> list[dict]:
    """Timeline events from a `keyreuse --format json` object: each key's compromise, the first and
    last issuance after a compromise, and each revocation delay's revocation. `{"when_utc", "text"}`."""
    events: list[dict] = []
    for k in result.get("keys", []):
        if k.get("compromised_at"):
            source = re.sub(r"^(\w+:)(?:[^#]*[/\\])?", r"\1", k.get("compromise_source") or "source unknown")
            events.append(
                {
                    "when_utc": _to_utc(k["compromised_at"]),
                    "text": f"Key {k['spki_sha256'][:16]}\u2026 compromised ({source}).",
                }
            )
    viol = sorted(
        (v for v in result.get("violations", []) if v.get("issued_at")),
        key=lambda v: _to_utc(v["issued_at"]) or "",
    )
    if viol:
        first, last = viol[0], viol[-1]
        events.append(
            {
                "when_utc": _to_utc(first["issued_at"]),
                "text": f"First certificate issued on a compromised key (serial {first['serial']}, {first['issuer_dn']}).",
            }
        )
        if last is not first:
            events.append(
                {
                    "when_utc": _to_utc(last["issued_at"]),
                    "text": f"Last certificate issued on a compromised key (serial {last['serial']}, {last['issuer_dn']}).",
                }
            )
    return sorted(events, key=lambda e: e["when_utc"] or "")


def _md_cell(value: object) -> str:
    return "N/A" if value in (None, "") else str(value).replace("|", "\\|").replace("\n", " ")


def draft_full_report(
    report: Mapping | None = None,
    findings_summary: Mapping | None = None,
    *,
    events: Iterable[Mapping] | None = None,
    related: Iterable[Mapping] | None = None,
) -> str:
    """A Full Incident Report skeleton (markdown) with every template field; "N/A" where unknown.

    Values come from `report` (a parsed report, e.g. a preliminary one) first, then from the
    key-reuse summary. `events` are `{"when_utc", "text"}` (data events); the report's own timeline
    rows are merged in, all shown in UTC. `related` rows are `{"bug", "date", "description"}`.
    """
    report = report or {}
    s = findings_summary or {}

    def f(prefix: str, fallback: object = None) -> str:
        v = _field(report, prefix)
        if v:
            return v
        return "N/A" if fallback in (None, "") else str(fallback)

    heuristic = analysis = None
    if s:
        heuristic = (
            "Certificates whose SPKI SHA-256 equals that of a certificate revoked with reason keyCompromise "
            "(or of a key listed as compromised), issued after that compromise."
        )
        analysis = (
            f"{_plural(int(s.get('compromised_keys', 0)), 'compromised key')}; "
            f"{int(s.get('violating_issuances', 0))} of the {_plural(int(s.get('issuances_with_compromised_keys', 0)), 'certificate')} "
            f"on them were issued after the compromise ({int(s.get('reused_compromised_keys', 0))} keys reused); "
            f"{_plural(int(s.get('revocation_delays', 0)), 'revocation')} later than 24 hours."
        )
    out = [
        "## Full Incident Report",
        "",
        "### Summary",
        "",
        f"- **CA Owner CCADB unique ID:** {f('ca owner ccadb unique id')}",
        f"- **Incident description:** {f('incident description')}",
        "- **Timeline summary:**",
        f"  - **Non-compliance start date:** {f('non compliance start date')}",
        f"  - **Non-compliance identified date:** {f('non compliance identified date')}",
        f"  - **Non-compliance end date:** {f('non compliance end date')}",
        f"- **Relevant policies:** {f('relevant policies')}",
        f"- **Source of incident disclosure:** {f('source of incident disclosure')}",
        "",
        "### Impact",
        "",
        f"- **Total number of certificates:** {f('total number of certificates', s.get('issuances_with_compromised_keys'))}",
        f'- **Total number of "remaining valid" certificates:** {f("total number of remaining valid", s.get("remaining_valid"))}',
        f"- **Affected certificate types:** {f('affected certificate types')}",
        f"- **Incident heuristic:** {f('incident heuristic', heuristic)}",
        f"- **Was issuance stopped in response to this incident, and why not?:** {f('was issuance stopped')}",
        f"- **Analysis:** {f('analysis', analysis)}",
        f"- **Additional considerations:** {f('additional considerations')}",
        "",
        "### Timeline",
        "",
        "All times are UTC.",
        "",
        "| Date and time (UTC) | Event |",
        "|---|---|",
    ]
    rows = [
        {"when_utc": _to_utc(e.get("when_utc") or e.get("time")), "text": e.get("text", ""), "when": None}
        for e in (events or [])
    ]
    rows += [
        {"when_utc": r.get("when_utc"), "text": r.get("text", ""), "when": r.get("when")}
        for r in report.get("timeline", [])
    ]
    dated = sorted((r for r in rows if r["when_utc"]), key=lambda r: r["when_utc"])
    undated = [r for r in rows if not r["when_utc"]]
    for r in dated:
        out.append(f"| {r['when_utc']} | {_md_cell(r['text'])} |")
    for r in undated:
        out.append(f"| {_md_cell(r['when'])} (zone unknown) | {_md_cell(r['text'])} |")
    if not rows:
        out.append("| N/A | N/A |")
    out += ["", "### Related Incidents", "", "| Bug | Date | Description |", "|---|---|---|"]
    rel = list(related or [])
    for r in rel:
        out.append(
            f"| {_md_cell(r.get('bug'))} | {_md_cell(r.get('date'))} | {_md_cell(r.get('description'))} |"
        )
    if not rel:
        out.append("| N/A | N/A | N/A |")
    out += ["", "### Root Cause Analysis", ""]
    rcs = report.get("root_causes") or [{"title": "N/A", "description": None}]
    for n, rc in enumerate(rcs, start=1):
        out += [
            f"#### Contributing Factor #{n}: {rc.get('title') or 'N/A'}",
            "",
            f"- **Description:** {rc.get('description') or 'N/A'}",
            "- **Timeline:** N/A",
            "- **Detection:** N/A",
            "- **Interaction with other factors:** N/A",
            "- **Root Cause Analysis methodology used:** N/A",
            "",
        ]
    out += [
        "### Lessons Learned",
        "",
        f"- **What went well:** {f('what went well')}",
        f"- **What didn't go well:** {f('what didn t go well')}",
        f"- **Where we got lucky:** {f('where we got lucky')}",
        f"- **Additional:** {_field(report, 'additional', exact=True) or 'N/A'}",
        "",
        "### Action Items",
        "",
        "| Action Item | Kind | Corresponding Root Cause(s) | Evaluation Criteria | Due Date | Status |",
        "|---|---|---|---|---|---|",
    ]
    items = report.get("action_items", [])
    for i in items:
        out.append(
            f"| {_md_cell(i.get('item'))} | {_md_cell(i.get('kind'))} | {_md_cell(i.get('root_cause'))} | "
            f"{_md_cell(i.get('evaluation'))} | {_md_cell(i.get('due'))} | {_md_cell(i.get('status'))} |"
        )
    if not items:
        out.append("| N/A | N/A | N/A | N/A | N/A | N/A |")
    out += ["", "### Appendix", ""]
    if s.get("issuances_with_compromised_keys"):
        n = int(s["issuances_with_compromised_keys"])
        out.append(
            f"{_plural(n, 'certificate')} on compromised keys, listed in the attached CSV "
            "(`ca-incidents report appendix`)."
        )
    else:
        out.append("N/A")
    return "\n".join(out) + "\n"
