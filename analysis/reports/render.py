"""A parsed report for people (markdown)."""

from __future__ import annotations

from collections.abc import Mapping

from .vocabulary import CLOSURE_FIELDS

# --- rendering --------------------------------------------------------------------------------


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Mapping) -> str:
    """A reviewer's view of a parsed report: kind, timeline, action items, closure, problems."""
    out = [f"# Parsed incident report ({report.get('kind') or 'nothing recognised'})", ""]
    if report.get("sections"):
        out += ["## Sections", ""] + [f"- {name}" for name in report["sections"]] + [""]
    if report.get("timeline"):
        out += ["## Timeline", "", "| When | When (UTC) | Event | Line |", "|---|---|---|---|"]
        for r in report["timeline"]:
            year = " (year inferred)" if r.get("inferred_year") else ""
            out.append(
                f"| {_cell(r['when'])}{year} | {_cell(r['when_utc'])} | {_cell(r['text'])} | {r['source_line']} |"
            )
        out.append("")
    if report.get("action_items"):
        out += [
            "## Action Items",
            "",
            "| Action Item | Kind | Due Date | Status | Line |",
            "|---|---|---|---|---|",
        ]
        for a in report["action_items"]:
            upd = " (updated)" if a.get("updated") else ""
            out.append(
                f"| {_cell(a['item'])} | {_cell(a['kind'])} | {_cell(a['due'])} | {_cell(a['status'])}{upd} "
                f"| {a['source_line']} |"
            )
        out.append("")
    cs = report.get("closure_summary")
    if cs:
        out += ["## Closure Summary", ""]
        for name in CLOSURE_FIELDS:
            out.append(f"- **{name}:** {cs.get(name) or '(missing)'}")
        out += [f"- **attestation:** {'yes' if cs.get('attestation') else 'no'}", ""]
    if report.get("counts"):
        out += ["## Counts stated", ""]
        out += [
            f"- {c['value']} {c['measure']} (line {c['source_line']}): {c['sentence']}"
            for c in report["counts"]
        ]
        out.append("")
    if report.get("problems"):
        out += ["## Problems", ""]
        out += [f"- {p['code']} (line {p['line']}): {p['message']}" for p in report["problems"]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
