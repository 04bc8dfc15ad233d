"""`ca-incidents fetch`: download from crt.sh and Bugzilla into files a later run reads offline.

    fetch crtsh (--spki HEX | --domain NAME | --serial HEX | --id N)... [--out DIR]
    fetch bug ID... [--out DIR]
    fetch bugs [--since DATE] [--out FILE]

Exit 0 when everything came; 3 when an upstream failed after retries or --offline missed the cache
(what did come is still written, the failures are on stderr and in `errors`); 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..errors import Problem, UpstreamError, UsageError
from ..safety import csv_writer
from .common import add_format, add_shared_options, print_json, report_problems, session_from_args


def _imports() -> None:
    """pandas and the HTTP clients, imported when a fetch runs (so `--help` starts fast)."""
    global pd, bugzilla, crtsh, format_time, UpstreamProblem, has_upstream_failure
    import pandas as pd

    from ..formats import format_time
    from ..sources import bugzilla, crtsh
    from ..sources.http import UpstreamProblem, has_upstream_failure


EXIT_OK, EXIT_USAGE, EXIT_UPSTREAM = 0, 2, 3


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "fetch",
        help="download certificates (crt.sh) and incident bugs (Bugzilla) to files",
        description="Download from crt.sh and Bugzilla, through the on-disk cache.",
    )
    sub = p.add_subparsers(dest="fetch_command", metavar="SOURCE")
    sub.required = True

    c = sub.add_parser(
        "crtsh",
        help="search crt.sh and download certificates",
        description="Search crt.sh (by SPKI SHA-256, identity or serial) or download by id. Without --out "
        "the rows are printed; with --out every certificate is saved as <crt.sh id>.pem next to "
        "crtsh.json (the crt.sh rows, with the entry time that becomes first_seen) for a later "
        "`keyreuse --certs DIR`.",
    )
    c.add_argument("--spki", action="append", default=[], metavar="HEX", help="SPKI SHA-256 (64 hex)")
    c.add_argument(
        "--domain", action="append", default=[], metavar="NAME", help="identity search (%% wildcard)"
    )
    c.add_argument(
        "--serial", action="append", default=[], metavar="HEX", help="serial number (any hex form)"
    )
    c.add_argument("--id", action="append", default=[], type=int, metavar="N", help="crt.sh certificate id")
    c.add_argument("--out", metavar="DIR", help="save <id>.pem files and crtsh.json here")
    c.add_argument("--exclude-expired", action="store_true", help="only certificates not yet expired")
    add_format(c, ("table", "json", "csv"), {"json": "a list of crt.sh rows", "csv": "the crt.sh rows"})
    add_shared_options(c, crtsh=True)
    c.set_defaults(func=run_crtsh)

    b = sub.add_parser(
        "bug",
        help="bugs by number: bug, comments, attachments, history",
        description="Fetch bugs with comments, attachments and history. With --out, writes "
        "DIR/<id>/{bug,comments,history,attachments}.json in Bugzilla's REST shapes and the decoded "
        "attachments under DIR/<id>/attachments/; without, prints them as JSON. An API key is read from "
        "env BUGZILLA_API_KEY.",
    )
    b.add_argument("ids", nargs="+", metavar="ID", help="bug number(s)")
    b.add_argument("--out", metavar="DIR", help="write DIR/<id>/*.json")
    add_shared_options(b, bugzilla=True)
    b.set_defaults(func=run_bug)

    s = sub.add_parser(
        "bugs",
        help="the CA Certificate Compliance corpus",
        description="Search every bug of the CA Certificate Compliance component. With --out FILE that "
        "already exists, only bugs changed since the last complete run are fetched and merged in "
        "(--since overrides, --full fetches everything).",
    )
    s.add_argument("--since", metavar="DATE", help="only bugs changed at or after DATE (UTC)")
    s.add_argument("--full", action="store_true", help="ignore the watermark in --out FILE")
    s.add_argument(
        "--component",
        default=None,
        metavar="NAME",
        help="Bugzilla component (default: CA Certificate Compliance)",
    )
    s.add_argument("--out", metavar="FILE", help='write {"bugs": [...]} here (default: stdout)')
    add_shared_options(s, bugzilla=True)
    s.set_defaults(func=run_bugs)


def _finish(problems: list[Problem]) -> int:
    report_problems(problems)
    return EXIT_UPSTREAM if has_upstream_failure(problems) else EXIT_OK


def _api_key() -> str | None:
    return os.environ.get("BUGZILLA_API_KEY") or None


# --- crt.sh ---------------------------------------------------------------------------------------


def _row_records(rows: pd.DataFrame) -> list[dict]:
    out = []
    for r in rows.to_dict("records"):
        out.append(
            {
                "crtsh_id": int(r["crtsh_id"]),
                "issuer_ca_id": None if pd.isna(r["issuer_ca_id"]) else int(r["issuer_ca_id"]),
                "issuer_name": None if pd.isna(r["issuer_name"]) else r["issuer_name"],
                "serial": r["serial"],
                "first_seen": format_time(r["first_seen"]),
                "not_before": format_time(r["not_before"]),
                "not_after": format_time(r["not_after"]),
                "names": list(r["name_value"]),
                "issuance_rows": int(r["issuance_rows"]),
                "query": r["query"],
            }
        )
    return out


def _print_rows(records: list[dict], fmt: str, problems: list[Problem]) -> None:
    if fmt == "json":
        print_json({"rows": records, "errors": [p.to_dict() for p in problems]})
        return
    cols = ["crtsh_id", "issuer_ca_id", "serial", "first_seen", "not_before", "not_after", "names"]
    if fmt == "csv":
        w = csv_writer(sys.stdout)  # subjects and names are the CA's text: formulas neutralised
        w.writerow([*cols, "issuer_name", "query"])
        for r in records:
            w.writerow(
                [*(r[c] if c != "names" else " ".join(r[c]) for c in cols), r["issuer_name"], r["query"]]
            )
        return
    if not records:
        print("no certificates found")
        return
    table = pd.DataFrame(
        [{**r, "names": ", ".join(r["names"][:3]) + (" ..." if len(r["names"]) > 3 else "")} for r in records]
    )
    print(table[cols].astype(object).where(table[cols].notna(), "-").to_string(index=False))


def run_crtsh(args: argparse.Namespace) -> int:
    _imports()
    if not (args.spki or args.domain or args.serial or args.id):
        raise UsageError("fetch crtsh needs at least one of --spki, --domain, --serial, --id")
    session = session_from_args(args)
    problems: list[Problem] = []
    frames: list[pd.DataFrame] = []
    searches = (
        [
            (f"spki {v}", lambda v=v: crtsh.search_spki(session, v, exclude_expired=args.exclude_expired))
            for v in args.spki
        ]
        + [
            (
                f"domain {v}",
                lambda v=v: crtsh.search_identity(session, v, exclude_expired=args.exclude_expired),
            )
            for v in args.domain
        ]
        + [
            (f"serial {v}", lambda v=v: crtsh.search_serial(session, v, exclude_expired=args.exclude_expired))
            for v in args.serial
        ]
    )
    for label, call in searches:
        try:
            frame, more = call()
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, label))
            continue
        except ValueError as exc:
            problems.append(Problem(label, None, str(exc)))
            continue
        frames.append(frame)
        problems.extend(more)
    rows = pd.concat(frames, ignore_index=True) if frames else crtsh.empty_rows()
    rows = rows.drop_duplicates("crtsh_id", keep="first").reset_index(drop=True)

    if args.out is None:
        if args.id:
            for crtsh_id in args.id:
                try:
                    sys.stdout.write(crtsh.fetch_pem(session, crtsh_id).decode("ascii", "replace"))
                except UpstreamError as exc:
                    problems.append(UpstreamProblem.from_error(exc, f"crt.sh id {crtsh_id}"))
        if len(rows) or not args.id:
            _print_rows(_row_records(rows), args.format, problems)
        return _finish(problems)

    items, more = crtsh.fetch_row_certificates(session, rows)
    problems.extend(more)
    have = {meta["crtsh_id"] for _, meta in items}
    for crtsh_id in args.id:
        if crtsh_id in have:
            continue
        url = crtsh.pem_url(session, crtsh_id)
        try:
            pem = crtsh.fetch_pem(session, crtsh_id)
        except UpstreamError as exc:
            problems.append(UpstreamProblem.from_error(exc, f"crt.sh id {crtsh_id}"))
            continue
        items.append(
            (
                pem,
                {
                    "crtsh_id": crtsh_id,
                    "first_seen": None,
                    "issuer_ca_id": None,
                    "issuer_name": None,
                    "serial": "",
                    "crtsh_serial": "",
                    "source": url,
                },
            )
        )
    try:
        index = crtsh.save_certificates(args.out, items, rows)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--out {args.out}: {exc}") from None
    summary = {
        "rows": len(rows),
        "certificates_saved": len(items),
        "out": str(args.out),
        "rows_file": str(index),
        "errors": [p.to_dict() for p in problems],
    }
    if args.format == "json":
        print_json(summary)
    else:
        print(f"{len(rows)} crt.sh rows, {len(items)} certificates saved in {args.out} (rows in {index})")
    return _finish(problems)


# --- Bugzilla -------------------------------------------------------------------------------------


def run_bug(args: argparse.Namespace) -> int:
    _imports()
    ids = []
    for v in args.ids:
        try:
            ids.append(bugzilla._bug_id(v))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    session = session_from_args(args)
    api_key = _api_key()
    problems: list[Problem] = []
    printed = []
    for n in ids:
        bundle, more = bugzilla.fetch_bug_bundle(
            session, n, api_key=api_key, include_data=args.out is not None
        )
        problems.extend(more)
        if args.out is not None:
            try:
                folder, more = bugzilla.write_bug_dir(bundle, args.out)
            except (OSError, ValueError) as exc:
                raise UsageError(f"--out {args.out}: {exc}") from None
            problems.extend(more)
            print(f"bug {n}: {folder}")
            # Incident spreadsheets among the attachments go through the spreadsheet loader.
            sheets, more = bugzilla.attachment_spreadsheets(bundle)
            problems.extend(more)
            for att, result in sheets:
                mapped = ", ".join(f"{h} -> {f}" for h, f in result.mapped.items()) or "none"
                print(
                    f"bug {n} attachment {att.get('id')} {att.get('file_name')!r}: "
                    f"{len(result.certificates)} certificates, {len(result.revocations)} revocations "
                    f"(layout {result.layout}; columns mapped: {mapped})"
                )
        else:
            printed.append(bundle)
    if args.out is None:
        print_json(printed[0] if len(printed) == 1 else {"bugs": printed})
    return _finish(problems)


def run_bugs(args: argparse.Namespace) -> int:
    _imports()
    session = session_from_args(args)
    old: list[dict] = []
    since = args.since
    kept: list[Problem] = []
    if args.out and os.path.exists(args.out):
        try:
            old, watermark = bugzilla.read_bugs_file(args.out, kept)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{args.out}: not a bugs file ({exc})") from None
        if since is None and not args.full:
            since = watermark
    if since is not None:
        try:
            since = bugzilla.format_since(since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
    bugs, problems = bugzilla.search_bugs(
        session, since=since, component=args.component or bugzilla.COMPONENT, api_key=_api_key()
    )
    problems = kept + problems
    complete = not has_upstream_failure(problems)
    merged = bugzilla.merge_bugs(old, bugs)
    watermark = bugzilla.next_watermark(merged if complete else bugs, since, complete)
    if args.out:
        bugzilla.write_bugs_file(args.out, merged, watermark=watermark, complete=complete)
        print(f"{len(bugs)} bugs fetched{' since ' + since if since else ''}, {len(merged)} in {args.out}")
    else:
        json.dump({"bugs": merged}, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    return _finish(problems)
