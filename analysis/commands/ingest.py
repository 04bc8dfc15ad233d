"""`ca-incidents ingest`: certificates, CRLs, revocation tables and key lists into a Parquet store."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from .common import report_problems

EXIT_OK, EXIT_SKIPPED = 0, 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="append certificates, CRLs, revocations and compromised keys to a Parquet store",
        description=(
            "Stream local inputs into a Parquet store (partitioned by SPKI hash prefix, deduplicated by "
            "certificate hash, with a manifest of what came from where), for `keyreuse --store DIR`. "
            "An input ingested before with unchanged files is skipped."
        ),
    )
    p.add_argument(
        "--certs", action="append", default=[], metavar="PATH", help="PEM bundle, DER file or folder"
    )
    p.add_argument("--crl", action="append", default=[], metavar="PATH", help="CRL file (DER/PEM) or folder")
    p.add_argument(
        "--revocations",
        action="append",
        default=[],
        metavar="PATH",
        help="revocations CSV or incident xlsx/csv",
    )
    p.add_argument(
        "--compromised",
        action="append",
        default=[],
        metavar="PATH",
        help="compromised keys: CSV or key files",
    )
    p.add_argument("--store", required=True, metavar="DIR", help="the store folder (created when missing)")
    p.add_argument(
        "--no-names", action="store_true", help="skip decoding subjects and SANs (faster; names stay empty)"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when any input was skipped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not (args.certs or args.crl or args.revocations or args.compromised):
        raise UsageError("nothing to ingest: give --certs, --crl, --revocations or --compromised")
    urls = [c for c in args.crl if str(c).startswith(("http://", "https://"))]
    if urls:
        raise UsageError(f"ingest reads local CRL files; download {urls[0]} first")
    from ..store import ingest

    result = ingest(
        args.store,
        certs=args.certs,
        crls=args.crl,
        revocations=args.revocations,
        compromised=args.compromised,
        names=not args.no_names,
        progress=None,
    )
    report_problems(result.problems)
    print(f"{'kind':<13}  {'entries':>10}  input")
    for a in result.added:
        print(f"{a['kind']:<13}  {a['entries']:>10}  {a['path_or_url']}")
    for item in result.skipped:
        print(f"{'(unchanged)':<13}  {'-':>10}  {item} was ingested before; skipped")
    if args.strict and result.problems:
        return EXIT_SKIPPED
    return EXIT_OK
