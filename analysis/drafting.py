"""Closure summaries, report drafts, the appendix CSV and report lint, from a parsed report and data.

Every function takes plain inputs: a parsed report (the dict of `analysis.reports.parse_report`),
the key-reuse summary dict (`keyreuse --format json`'s `summary`), rows as dicts or a frame.
Drafts are extractive: sentences and items come from the report's own words and the data's counts;
no network, no model.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from .formats import format_time, normalize_serial
from .reports import ATTESTATION, CLOSURE_FIELDS, FULL, PRELIMINARY
from .reports.eras import BY_NAME as _ERAS
from .reports.eras import era_in_force
from .safety import csv_dict_writer

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
}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "notice": 2}

_CLOSURE_LABELS = {
    "incident_description": "Incident description",
    "root_causes": "Incident Root Cause(s)",
    "remediation": "Remediation description",
    "commitments": "Commitment summary",
}
_DONE = {"Complete", "Canceled"}


def _key(text: str) -> str:
    text = text.replace("\u2019", "'")
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


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


def report_era(report: Mapping, filed: dt.date | None = None):
    """(era module, why): the guidelines the report is judged by. The version in force on the
    filing date wins; without a date, the template the text follows; else the current one."""
    day = filed or filing_date(report)
    if day is not None:
        e = era_in_force(day)
        return e, f"{e.GUIDELINE}, in force on {day.isoformat()}"
    e = _ERAS.get(report.get("era") or "") or _ERAS["v3"]
    return e, f"{e.GUIDELINE} (no filing date known; judged by the template the text follows)"


def lint_report(
    report: Mapping, data_counts: Mapping | None = None, *, filed: dt.date | None = None
) -> list[dict]:
    """Check a parsed report or closure summary against the CCADB guidelines, pkilint-style.

    The fields and sections required are those of the guideline version in force on the day the
    report was filed (`filed`, else `report["filed"]`, else its latest timeline date); each such
    finding names that version. Returns findings `{"code", "severity", "message", "line"}` (plus
    `comment` for a bug's comments), sorted by line. `data_counts` is the key-reuse summary dict;
    when given, the counts the text states are compared with it (`counts.mismatch`), and an action
    item said to be complete while the data shows certificates still valid is flagged.
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
        if not items:
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
        out += _contradictions(items, cs, data_counts)
    return _sorted(out)


_REVOCATION_WORDS = re.compile(r"\brevoke\b|^\W*revocation\b|\breplace\b", re.IGNORECASE)


def _contradictions(items: list[Mapping], closure: Mapping | None, data: Mapping) -> list[dict]:
    """A revocation said to be complete (or a closure attested) while the data shows certificates
    on compromised keys still valid."""
    n = data.get("remaining_valid")
    if not n:
        return []
    out = []
    for it in items:
        if it.get("status") == "Complete" and _REVOCATION_WORDS.search(it.get("item") or ""):
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
    no figure in the data (precertificates, roots, CAs) or none equals the stated value."""
    out = []
    for c in counts:
        measure, value = c.get("measure"), c.get("value")
        figures = _MEASURE_FIGURES.get(str(measure), ())
        if c.get("field") and measure in _DATA_KEY:
            figure: str | None = _DATA_KEY[measure][0]
        else:
            figure = next((f for f in figures if data.get(f) == value), None)
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


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


# --- closure summary --------------------------------------------------------------------------


def _sentences(text: str | None, n: int) -> str:
    if not text:
        return ""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])", " ".join(text.split()))
    return " ".join(parts[:n]).strip()


def _lower_first(text: str) -> str:
    """'The revocation ...' -> 'the revocation ...' inside a sentence; 'CRL ...', 'OCSP' stay."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:].islower():
        return text[0].lower() + text[1:]
    return text


def _join(items: list[str]) -> str:
    items = [i.rstrip(".") for i in items]
    items = items[:1] + [_lower_first(i) for i in items[1:]]
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + "; and " + items[-1]


def _field(report: Mapping, prefix: str, *, exact: bool = False) -> str | None:
    for k, v in report.get("fields", {}).items():
        if v and (_key(k) == prefix if exact else _key(k).startswith(prefix)):
            return v
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def draft_closure_summary(report: Mapping, findings_summary: Mapping | None = None) -> dict:
    """Draft a Report Closure Summary from a parsed report and, optionally, the key-reuse summary.

    Returns `{"incident_description", "root_causes", "remediation", "commitments", "attestation",
    "open_items", "canceled_items"}`. The attestation is set only when at least one action item
    was found and every one is Complete or Canceled; otherwise `open_items` lists the rest.
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
    if findings_summary and findings_summary.get("remaining_valid") is not None:
        n = int(findings_summary["remaining_valid"])
        parts.append(
            "No certificate on a compromised key remains valid in the data."
            if n == 0
            else f"{_plural(n, 'certificate')} on compromised keys still remain valid in the data."
        )
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
    attestation = bool(items) and not open_items and not still_valid
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


# --- appendix ---------------------------------------------------------------------------------

#: The CCADB appendix columns, in order, then ours.
APPENDIX_COLUMNS = (
    "Precertificate SHA-256 hash",
    "Certificate SHA-256 hash",
    "Subject",
    "Issuer",
    "Not before",
    "Not after",
    "Serial # (hex)",
    "dNSNames",
    "Is revoked?",
    "Revocation date",
    "Revocation reason",
)
CUSTOM_COLUMNS = ("SPKI SHA-256", "compromised_at", "violation")
_DEADLINE = dt.timedelta(hours=24)


def _ts(value: object) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(t):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _records(rows: object) -> list[dict]:
    if isinstance(rows, pd.DataFrame):
        return rows.to_dict("records")
    return [dict(r) for r in rows]  # type: ignore[union-attr]


def _is_revoked(r: Mapping, as_of: pd.Timestamp) -> str:
    """Yes / N/A / Delayed / Planned (report appendix rule)."""
    if _ts(r.get("revoked_at")) is not None:
        return "Yes"
    not_after = _ts(r.get("not_after"))
    if not_after is not None and not_after <= as_of:
        return "N/A"
    compromised = _ts(r.get("compromised_at"))
    issued = _ts(r.get("issued_at")) or _ts(r.get("not_before"))
    violation = bool(r.get("violation")) if _text(r.get("violation")) else False
    ref = issued if (violation or compromised is None) else compromised
    if ref is None or as_of > ref + _DEADLINE:
        return "Delayed"
    return "Planned"


def appendix_rows(rows: object, *, as_of: object = None) -> list[dict]:
    """Issuances on compromised keys (dicts or a frame with the issuances columns) -> appendix rows.

    Input keys: precert_sha256, cert_sha256, subject_dn, issuer_dn, not_before, not_after, serial,
    san_dns, revoked_at, revocation_reason (or reason), spki_sha256, compromised_at, violation and,
    for "Is revoked?", issued_at. An `is_revoked` key, when present, is used as given. `as_of`
    (default now) decides expired / Delayed / Planned.
    """
    now = _ts(as_of) if as_of is not None else pd.Timestamp.now(tz="UTC")
    if now is None:
        raise ValueError(f"not a time: {as_of!r}")
    out = []
    for r in _records(rows):
        sans = r.get("san_dns")
        if isinstance(sans, str):
            names = sans
        elif sans is None or (not isinstance(sans, (list, tuple)) and _text(sans) == ""):
            names = ""
        else:
            names = ", ".join(str(x) for x in list(sans))
        serial = r.get("serial")
        try:
            serial_hex = normalize_serial(serial) if _text(serial) else ""
        except ValueError:
            serial_hex = _text(serial)
        revoked_at = _ts(r.get("revoked_at"))
        reason = _text(r.get("revocation_reason", r.get("reason"))) if revoked_at is not None else ""
        violation = r.get("violation")
        out.append(
            {
                "Precertificate SHA-256 hash": _text(r.get("precert_sha256")).lower(),
                "Certificate SHA-256 hash": _text(r.get("cert_sha256")).lower(),
                "Subject": _text(r.get("subject_dn")),
                "Issuer": _text(r.get("issuer_dn")),
                "Not before": format_time(_ts(r.get("not_before"))) or "",
                "Not after": format_time(_ts(r.get("not_after"))) or "",
                "Serial # (hex)": serial_hex,
                "dNSNames": names,
                "Is revoked?": _text(r.get("is_revoked")) or _is_revoked(r, now),
                "Revocation date": format_time(revoked_at) or "",
                "Revocation reason": reason,
                "SPKI SHA-256": _text(r.get("spki_sha256")).lower(),
                "compromised_at": format_time(_ts(r.get("compromised_at"))) or "",
                "violation": "" if not _text(violation) else ("true" if bool(violation) else "false"),
            }
        )
    return out


def to_appendix_csv(rows: object, *, as_of: object = None) -> str:
    """The CCADB appendix CSV: the eleven columns in order, then SPKI SHA-256, compromised_at,
    violation. `rows` as for `appendix_rows`; rows already in appendix form pass through."""
    recs = _records(rows)
    if recs and "Is revoked?" in recs[0]:
        table = recs
    else:
        table = appendix_rows(recs, as_of=as_of)
    buf = io.StringIO()
    w = csv_dict_writer(
        buf, [*APPENDIX_COLUMNS, *CUSTOM_COLUMNS], lineterminator="\r\n", extrasaction="ignore"
    )
    w.writeheader()
    w.writerows(table)
    return buf.getvalue()


def to_appendix_links(rows: object) -> str:
    """The listing for 10,000 certificates or more: one `https://crt.sh/?sha256=<hash>` line each
    (the final certificate's hash, else the precertificate's)."""
    out = []
    for r in _records(rows):
        h = _text(r.get("cert_sha256") or r.get("Certificate SHA-256 hash")) or _text(
            r.get("precert_sha256") or r.get("Precertificate SHA-256 hash")
        )
        if h:
            out.append(f"https://crt.sh/?sha256={h.lower()}")
    return "\n".join(out) + ("\n" if out else "")


def to_appendix(rows: object, *, as_of: object = None, limit: int = 10_000) -> str:
    """The CSV below `limit` certificates, the crt.sh link list from `limit` on (CCADB guidelines)."""
    recs = _records(rows)
    return to_appendix_csv(recs, as_of=as_of) if len(recs) < limit else to_appendix_links(recs)
