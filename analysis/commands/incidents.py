"""`ca-incidents incidents summary`: the Bugzilla corpus per CA, tag and year; time to close; deadlines."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..errors import UsageError
from .common import add_format, print_json, report_problems

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "incidents",
        help="the CA compliance incident corpus: counts, time to close, deadline adherence",
        description="Analyse a Bugzilla CA Certificate Compliance corpus.",
    )
    isub = p.add_subparsers(dest="incidents_command", metavar="SUBCOMMAND")
    isub.required = True
    s = isub.add_parser(
        "summary",
        help="counts per year, CA and tag; self-reported share; time to close; CCADB deadlines",
        description=(
            "Summarise a bug list (the REST search answer that `fetch bugs --out FILE` writes) and, with "
            "--comments, the per-bug folders that `fetch bug ID --out DIR` writes (comments, history). "
            "--bugs DIR (a corpus folder) also reads its comments; --comments DIR alone reads the bugs from "
            "DIR/bugs.json or DIR/<id>/bug.json. With neither, the embedded fictional demo corpus is used."
        ),
    )
    s.add_argument(
        "--bugs",
        metavar="FILE",
        help='bug list {"bugs": [...]} or a corpus folder (default: the demo corpus)',
    )
    s.add_argument(
        "--comments",
        metavar="DIR",
        help="corpus folder with <id>/comments.json, history.json, bug.json (as `fetch bug --out DIR` writes)",
    )
    s.add_argument(
        "--alias",
        action="append",
        default=[],
        metavar="PREFIX=CA",
        help="extra title-prefix alias, e.g. 'Comodo CA Ltd=Sectigo' (repeatable)",
    )
    s.add_argument("--as-of", default=None, metavar="TIME", help="analysis time for open bugs (default now)")
    add_format(s, ("table", "json"), {"table": "the figures as aligned text, top --top CAs and tags"})
    s.add_argument(
        "--top", type=int, default=15, metavar="N", help="rows per ranking in the table (default 15)"
    )
    s.add_argument("--strict", action="store_true", help="exit 1 when any input was skipped")
    s.set_defaults(func=run_summary)


def _aliases(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        prefix, sep, ca = v.partition("=")
        if not sep or not prefix.strip() or not ca.strip():
            raise UsageError(f"--alias expects PREFIX=CA, got {v!r}")
        out[prefix.strip()] = ca.strip()
    return out


def run_summary(args: argparse.Namespace) -> int:
    from ..formats import parse_time
    from ..incidents import DEFAULT_DEMO_CORPUS, compute_summary, load_corpus

    notes = []
    bugs_path, comments_dir = args.bugs, args.comments
    if bugs_path is None and comments_dir is not None:
        bugs_path = comments_dir  # its bugs.json, else every <id>/bug.json
    elif bugs_path is not None and comments_dir is None and Path(bugs_path).is_dir():
        comments_dir = bugs_path  # a corpus folder holds both
    if bugs_path is None:
        bugs_path = DEFAULT_DEMO_CORPUS / "bugs.json"
        if comments_dir is None:
            comments_dir = DEFAULT_DEMO_CORPUS
        notes.append(
            "No --bugs given: this is the embedded fictional demo corpus (data/demo/corpus); "
            "pass --bugs FILE (from `ca-incidents fetch bugs --out FILE`) for real data."
        )
    as_of = None
    if args.as_of:
        try:
            as_of = parse_time(args.as_of)
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from exc
    corpus = load_corpus(bugs_path, comments_dir, _aliases(args.alias))
    report_problems(corpus.problems)
    if corpus.bugs.empty:
        print("ca-incidents: error: no usable bug in the input", file=sys.stderr)
        if args.format == "json":
            print_json(compute_summary(corpus, as_of=as_of, notes=notes))
        return EXIT_USAGE
    summary = compute_summary(corpus, as_of=as_of, notes=notes)
    if args.format == "json":
        print_json(summary)
    else:
        sys.stdout.write(to_table(summary, top=args.top))
    if args.strict and corpus.problems:
        return EXIT_SKIPPED
    return EXIT_OK


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:g}"


def _rows(title: str, pairs: list[tuple[str, str]]) -> list[str]:
    if not pairs:
        return [title, "  (none)", ""]
    width = max(len(k) for k, _ in pairs)
    numeric = all(re.fullmatch(r"[\d.,%n/a-]+", v) for _, v in pairs)
    vwidth = max(len(v) for _, v in pairs) if numeric else 0
    return [title, *(f"  {k.ljust(width)}  {v.rjust(vwidth)}".rstrip() for k, v in pairs), ""]


def to_table(summary: dict, *, top: int = 15) -> str:
    """The summary as plain aligned text for people."""
    lines: list[str] = []
    rep = summary["reporters"]
    lines += _rows(
        "Incident corpus",
        [
            ("bugs", str(summary["total"])),
            ("open", str(summary["open"])),
            ("closed", str(summary["closed"])),
            (
                "self-reported",
                f"{_pct(summary['self_reported'])} ({rep['self']} self, {rep['third_party']} third party)",
            ),
            ("analysis time", summary["as_of"] or ""),
        ],
    )
    lines += _rows("By year", [(y, str(n)) for y, n in summary["by_year"].items()])
    cas = list(summary["by_ca"].items())
    more = f" (top {top} of {len(cas)})" if len(cas) > top else ""
    lines += _rows(f"By CA{more}", [(c, str(n)) for c, n in cas[:top]])
    tags = list(summary["by_tag"].items())
    more = f" (top {top} of {len(tags)})" if len(tags) > top else ""
    lines += _rows(f"By tag{more}", [(t, str(n)) for t, n in tags[:top]])
    ttc = summary["time_to_close_days"]
    if ttc is None:
        lines += ["Time to close (days)", "  n/a (see notes)", ""]
    else:
        lines += _rows(
            f"Time to close (days, {ttc['count']} bugs)",
            [("median", _num(ttc["median"])), ("p25", _num(ttc["p25"])), ("p75", _num(ttc["p75"]))]
            + [(f"median {y}", _num(m)) for y, m in ttc["by_year"].items()],
        )
    if summary["deadlines"] is None:
        lines += ["Deadlines (share kept)", "  n/a (see notes)", ""]
    else:
        pairs = []
        from ..incidents import RULES

        for rule in RULES:
            c = summary["deadline_counts"][rule]
            pairs.append(
                (rule, f"{_pct(summary['deadlines'][rule])}  kept {c['kept']}, missed {c['missed']}")
            )
        lines += _rows("Deadlines (share kept)", pairs)
    if summary["errors"]:
        lines.append(f"Problems ({len(summary['errors'])})")
        for e in summary["errors"]:
            where = f"{e['input']} {e['position']}" if e["position"] else e["input"]
            lines.append(f"  {where}: {e['reason']}")
        lines.append("")
    if summary["notes"]:
        lines.append("Notes")
        lines += [f"  - {n}" for n in summary["notes"]]
        lines.append("")
    return "\n".join(lines)
