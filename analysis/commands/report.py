"""`ca-incidents report parse|closure-summary|lint|draft|appendix`: incident reports and their data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from .common import add_format, add_shared_options, print_json, report_problems, session_from_args

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UPSTREAM = 0, 1, 2, 3
SCHEMA_VERSION = 1


# --- hooks: where the data comes from ---------------------------------------------------------


def _add_keyreuse_inputs(p: argparse.ArgumentParser) -> None:
    """The key-reuse input options (shared with `keyreuse`), or none when that command is absent."""
    try:
        from .keyreuse import add_keyreuse_inputs
    except ImportError:  # pragma: no cover - the keyreuse command is part of the package
        p.add_argument("--demo", action="store_true", help="use the embedded demo incident")
        return
    add_keyreuse_inputs(p)


_DATA_OPTIONS = ("certs", "crl", "crl_list", "revocations", "compromised", "crtsh_spki")


def _wants_data(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "demo", False)) or any(getattr(args, name, None) for name in _DATA_OPTIONS)


def load_findings(args: argparse.Namespace):
    """(Findings or None, upstream_failed): the key-reuse analysis of the inputs the options name.

    None when no key-reuse input was given. Hook: uses `analysis.commands.keyreuse.analyse_from_args`.
    """
    if not _wants_data(args):
        return None, False
    try:
        from .keyreuse import analyse_from_args
    except ImportError as exc:  # pragma: no cover
        raise UsageError(f"key-reuse inputs need the keyreuse engine, which is missing ({exc})") from exc
    findings, upstream_failed = analyse_from_args(args, names=True)
    report_problems(findings.problems)
    return findings, upstream_failed


def _demo_report() -> Path:
    from ..demo import demo_paths

    paths = demo_paths().get("report") or []
    if not paths:
        raise UsageError("the demo incident has no report.md")
    return Path(paths[0])


def load_report_from_args(
    args: argparse.Namespace, *, required: bool = True
) -> tuple[dict | None, str | None]:
    """The parsed report named by FILE, --bug ID or --demo; (None, None) when none and not required."""
    from ..reports import load_report, parse_comments

    if args.file and args.bug is not None:
        raise UsageError("give FILE or --bug ID, not both")
    if args.bug is not None:
        try:
            from ..sources import bugzilla
        except ImportError as exc:
            raise UsageError(
                f"--bug needs the Bugzilla loader (analysis.sources.bugzilla), not available: {exc}"
            ) from exc
        fetch = getattr(bugzilla, "fetch_comments", None)
        if fetch is None:
            raise UsageError(
                "--bug needs analysis.sources.bugzilla.fetch_comments, not available in this build"
            )
        comments = fetch(session_from_args(args), args.bug)
        return parse_comments(comments), f"bug {args.bug}"
    if args.file:
        return load_report(args.file), str(args.file)
    if getattr(args, "demo", False):
        path = _demo_report()
        return load_report(path), str(path)
    if required:
        raise UsageError("no report: give FILE, --bug ID or --demo")
    return None, None


def _add_source(p: argparse.ArgumentParser, *, demo_flag: bool) -> None:
    p.add_argument("file", nargs="?", metavar="FILE", help="report text/markdown, or Bugzilla comments JSON")
    p.add_argument("--bug", type=int, metavar="ID", help="read the bug's comments from Bugzilla")
    if demo_flag:
        p.add_argument("--demo", action="store_true", help="the embedded demo incident's report")


# --- commands ---------------------------------------------------------------------------------


def run_parse(args: argparse.Namespace) -> int:
    from ..reports import to_markdown

    report, source = load_report_from_args(args)
    if args.format == "markdown":
        sys.stdout.write(to_markdown(report))
    else:
        print_json({"schema_version": SCHEMA_VERSION, "source": source, **report})
    return EXIT_OK


def run_closure_summary(args: argparse.Namespace) -> int:
    from ..drafting import draft_closure_summary, to_closure_markdown

    report, _ = load_report_from_args(args)
    findings, upstream_failed = load_findings(args)
    draft = draft_closure_summary(
        report,
        findings.summary if findings is not None else None,
        data_as_of=findings.as_of if findings is not None else None,
    )
    for it in draft.get("data_predates") or []:
        print(
            f"ca-incidents: note: the data is as of {findings.as_of:%Y-%m-%d}, before '{it['item']}' was "
            f"completed ({it['completed']}), and still shows {draft['still_valid']} certificate(s) on "
            "compromised keys valid: analyse data from after that date to confirm it",
            file=sys.stderr,
        )
    if args.format == "json":
        print_json(draft)
    else:
        sys.stdout.write(to_closure_markdown(draft))
    return EXIT_UPSTREAM if upstream_failed else EXIT_OK


def run_lint(args: argparse.Namespace) -> int:
    from ..drafting import has_errors, lint_report, to_lint_table

    report, source = load_report_from_args(args)
    findings, upstream_failed = load_findings(args)
    result = lint_report(
        report,
        findings.summary if findings is not None else None,
        data_as_of=findings.as_of if findings is not None else None,
    )
    if args.format == "json":
        tally = {s: sum(1 for f in result if f["severity"] == s) for s in ("error", "warning", "notice")}
        print_json(
            {
                "schema_version": SCHEMA_VERSION,
                "source": source,
                "kind": report.get("kind"),
                "data": findings.summary if findings is not None else None,
                "findings": result,
                "summary": tally,
            }
        )
    else:
        sys.stdout.write(to_lint_table(result))
    if upstream_failed:
        return EXIT_UPSTREAM
    return EXIT_FINDINGS if has_errors(result) else EXIT_OK


def run_draft(args: argparse.Namespace) -> int:
    from ..drafting import draft_full_report, events_from_keyreuse
    from ..reports import load_report

    if args.report:
        report = load_report(args.report)
    elif getattr(args, "demo", False):
        report = load_report(_demo_report())  # --demo promises the demo incident, its report included
    else:
        report = None
    findings, upstream_failed = load_findings(args)
    if report is None and findings is None:
        raise UsageError(
            "nothing to draft from: give key-reuse inputs (e.g. --certs, --crl, --demo) or --report FILE"
        )
    events = events_from_keyreuse(findings.to_dict()) if findings is not None else None
    text = draft_full_report(report, findings.summary if findings is not None else None, events=events)
    _write(text, args.out)
    return EXIT_UPSTREAM if upstream_failed else EXIT_OK


def run_appendix(args: argparse.Namespace) -> int:
    from ..drafting import to_appendix

    findings, upstream_failed = load_findings(args)
    if findings is None:
        raise UsageError("the appendix needs key-reuse inputs (e.g. --certs, --crl, --demo)")
    rows = findings.compromised_issuances()
    _write(to_appendix(rows, as_of=findings.as_of), args.out, newline="")
    return EXIT_UPSTREAM if upstream_failed else EXIT_OK


def _write(text: str, out: str | None, newline: str | None = None) -> None:
    if out:
        try:
            with open(out, "w", encoding="utf-8", newline=newline) as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    else:
        sys.stdout.write(text)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="parse, lint and draft CCADB incident reports and closure summaries",
        description="CCADB incident reports: parse them, lint them, draft closure summaries, full reports and "
        "the appendix CSV.",
    )
    rs = p.add_subparsers(dest="report_command", metavar="SUBCOMMAND")
    rs.required = True

    q = rs.add_parser(
        "parse",
        help="a report (text, markdown, bug page or comments JSON) as structured data",
        description="Parse an incident report (CCADB 3.x, older plain-line reports, a pasted bug page) or a "
        "bug's comments JSON into its kind, sections, fields, timeline (times converted to UTC), action "
        "items, root causes, closure summary and stated counts.",
    )
    _add_source(q, demo_flag=True)
    add_format(q, ("json", "markdown"), {"markdown": "a reviewer's view: kind, timeline, action items"})
    add_shared_options(q, bugzilla=True)
    q.set_defaults(func=run_parse)

    q = rs.add_parser(
        "closure-summary",
        help="draft the Report Closure Summary",
        description="Draft the four closure fields from the report's own words and, with key-reuse "
        "inputs, the data's counts. The attestation sentence is added only when every action item is "
        "Complete or Canceled; otherwise the open items are listed in its place.",
    )
    _add_source(q, demo_flag=False)
    _add_keyreuse_inputs(q)
    add_format(q, ("markdown", "json"), {"markdown": "the closure summary as it is posted"})
    add_shared_options(q, crtsh=True, bugzilla=True)
    q.set_defaults(func=run_closure_summary)

    q = rs.add_parser(
        "lint",
        help="check a report or closure summary against the CCADB guidelines",
        description="List findings (code, severity, message, line) for missing sections and fields, "
        "action items without kind, due date or status, timeline rows without a zone, closure "
        "problems and, with key-reuse inputs, counts that disagree with the data. Exit 1 when one "
        "is error-level.",
    )
    _add_source(q, demo_flag=False)
    _add_keyreuse_inputs(q)
    add_format(q, ("table", "json"), {"table": "one finding a line"})
    add_shared_options(q, crtsh=True, bugzilla=True)
    q.set_defaults(func=run_lint)

    q = rs.add_parser(
        "draft",
        help="a Full Incident Report skeleton (markdown) from the data",
        description="Write a Full Incident Report skeleton with every CCADB template field, filled from "
        "the key-reuse data and from an earlier report (--report); N/A where nothing is known.",
    )
    _add_keyreuse_inputs(q)
    q.add_argument("--report", metavar="FILE", help="take what is known from an earlier report")
    q.add_argument("--out", metavar="FILE.md", help="write here instead of stdout")
    add_shared_options(q, crtsh=True)
    q.set_defaults(func=run_draft)

    q = rs.add_parser(
        "appendix",
        help="the CCADB appendix CSV of certificates on compromised keys",
        description="The CCADB appendix: one row per issuance on a compromised key, the eleven template "
        "columns in order, then SPKI SHA-256, compromised_at and violation. From 10,000 rows on, one "
        "crt.sh link per certificate.",
    )
    _add_keyreuse_inputs(q)
    q.add_argument("--out", metavar="FILE.csv", help="write here instead of stdout")
    add_shared_options(q, crtsh=True)
    q.set_defaults(func=run_appendix)
