"""Fetching from crt.sh and Bugzilla into a workspace data set."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .datasets import Dataset, cache_dir
from .workspace import merge_bug_list


def _session(offline: bool = False):
    from ..sources.http import Session

    urls = {"crtsh": os.environ.get("CRTSH_URL"), "bugzilla": os.environ.get("BUGZILLA_URL")}
    return Session(cache_dir=cache_dir(), urls={k: v for k, v in urls.items() if v}, offline=offline)


@dataclass
class FetchResult:
    """One fetched item: what was asked, how many files came, and what failed."""

    item: str
    saved: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def fetch_crtsh(
    dataset: Dataset,
    queries: Iterable[tuple[str, str]],
    progress=None,
    session=None,
    *,
    offline: bool = False,
) -> list[FetchResult]:
    """Search crt.sh (("spki", HEX) or ("domain", NAME)) and save every certificate under
    ``certs/crtsh/`` with its index. `progress(done, total, text)` is called as work goes on.
    `offline` answers from the HTTP cache only (a miss is that item's error)."""
    from ..errors import UpstreamError
    from ..sources import crtsh

    if dataset.folder is None:
        raise InputError("crt.sh", None, "the demo data set is read-only: create a workspace data set first")
    session = session or _session(offline)
    out_dir = Path(dataset.folder) / "certs" / "crtsh"
    queries = list(queries)
    results = []
    for i, (kind, value) in enumerate(queries):
        res = FetchResult(f"{kind} {value}")
        results.append(res)
        if progress:
            progress(i, len(queries), f"crt.sh search: {kind} {value}")
        try:
            if kind == "spki":
                rows, problems = crtsh.search_spki(session, value)
            else:
                rows, problems = crtsh.search_identity(session, value)
        except (ValueError, UpstreamError) as exc:
            res.errors.append(str(exc))
            continue
        res.errors += [str(p) for p in problems]
        items = []
        records = rows.drop_duplicates("crtsh_id").to_dict("records") if len(rows) else []
        for j, row in enumerate(records):
            if progress:
                progress(
                    i + (j + 1) / max(len(records), 1),
                    len(queries),
                    f"{kind} {value}: certificate {j + 1} of {len(records)}",
                )
            try:
                pem = crtsh.fetch_pem(session, row["crtsh_id"])
            except UpstreamError as exc:
                res.errors.append(f"crt.sh id {row['crtsh_id']}: {exc}")
                continue
            items.append((pem, crtsh.row_meta(row, crtsh.pem_url(session, row["crtsh_id"]))))
        if items:
            crtsh.save_certificates(out_dir, items, rows)
        res.saved = len(items)
    if progress:
        progress(len(queries), len(queries), "done")
    return results


def fetch_bugs(
    dataset: Dataset,
    ids: Iterable[int],
    *,
    as_report: bool = False,
    progress=None,
    session=None,
    api_key: str | None = None,
    offline: bool = False,
) -> list[FetchResult]:
    """Fetch bugs (bug, comments, attachments, history) into ``corpus/<id>/`` and the bug list;
    with `as_report`, the first bug's comments also become the data set's report. `api_key` (else
    env BUGZILLA_API_KEY, as for the CLI) goes in the X-BUGZILLA-API-KEY header only, never to
    disk; `offline` answers from the cache."""
    from ..errors import UpstreamError
    from ..sources import bugzilla

    if dataset.folder is None:
        raise InputError(
            "Bugzilla", None, "the demo data set is read-only: create a workspace data set first"
        )
    session = session or _session(offline)
    api_key = api_key or os.environ.get("BUGZILLA_API_KEY") or None
    folder = Path(dataset.folder)
    corpus = folder / "corpus"
    ids = list(ids)
    results = []
    for i, bug_id in enumerate(ids):
        res = FetchResult(f"bug {bug_id}")
        results.append(res)
        if progress:
            progress(i, len(ids), f"Bugzilla: bug {bug_id}")
        try:
            bundle, problems = bugzilla.fetch_bug_bundle(session, bug_id, api_key=api_key, include_data=False)
        except (ValueError, UpstreamError) as exc:
            res.errors.append(str(exc))
            continue
        res.errors += [str(p) for p in problems]
        if bundle.get("bug") is None and bundle.get("comments") is None:
            continue
        _, problems = bugzilla.write_bug_dir(bundle, corpus)
        res.errors += [str(p) for p in problems]
        res.saved = sum(bundle.get(k) is not None for k in ("bug", "comments", "attachments", "history"))
        if bundle.get("bug") is not None:
            merge_bug_list(folder, [bundle["bug"]])
        if as_report and bundle.get("comments") and i == 0:
            report_dir = folder / "report"
            report_dir.mkdir(exist_ok=True)
            for old in report_dir.glob("*"):
                old.unlink()
            (report_dir / f"bug-{int(bundle['id'])}-comments.json").write_text(
                json.dumps({"comments": bundle["comments"]}, ensure_ascii=False, indent=1), encoding="utf-8"
            )
    if progress:
        progress(len(ids), len(ids), "done")
    return results


def parse_bug_ids(text: str) -> list[int]:
    """Bug numbers from free text: ``1927384, 1927385`` or Bugzilla links."""
    ids = [int(m) for m in re.findall(r"(?:id=)?\b(\d{4,9})\b", text or "")]
    return list(dict.fromkeys(ids))


def parse_crtsh_queries(text: str) -> list[tuple[str, str]]:
    """One query a line: a 64-hex SPKI SHA-256 (colons allowed) or a domain name."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        hexed = re.sub(r"[\s:]", "", line).lower()
        out.append(("spki", hexed) if re.fullmatch(r"[0-9a-f]{64}", hexed) else ("domain", line))
    return out
