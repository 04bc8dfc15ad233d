"""`ca-incidents sweep`: certificates issued on keys a CA (or any CA) revoked for keyCompromise."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from ..errors import UsageError
from .common import add_format, add_shared_options, print_json, report_problems, session_from_args

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_UPSTREAM = 0, 1, 2, 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="find certificates issued on keys revoked for keyCompromise, for whole CAs (crt.sh)",
        description=(
            "Sweep crt.sh's database for a CA's (or every CA's) keyCompromise CRL entries, follow "
            "each revoked certificate's key to every certificate crt.sh has on it at any CA, and "
            "apply the keyreuse rules to what that finds. Findings are leads for review, not verdicts."
        ),
    )
    g = p.add_argument_group("which CAs (at least one)")
    g.add_argument("--ca-id", action="append", type=int, default=[], metavar="N", help="crt.sh CA id")
    g.add_argument(
        "--ca-name", action="append", default=[], metavar="TEXT", help="CAs whose crt.sh name contains TEXT"
    )
    g.add_argument("--all-cas", action="store_true", help="every CA crt.sh fetches CRLs for")
    p.add_argument(
        "--since", metavar="DATE", help="keyCompromise revocations from this date (default 2013-01-01)"
    )
    p.add_argument("--until", metavar="DATE", help="... up to (not including) this date (default today)")
    p.add_argument("--scope", choices=("global", "issuer"), default="global", help="whose compromise counts")
    p.add_argument("--as-of", metavar="TIME", help="analysis time for 'remaining valid' (default now)")
    add_format(
        p,
        ("table", "json", "csv", "appendix"),
        {
            "table": "the summary, the reused keys and one line per CA",
            "json": "the keyreuse object plus a `sweep` member",
            "csv": "the violations, one row each",
            "appendix": "the CCADB appendix CSV of every issuance on a compromised key",
        },
    )
    p.add_argument(
        "--dsn",
        default=None,
        help="crt.sh database connection string (env CRTSH_DB; default crt.sh's public guest access)",
    )
    p.add_argument("--resume", action="store_true", help="continue the same sweep where it stopped")
    p.add_argument("--via", choices=("db", "http"), default="db", help="crt.sh's database, or its web search")
    p.add_argument(
        "--chunk-days",
        type=float,
        default=365.0,
        metavar="N",
        help="revocation dates per database statement; halved when the server cancels one (default 365)",
    )
    p.add_argument(
        "--min-chunk-hours",
        type=float,
        default=1.0,
        metavar="H",
        help="smallest chunk before a cancelled one is listed in errors (default 1)",
    )
    p.add_argument(
        "--crl-list",
        action="append",
        default=[],
        metavar="FILE.json",
        help="--via http: the CA's CCADB JSON array of CRL URLs",
    )
    p.add_argument(
        "--crl", action="append", default=[], metavar="PATH|URL", help="--via http: a CRL file or URL"
    )
    p.add_argument(
        "--store",
        metavar="DIR",
        help=(
            "also append the swept certificates and revocations to this Parquet store (created when "
            "missing), batch by batch as they arrive; `keyreuse --store DIR` then analyses them"
        ),
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when anything was skipped")
    add_shared_options(p, crtsh=True)
    p.set_defaults(func=run)


def _time(value: str | None, option: str) -> dt.datetime | None:
    from ..formats import parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc


def _state_dir(args: argparse.Namespace, selection: dict) -> Path:
    from ..sources.http import default_cache_dir
    from ..sweep import sweep_id

    base = Path(args.cache_dir or os.environ.get("CA_INCIDENTS_CACHE") or default_cache_dir())
    return base / "sweeps" / sweep_id(**selection)


def run(args: argparse.Namespace) -> int:
    if not (args.ca_id or args.ca_name or args.all_cas):
        raise UsageError("say which CAs to sweep: --ca-id, --ca-name or --all-cas")
    since, until = _time(args.since, "--since"), _time(args.until, "--until")
    as_of = _time(args.as_of, "--as-of")
    if since and until and since >= until:
        raise UsageError("--since must be before --until")
    if args.offline and args.refresh:
        raise UsageError("--offline and --refresh exclude each other")
    if args.chunk_days <= 0 or args.min_chunk_hours <= 0:
        raise UsageError("--chunk-days and --min-chunk-hours must be positive")
    if args.via == "http":
        try:
            from ..sources.sweep_http import sweep_http
        except ImportError as exc:
            raise UsageError("--via http is not available in this build; use --via db") from exc
        appender = _appender(
            args,
            kind="crtsh-sweep-http",
            path_or_url="crl " + ", ".join([*args.crl_list, *args.crl]),
            key=None,
            ordered=False,
            details={"source": "crt.sh web search and the CRLs given", "since": since, "until": until},
        )
        with appender or _nothing():
            result = sweep_http(
                session_from_args(args),
                args.crl_list,
                args.crl,
                ca_ids=[] if args.all_cas else args.ca_id,
                ca_names=[] if args.all_cas else args.ca_name,
                scope=args.scope,
                since=since,
                until=until,
                as_of=as_of,
                sink=appender,
            )
        _report_store(appender)
    else:
        result = _sweep_db(args, since, until, as_of)
    return _print(result, args)


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def _appender(args: argparse.Namespace, **kw):
    """sweep --store: the store's appender (None without --store); duckdb is needed to write one."""
    if not args.store:
        return None
    try:
        import duckdb  # noqa: F401 - the store's dedupe reads it; say so before sweeping
    except ImportError as exc:
        raise UsageError(f"--store needs duckdb ({exc})") from exc
    from ..formats import format_time
    from ..store.ingest import StoreAppender

    kw["details"] = {
        k: (format_time(v) if isinstance(v, dt.datetime) else v) for k, v in kw["details"].items()
    }
    return StoreAppender(args.store, **kw)


