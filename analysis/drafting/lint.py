"""Report lint, pkilint-style, by the guideline version in force when the report was filed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import ModuleType

from ..reports import ATTESTATION, CLOSURE_FIELDS, FULL, PRELIMINARY
from ..reports.eras import BY_NAME as _ERAS
from ..reports.eras import era_in_force
from .common import (
    _CLOSURE_LABELS,
    _DONE,
    REVOCATION_WORDS,
    _key,
    _plural,
    _short,
    completed_after_data,
    day_of,
)

# --- lint -------------------------------------------------------------------------------------

#: Every lint code and its severity (stable: scripts may depend on them).
LINT_RULES: dict[str, str] = {
    "report.unrecognised": "error",
    "section.missing": "error",
    "field.missing": "warning",
    "action_item.none": "error",
    "action_item.no_kind": "warning",
    "action_item.no_due_date": "warning",
    "action_item.no_status": "warning",
    "action_item.unknown_status": "warning",
    "action_item.match_budget": "warning",
    "timeline.no_zone": "warning",
    "timeline.ambiguous_zone": "warning",
    "timeline.unparsed_row": "warning",
    "timeline.no_year": "warning",
    "timeline.empty": "warning",
    "closure.no_heading": "warning",
    "closure.field_missing": "error",
    "closure.no_attestation": "error",
    "closure.open_action_items": "error",
    "counts.mismatch": "error",
    "action_item.contradicted_by_data": "error",
    "action_item.unconfirmed_by_data": "warning",
}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "notice": 2}


def _finding(code: str, message: str, line: int | None, comment: int | None = None) -> dict:
    f = {"code": code, "severity": LINT_RULES[code], "message": message, "line": line}
    if comment is not None:
        f["comment"] = comment
    return f


def _has_field(fields: Mapping[str, str], prefix: str) -> bool:
    keys = [_key(k) for k in fields]
    if prefix == "additional":
        return any(k == "additional" for k in keys)
    return any(k.startswith(prefix) for k in keys)


def _report_parts(report: Mapping) -> tuple[bool, bool]:
    """(has a full report, has a preliminary report) judged from the outline and the kind."""
    if report.get("parts") is not None:  # what the parser recognised, report by report
        parts = set(report["parts"])
        return "full" in parts, "preliminary" in parts
    names = {h.get("name") for h in report.get("outline", [])}
    kind = report.get("kind")
    full_sections = {"Impact", "Timeline", "Root Cause Analysis", "Lessons Learned"}
    has_full = (
        kind == "full"
        or FULL in names
        or (kind == "mixed" and bool(full_sections & set(report.get("sections", {}))))
    )
    has_prelim = kind == "preliminary" or PRELIMINARY in names
    return has_full, has_prelim


def filing_date(report: Mapping) -> dt.date | None:
    """The day the report was filed: its first report comment's date, else the latest timeline
    date (a report is written after the events it lists), else None."""
    if report.get("filed"):
        return dt.date.fromisoformat(str(report["filed"])[:10])
    days = []
    for r in report.get("timeline", []):
        w = r.get("when_utc") or r.get("when")
        if w:
            try:
                days.append(dt.date.fromisoformat(str(w)[:10]))
            except ValueError:
                continue
    return max(days) if days else None


def report_era(report: Mapping, filed: dt.date | None = None) -> tuple[ModuleType, str]:
    """(era module, why): the guidelines the report is judged by. The version in force on the
    filing date wins; without a date, the template the text follows; else the current one."""
    day = filed or filing_date(report)
    if day is not None:
        e = era_in_force(day)
        return e, f"{e.GUIDELINE}, in force on {day.isoformat()}"
    e = _ERAS.get(report.get("era") or "") or _ERAS["v3"]
    return e, f"{e.GUIDELINE} (no filing date known; judged by the template the text follows)"


def lint_report(
    report: Mapping,
    data_counts: Mapping | None = None,
    *,
    filed: dt.date | None = None,
    data_as_of: object = None,
    context_items: list[Mapping] | None = None,
) -> list[dict]:
    """Check a parsed report or closure summary against the CCADB guidelines, pkilint-style.

    The fields and sections required are those of the guideline version in force on the day the
    report was filed (`filed`, else `report["filed"]`, else its latest timeline date); each such
    finding names that version. Returns findings `{"code", "severity", "message", "line"}` (plus
    `comment` for a bug's comments), sorted by line. `data_counts` is the key-reuse summary dict;
    when given, the counts the text states are compared with it (`counts.mismatch`), and an action
    item said to be complete while the data shows certificates still valid is flagged, unless the
    data (`data_as_of`, the analysis's as-of time) predates the item's completion: then it is a
    warning that the data cannot confirm it. `context_items` are the action items of the report a
    closure summary text belongs to, used for those dates when the text itself lists none.
    """
    era, why = report_era(report, filed)
    out: list[dict] = []
    kind = report.get("kind")
    sections = report.get("sections", {})
    fields = report.get("fields", {})
    items = report.get("action_items", [])
    outline = report.get("outline", [])
    heading_line = {h.get("name"): h.get("line") for h in outline if h.get("name")}

    for p in report.get("problems", []):
        if p["code"] in LINT_RULES:
            out.append(_finding(p["code"], p["message"], p.get("line"), p.get("comment")))
    if kind is None:
        if not any(f["code"] == "report.unrecognised" for f in out):
            out.append(
                _finding("report.unrecognised", "No incident report or closure summary recognised", None)
            )
        return _sorted(out)

    has_full, has_prelim = _report_parts(report)
    report_line = heading_line.get(FULL) if has_full else heading_line.get(PRELIMINARY)
    if has_full:
        for name in era.SECTIONS:
            if name not in sections:
                out.append(_finding("section.missing", f"Section '{name}' is missing ({why})", report_line))
        for name, required in era.REQUIRED_FIELDS.items():
            if name not in sections:
                continue
            for label, prefix in required:
                if not _has_field(fields, prefix):
                    out.append(
                        _finding(
                            "field.missing",
                            f"Field '{label}' is missing from '{name}' ({why})",
                            heading_line.get(name),
                        )
                    )
        if "Timeline" in sections and not report.get("timeline"):
            out.append(
                _finding(
                    "timeline.empty", "The Timeline section has no dated rows", heading_line.get("Timeline")
                )
            )
        steps_in_prose = getattr(era, "ITEMS_AS_PROSE", False) and sections.get("Action Items", "").strip()
        if not items and not steps_in_prose:
            out.append(
                _finding(
                    "action_item.none",
                    "No action items found (expected a table of Action Items)",
                    heading_line.get("Action Items", report_line),
                )
            )
    elif has_prelim and era.PRELIMINARY_FIELDS:
        if "Summary" not in sections:
            out.append(_finding("section.missing", f"Section 'Summary' is missing ({why})", report_line))
        else:
            for label, prefix in era.PRELIMINARY_FIELDS:
                if not _has_field(fields, prefix):
                    out.append(
                        _finding(
                            "field.missing",
                            f"Field '{label}' is missing from 'Summary' ({why})",
                            heading_line.get("Summary"),
                        )
                    )

    for it in items:
        line, comment = it.get("source_line"), it.get("comment")
        name = _short(it.get("item", ""))
        if not it.get("kind"):
            out.append(
                _finding(
                    "action_item.no_kind",
                    f"Action item '{name}' has no Kind (Prevent/Detect/Mitigate)",
                    line,
                    comment,
                )
            )
        if not it.get("due") and it.get("status") != "Canceled":
            out.append(
                _finding("action_item.no_due_date", f"Action item '{name}' has no Due Date", line, comment)
            )
        if not it.get("status"):
            out.append(
                _finding(
                    "action_item.no_status",
                    f"Action item '{name}' has no Status (Ongoing/Complete/Delayed/Canceled)",
                    line,
                    comment,
                )
            )

    cs = report.get("closure_summary")
    if cs:
        cline, ccomment = cs.get("source_line"), cs.get("comment")
        for name in CLOSURE_FIELDS:
            if not cs.get(name):
                out.append(
                    _finding(
                        "closure.field_missing",
                        f"Closure summary field '{_CLOSURE_LABELS[name]}' is missing",
                        cline,
                        ccomment,
                    )
                )
        if not cs.get("attestation"):
            out.append(
                _finding(
                    "closure.no_attestation",
                    f'Closure summary does not end with the attestation sentence: "{ATTESTATION}"',
                    cline,
                    ccomment,
                )
            )
        for it in items:
            if it.get("status") not in _DONE:
                out.append(
                    _finding(
                        "closure.open_action_items",
                        f"Closure requested while action item '{_short(it.get('item', ''))}' is "
                        f"{it.get('status') or 'without a status'}",
                        it.get("source_line"),
                        it.get("comment"),
                    )
                )

    if data_counts:
        out += _count_findings(report.get("counts", []), data_counts)
        out += _contradictions(items, cs, data_counts, data_as_of, context_items)
    return _sorted(out)


def _contradictions(
    items: list[Mapping],
    closure: Mapping | None,
    data: Mapping,
    data_as_of: object = None,
    context_items: list[Mapping] | None = None,
) -> list[dict]:
    """A revocation said to be complete (or a closure attested) while the data shows certificates
    on compromised keys still valid; a warning instead when the data is older than the revocation."""
    n = data.get("remaining_valid")
    if not n:
        return []
    # The dates come from the text's own items, else (a closure text alone) from its report's.
    dated = completed_after_data(list(items or context_items or []), data_as_of)
    later = {id(it): when for it, when in dated}
    as_of = day_of(data_as_of)
    out = []
    for it in items:
        if it.get("status") != "Complete" or not REVOCATION_WORDS.search(it.get("item") or ""):
            continue
        if id(it) in later:
            out.append(
                _finding(
                    "action_item.unconfirmed_by_data",
                    f"Action item '{_short(it.get('item', ''))}' is Complete (dated {later[id(it)].isoformat()}), "
                    f"after the data's date ({as_of.isoformat()}), which shows "
                    f"{_plural(int(n), 'certificate')} on compromised keys still valid: analyse data from "
                    "after the revocation to confirm it",
                    it.get("source_line"),
                    it.get("comment"),
                )
            )
            continue
        out.append(
            _finding(
                "action_item.contradicted_by_data",
                f"Action item '{_short(it.get('item', ''))}' is Complete, but the data shows "
                f"{_plural(int(n), 'certificate')} on compromised keys still valid",
                it.get("source_line"),
                it.get("comment"),
            )
        )
    if closure and closure.get("attestation") and not out:
        if dated:
            names = ", ".join(
                f"'{_short(it.get('item', ''), 40)}' ({when.isoformat()})" for it, when in dated
            )
            out.append(
                _finding(
                    "action_item.unconfirmed_by_data",
                    f"The closure attests that every action item is complete; the data, as of "
                    f"{as_of.isoformat()}, shows {_plural(int(n), 'certificate')} on compromised keys still "
                    f"valid but predates the revocations {names}: analyse data from after them to confirm",
                    closure.get("source_line"),
                    closure.get("comment"),
                )
            )
            return out
        out.append(
            _finding(
                "action_item.contradicted_by_data",
                f"The closure attests that every action item is complete, but the data shows "
                f"{_plural(int(n), 'certificate')} on compromised keys still valid",
                closure.get("source_line"),
                closure.get("comment"),
            )
        )
    return out


# Which figure of the key-reuse summary a stated count of each measure is compared with.
_MEASURE_FIGURES: dict[str, tuple[str, ...]] = {
    "certificates": (
        "issuances_with_compromised_keys",
        "violating_issuances",
        "revocation_delays",
        "remaining_valid",
    ),
    "remaining_valid": ("remaining_valid",),
    "keys": ("compromised_keys", "reused_compromised_keys"),
}


def compare_counts(counts: Iterable[Mapping], data: Mapping) -> list[dict]:
    """Each stated count beside the data figure it is compared with, within its own measure only
    (a number of certificates is never set against a number of keys). Labelled template fields map
    to one figure; a count in prose is matched to the figure of its measure that equals it.

    Returns `[{"count", "figure", "data_value", "agrees"}]`; `figure` None when the measure has
    no figure in the data (precertificates, roots, CAs), or for a certificate count in prose that
    no certificate figure equals; a key or remaining-valid count in prose that no figure equals is
    set against its one figure (compromised keys, remaining valid) and disagrees."""
    out = []
    for c in counts:
        measure, value = c.get("measure"), c.get("value")
        figures = _MEASURE_FIGURES.get(str(measure), ())
        if c.get("field") and measure in _DATA_KEY:
            figure: str | None = _DATA_KEY[measure][0]
        else:
            figure = next((f for f in figures if data.get(f) == value), None)
            # Keys and remaining-valid counts have one figure they can mean, so an unequal one is
            # a mismatch to show; a certificate count in prose may mean any subset, so it is not.
            if figure is None and measure in _PROSE_FALLBACK:
                figure = _PROSE_FALLBACK[measure]
        dv = data.get(figure) if figure else None
        out.append(
            {
                "count": dict(c),
                "figure": figure,
                "data_value": dv,
                "agrees": None if dv is None else dv == value,
            }
        )
    return out


_PROSE_FALLBACK = {"keys": "compromised_keys", "remaining_valid": "remaining_valid"}

_DATA_KEY = {
    "certificates": ("issuances_with_compromised_keys", "certificates on compromised keys"),
    "remaining_valid": ("remaining_valid", '"remaining valid" certificates'),
    "keys": ("compromised_keys", "compromised keys"),
}


def _count_findings(counts: Iterable[Mapping], data: Mapping) -> list[dict]:
    out = []
    counts = list(counts)
    # Labelled counts (template fields) must each match.
    for c in counts:
        if not c.get("field") or c["measure"] not in _DATA_KEY:
            continue
        key, what = _DATA_KEY[c["measure"]]
        if key in data and data[key] is not None and int(data[key]) != c["value"]:
            out.append(
                _finding(
                    "counts.mismatch",
                    f"The text says {c['value']} ({c['field']}), the data says {int(data[key])} {what}",
                    c.get("source_line"),
                    c.get("comment"),
                )
            )
    # Key counts in prose: a mismatch when none of the stated numbers is the data's.
    stated = [c for c in counts if c["measure"] == "keys" and not c.get("field")]
    n = data.get("compromised_keys")
    if stated and n is not None and all(c["value"] != int(n) for c in stated):
        c = stated[0]
        values = ", ".join(str(v) for v in dict.fromkeys(x["value"] for x in stated))
        out.append(
            _finding(
                "counts.mismatch",
                f"The text says {values} keys, the data says {int(n)} compromised keys",
                c.get("source_line"),
                c.get("comment"),
            )
        )
    return out


def _sorted(findings: list[dict]) -> list[dict]:
    return sorted(
        findings,
        key=lambda f: (
            f.get("comment") or 0,
            f["line"] is not None,
            f["line"] or 0,
            _SEVERITY_ORDER[f["severity"]],
            f["code"],
            f["message"],
        ),
    )


def has_errors(findings: Iterable[Mapping]) -> bool:
    """True when a finding is error-level (`report lint` then exits 1)."""
    return any(f["severity"] == "error" for f in findings)


def to_lint_table(findings: list[Mapping]) -> str:
    """Findings for people: one line each, then a count by severity."""
    if not findings:
        return "No findings.\n"
    rows = []
    for f in findings:
        where = "-" if f.get("line") is None else str(f["line"])
        if f.get("comment") is not None:
            where = f"c{f['comment']}:{where}"
        rows.append((where, f["severity"], f["code"], f["message"]))
    w0 = max(len(r[0]) for r in rows + [("LINE", "", "", "")])
    w1 = max(len(r[1]) for r in rows + [("", "SEVERITY", "", "")])
    w2 = max(len(r[2]) for r in rows + [("", "", "CODE", "")])
    lines = [f"{'LINE':<{w0}}  {'SEVERITY':<{w1}}  {'CODE':<{w2}}  MESSAGE"]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c:<{w2}}  {d}" for a, b, c, d in rows]
    tally = {s: sum(1 for f in findings if f["severity"] == s) for s in ("error", "warning", "notice")}
    lines.append("")
    lines.append(", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in tally.items() if n))
    return "\n".join(lines) + "\n"
