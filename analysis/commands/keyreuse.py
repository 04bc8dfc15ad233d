"""`ca-incidents keyreuse`: certificates reissued on compromised keys, and late revocations."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..errors import UsageError
from .common import add_format, add_shared_options, print_json, report_problems, session_from_args

if TYPE_CHECKING:
    from ..keyreuse import Findings

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE, EXIT_UPSTREAM = 0, 1, 2, 3


def add_keyreuse_inputs(p: argparse.ArgumentParser) -> None:
    """The key-reuse input options; `report closure-summary/draft/appendix/lint` reuse them."""
    g = p.add_argument_group("key-reuse inputs")
    g.add_argument(
        "--certs", action="append", default=[], metavar="PATH", help="PEM bundle, DER file or folder"
    )
    g.add_argument("--crl", action="append", default=[], metavar="PATH|URL", help="CRL file (DER/PEM) or URL")
    g.add_argument(
        "--crl-list", action="append", default=[], metavar="FILE.json", help="CCADB JSON array of CRL URLs"
    )
    g.add_argument("--crl-from-certs", action="store_true", help="fetch the CRLs the certificates name")
    g.add_argument(
        "--revocations",
        action="append",
        default=[],
        metavar="PATH",
        help="revocations CSV or incident xlsx/csv",
    )
    g.add_argument(
        "--compromised",
        action="append",
        default=[],
        metavar="PATH",
        help="compromised keys: CSV or key files",
    )
    g.add_argument(
        "--crtsh-spki", action="append", default=[], metavar="HEX", help="download a key's certificates"
    )
    g.add_argument("--crtsh-revocations", action="store_true", help="revocations from crt.sh's database")
    g.add_argument(
        "--crtsh-db", default=None, metavar="DSN", help="crt.sh database connection string (env CRTSH_DB)"
    )
    g.add_argument("--pwnedkeys", action="store_true", help="look every key up on pwnedkeys")
    g.add_argument(
        "--pwnedkeys-url", default=None, metavar="URL", help="pwnedkeys base URL (env PWNEDKEYS_URL)"
    )
    g.add_argument("--scope", choices=("global", "issuer"), default="global", help="whose compromise counts")
    g.add_argument(
        "--as-of", default=None, metavar="TIME", help="analysis time for 'remaining valid' (default now)"
    )
    g.add_argument("--demo", action="store_true", help="add the embedded demo incident's inputs")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "keyreuse",
        help="find certificates issued on compromised keys and late revocations",
        description=(
            "Group certificates by SPKI SHA-256, take compromise times from keyCompromise revocations "
            "and compromised-key lists, and report issuance after compromise (BR 6.1.1.3) and "
            "revocations later than 24 hours (BR 4.9.1.1). Findings are leads for review."
        ),
    )
    add_keyreuse_inputs(p)
    add_store_options(p)
    add_format(
        p,
        ("table", "json", "csv"),
        {"table": "the summary and the reused keys", "csv": "the violations, one row each"},
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when any input was skipped")
    add_shared_options(p, crtsh=True)
    p.set_defaults(func=run)


def add_store_options(p: argparse.ArgumentParser) -> None:
    """`keyreuse --store DIR`: the same rules over a Parquet store (`ca-incidents ingest`)."""
    g = p.add_argument_group("store (CT scale)")
    g.add_argument(
        "--store", metavar="DIR", default=None, help="analyse a Parquet store made by `ca-incidents ingest`"
    )
    g.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="with --store: run the rules SQL in DuckDB on this machine (default) or on Spark",
    )
    g.add_argument(
        "--spark-master",
        metavar="URL",
        default=None,
        help="with --engine spark: the cluster (spark://host:7077, yarn, k8s://...; default local[2])",
    )
    g.add_argument(
        "--memory-limit",
        metavar="SIZE",
        default="2GB",
        help="with --store: the memory budget (DuckDB gets three quarters and spills to disk beyond it; default 2GB)",
    )


def _is_url(text: object) -> bool:
    return str(text).startswith(("http://", "https://"))


def has_network_inputs(args: argparse.Namespace) -> bool:
    return bool(
        args.crtsh_spki
        or args.crtsh_revocations
        or args.pwnedkeys
        or args.crl_list
        or args.crl_from_certs
        or any(_is_url(c) for c in args.crl)
    )


def analyse_from_args(args: argparse.Namespace, *, names: bool = False) -> tuple[Findings, bool]:
    """Load every input the options name and run the analysis; returns (findings, upstream_failed).

    `names=True` also decodes subjects and SANs (the appendix and report drafts need them;
    `keyreuse` output does not). Raises UsageError when no usable input was given.
    """
    from ..demo import demo_as_of, demo_paths

    certs, crls, revs, comp = list(args.certs), [], list(args.revocations), list(args.compromised)
    urls = []
    for c in args.crl:
        (urls if _is_url(c) else crls).append(c)
    as_of = args.as_of
    if args.demo:
        d = demo_paths()
        certs += d["certs"]
        crls += d["crls"]
        revs += d["revocations"]
        comp += d["compromised"]
        if as_of is None:
            as_of = demo_as_of()
    if not (certs or args.crtsh_spki):
        raise UsageError("no certificates to analyse: give --certs, --crtsh-spki or --demo")
    # Imported only now: a usage error above answers without loading pandas.
    from ..formats import parse_time
    from ..inputs import load_keyreuse_inputs

    if as_of is not None:
        try:
            as_of = parse_time(as_of)
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from exc
    # Subjects and SANs are not in keyreuse output: unless asked, skip decoding them (the fast path).
    inputs = load_keyreuse_inputs(certs, crls, revs, comp, names=names, progress=None)
    upstream_failed = False
    if has_network_inputs(args):
        try:
            from ..sources import keyreuse_inputs as net
        except ImportError as exc:
            raise UsageError(f"network inputs are not available in this build ({exc})") from exc
        wanted = net.NetworkInputs(
            crtsh_spkis=tuple(args.crtsh_spki or ()),
            crl_urls=tuple(urls),
            crl_lists=tuple(args.crl_list or ()),
            crl_from_certs=bool(args.crl_from_certs),
            crtsh_revocations=bool(args.crtsh_revocations),
            crtsh_db=getattr(args, "crtsh_db", None),
            pwnedkeys=bool(args.pwnedkeys),
        )
        inputs, upstream_failed = net.add_network_inputs(inputs, session_from_args(args), wanted)
    if inputs.certificates.empty:
        report_problems(inputs.problems)
        if upstream_failed:
            from ..errors import UpstreamError

            raise UpstreamError(
                "(upstreams)", None, reason="no certificates could be had; see the failures above"
            )
        raise UsageError("no usable certificates in the inputs (see the skipped items above)")
    findings = inputs.analyse(scope=args.scope, as_of=as_of)
    if args.demo and args.as_of is None:
        findings.notes.append("--demo: analysed as of the demo report's date; give --as-of to change it.")
    return findings, upstream_failed


def run_store(args: argparse.Namespace) -> int:
    """`keyreuse --store DIR`: the rules as SQL over the store, the same output as from files."""
    given = [
        o
        for o, v in (
            ("--certs", args.certs),
            ("--crl", args.crl),
            ("--revocations", args.revocations),
            ("--compromised", args.compromised),
            ("--crtsh-spki", args.crtsh_spki),
            ("--demo", args.demo),
        )
        if v
    ]
    if given or has_network_inputs(args):
        raise UsageError(
            f"--store cannot be combined with {', '.join(given) or 'network inputs'}: "
            "add them to the store with `ca-incidents ingest` first"
        )
    from ..formats import parse_time
    from ..store import find_key_reuse_store

    as_of = args.as_of
    if as_of is not None:
        try:
            as_of = parse_time(as_of)
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from exc

    findings = find_key_reuse_store(
        args.store,
        scope=args.scope,
        as_of=as_of,
        engine=args.engine,
        memory_limit=args.memory_limit,
        spark_master=args.spark_master,
        progress=None,  # a bar over the store's units on a terminal
    )
    try:
        if findings.summary["certificate_entries"] == 0:
            report_problems(findings.problems)
            raise UsageError(f"{args.store}: the store holds no certificates")
        report_problems(findings.problems)
        if args.format == "json":
            findings.write_json(sys.stdout)
        else:
            findings.keys_in_dict = "compromised"  # the table and the CSV need no other key
            if args.format == "csv":
                write_violations_csv(findings, sys.stdout)
            else:
                sys.stdout.write(to_table(findings))
    finally:
        findings.close()
    if args.strict and findings.problems:
        return EXIT_SKIPPED
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.store:
        return run_store(args)
    findings, upstream_failed = analyse_from_args(args)
    report_problems(findings.problems)
    if args.format == "json":
        print_json(findings.to_dict())
    elif args.format == "csv":
        write_violations_csv(findings, sys.stdout)
    else:
        sys.stdout.write(to_table(findings))
    if upstream_failed:
        return EXIT_UPSTREAM
    if args.strict and findings.problems:
        return EXIT_SKIPPED
    return EXIT_OK


def write_violations_csv(findings: Findings, out) -> None:
    """The violations as CSV, the JSON's field names as the header; sources by file name (no
    local folders), flags as true/false; text that a spreadsheet would run as a formula is
    neutralised (`analysis.safety.neutralise_cell`)."""
    from ..formats import short_source
    from ..keyreuse import VIOLATION_FIELDS
    from ..safety import csv_dict_writer

    w = csv_dict_writer(out, list(VIOLATION_FIELDS), lineterminator="\n")
    w.writeheader()
    for row in findings.to_dict()["violations"]:
        row["compromise_source"] = short_source(row.get("compromise_source"))
        w.writerow({k: _csv_cell(v) for k, v in row.items()})


def _csv_cell(value: object) -> object:
    """Empty for none, true/false for flags (as the appendix CSV writes them)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_table(findings: Findings) -> str:
    """For people: the summary, then the reused compromised keys."""
    d = findings.to_dict()
    lines = ["Key reuse summary", ""]
    width = max(len(k) for k in d["summary"])
    for k, v in d["summary"].items():
        lines.append(f"  {k.replace('_', ' '):<{width}}  {v:>8}")
    reused = [k for k in d["keys"] if k["issued_after_compromise"]]
    lines += ["", f"Reused compromised keys ({len(reused)})", ""]
    if reused:
        header = f"  {'SPKI SHA-256':<16}  {'type':<9}  {'compromised at (UTC)':<25}  {'issued after':>12}  {'late revocations':>16}"
        lines.append(header)
        for k in reused:
            lines.append(
                f"  {k['spki_sha256'][:16]:<16}  {str(k['key_type']):<9}  {str(k['compromised_at'] or 'undated'):<25}"
                f"  {k['issued_after_compromise']:>12}  {k['revocation_delays']:>16}"
            )
    else:
        lines.append("  none")
    listed = d["listed_keys_without_certificates"]
    if listed:
        lines += ["", f"Listed as compromised, no certificate loaded ({len(listed)}):"]
        lines += [f"  {k}" for k in listed]
    if d["errors"]:
        lines += ["", f"Skipped inputs ({len(d['errors'])}): see stderr"]
    lines += ["", "Notes:"] + [f"  - {n}" for n in d["notes"]]
    return "\n".join(lines) + "\n"