def _report_store(appender) -> None:
    """One line on stderr: what the sweep added to the store."""
    if appender is None or not appender.record:
        return
    r = appender.record
    sys.stderr.write(
        f"store {appender.dir}: appended {r['entries']} certificates ({r['already_in_store']} already "
        f"there, kept as repeats), {r['revocation_entries']} revocations"
        + ("; replaced this sweep's earlier record" if appender.replaced else "")
        + "\n"
    )


def _sweep_db(args: argparse.Namespace, since, until, as_of):
    from ..sources.crtsh_db import CrtshDB, find_cas, redact_dsn
    from ..sweep import SweepState, run_sweep

    db = CrtshDB(args.dsn)
    selection = {
        "dsn": redact_dsn(db.dsn),
        "ca_id": sorted(args.ca_id),
        "ca_name": sorted(args.ca_name),
        "all_cas": bool(args.all_cas),
        "since": since,
        "until": until,
    }
    state_dir = _state_dir(args, selection)
    appender = None
    with db:
        if args.offline:
            cas = SweepState(state_dir, fresh=False, offline=True).cas
            if cas is None:
                from ..errors import OfflineMiss

                raise OfflineMiss(f"{db.shown} (no saved sweep for these options in {state_dir.parent})")
        else:
            cas = find_cas(db, ids=args.ca_id, names=args.ca_name, all_cas=args.all_cas)
        from ..errors import Problem

        # Asked for but not there: listed in `errors` (and --strict), not silently dropped.
        unmatched = [
            Problem("--ca-id", str(i), "crt.sh has no CA with this id")
            for i in sorted(set(args.ca_id) - {i for i, _ in cas})
        ] + [
            Problem("--ca-name", name, "no crt.sh CA name contains this text")
            for name in args.ca_name
            if not any(name.lower() in n.lower() for _, n in cas)
        ]
        if not cas:
            raise UsageError(
                "no crt.sh CA matches " + "; ".join(f"{p.input} {p.position}" for p in unmatched)
            )
        appender = _appender(
            args,
            kind="crtsh-sweep",
            path_or_url="crt.sh database",
            key="sweep:" + state_dir.name,  # the same sweep again replaces its earlier record
            ordered=True,
            details={
                "source": redact_dsn(db.dsn),
                "cas": [[int(i), str(n)] for i, n in cas],
                "since": since,
                "until": until,
            },
        )
        with appender or _nothing():
            result = run_sweep(
                db,
                cas,
                state_dir=state_dir,
                since=since,
                until=until,
                chunk=dt.timedelta(days=args.chunk_days),
                min_chunk=dt.timedelta(hours=args.min_chunk_hours),
                resume=args.resume,
                offline=args.offline,
                scope=args.scope,
                as_of=as_of,
                problems=unmatched,
                sink=appender,
            )
    _report_store(appender)
    return result


def _print(result, args: argparse.Namespace) -> int:
    from ..sweep import to_summary_table
    from .keyreuse import to_table, write_violations_csv

    findings = result.findings
    report_problems(findings.problems)
    summary = to_summary_table(result.cas) if result.cas else ""
    if args.format == "json":
        print_json(result.to_dict())
    elif args.format == "csv":
        write_violations_csv(findings, sys.stdout)
    elif args.format == "appendix":
        from ..drafting import to_appendix

        iss = findings.issuances
        rows = iss[iss["key_compromised"].astype(bool)] if "key_compromised" in iss.columns else iss.iloc[0:0]
        rows = rows.sort_values(["spki_sha256", "issued_at"], kind="stable") if len(rows) else rows
        sys.stdout.write(to_appendix(rows, as_of=findings.as_of))
    else:
        sys.stdout.write(to_table(findings))
        if summary:
            sys.stdout.write("\nSweep, per CA\n\n" + summary)
    if summary and args.format in ("csv", "appendix"):
        sys.stderr.write(summary)  # stdout stays one CSV document
    if result.failed:
        return EXIT_UPSTREAM
    if args.strict and findings.problems:
        return EXIT_SKIPPED
    return EXIT_OK
